"""Sixteen terminals race for the last five tickets over real HTTPS: exactly five are sold."""

from __future__ import annotations

import httpx

from tests.support.api import new_key, staff_client
from tests.support.live_server import LiveServer
from tests.support.race import race, racers

TERMINALS = 16
CAPACITY = 20
LAST = 5


def _buy_one(client: httpx.Client, ticket_type_id: int) -> httpx.Response:
    return client.post("/v1/sales", headers={"Idempotency-Key": new_key()}, json={
        "lines": [{"ticket_type_id": ticket_type_id, "quantity": 1}],
        "payment": {"method": "cash", "tendered": 2500}})


def test_sixteen_terminals_racing_for_the_last_five_tickets_sell_exactly_five(
        live_server: LiveServer) -> None:
    event_id = live_server.small_event(capacity=CAPACITY, price=2500)
    manager = staff_client(live_server, "morgan", "2468", timeout=60)
    try:
        assert manager.shift_id is not None  # box-office cash sales need an open shift
        event = next(e for e in manager.http.get("/v1/events").json()["events"]
                     if e["id"] == event_id)
        ga_id = int(event["ticket_types"][0]["id"])
        first = manager.sell({ga_id: CAPACITY - LAST}, 2500 * (CAPACITY - LAST))
        assert first.status_code == 201, first.text
        with racers(live_server, manager.http, TERMINALS, open_shift=True) as clients:
            outcomes = race(clients, lambda client: _buy_one(client, ga_id),
                            tries=LAST + 1)  # more tries than there are tickets
            final = next(e for e in clients[0].get("/v1/events").json()["events"]
                         if e["id"] == event_id)["ticket_types"][0]
    finally:
        manager.close()

    sold = [body for status, body in outcomes if status == 201]
    refused = [(status, body) for status, body in outcomes if status != 201]
    assert len(sold) == LAST
    assert all(len(body["tickets"]) == 1 and body["tickets"][0]["ticket_type_id"] == ga_id
               for body in sold)
    assert len({body["tickets"][0]["code"] for body in sold}) == LAST
    assert len({body["number"] for body in sold}) == LAST
    assert len(refused) == TERMINALS  # every terminal ends with exactly one refusal
    for status, body in refused:
        assert status == 409
        assert body["error"] == "insufficient_inventory"
        assert body["lines"] == [{"ticket_type_id": ga_id, "requested": 1, "available": 0}]
    assert final["sold"] == CAPACITY
    assert final["sold"] + final["held"] <= final["capacity"]
    assert (final["available"], final["stock_level"]) == (0, "sold_out")
