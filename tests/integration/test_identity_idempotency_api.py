"""Over real HTTPS (``pos-app serve --demo``): channel tokens made with the CLI, sign-in
throttling, and settling idempotency keys by lookup and void."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import httpx
import pytest

from tests.support.api import StaffClient, new_key, staff_client, ticket_type
from tests.support.live_server import LiveServer, pos_app


def _http(server: LiveServer, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.Client(base_url=server.base_url, verify=server.tls_context(),
                        headers=headers, timeout=30)


@pytest.fixture
def cashier(live_server: LiveServer) -> Iterator[StaffClient]:
    client = staff_client(live_server)
    yield client
    client.close()


def test_a_channel_token_from_the_cli_may_read_events_but_not_run_the_box_office(
        live_server: LiveServer) -> None:
    out = pos_app("admin", "add-channel-token", "online", "--name", "Web shop",
                  "--data-dir", str(live_server.data_dir))
    token = out.stdout.strip().splitlines()[-1]
    assert len(token) >= 43 and " " not in token
    event_id = live_server.small_event()
    ga = ticket_type(live_server, event_id)
    with _http(live_server, token) as channel:
        assert channel.get("/v1/events").status_code == 200
        assert channel.get(f"/v1/idempotency-keys/{new_key()}").status_code == 404
        for path, body in [("/v1/shifts", {"opening_float": 0}),
                           (f"/v1/ticket-types/{ga['id']}/capacity",
                            {"delta": 1, "reason": "more"})]:
            refused = channel.post(path, json=body, headers={"Idempotency-Key": new_key()})
            assert (refused.status_code, refused.json()["error"]) == (403, "forbidden"), path
    assert ticket_type(live_server, event_id)["capacity"] == ga["capacity"]


def test_the_cli_refuses_a_bad_channel_name(live_server: LiveServer) -> None:
    result = pos_app("admin", "add-channel-token", "Not A Channel",
                     "--data-dir", str(live_server.data_dir), check=False)
    assert result.returncode == 2
    assert "channel" in result.stderr


def test_five_wrong_pins_lock_the_username_over_https(live_server: LiveServer) -> None:
    username = f"throttle-{uuid.uuid4().hex[:8]}"
    pos_app("admin", "add-staff", username, "--role", "cashier",
            "--data-dir", str(live_server.data_dir), stdin="4321\n")
    code = live_server.add_terminal()
    with _http(live_server) as anonymous:
        terminal_token = anonymous.post("/v1/terminals/pair",
                                        json={"pairing_code": code}).json()["terminal_token"]
    with _http(live_server, terminal_token) as terminal:
        for _ in range(5):
            wrong = terminal.post("/v1/sessions", json={"username": username, "pin": "0000"})
            assert wrong.status_code == 401
        locked = terminal.post("/v1/sessions", json={"username": username, "pin": "4321"})
        assert (locked.status_code, locked.json()["error"]) == (429, "too_many_attempts")
        assert 590 <= int(locked.headers["Retry-After"]) <= 600
        # another username at the same terminal is not affected
        assert terminal.post("/v1/sessions",
                             json={"username": "alex", "pin": "1234"}).status_code == 201


def test_a_completed_key_is_looked_up_replayed_and_not_voided(
        live_server: LiveServer, cashier: StaffClient) -> None:
    ga = ticket_type(live_server, live_server.small_event())
    key = new_key()
    first = cashier.sell({ga["id"]: 1}, key=key)
    assert first.status_code == 201, first.text
    again = cashier.sell({ga["id"]: 1}, key=key)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (again.status_code, again.json()) == (201, first.json())
    expected = {"status": "completed", "response": {"status": 201, "body": first.json()}}
    assert cashier.http.get(f"/v1/idempotency-keys/{key}").json() == expected
    voided = cashier.http.post(f"/v1/idempotency-keys/{key}/void")
    assert (voided.status_code, voided.json()) == (200, expected)
    other = staff_client(live_server, open_shift=False)
    try:  # keys are scoped to the terminal
        assert other.http.get(f"/v1/idempotency-keys/{key}").status_code == 404
    finally:
        other.close()


def test_a_voided_key_never_executes_late(live_server: LiveServer,
                                          cashier: StaffClient) -> None:
    event_id = live_server.small_event()
    ga = ticket_type(live_server, event_id)
    key = new_key()
    missing = cashier.http.get(f"/v1/idempotency-keys/{key}")
    assert (missing.status_code, missing.json()["error"]) == (404, "not_found")
    voided = cashier.http.post(f"/v1/idempotency-keys/{key}/void")
    assert (voided.status_code, voided.json()) == (200, {"status": "voided", "response": None})
    late = cashier.sell({ga["id"]: 1}, key=key)
    assert (late.status_code, late.json()["error"]) == (409, "idempotency_key_voided")
    assert ticket_type(live_server, event_id)["sold"] == 0
    assert cashier.http.get(f"/v1/idempotency-keys/{key}").json()["status"] == "voided"


def test_a_reused_key_with_another_body_is_refused(live_server: LiveServer,
                                                   cashier: StaffClient) -> None:
    event_id = live_server.small_event()
    ga = ticket_type(live_server, event_id)
    key = new_key()
    assert cashier.sell({ga["id"]: 1}, key=key).status_code == 201
    reused = cashier.sell({ga["id"]: 2}, key=key)
    assert (reused.status_code, reused.json()["error"]) == (422, "idempotency_key_reused")
    assert ticket_type(live_server, event_id)["sold"] == 1
