"""Refunds, capacity, ticket type settings, alerts and the audit log over real HTTPS
(``pos-app serve --demo``): morgan/2468 is the demo manager, alex/1234 the cashier."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.api import StaffClient, new_key, staff_client
from tests.support.live_server import LiveServer


@pytest.fixture(scope="module")
def manager(live_server: LiveServer) -> Iterator[StaffClient]:
    client = staff_client(live_server, "morgan", "2468")
    yield client
    client.close()


@pytest.fixture(scope="module")
def cashier(live_server: LiveServer) -> Iterator[StaffClient]:
    client = staff_client(live_server)
    yield client
    client.close()


def _type(client: StaffClient, event_id: str) -> dict[str, Any]:
    """The current wire shape of ``event_id``'s only ticket type, from ``GET /v1/events``."""
    events = client.http.get("/v1/events").json()["events"]
    return dict(next(e for e in events if e["id"] == event_id)["ticket_types"][0])


def _sale(client: StaffClient, tt_id: int, quantity: int) -> dict[str, Any]:
    response = client.sell({tt_id: quantity})
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_cashier_refunds_only_with_a_managers_pin(live_server: LiveServer,
                                                    cashier: StaffClient) -> None:
    event = live_server.small_event(capacity=5)
    ga = _type(cashier, event)
    sale = _sale(cashier, ga["id"], 2)
    path = f"/v1/sales/{sale['number']}/refunds"

    alone = cashier.post(path, {"reason": "wrong night"})
    assert (alone.status_code, alone.json()["error"]) == (403, "forbidden")
    wrong = cashier.post(path, {"reason": "wrong night",
                                "manager": {"username": "morgan", "pin": "0000"}})
    assert (wrong.status_code, wrong.json()["error"]) == (403, "approval_refused")
    assert _type(cashier, event)["sold"] == 2

    key = new_key()
    body = {"reason": "wrong night", "ticket_codes": [sale["tickets"][0]["code"]],
            "manager": {"username": "morgan", "pin": "2468"}}
    done = cashier.post(path, body, key=key)
    assert done.status_code == 201, done.text
    assert (done.json()["amount"], done.json()["sale_id"]) == (2500, sale["id"])
    replay = cashier.post(path, body, key=key)
    assert replay.headers.get("Idempotent-Replayed") == "true"
    assert replay.json() == done.json()
    twice = cashier.post(path, body)
    assert (twice.status_code, twice.json()["error"]) == (409, "already_refunded")

    after = _type(cashier, event)
    assert (after["sold"], after["available"]) == (1, 4)
    shown = cashier.http.get(f"/v1/sales/{sale['id']}").json()
    assert shown["status"] == "partially_refunded"
    assert sorted(t["status"] for t in shown["tickets"]) == ["refunded", "valid"]


def test_a_manager_approves_their_own_refund(live_server: LiveServer, manager: StaffClient,
                                             cashier: StaffClient) -> None:
    event = live_server.small_event(capacity=5)
    ga = _type(manager, event)
    sale = _sale(cashier, ga["id"], 3)
    done = manager.post(f"/v1/sales/{sale['id']}/refunds", {"reason": "show moved"})
    assert done.status_code == 201, done.text
    assert done.json()["approved_by"] == manager.staff["id"]
    assert len(done.json()["tickets"]) == 3
    assert _type(manager, event)["available"] == 5
    assert cashier.http.get(f"/v1/sales/{sale['id']}").json()["status"] == "refunded"

    entries = manager.http.get("/v1/audit", params={"action": "refund",
                                                    "ticket_type_id": ga["id"]}).json()
    assert [(e["quantity"], e["ref"], e["approved_by"]) for e in entries["entries"]] == [
        (3, {"refund_id": done.json()["id"]}, manager.staff["id"])]


def test_a_refund_needs_an_idempotency_key(live_server: LiveServer, manager: StaffClient,
                                           cashier: StaffClient) -> None:
    event = live_server.small_event()
    sale = _sale(cashier, _type(manager, event)["id"], 1)
    response = manager.http.post(f"/v1/sales/{sale['id']}/refunds", json={"reason": "x"})
    assert (response.status_code, response.json()["error"]) == (422, "invalid_request")


