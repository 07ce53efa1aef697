"""Holds over real HTTPS against ``pos-app serve``: place, find, convert, release, expire,
and sixteen terminals racing holds for the last five tickets."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.api import StaffClient, new_key, staff_client
from tests.support.live_server import LiveServer
from tests.support.race import race, racers

RACERS = 16
CAPACITY = 20
LAST = 5


@pytest.fixture
def cashier(live_server: LiveServer) -> Iterator[StaffClient]:
    client = staff_client(live_server)
    yield client
    client.close()


def _counts(client: StaffClient, event_id: str) -> dict[str, Any]:
    """The event's first ticket type as ``GET /v1/events`` reports it now."""
    events = client.http.get("/v1/events").json()["events"]
    return dict(next(e for e in events if e["id"] == event_id)["ticket_types"][0])


def _hold(client: StaffClient, lines: dict[int, int], *, kind: str = "cash",
          name: str | None = "Ada Lovelace", key: str | None = None,
          **extra: Any) -> Any:
    body: dict[str, Any] = {
        "kind": kind, "lines": [{"ticket_type_id": t, "quantity": q} for t, q in lines.items()],
        **extra}
    if name is not None:
        body["customer"] = {"name": name, "phone": "555-0100"}
    return client.post("/v1/holds", body, key=key)


def test_a_cash_hold_is_found_by_code_and_name_converted_and_the_sale_replays(
        live_server: LiveServer, cashier: StaffClient) -> None:
    event_id = live_server.small_event(capacity=5)
    ga = _counts(cashier, event_id)["id"]
    customer = f"Zelda Quartermain {uuid.uuid4().hex[:6]}"
    placed = _hold(cashier, {ga: 2}, name=customer)
    assert placed.status_code == 201, placed.text
    hold = placed.json()
    assert (hold["status"], hold["kind"], hold["total"]) == ("active", "cash", 5000)
    assert placed.headers["Location"] == f"/v1/holds/{hold['id']}"
    counts = _counts(cashier, event_id)
    assert (counts["held"], counts["available"]) == (2, 3)

    by_code = cashier.http.get(f"/v1/holds/{hold['code'].lower()}")
    assert by_code.status_code == 200 and by_code.json()["id"] == hold["id"]
    found = cashier.http.get("/v1/holds", params={"q": customer.upper(), "status": "active"})
    assert [h["id"] for h in found.json()["holds"]] == [hold["id"]]
    assert found.json()["next_cursor"] is None

    other_till = staff_client(live_server)  # a cash hold may be paid at any window
    try:
        key = new_key()
        body = {"hold_id": hold["code"], "payment": {"method": "cash", "tendered": 6000}}
        sale = other_till.post("/v1/sales", body, key=key)
        assert sale.status_code == 201, sale.text
        assert (sale.json()["total"], sale.json()["payment"]["change"]) == (5000, 1000)
        assert len(sale.json()["tickets"]) == 2
        again = other_till.post("/v1/sales", body, key=key)
        assert again.status_code == 201
        assert again.headers.get("Idempotent-Replayed") == "true"
        assert again.json() == sale.json()
    finally:
        other_till.close()

    converted = cashier.http.get(f"/v1/holds/{hold['id']}").json()
    assert (converted["status"], converted["sale_id"]) == ("converted", sale.json()["id"])
    counts = _counts(cashier, event_id)
    assert (counts["sold"], counts["held"], counts["available"]) == (2, 0, 3)


def test_a_released_hold_gives_its_tickets_back_and_cannot_be_released_twice(
        live_server: LiveServer, cashier: StaffClient) -> None:
    event_id = live_server.small_event(capacity=5)
    ga = _counts(cashier, event_id)["id"]
    hold = _hold(cashier, {ga: 5}).json()
    assert _counts(cashier, event_id)["stock_level"] == "sold_out"
    released = cashier.post(f"/v1/holds/{hold['id']}/release", {"reason": "no show"})
    assert released.status_code == 200, released.text
    assert released.json()["status"] == "released"
    assert _counts(cashier, event_id)["available"] == 5
    twice = cashier.post(f"/v1/holds/{hold['code']}/release", {})
    assert twice.status_code == 409
    assert (twice.json()["error"], twice.json()["status"]) == ("hold_not_active", "released")


def test_a_lapsed_hold_reads_expired_and_is_back_on_sale_before_the_sweeper(
        live_server: LiveServer, cashier: StaffClient) -> None:
    event_id = live_server.small_event(capacity=3)
    ga = _counts(cashier, event_id)["id"]
    hold = _hold(cashier, {ga: 3}, kind="checkout", name=None, ttl_seconds=1).json()
    time.sleep(1.2)  # the live server runs on the real clock; its sweeper runs every 30 s
    assert cashier.http.get(f"/v1/holds/{hold['id']}").json()["status"] == "expired"
    assert _counts(cashier, event_id)["available"] == 3
    late = cashier.post("/v1/sales", {"hold_id": hold["id"],
                                      "payment": {"method": "cash", "tendered": 10_000}})
    assert (late.status_code, late.json()["error"]) == (409, "hold_expired")
    assert cashier.sell({ga: 3}).status_code == 201


def test_invalid_holds_are_refused_with_invalid_request(live_server: LiveServer,
                                                        cashier: StaffClient) -> None:
    event_id = live_server.small_event(capacity=5)
    ga = _counts(cashier, event_id)["id"]
    refusals = [
        _hold(cashier, {ga: 1}, name=None),  # cash hold without a customer
        _hold(cashier, {ga: 1}, kind="checkout", name=None, ttl_seconds=15 * 60 + 1),
        _hold(cashier, {ga: 1}, ttl_seconds=4 * 3600 + 1),
        _hold(cashier, {ga: 51}),
        _hold(cashier, {ga: 1}, expires_at="2099-01-01T00:00:00Z"),  # the client's clock
        cashier.http.post("/v1/holds", json={  # no Idempotency-Key
            "kind": "checkout", "lines": [{"ticket_type_id": ga, "quantity": 1}]}),
    ]
    for response in refusals:
        assert (response.status_code, response.json()["error"]) == (422, "invalid_request")
    assert _counts(cashier, event_id)["held"] == 0


def test_sixteen_terminals_racing_holds_for_the_last_five_tickets_hold_exactly_five(
        live_server: LiveServer) -> None:
    event_id = live_server.small_event(capacity=CAPACITY)
    manager = staff_client(live_server, "morgan", "2468")
    try:
        ga = _counts(manager, event_id)["id"]
        assert manager.sell({ga: CAPACITY - LAST}).status_code == 201

        def hold_one(client: httpx.Client) -> httpx.Response:
            return client.post("/v1/holds", headers={"Idempotency-Key": new_key()}, json={
                "kind": "checkout", "lines": [{"ticket_type_id": ga, "quantity": 1}]})

        with racers(live_server, manager.http, RACERS) as clients:
            outcomes = race(clients, hold_one, tries=LAST + 1)  # more tries than tickets
        held = [body for status, body in outcomes if status == 201]
        refused = [(status, body) for status, body in outcomes if status != 201]
        assert len(held) == LAST
        assert len({body["code"] for body in held}) == LAST
        assert len(refused) == RACERS
        assert all(status == 409 and body["error"] == "insufficient_inventory"
                   and body["lines"][0]["available"] == 0 for status, body in refused)
        counts = _counts(manager, event_id)
        assert (counts["sold"], counts["held"], counts["available"]) == (
            CAPACITY - LAST, LAST, 0)
    finally:
        manager.close()
