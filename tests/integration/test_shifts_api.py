"""Shifts over real HTTPS (``pos-app serve --demo``): open with a float, sell, move cash,
close with the counted cash, read the cash-up; and what is refused."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.api import StaffClient, new_key, staff_client
from tests.support.live_server import LiveServer


@pytest.fixture
def cashier(live_server: LiveServer) -> Iterator[StaffClient]:
    """The demo cashier at a fresh terminal, with no shift open."""
    client = staff_client(live_server, open_shift=False)
    try:
        yield client
    finally:
        client.close()


def ga_id(live_server: LiveServer, client: StaffClient, price: int = 2500) -> int:
    event_id = live_server.small_event(capacity=20, price=price)
    event = next(e for e in client.http.get("/v1/events").json()["events"]
                 if e["id"] == event_id)
    return int(event["ticket_types"][0]["id"])


def test_a_whole_shift_open_sell_move_cash_close_and_read_back(
        live_server: LiveServer, cashier: StaffClient) -> None:
    ga = ga_id(live_server, cashier)
    refused = cashier.sell({ga: 1}, 2500, key="before-the-shift")
    assert (refused.status_code, refused.json()["error"]) == (409, "shift_not_open")

    opened = cashier.post("/v1/shifts", {"opening_float": 20_000}, key="open-1")
    assert opened.status_code == 201, opened.text
    shift = opened.json()
    assert (shift["status"], shift["opening_float"], shift["terminal_id"]) == (
        "open", 20_000, cashier.terminal_id)
    assert shift["currency"] == "USD" and shift["expected_cash"] is None
    again = cashier.post("/v1/shifts", {"opening_float": 20_000}, key="open-1")
    assert again.json() == shift and again.headers["Idempotent-Replayed"] == "true"
    second = cashier.post("/v1/shifts", {"opening_float": 0})
    assert (second.status_code, second.json()["error"]) == (409, "shift_already_open")

    sale = cashier.sell({ga: 3}, 10_000)
    assert sale.status_code == 201 and sale.json()["shift_id"] == shift["id"]
    # The refusal before the shift is stored: the same key still answers it.
    replay = cashier.sell({ga: 1}, 2500, key="before-the-shift")
    assert replay.json()["error"] == "shift_not_open"
    base = f"/v1/shifts/{shift['id']}"
    for kind, amount in (("pay_in", 5_000), ("pay_out", 700), ("drop", 10_000)):
        moved = cashier.post(f"{base}/cash-movements",
                             {"kind": kind, "amount": amount, "reason": f"test {kind}"})
        assert moved.status_code == 201, moved.text
        assert (moved.json()["kind"], moved.json()["amount"]) == (kind, amount)
    blank = cashier.post(f"{base}/cash-movements", {"kind": "drop", "amount": 0, "reason": ""})
    assert (blank.status_code, blank.json()["error"]) == (422, "invalid_request")

    closed = cashier.post(f"{base}/close", {"counted_cash": 21_800, "note": "short by 5"})
    assert closed.status_code == 200, closed.text
    body = closed.json()
    expected = 20_000 + 7_500 + 5_000 - 700 - 10_000
    assert (body["expected_cash"], body["counted_cash"], body["variance"]) == (
        expected, 21_800, 21_800 - expected)
    assert body["sales"] == {"count": 1, "amount": 7_500}
    assert body["refunds"] == {"count": 0, "amount": 0}
    assert [(t["tickets"], t["amount"]) for t in body["ticket_types"]] == [(3, 7_500)]
    assert [m["kind"] for m in body["cash_movements"]] == ["pay_in", "pay_out", "drop"]

    assert cashier.http.get(base).json() == body
    listed = cashier.http.get("/v1/shifts", params={"terminal_id": "me"}).json()
    assert [s["id"] for s in listed["shifts"]] == [shift["id"]]
    assert listed["next_cursor"] is None
    assert cashier.http.get("/v1/shifts", params={"status": "open"}).json()["shifts"] == []

    late = cashier.post(f"{base}/cash-movements",
                        {"kind": "drop", "amount": 100, "reason": "too late"})
    assert (late.status_code, late.json()["error"]) == (409, "shift_not_open")
    assert cashier.post(f"{base}/close", {"counted_cash": 0}).json()["error"] == \
        "shift_not_open"
    assert cashier.sell({ga: 1}, 2500).json()["error"] == "shift_not_open"


def test_a_cashier_cannot_touch_another_terminals_shift(
        live_server: LiveServer, cashier: StaffClient) -> None:
    other = staff_client(live_server)
    try:
        assert other.shift_id is not None
        path = f"/v1/shifts/{other.shift_id}"
        assert cashier.http.get(path).status_code == 403
        assert cashier.post(f"{path}/close", {"counted_cash": 0}).status_code == 403
        listed = cashier.http.get("/v1/shifts",
                                  params={"terminal_id": str(other.terminal_id)})
        assert listed.status_code == 403
        assert other.http.get(path).json()["status"] == "open"
    finally:
        other.close()


@pytest.mark.parametrize(("path", "body"), [
    ("/v1/shifts", {"opening_float": -1}),
    ("/v1/shifts", {"opening_float": 100, "extra": 1}),
    ("/v1/shifts", {}),
])
def test_bad_bodies_are_invalid_requests_and_open_nothing(
        cashier: StaffClient, path: str, body: dict[str, object]) -> None:
    response = cashier.post(path, body)
    assert (response.status_code, response.json()["error"]) == (422, "invalid_request")
    assert cashier.http.get("/v1/shifts", params={"status": "open"}).json()["shifts"] == []


def test_shift_changes_need_an_idempotency_key_and_unknown_shifts_are_not_found(
        cashier: StaffClient) -> None:
    no_key = cashier.http.post("/v1/shifts", json={"opening_float": 0})
    assert (no_key.status_code, no_key.json()["error"]) == (422, "invalid_request")
    missing = cashier.post("/v1/shifts/987654/close", {"counted_cash": 0}, key=new_key())
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
    assert cashier.http.get("/v1/shifts/987654").status_code == 404
