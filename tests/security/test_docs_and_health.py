"""Issue 16, what an anonymous caller learns about the server (What to build: docs, health,
the database password).

Anyone who reached the port read the interactive ``/docs``, ``/redoc`` and the live
``/openapi.json`` (a map of every route and schema) and ``GET /v1/health`` told them the
exact version, the database kind and the server clock. Now the pages and the live document
are served only with ``pos-app serve --docs`` (on with ``--demo``), anonymous health says only
that the server is up, and the start-up log names the database without its password.
"""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from pos_app.server import migrate
from pos_app.server.app import create_app
from pos_app.server.db import Database
from pos_app.server.runner import ENV_DOCS, describe_database, settings_from_environment
from pos_app.server.services.live import PostgresListener
from pos_app.server.settings import ServerSettings
from tests.security.conftest import CASHIER_PIN, Venue
from tests.support.postgres import PostgresServer, pg_bin, run_as_postgres

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


@pytest.fixture
def password_role(postgres: PostgresServer) -> Iterator[tuple[str, str]]:
    """A role ``pos_pw`` that must give its password (SCRAM) on the session's cluster, which
    otherwise trusts loopback: its own ``pg_hba.conf`` line goes first, then is removed.
    Yields the URL without a password and the password."""
    password = "Wq7-horse-battery"
    hba = postgres.data_dir / "pg_hba.conf"
    original = hba.read_text()
    psql = [str(pg_bin("psql")), "-h", "127.0.0.1", "-p", str(postgres.port), "-U", "postgres",
            "-d", "postgres", "-qc"]
    run_as_postgres([*psql, "DROP DATABASE IF EXISTS pos_pw"])
    run_as_postgres([*psql, "DROP ROLE IF EXISTS pos_pw"])
    run_as_postgres([*psql, f"CREATE ROLE pos_pw LOGIN PASSWORD '{password}'"])
    run_as_postgres([*psql, "CREATE DATABASE pos_pw OWNER pos_pw"])
    hba.write_text("host all pos_pw 127.0.0.1/32 scram-sha-256\n" + original)
    _reload(postgres)
    deadline = time.monotonic() + 10  # the postmaster rereads pg_hba.conf shortly after
    while _trusted(postgres) and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"postgresql+psycopg://pos_pw@127.0.0.1:{postgres.port}/pos_pw", password
    finally:
        hba.write_text(original)
        _reload(postgres)


def _reload(postgres: PostgresServer) -> None:
    run_as_postgres([str(pg_bin("pg_ctl")), "-D", str(postgres.data_dir), "reload"])


def _trusted(postgres: PostgresServer) -> bool:
    """Whether pos_pw still gets in without a password (the reload not applied yet)."""
    try:
        psycopg.connect(host="127.0.0.1", port=postgres.port, user="pos_pw", dbname="pos_pw",
                        password="", connect_timeout=5).close()
    except psycopg.OperationalError:
        return False
    return True


def _migrated(url: str) -> int:
    database = Database(url)
    try:
        migrate.upgrade(database)
        with database.read() as session:
            return int(session.execute(text("SELECT count(*) FROM staff")).scalar() or 0)
    finally:
        database.dispose()


@pytest.mark.postgres
def test_the_postgresql_password_comes_from_pgpassword_or_pgpass_and_is_never_shown(
        password_role: tuple[str, str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    url, password = password_role
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    with pytest.raises(OperationalError) as refused:  # no password anywhere: refused
        _migrated(url)
    assert password not in str(refused.value)

    monkeypatch.setenv("PGPASSWORD", password)  # libpq's environment variable
    assert _migrated(url) == 0
    monkeypatch.delenv("PGPASSWORD")
    pgpass = tmp_path / "pgpass"  # libpq's password file (owner-only, or libpq ignores it)
    pgpass.write_text(f"127.0.0.1:*:pos_pw:pos_pw:{password}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    with caplog.at_level(logging.DEBUG):
        assert _migrated(url) == 0
    assert describe_database(url) == url  # nothing to hide: the URL holds no password
    assert password not in caplog.text
    # A password written into the URL anyway is used, and never shown.
    shown = describe_database(url.replace("pos_pw@", f"pos_pw:{password}@"))
    assert password not in shown and shown.endswith("(password not shown)")