def test_capacity_changes_show_in_the_events_and_hidden_expansion_is_door_only(
        live_server: LiveServer, manager: StaffClient, cashier: StaffClient) -> None:
    event = live_server.small_event(capacity=5)
    ga = _type(manager, event)
    grown = manager.post(f"/v1/ticket-types/{ga['id']}/capacity",
                         {"delta": 3, "reason": "extra standing room"})
    assert grown.status_code == 200, grown.text
    seen = _type(manager, event)
    assert (seen["capacity"], seen["public_limit"]) == (8, 5)
    assert (seen["available"], seen["public_available"]) == (8, 5)

    _sale(cashier, ga["id"], 6)
    refused = manager.post(f"/v1/ticket-types/{ga['id']}/capacity",
                           {"delta": -3, "reason": "fire marshal"})
    assert refused.status_code == 409
    assert refused.json()["error"] == "capacity_below_committed"
    assert (refused.json()["capacity"], refused.json()["sold"]) == (8, 6)
    assert _type(manager, event)["capacity"] == 8

    denied = cashier.post(f"/v1/ticket-types/{ga['id']}/capacity",
                          {"delta": 1, "reason": "me too"})
    assert denied.status_code == 403


def test_bulk_capacity_is_all_or_nothing(live_server: LiveServer,
                                         manager: StaffClient) -> None:
    first, second = live_server.small_event(capacity=4), live_server.small_event(capacity=4)
    a, b = _type(manager, first), _type(manager, second)
    refused = manager.post("/v1/capacity/bulk", {
        "changes": [{"ticket_type_id": a["id"], "delta": 2},
                    {"ticket_type_id": b["id"], "delta": -5}], "reason": "replan"})
    assert refused.status_code == 409
    assert [t["ticket_type_id"] for t in refused.json()["ticket_types"]] == [b["id"]]
    assert _type(manager, first)["capacity"] == 4
    done = manager.post("/v1/capacity/bulk", {
        "changes": [{"ticket_type_id": a["id"], "delta": 2},
                    {"ticket_type_id": b["id"], "delta": -1}], "reason": "replan"})
    assert done.status_code == 200, done.text
    assert [t["capacity"] for t in done.json()["ticket_types"]] == [6, 3]


def test_patching_settings_is_audited_and_validated(live_server: LiveServer,
                                                    manager: StaffClient) -> None:
    event = live_server.small_event(capacity=10)
    ga = _type(manager, event)
    path = f"/v1/ticket-types/{ga['id']}"
    bad = manager.http.patch(path, json={"thresholds": {"low": 1, "critical": 3}},
                             headers={"Idempotency-Key": new_key()})
    assert (bad.status_code, bad.json()["error"]) == (422, "invalid_request")
    no_key = manager.http.patch(path, json={"public_limit": 4})
    assert no_key.status_code == 422
    done = manager.http.patch(path, json={"public_limit": 4, "price": 3000},
                              headers={"Idempotency-Key": new_key()})
    assert done.status_code == 200, done.text
    seen = _type(manager, event)
    assert (seen["public_available"], seen["available"], seen["price"]) == (4, 10, 3000)
    log = manager.http.get("/v1/audit", params={"ticket_type_id": ga["id"],
                                                "order": "desc"}).json()
    assert [e["action"] for e in log["entries"]][:2] == ["price_change", "public_limit_change"]


def test_alerts_and_the_audit_log_are_for_managers(live_server: LiveServer,
                                                   manager: StaffClient,
                                                   cashier: StaffClient) -> None:
    event = live_server.small_event(capacity=5)  # ladder [2, 1, 0]
    ga = _type(manager, event)
    since = manager.http.get("/v1/alerts").json()["alerts"]
    last = since[-1]["seq"] if since else 0
    _sale(cashier, ga["id"], 4)
    alerts = manager.http.get("/v1/alerts", params={"since": last}).json()["alerts"]
    assert [(a["ticket_type_id"], a["level"], a["available"]) for a in alerts
            if a["ticket_type_id"] == ga["id"]] == [(ga["id"], 2, 1), (ga["id"], 1, 1)]

    assert cashier.http.get("/v1/alerts").status_code == 403
    assert cashier.http.get("/v1/audit").status_code == 403
    page = manager.http.get("/v1/audit", params={"limit": 2, "order": "desc"}).json()
    assert len(page["entries"]) == 2 and page["next_cursor"]
    more = manager.http.get("/v1/audit", params={"limit": 2, "order": "desc",
                                                 "cursor": page["next_cursor"]}).json()
    assert more["entries"][0]["seq"] < page["entries"][-1]["seq"]
    verified = manager.http.get("/v1/audit/verify").json()
    assert verified["ok"] is True and verified["first_bad_seq"] is None


def test_sales_are_listed_by_shift(live_server: LiveServer, cashier: StaffClient) -> None:
    event = live_server.small_event(capacity=5)
    sale = _sale(cashier, _type(cashier, event)["id"], 1)
    listed = cashier.http.get("/v1/sales", params={"shift_id": sale["shift_id"],
                                                   "limit": 1000}).json()
    assert sale["id"] in [s["id"] for s in listed["sales"]]
    assert all(s["shift_id"] == sale["shift_id"] for s in listed["sales"])
