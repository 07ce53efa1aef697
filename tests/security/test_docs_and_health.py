"""Issue 16, what an anonymous caller learns about the server (What to build: docs, health,
the database password).

Anyone who reached the port read the interactive ``/docs``, ``/redoc`` and the live
``/openapi.json`` (a map of every route and schema) and ``GET /v1/health`` told them the
exact version, the database kind and the server clock. Now the pages and the live document
are served only with ``pos-app serve --docs`` (on with ``--demo``), anonymous health says only
that the server is up, and the start-up log names the database without its password.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from pos_app.server.app import create_app
from pos_app.server.db import Database
from pos_app.server.runner import ENV_DOCS, describe_database, settings_from_environment
from pos_app.server.services.live import PostgresListener
from pos_app.server.settings import ServerSettings
from tests.security.conftest import CASHIER_PIN, Venue
from tests.support.postgres import PostgresServer

with warnings.catch_warnings():  # Starlette's TestClient asks for "httpx2"; not ours
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

PAGES = ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect")


@pytest.fixture
def documented(venue: Venue) -> Iterator[TestClient]:
    """The venue's database served by an app started with ``--docs``."""
    settings = ServerSettings(database_url=venue.db.url, clock=venue.clock, docs=True,
                              sweeper_interval=venue.settings.sweeper_interval,
                              webhook_interval=venue.settings.webhook_interval)
    with TestClient(create_app(settings, database=venue.db),
                    base_url="https://testserver") as client:
        yield client


def test_an_anonymous_caller_gets_no_map_of_the_api(venue: Venue) -> None:
    for path in PAGES:
        answer = venue.tills["till1"].get(path)
        assert (answer.status_code, answer.json()["error"]) == (404, "not_found"), path


def test_the_docs_flag_serves_the_pages_and_the_live_document(documented: TestClient) -> None:
    assert documented.get("/docs").status_code == 200
    assert documented.get("/redoc").status_code == 200
    assert "/v1/sales" in documented.get("/openapi.json").json()["paths"]


def test_serve_reads_the_docs_switch_and_leaves_it_off_by_default(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_DOCS, raising=False)
    assert settings_from_environment("sqlite:////tmp/x.sqlite3").docs is False
    monkeypatch.setenv(ENV_DOCS, "1")  # what `serve --docs` and `serve --demo` set
    assert settings_from_environment("sqlite:////tmp/x.sqlite3").docs is True


def test_anonymous_health_says_only_that_the_server_is_up(venue: Venue) -> None:
    anonymous = venue.tills["till1"].get("/v1/health")
    forged = venue.tills["till1"].get("/v1/health",
                                      headers={"Authorization": "Bearer not-a-token"})
    terminal_only = venue.tills["till1"].get("/v1/health", headers=venue.terminal_auth("till1"))

    for answer in (anonymous, forged, terminal_only):
        assert answer.status_code == 200
        assert answer.json() == {"status": "ok"}


def test_a_signed_in_caller_still_reads_the_version_database_and_clock(venue: Venue) -> None:
    cashier = venue.sign_in("till1", "alex", CASHIER_PIN)
    body = venue.tills["till1"].get("/v1/health", headers=cashier).json()
    assert body["status"] == "ok" and body["database"] == "sqlite"
    assert body["version"] and body["server_time"] == "2026-03-14T18:00:00Z"


def test_the_start_up_log_never_shows_the_database_password() -> None:
    shown = describe_database("postgresql+psycopg://pos:s3cr3t@db.venue:5433/pos"
                              "?sslmode=verify-full&sslrootcert=/etc/pos/ca.pem")
    assert "s3cr3t" not in shown and "password not shown" in shown
    assert shown.startswith("postgresql+psycopg://pos@db.venue:5433/pos?")
    assert "sslmode=verify-full" in shown and "sslrootcert=%2Fetc%2Fpos%2Fca.pem" in shown
    # The password as a query parameter is dropped too.
    assert "hunter2" not in describe_database("postgresql+psycopg://pos@db/pos?password=hunter2")
    # Without a password (libpq takes it from PGPASSWORD or ~/.pgpass) nothing is hidden.
    assert describe_database("postgresql+psycopg://pos@db/pos") == \
        "postgresql+psycopg://pos@db/pos"


@pytest.mark.postgres
def test_sslmode_passes_through_to_every_connection(postgres: PostgresServer) -> None:
    url = postgres.url + ("&" if "?" in postgres.url else "?") + "sslmode=disable"
    database = Database(url)
    try:
        with database.read() as session:
            assert session.execute(text("SELECT 1")).scalar() == 1
    finally:
        database.dispose()
    # The LISTEN connection of live inventory is opened from the same URL.
    listener = PostgresListener(url, on_version=lambda _v: None, on_connected=lambda: None)
    assert "sslmode=disable" in listener._conninfo
