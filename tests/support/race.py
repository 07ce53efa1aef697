"""Many terminals racing for the last tickets of a :class:`~tests.support.live_server.LiveServer`
over real HTTPS, each from its own thread, all released at once."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx

from tests.support.live_server import LiveServer

Outcome = tuple[int, dict[str, Any]]
"""A racer's answer: ``(status code, JSON body)``."""


def _racer(server: LiveServer, manager: httpx.Client, *, open_shift: bool) -> httpx.Client:
    created = manager.post("/v1/terminals", json={"name": f"race-{uuid.uuid4().hex[:6]}"})
    assert created.status_code == 201, created.text
    http = httpx.Client(base_url=server.base_url, verify=server.tls_context(), timeout=60)
    try:
        paired = http.post("/v1/terminals/pair",
                           json={"pairing_code": created.json()["pairing_code"]})
        assert paired.status_code == 201, paired.text
        terminal_token = paired.json()["terminal_token"]
        signed_in = http.post("/v1/sessions", json={"username": "alex", "pin": "1234"},
                              headers={"Authorization": f"Bearer {terminal_token}"})
        assert signed_in.status_code == 201, signed_in.text
        http.headers["Authorization"] = f"Bearer {signed_in.json()['token']}"
        if open_shift:
            opened = http.post("/v1/shifts", json={"opening_float": 20_000},
                               headers={"Idempotency-Key": uuid.uuid4().hex})
            assert opened.status_code == 201, opened.text
    except BaseException:
        http.close()
        raise
    return http


@contextmanager
def racers(server: LiveServer, manager: httpx.Client, count: int, *,
           open_shift: bool = False) -> Iterator[list[httpx.Client]]:
    """``count`` clients, each signed in as the cashier alex/1234 at a terminal of its own
    that ``manager`` (a signed-in manager's client) creates over the API, with no CLI round
    trip so that sixteen are quick to set up. With ``open_shift`` each opens a shift with a
    20 000 float (box-office cash sales need one). Every step is asserted to answer 201; the
    clients are closed on exit."""
    clients: list[httpx.Client] = []
    try:
        for _ in range(count):
            clients.append(_racer(server, manager, open_shift=open_shift))
        yield clients
    finally:
        for client in clients:
            client.close()


def race(clients: Sequence[httpx.Client], attempt: Callable[[httpx.Client], httpx.Response],
         *, tries: int) -> list[Outcome]:
    """Run one thread per client: each opens its TLS connection (``GET /v1/health``), waits
    at a barrier shared by all of them, then calls ``attempt(client)`` up to ``tries`` times,
    stopping after the first answer other than 201. Fails the test if any thread raised;
    returns every answer, one client's after another's, in the order each client got them."""
    start = threading.Barrier(len(clients))
    results: list[list[Outcome]] = [[] for _ in clients]
    failures: list[BaseException] = []

    def run(index: int) -> None:
        try:
            client = clients[index]
            client.get("/v1/health")  # open the TLS connection before the start
            start.wait(timeout=60)
            for _ in range(tries):
                response = attempt(client)
                results[index].append((response.status_code, response.json()))
                if response.status_code != 201:
                    break
        except BaseException as exc:  # reported below, in the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not failures, failures
    return [outcome for per_client in results for outcome in per_client]
