"""The central server over real HTTPS (``pos-app serve --demo`` via the ``live_server``
fixture): identity, catalog, sales, idempotency and the audit chain."""

from __future__ import annotations

import ssl
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from pos_app.server import audit
from pos_app.server.db import Database
from pos_app.server.models import AuditEntry, Sale, TicketType
from tests.support.api import staff_client
from tests.support.live_server import LiveServer


def _client(server: LiveServer, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    context = ssl.create_default_context(cafile=str(server.ca_file))
    return httpx.Client(base_url=server.base_url, verify=context, headers=headers, timeout=30)


def _pair(server: LiveServer) -> str:
    code = server.add_terminal()
    with _client(server) as client:
        response = client.post("/v1/terminals/pair", json={"pairing_code": code})
    assert response.status_code == 201, response.text
    return str(response.json()["terminal_token"])


def _sign_in(server: LiveServer, terminal_token: str, username: str = "alex",
             pin: str = "1234") -> str:
    with _client(server, terminal_token) as client:
        response = client.post("/v1/sessions", json={"username": username, "pin": pin})
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


@pytest.fixture(scope="module")
def cashier(live_server: LiveServer) -> Iterator[httpx.Client]:
    """A client signed in as the demo cashier alex at a freshly paired terminal, with an open
    shift (box-office cash sales need one)."""
    staff = staff_client(live_server)
    assert staff.shift_id is not None
    try:
        yield staff.http
    finally:
        staff.close()


def _ticket_types(client: httpx.Client, event_id: str) -> dict[str, dict[str, Any]]:
    response = client.get("/v1/events")
    assert response.status_code == 200
    event = next(e for e in response.json()["events"] if e["id"] == event_id)
    return {t["name"]: t for t in event["ticket_types"]}


def _sell(client: httpx.Client, lines: list[dict[str, int]], tendered: int,
          key: str | None = None) -> httpx.Response:
    return client.post("/v1/sales", headers={"Idempotency-Key": key or uuid.uuid4().hex},
                       json={"lines": lines, "payment": {"method": "cash",
                                                         "tendered": tendered}})


def _database(server: LiveServer) -> Database:
    return server.open_database()


# --- health and identity -----------------------------------------------------------------


def test_health_answers_over_the_pinned_ca(live_server: LiveServer) -> None:
    with _client(live_server) as client:
        assert client.get("/v1/health").json() == {"status": "ok"}  # anonymous: only that
    seller = staff_client(live_server, open_shift=False)
    try:
        body = seller.http.get("/v1/health").json()
    finally:
        seller.close()
    assert body["status"] == "ok"
    assert body["database"] == "sqlite"
    assert body["server_time"].endswith("Z")


def test_a_pairing_code_works_once(live_server: LiveServer) -> None:
    code = live_server.add_terminal("till-once")
    with _client(live_server) as client:
        first = client.post("/v1/terminals/pair", json={"pairing_code": code})
        again = client.post("/v1/terminals/pair", json={"pairing_code": code})
    assert first.status_code == 201
    assert first.json()["name"] == "till-once"
    assert len(first.json()["terminal_token"]) >= 40
    assert again.status_code == 401
    assert again.json()["error"] == "unauthorized"


def test_an_unknown_pairing_code_is_refused(live_server: LiveServer) -> None:
    with _client(live_server) as client:
        response = client.post("/v1/terminals/pair", json={"pairing_code": "ZZZZ2222"})
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


def test_demo_cashier_signs_in_and_a_wrong_pin_is_refused(live_server: LiveServer) -> None:
    terminal_token = _pair(live_server)
    with _client(live_server, terminal_token) as client:
        good = client.post("/v1/sessions", json={"username": "alex", "pin": "1234"})
        wrong = client.post("/v1/sessions", json={"username": "alex", "pin": "9999"})
        nobody = client.post("/v1/sessions", json={"username": "nobody", "pin": "1234"})
    assert good.status_code == 201
    assert good.json()["staff"]["role"] == "cashier"
    assert good.json()["terminal"]["id"] > 0
    for response in (wrong, nobody):
        assert response.status_code == 401
        assert response.json()["error"] == "unauthorized"


def test_sign_in_needs_a_terminal_token(live_server: LiveServer) -> None:
    with _client(live_server, "not-a-token") as client:
        response = client.post("/v1/sessions", json={"username": "alex", "pin": "1234"})
    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"


def test_signing_out_ends_the_session(live_server: LiveServer) -> None:
    token = _sign_in(live_server, _pair(live_server))
    with _client(live_server, token) as client:
        assert client.delete("/v1/sessions/current").status_code == 204
        after = client.get("/v1/events")
    assert after.status_code == 401


def test_only_managers_create_terminals(live_server: LiveServer,
                                        cashier: httpx.Client) -> None:
    refused = cashier.post("/v1/terminals", json={"name": "till-x"})
    assert refused.status_code == 403
    assert refused.json()["error"] == "forbidden"
    manager_token = _sign_in(live_server, _pair(live_server), "morgan", "2468")
    with _client(live_server, manager_token) as manager:
        created = manager.post("/v1/terminals", json={"name": "till-y"})
    assert created.status_code == 201
    assert len(created.json()["pairing_code"]) == 8


def test_calls_without_a_session_are_unauthorized(live_server: LiveServer) -> None:
    with _client(live_server) as client:
        events = client.get("/v1/events")
        sale = client.post("/v1/sales", headers={"Idempotency-Key": "k1"}, json={
            "lines": [{"ticket_type_id": 1, "quantity": 1}],
            "payment": {"method": "cash", "tendered": 100000}})
    for response in (events, sale):
        assert response.status_code == 401
        assert response.json()["error"] == "unauthorized"


def test_unknown_routes_answer_not_found(cashier: httpx.Client) -> None:
    response = cashier.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


# --- catalog ---------------------------------------------------------------------------------


def test_events_list_the_demo_catalog_with_an_etag(cashier: httpx.Client) -> None:
    response = cashier.get("/v1/events")
    assert response.status_code == 200
    body = response.json()
    demo = [e for e in body["events"]
            if e["id"] in ("grand-hall-2026-03-14", "dallas-jan-2026", "atlanta-feb-2026")]
    # Dated from the day the server started (the ids stay): soonest first, all to come.
    assert [e["id"] for e in demo] == ["grand-hall-2026-03-14", "dallas-jan-2026",
                                       "atlanta-feb-2026"]
    now = datetime.now(UTC)
    starts = [datetime.fromisoformat(e["starts_at"]) for e in demo]
    assert all(now < at < now + timedelta(days=22) for at in starts)
    grand = demo[0]
    assert starts[0].astimezone(ZoneInfo("America/Chicago")).strftime("%a %H:%M") == \
        "Sat 19:30"
    ga = next(t for t in grand["ticket_types"] if t["name"] == "General Admission")
    assert ga["capacity"] == 800
    assert ga["public_limit"] == 750
    assert ga["currency"] == "USD"
    assert ga["thresholds"] == {"low": 100, "critical": 25}
    etag = response.headers["ETag"]
    unchanged = cashier.get("/v1/events", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.headers["ETag"] == etag


# --- sales -----------------------------------------------------------------------------------


def test_a_sale_issues_tickets_and_moves_the_counts(live_server: LiveServer,
                                                    cashier: httpx.Client) -> None:
    event_id = live_server.small_event(capacity=5, price=2500)
    ga = _ticket_types(cashier, event_id)["GA"]
    etag_before = cashier.get("/v1/events").headers["ETag"]
    response = _sell(cashier, [{"ticket_type_id": ga["id"], "quantity": 3}], tendered=10000)
    assert response.status_code == 201, response.text
    sale = response.json()
    assert sale["status"] == "confirmed"
    assert sale["total"] == 7500
    assert sale["payment"] == {"method": "cash", "tendered": 10000, "change": 2500,
                               "reference": None}
    codes = [t["code"] for t in sale["tickets"]]
    assert len(codes) == 3 and len(set(codes)) == 3
    assert all(len(c) == 26 and c.isalnum() and c.isupper() for c in codes)
    assert {t["status"] for t in sale["tickets"]} == {"valid"}
    after = _ticket_types(cashier, event_id)["GA"]
    assert (after["sold"], after["available"], after["stock_level"]) == (3, 2, "low")
    assert cashier.get("/v1/events", headers={"If-None-Match": etag_before}).status_code == 200
    assert cashier.get(f"/v1/sales/{sale['id']}").json() == sale
    assert cashier.get(f"/v1/sales/{sale['number']}").json() == sale


def test_sale_numbers_are_sequential(live_server: LiveServer, cashier: httpx.Client) -> None:
    event_id = live_server.small_event(capacity=5)
    ga = _ticket_types(cashier, event_id)["GA"]
    numbers = [_sell(cashier, [{"ticket_type_id": ga["id"], "quantity": 1}], 2500)
               .json()["number"] for _ in range(3)]
    assert numbers == [numbers[0], numbers[0] + 1, numbers[0] + 2]


def test_a_retry_with_the_same_key_replays_without_selling_again(
        live_server: LiveServer, cashier: httpx.Client) -> None:
    event_id = live_server.small_event(capacity=5)
    ga = _ticket_types(cashier, event_id)["GA"]
    lines = [{"ticket_type_id": ga["id"], "quantity": 2}]
    first = _sell(cashier, lines, 5000, key="retry-me")
    again = _sell(cashier, lines, 5000, key="retry-me")
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert again.content == first.content
    assert _ticket_types(cashier, event_id)["GA"]["sold"] == 2


def test_the_same_key_with_another_body_is_refused(live_server: LiveServer,
                                                   cashier: httpx.Client) -> None:
    event_id = live_server.small_event(capacity=5)
    ga = _ticket_types(cashier, event_id)["GA"]
    first = _sell(cashier, [{"ticket_type_id": ga["id"], "quantity": 1}], 2500, key="k-once")
    other = _sell(cashier, [{"ticket_type_id": ga["id"], "quantity": 2}], 5000, key="k-once")
    assert first.status_code == 201
    assert other.status_code == 422
    assert other.json()["error"] == "idempotency_key_reused"
    assert _ticket_types(cashier, event_id)["GA"]["sold"] == 1


def test_keys_are_scoped_to_the_terminal(live_server: LiveServer,
                                         cashier: httpx.Client) -> None:
    event_id = live_server.small_event(capacity=5)
    ga = _ticket_types(cashier, event_id)["GA"]
    lines = [{"ticket_type_id": ga["id"], "quantity": 1}]
    other = staff_client(live_server)
    try:
        assert _sell(other.http, lines, 2500, key="shared-key").status_code == 201
    finally:
        other.close()
    assert _sell(cashier, lines, 2500, key="shared-key").status_code == 201
    assert _ticket_types(cashier, event_id)["GA"]["sold"] == 2


@pytest.mark.parametrize(("payload", "key", "status", "code"), [
    ({"lines": [{"ticket_type_id": 999999, "quantity": 1}],
      "payment": {"method": "cash", "tendered": 99999}}, "k", 422, "invalid_request"),
    ({"lines": [{"ticket_type_id": "GA", "quantity": 0}],
      "payment": {"method": "cash", "tendered": 99999}}, "k", 422, "invalid_request"),
    ({"lines": [{"ticket_type_id": "GA", "quantity": -1}],
      "payment": {"method": "cash", "tendered": 99999}}, "k", 422, "invalid_request"),
    ({"lines": [{"ticket_type_id": "GA", "quantity": 51}],
      "payment": {"method": "cash", "tendered": 999999}}, "k", 422, "invalid_request"),
    ({"lines": [{"ticket_type_id": "GA", "quantity": 2}],
      "payment": {"method": "cash", "tendered": 4999}}, "k", 422, "insufficient_tender"),
    ({"lines": [{"ticket_type_id": "GA", "quantity": 1}], "discount": 5,
      "payment": {"method": "cash", "tendered": 99999}}, "k", 422, "invalid_request"),
    ({"lines": [{"ticket_type_id": "GA", "quantity": 1}],
      "payment": {"method": "cash", "tendered": 99999}}, None, 422, "invalid_request"),
    ({"lines": [{"ticket_type_id": "GA", "quantity": 1}],
      "payment": {"method": "cash", "tendered": 99999}}, "x" * 256, 422, "invalid_request"),
    ({"hold_id": "nope", "payment": {"method": "cash", "tendered": 99999}}, "k", 404,
     "not_found"),
    ({"lines": [{"ticket_type_id": "GA", "quantity": 1}],
      "payment": {"method": "external", "reference": "x"}}, "k", 422, "invalid_request"),
])
def test_refused_sales_sell_nothing(live_server: LiveServer, cashier: httpx.Client,
                                    payload: dict[str, Any], key: str | None, status: int,
                                    code: str) -> None:
    event_id = live_server.small_event(capacity=5)
    ga = _ticket_types(cashier, event_id)["GA"]
    for line in payload.get("lines", []):
        if line["ticket_type_id"] == "GA":
            line["ticket_type_id"] = ga["id"]
    headers = {} if key is None else {"Idempotency-Key": f"{key}-{uuid.uuid4().hex}"
                                      if key == "k" else key}
    response = cashier.post("/v1/sales", json=payload, headers=headers)
    assert response.status_code == status, response.text
    assert response.json()["error"] == code
    assert response.json()["message"]
    assert _ticket_types(cashier, event_id)["GA"]["sold"] == 0


def test_malformed_json_is_invalid_request(cashier: httpx.Client) -> None:
    response = cashier.post("/v1/sales", content=b"{not json",
                            headers={"Idempotency-Key": "x", "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"


def test_selling_past_capacity_is_refused_and_the_refusal_replays(
        live_server: LiveServer, cashier: httpx.Client) -> None:
    event_id = live_server.small_event(capacity=5)
    ga = _ticket_types(cashier, event_id)["GA"]
    assert _sell(cashier, [{"ticket_type_id": ga["id"], "quantity": 4}], 10000).status_code == 201
    lines = [{"ticket_type_id": ga["id"], "quantity": 2}]
    refused = _sell(cashier, lines, 5000, key="too-many")
    assert refused.status_code == 409
    assert refused.json()["error"] == "insufficient_inventory"
    assert refused.json()["lines"] == [{"ticket_type_id": ga["id"], "requested": 2,
                                        "available": 1}]
    replay = _sell(cashier, lines, 5000, key="too-many")
    assert replay.status_code == 409
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.content == refused.content
    assert _ticket_types(cashier, event_id)["GA"]["sold"] == 4


def test_a_sale_of_two_types_is_all_or_nothing(live_server: LiveServer,
                                               cashier: httpx.Client) -> None:
    event_id = live_server.small_event(capacity=2, types=("GA", "VIP"))
    types = _ticket_types(cashier, event_id)
    refused = _sell(cashier, [{"ticket_type_id": types["GA"]["id"], "quantity": 1},
                              {"ticket_type_id": types["VIP"]["id"], "quantity": 3}], 100000)
    assert refused.status_code == 409
    assert [line["ticket_type_id"] for line in refused.json()["lines"]] == [types["VIP"]["id"]]
    after = _ticket_types(cashier, event_id)
    assert after["GA"]["sold"] == after["VIP"]["sold"] == 0


def test_lines_of_two_events_are_refused(live_server: LiveServer,
                                         cashier: httpx.Client) -> None:
    a = _ticket_types(cashier, live_server.small_event())["GA"]
    b = _ticket_types(cashier, live_server.small_event())["GA"]
    response = _sell(cashier, [{"ticket_type_id": a["id"], "quantity": 1},
                               {"ticket_type_id": b["id"], "quantity": 1}], 100000)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_request"


def test_an_unknown_sale_is_not_found(cashier: httpx.Client) -> None:
    for ref in ("0" * 32, "987654321"):
        response = cashier.get(f"/v1/sales/{ref}")
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"


# --- audit -----------------------------------------------------------------------------------


def test_each_sale_writes_one_audit_entry_per_ticket_type_and_the_chain_verifies(
        live_server: LiveServer, cashier: httpx.Client) -> None:
    event_id = live_server.small_event(capacity=5, types=("GA", "VIP"))
    types = _ticket_types(cashier, event_id)
    sale = _sell(cashier, [{"ticket_type_id": types["VIP"]["id"], "quantity": 1},
                           {"ticket_type_id": types["GA"]["id"], "quantity": 2}], 100000).json()
    database = _database(live_server)
    try:
        with database.read() as session:
            entries = session.scalars(select(AuditEntry).where(AuditEntry.ref_id == sale["id"])
                                      .order_by(AuditEntry.seq)).all()
            assert [(e.action, e.ticket_type_id, e.quantity) for e in entries] == [
                ("sale", types["GA"]["id"], 2), ("sale", types["VIP"]["id"], 1)]
            ga = entries[0]
            assert (ga.before_capacity, ga.before_sold, ga.before_held) == (5, 0, 0)
            assert (ga.after_capacity, ga.after_sold, ga.after_held) == (5, 2, 0)
            assert ga.ref_type == "sale" and ga.terminal_id == sale["terminal_id"]
            verified = audit.verify(session)
            assert (verified.ok, verified.first_bad_seq, verified.problem) == (True, None, None)
            assert verified.entries_checked >= 2
            assert session.get(Sale, sale["id"]) is not None
            assert session.get(TicketType, types["GA"]["id"]).sold == 2  # type: ignore[union-attr]
    finally:
        database.dispose()


def test_the_openapi_document_describes_the_routes(live_server: LiveServer) -> None:
    with _client(live_server) as client:
        document = client.get("/openapi.json").json()
    paths = document["paths"]
    assert {"/v1/health", "/v1/terminals", "/v1/terminals/pair", "/v1/sessions",
            "/v1/sessions/current", "/v1/events", "/v1/sales", "/v1/sales/{ref}"} <= set(paths)
    assert {"201", "401", "409", "422"} <= set(paths["/v1/sales"]["post"]["responses"])
