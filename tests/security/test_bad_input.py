"""Issue 16, attack 10: bad input is always a 4xx. Each test is the attack, against the real
app in-process (FastAPI's TestClient) on SQLite and on PostgreSQL, where a NUL byte used to
reach the database and fail there (a 500): numbers given as text or booleans, NUL and
bidirectional controls in body text, paths and queries, cursors holding huge numbers, and
times that have no UTC equivalent. Every answer is 422 ``invalid_request`` and nothing
changed."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from pos_app.server import admin, migrate
from pos_app.server.app import create_app
from pos_app.server.db import Database
from pos_app.server.services import identity, live
from pos_app.server.settings import ServerSettings

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

# Starlette's TestClient asks for "httpx2"; its deprecation of plain httpx is not ours to fix.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Using `httpx` with `starlette.testclient` is deprecated")


@dataclass
class Api:
    """The app, a signed-in manager's headers and a ticket type to sell."""

    client: TestClient
    headers: dict[str, str]
    ticket_type_id: int
    event_id: str

    def sold(self) -> int:
        events = self.client.get("/v1/events", headers=self.headers).json()["events"]
        return next(int(tt["sold"]) + int(tt["held"]) for e in events
                    for tt in e["ticket_types"] if tt["id"] == self.ticket_type_id)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    """The demo catalog on a fresh database of each kind; morgan (manager) signed in at a
    paired till with a shift open."""
    from fastapi.testclient import TestClient

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'pos.sqlite3'}"
    else:
        url = request.getfixturevalue("postgres").create_database(f"sec_{uuid.uuid4().hex[:10]}")
    database = Database(url, write_hooks=[live.install_session_hooks])
    migrate.upgrade(database)
    admin.load_demo(url)
    now = datetime.now(UTC)
    with database.write() as session:
        code = identity.create_terminal(session, "till", now=now,
                                        ttl=timedelta(minutes=10)).pairing_code
        terminal_token = identity.pair_terminal(session, code, now=now).terminal_token
    settings = ServerSettings(database_url=url, sweeper_interval=timedelta(0))
    try:
        with TestClient(create_app(settings, database=database),
                        base_url="https://testserver") as client:
            signed_in = client.post("/v1/sessions", json={"username": "morgan", "pin": "2468"},
                                    headers={"Authorization": f"Bearer {terminal_token}"})
            assert signed_in.status_code == 201, signed_in.text
            headers = {"Authorization": f"Bearer {signed_in.json()['token']}"}
            opened = client.post("/v1/shifts", json={"opening_float": 0},
                                 headers={**headers, "Idempotency-Key": "open"})
            assert opened.status_code == 201, opened.text
            event = client.get("/v1/events", headers=headers).json()["events"][0]
            yield Api(client, headers, int(event["ticket_types"][0]["id"]), event["id"])
    finally:
        database.dispose()


def _refused(response: Any) -> None:
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_request", response.text


def _cursor(document: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")


def test_a_number_given_as_text_or_a_boolean_sells_nothing(api: Api) -> None:
    for quantity in ("1", True, 1.0):
        _refused(api.client.post("/v1/sales", headers={
            **api.headers, "Idempotency-Key": uuid.uuid4().hex}, json={
            "lines": [{"ticket_type_id": api.ticket_type_id, "quantity": quantity}],
            "payment": {"method": "cash", "tendered": 1_000_000}}))
    _refused(api.client.post("/v1/sales", headers={
        **api.headers, "Idempotency-Key": uuid.uuid4().hex}, json={
        "lines": [{"ticket_type_id": api.ticket_type_id, "quantity": 1}],
        "payment": {"method": "cash", "tendered": "1000000"}}))
    assert api.sold() == 0


@pytest.mark.parametrize("bad", ["\x00", "\u202e", "\u2066"], ids=["NUL", "RLO", "LRI"])
def test_nul_and_bidi_controls_in_body_text_change_nothing(api: Api, bad: str) -> None:
    """A customer name that would print reversed on the hold slip, a terminal name, a
    capacity reason: refused, and no hold placed."""
    _refused(api.client.post("/v1/holds", headers={
        **api.headers, "Idempotency-Key": uuid.uuid4().hex}, json={
        "kind": "cash", "lines": [{"ticket_type_id": api.ticket_type_id, "quantity": 1}],
        "customer": {"name": f"Dana{bad}htimS"}}))
    _refused(api.client.post("/v1/terminals", headers=api.headers,
                             json={"name": f"Till{bad}"}))
    _refused(api.client.post(f"/v1/ticket-types/{api.ticket_type_id}/capacity", headers={
        **api.headers, "Idempotency-Key": uuid.uuid4().hex},
        json={"delta": 1, "reason": f"more{bad}"}))
    assert api.sold() == 0


@pytest.mark.parametrize("bad", ["%00", "%E2%80%AE"], ids=["NUL", "RLO"])
def test_nul_and_bidi_controls_in_paths_and_queries_are_refused(api: Api, bad: str) -> None:
    for url in (f"/v1/audit?q=a{bad}b", f"/v1/holds?q={bad}", f"/v1/holds/AB{bad}CD",
                f"/v1/sales/1{bad}", f"/v1/idempotency-keys/k{bad}"):
        _refused(api.client.get(url, headers=api.headers))


def test_cursors_holding_huge_or_odd_values_are_refused(api: Api) -> None:
    _refused(api.client.get("/v1/sales", headers=api.headers,
                            params={"cursor": _cursor({"number": 10**30})}))
    _refused(api.client.get("/v1/audit", headers=api.headers,
                            params={"cursor": _cursor({"seq": 10**30, "order": "asc"})}))
    for document in (["0001-01-01T00:00:00+14:00", "0" * 32],
                     ["2026-03-01T18:00:00+00:00", "x\u0000y"]):
        _refused(api.client.get("/v1/holds", headers=api.headers,
                                params={"cursor": _cursor(document)}))


def test_times_without_a_utc_equivalent_are_refused(api: Api) -> None:
    early = "0001-01-01T00:00:00+14:00"  # a year 0 in UTC: Python cannot hold it
    late = "9999-12-31T23:59:59-14:00"  # a year 10000 in UTC
    for when in (early, late):
        _refused(api.client.get("/v1/audit", headers=api.headers, params={"from": when}))
        _refused(api.client.get("/v1/sales", headers=api.headers, params={"to": when}))
        _refused(api.client.get("/v1/reports/sales", headers=api.headers,
                                params={"event_id": api.event_id, "from": when}))
