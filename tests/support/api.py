"""Talk to a :class:`~tests.support.live_server.LiveServer` as a paired terminal would."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.live_server import LiveServer


def new_key() -> str:
    """A fresh ``Idempotency-Key``."""
    return uuid.uuid4().hex


@dataclass
class StaffClient:
    """An ``httpx.Client`` signed in as a staff member at its own freshly paired terminal."""

    http: httpx.Client
    terminal_id: int
    terminal_token: str
    staff: dict[str, Any]
    shift_id: int | None = None

    def post(self, path: str, body: dict[str, Any], *, key: str | None = None) -> httpx.Response:
        """POST with an ``Idempotency-Key`` (fresh unless given)."""
        return self.http.post(path, json=body, headers={"Idempotency-Key": key or new_key()})

    def sell(self, lines: dict[int, int], tendered: int = 10_000_000, *,
             key: str | None = None) -> httpx.Response:
        """``POST /v1/sales`` for cash: ``lines`` maps ticket type id to quantity."""
        return self.post("/v1/sales", {
            "lines": [{"ticket_type_id": t, "quantity": q} for t, q in lines.items()],
            "payment": {"method": "cash", "tendered": tendered}}, key=key)

    def close(self) -> None:
        self.http.close()


def staff_client(server: LiveServer, username: str = "alex", pin: str = "1234", *,
                 open_shift: bool = True, opening_float: int = 20_000,
                 timeout: float = 30) -> StaffClient:
    """Pair a new terminal, sign ``username`` in and (by default) open a shift with
    ``opening_float`` minor units, so box-office cash sales are allowed."""
    http = httpx.Client(base_url=server.base_url, verify=server.tls_context(), timeout=timeout)
    paired = http.post("/v1/terminals/pair", json={"pairing_code": server.add_terminal()})
    paired.raise_for_status()
    terminal_token = paired.json()["terminal_token"]
    signed_in = http.post("/v1/sessions", json={"username": username, "pin": pin},
                          headers={"Authorization": f"Bearer {terminal_token}"})
    signed_in.raise_for_status()
    http.headers["Authorization"] = f"Bearer {signed_in.json()['token']}"
    client = StaffClient(http=http, terminal_id=paired.json()["terminal_id"],
                         terminal_token=terminal_token, staff=signed_in.json()["staff"])
    if open_shift:
        opened = client.post("/v1/shifts", {"opening_float": opening_float})
        if opened.status_code == 201:
            client.shift_id = opened.json()["id"]
        elif opened.status_code not in (404, 405):  # shifts not served yet
            opened.raise_for_status()
    return client


def ticket_type(server: LiveServer, event_id: str, name: str = "GA") -> dict[str, Any]:
    """The current wire shape of ``event_id``'s ticket type ``name``, read through a
    throwaway signed-in client."""
    client = staff_client(server, open_shift=False)
    try:
        events = client.http.get("/v1/events").json()["events"]
    finally:
        client.close()
    event = next(e for e in events if e["id"] == event_id)
    return dict(next(t for t in event["ticket_types"] if t["name"] == name))
