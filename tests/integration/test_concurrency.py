"""Sixteen terminals race for the last five tickets over real HTTPS: exactly five are sold."""

from __future__ import annotations

import ssl
import threading
import uuid
from typing import Any

import httpx

from tests.support.live_server import LiveServer

TERMINALS = 16
CAPACITY = 20
LAST = 5


def _client(server: LiveServer, token: str | None = None) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    context = ssl.create_default_context(cafile=str(server.ca_file))
    return httpx.Client(base_url=server.base_url, verify=context, headers=headers, timeout=60)


def _session_at_new_terminal(server: LiveServer, manager: httpx.Client) -> str:
    created = manager.post("/v1/terminals", json={"name": f"race-{uuid.uuid4().hex[:6]}"})
    assert created.status_code == 201, created.text
    with _client(server) as anonymous:
        paired = anonymous.post("/v1/terminals/pair",
                                json={"pairing_code": created.json()["pairing_code"]})
    assert paired.status_code == 201, paired.text
    with _client(server, paired.json()["terminal_token"]) as terminal:
        signed_in = terminal.post("/v1/sessions", json={"username": "alex", "pin": "1234"})
    assert signed_in.status_code == 201, signed_in.text
    token = str(signed_in.json()["token"])
    _open_shift(server, token)
    return token


def _open_shift(server: LiveServer, token: str) -> None:
    """Box-office cash sales need an open shift at the terminal."""
    with _client(server, token) as client:
        opened = client.post("/v1/shifts", json={"opening_float": 20_000},
                             headers={"Idempotency-Key": uuid.uuid4().hex})
    assert opened.status_code == 201, opened.text


def _buy_one(client: httpx.Client, ticket_type_id: int) -> httpx.Response:
    return client.post("/v1/sales", headers={"Idempotency-Key": uuid.uuid4().hex}, json={
        "lines": [{"ticket_type_id": ticket_type_id, "quantity": 1}],
        "payment": {"method": "cash", "tendered": 2500}})


def test_sixteen_terminals_racing_for_the_last_five_tickets_sell_exactly_five(
        live_server: LiveServer) -> None:
    event_id = live_server.small_event(capacity=CAPACITY, price=2500)
    with _client(live_server) as anonymous:
        terminal_token = anonymous.post("/v1/terminals/pair", json={
            "pairing_code": live_server.add_terminal()}).json()["terminal_token"]
    with _client(live_server, terminal_token) as terminal:
        manager_token = terminal.post("/v1/sessions", json={
            "username": "morgan", "pin": "2468"}).json()["token"]
    _open_shift(live_server, manager_token)
    with _client(live_server, manager_token) as manager:
        event = next(e for e in manager.get("/v1/events").json()["events"]
                     if e["id"] == event_id)
        ga_id = int(event["ticket_types"][0]["id"])
        first = manager.post("/v1/sales", headers={"Idempotency-Key": uuid.uuid4().hex}, json={
            "lines": [{"ticket_type_id": ga_id, "quantity": CAPACITY - LAST}],
            "payment": {"method": "cash", "tendered": 2500 * (CAPACITY - LAST)}})
        assert first.status_code == 201, first.text
        tokens = [_session_at_new_terminal(live_server, manager) for _ in range(TERMINALS)]

    start = threading.Barrier(TERMINALS)
    results: list[list[tuple[int, dict[str, Any]]]] = [[] for _ in range(TERMINALS)]
    failures: list[BaseException] = []

    def race(index: int) -> None:
        try:
            with _client(live_server, tokens[index]) as client:
                client.get("/v1/health")  # open the TLS connection before the start
                start.wait(timeout=60)
                for _ in range(LAST + 1):  # more tries than there are tickets
                    response = _buy_one(client, ga_id)
                    results[index].append((response.status_code, response.json()))
                    if response.status_code != 201:
                        break
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=race, args=(i,)) for i in range(TERMINALS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures

    outcomes = [outcome for per_thread in results for outcome in per_thread]
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

    with _client(live_server, tokens[0]) as client:
        final = next(e for e in client.get("/v1/events").json()["events"]
                     if e["id"] == event_id)["ticket_types"][0]
    assert final["sold"] == CAPACITY
    assert final["sold"] + final["held"] <= final["capacity"]
    assert (final["available"], final["stock_level"]) == (0, "sold_out")
