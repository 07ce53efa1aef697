"""Cash-up variance approval over real HTTPS (``pos-app serve --demo``, threshold 500): a count
off by more than $5.00 needs a manager's PIN and a note; the refusal keeps the count blind and
changes nothing; the PIN is stored nowhere on the server. Also the threshold's setting."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pos_app.server.runner import ENV_VARIANCE_THRESHOLD, ServeError, settings_from_environment
from tests.support.api import StaffClient, staff_client
from tests.support.live_server import LiveServer, pos_app


@pytest.fixture
def cashier(live_server: LiveServer) -> Iterator[StaffClient]:
    """The demo cashier at a fresh terminal with a $200.00 float and one $25.00 cash sale
    ($225.00 expected in the drawer)."""
    client = staff_client(live_server, opening_float=20_000)
    event_id = live_server.small_event(capacity=5, price=2500)
    event = next(e for e in client.http.get("/v1/events").json()["events"]
                 if e["id"] == event_id)
    assert client.sell({int(event["ticket_types"][0]["id"]): 1}, 2500).status_code == 201
    try:
        yield client
    finally:
        client.close()


def add_manager(live_server: LiveServer, pin: str) -> str:
    username = f"mgr{uuid.uuid4().hex[:8]}"
    live_server.add_staff(username, role="manager", pin=pin,
                          display_name="Pat Night Manager")
    return username


def test_beyond_the_threshold_a_managers_pin_and_a_note_close_it_and_the_pin_is_kept_nowhere(
        live_server: LiveServer, cashier: StaffClient) -> None:
    pin = f"9{uuid.uuid4().int % 10**11:011d}"  # unique: finding it in a file means it
    manager = add_manager(live_server, pin)
    base = f"/v1/shifts/{cashier.shift_id}"

    refused = cashier.post(f"{base}/close", {"counted_cash": 21_000, "note": "short"})
    assert refused.status_code == 409
    body = refused.json()
    assert body["error"] == "variance_needs_approval"
    assert set(body) == {"error", "message", "shift_id"}  # no amount: the count stays blind
    assert "22500" not in refused.text and "225.00" not in refused.text
    assert "1500" not in refused.text and "15.00" not in refused.text
    still = cashier.http.get(base).json()
    assert (still["status"], still["expected_cash"], still["variance"]) == ("open", None, None)

    cashiers_own = cashier.post(f"{base}/close", {
        "counted_cash": 21_000, "note": "short", "manager": {"username": "alex", "pin": "1234"}})
    assert (cashiers_own.status_code, cashiers_own.json()["error"]) == (403, "approval_refused")
    wrong = cashier.post(f"{base}/close", {
        "counted_cash": 21_000, "note": "short", "manager": {"username": manager, "pin": "0"}})
    assert (wrong.status_code, wrong.json()) == (403, cashiers_own.json())  # one answer
    assert cashier.http.get(base).json()["status"] == "open"

    key = f"approved-{uuid.uuid4().hex}"
    approved_body = {"counted_cash": 21_000, "note": "paid the piano tuner from the drawer",
                     "manager": {"username": manager, "pin": pin}}
    closed = cashier.post(f"{base}/close", approved_body, key=key)
    assert closed.status_code == 200, closed.text
    shift = closed.json()
    assert (shift["expected_cash"], shift["counted_cash"], shift["variance"]) == (
        22_500, 21_000, -1_500)
    assert shift["approved_by_name"] == "Pat Night Manager" and shift["approved_by"]
    assert shift["closed_by_name"] == shift["opened_by_name"] == cashier.staff["display_name"]
    assert shift["terminal_name"] and shift["first_sale_number"] == shift["last_sale_number"]
    replay = cashier.post(f"{base}/close", approved_body, key=key)
    assert replay.headers.get("Idempotent-Replayed") == "true" and replay.json() == shift

    boss = staff_client(live_server, "morgan", "2468", open_shift=False)
    try:
        entries = boss.http.get("/v1/audit", params={
            "shift_id": cashier.shift_id, "action": "shift_close"}).json()["entries"]
    finally:
        boss.close()
    assert len(entries) == 1
    assert entries[0]["approved_by"] == shift["approved_by"]
    assert "paid the piano tuner from the drawer" in entries[0]["reason"]
    looked_up = cashier.http.get(f"/v1/idempotency-keys/{key}")
    assert looked_up.status_code == 200 and looked_up.json()["status"] == "completed"
    assert pin not in str(entries) and pin not in looked_up.text

    stored = b"".join(p.read_bytes() for p in Path(live_server.data_dir).glob("pos.sqlite3*"))
    assert key.encode() in stored  # the search finds what is there...
    assert pin.encode() not in stored  # ...and the PIN is not


def test_within_the_threshold_a_cashier_closes_alone(cashier: StaffClient) -> None:
    closed = cashier.post(f"/v1/shifts/{cashier.shift_id}/close", {"counted_cash": 23_000})
    assert closed.status_code == 200, closed.text
    assert (closed.json()["variance"], closed.json()["approved_by"]) == (500, None)


def test_the_threshold_comes_from_the_environment_and_the_serve_option(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_VARIANCE_THRESHOLD, "2000")
    assert settings_from_environment("sqlite://").variance_threshold == 2000
    monkeypatch.delenv(ENV_VARIANCE_THRESHOLD)
    assert settings_from_environment("sqlite://").variance_threshold == 500
    for bad in ("-1", "5.00", "lots", "99999999999"):
        monkeypatch.setenv(ENV_VARIANCE_THRESHOLD, bad)
        with pytest.raises(ServeError, match=ENV_VARIANCE_THRESHOLD):
            settings_from_environment("sqlite://")
    monkeypatch.delenv(ENV_VARIANCE_THRESHOLD)
    # The serve option reaches the same check (refused before anything starts).
    refused = pos_app("serve", "--data-dir", str(tmp_path / "srv"), "--variance-threshold",
                      "-5", check=False, timeout=30)
    assert refused.returncode == 2 and ENV_VARIANCE_THRESHOLD in refused.stderr
