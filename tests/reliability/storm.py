"""The oversell storm: many HTTPS clients at once buying the last tickets of one ticket type.

Shared by ``test_oversell_storm.py`` (the real server on SQLite and PostgreSQL, and the naive
read-then-write target that must be caught overselling) and ``tests/benchmarks``.

* :class:`Buyer`: who buys (a bearer token and a payment shape: a cashier's cash, or the online
  channel's external payment).
* :func:`run_storm`: ``clients`` threads, each with its own ``httpx.Client`` and pinned CA,
  start together at a barrier and each make up to ``attempts`` sale attempts (quantity 1-2;
  a checkout buyer holds the tickets first and pays the hold) until the count or the time
  limit runs out. They never stop at the first refusal, so a
  wrong server gets hundreds of chances to oversell.
* :func:`judge`: what the responses and the final counts say: tickets issued, oversold count,
  refusals that are not ``insufficient_inventory``, duplicate ticket codes, malformed 201s.
* :class:`PgLiveServer`: ``pos-app serve --database-url`` (admin CLI calls get the URL too).
* :func:`channel_token`: ``pos-app admin add-channel-token online`` when the CLI has it.
"""

from __future__ import annotations

import random
import ssl
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.api import StaffClient
from tests.support.live_server import LiveServer, pos_app

PaymentFactory = Callable[[int], dict[str, Any]]


def cash(price: int) -> PaymentFactory:
    """Box-office cash, tendering the exact total for ``quantity`` tickets at ``price``."""
    return lambda quantity: {"method": "cash", "tendered": price * quantity}


def external(quantity: int) -> dict[str, Any]:
    """The online channel's payment: the shop took the money, here is its reference."""
    return {"method": "external", "reference": f"web-{uuid.uuid4().hex[:12]}"}


@dataclass(frozen=True)
class Buyer:
    """A client identity: ``token`` (Bearer) and how it pays; ``kind`` is cashier/online.
    ``checkout``: buy as the till does, placing a checkout hold (``POST /v1/holds``) and then
    paying it (``POST /v1/sales {hold_id}``) instead of selling the lines at once."""

    label: str
    kind: str
    token: str
    payment: PaymentFactory
    checkout: bool = False


@dataclass(frozen=True)
class Attempt:
    buyer: str
    kind: str
    quantity: int
    status: int  # 0: transport error (detail in body["transport_error"])
    body: dict[str, Any]
    seconds: float


@dataclass
class StormResult:
    ticket_type_id: int
    attempts: list[Attempt] = field(default_factory=list)
    crashes: list[str] = field(default_factory=list)
    wall_seconds: float = 0.0

    @property
    def sales(self) -> list[Attempt]:
        return [a for a in self.attempts if a.status == 201]

    @property
    def tickets(self) -> list[dict[str, Any]]:
        return [t for a in self.sales for t in a.body.get("tickets", [])]


def _verify(ca_file: Path | None) -> ssl.SSLContext | bool:
    return ssl.create_default_context(cafile=str(ca_file)) if ca_file else False


def run_storm(base_url: str, ca_file: Path | None, buyers: list[Buyer], ticket_type_id: int,
              *, clients: int = 32, attempts: int = 10, max_seconds: float = 30,
              seed: int = 0) -> StormResult:
    """Run one storm: ``clients`` threads (buyer ``i % len(buyers)``), each at most
    ``attempts`` sales and at most ``max_seconds`` after the start; returns every outcome."""
    result = StormResult(ticket_type_id=ticket_type_id)
    start = threading.Barrier(clients + 1)
    lock = threading.Lock()
    timeout = httpx.Timeout(max(10.0, max_seconds))

    def client(index: int) -> None:
        buyer = buyers[index % len(buyers)]
        rng = random.Random(seed * 1000 + index)
        mine: list[Attempt] = []
        try:
            with httpx.Client(base_url=base_url, verify=_verify(ca_file), timeout=timeout,
                              headers={"Authorization": f"Bearer {buyer.token}"}) as http:
                http.get("/v1/health")  # TLS handshake before the start
                start.wait(timeout=60)
                deadline = time.monotonic() + max_seconds
                for _ in range(attempts):
                    if time.monotonic() > deadline:
                        break
                    quantity = rng.choice((1, 2))
                    began = time.monotonic()
                    lines = [{"ticket_type_id": ticket_type_id, "quantity": quantity}]
                    try:
                        sale: dict[str, Any] = {"lines": lines}
                        response = None
                        if buyer.checkout:
                            response = http.post("/v1/holds", headers={
                                "Idempotency-Key": uuid.uuid4().hex}, json={
                                "kind": "checkout", "lines": lines})
                            sale = {"hold_id": response.json().get("id")}
                        if response is None or response.status_code == 201:
                            response = http.post("/v1/sales", headers={
                                "Idempotency-Key": uuid.uuid4().hex},
                                json={**sale, "payment": buyer.payment(quantity)})
                        status = response.status_code
                        try:
                            body = response.json()
                        except ValueError:
                            body = {"unparsed": response.text[:500]}
                    except httpx.HTTPError as exc:
                        status, body = 0, {"transport_error": repr(exc)}
                    mine.append(Attempt(buyer.label, buyer.kind, quantity, status, body,
                                        time.monotonic() - began))
        except BaseException as exc:  # reported in the result, judged by the caller
            start.abort()  # no-op once everyone started; else nobody waits 60 s for us
            with lock:
                result.crashes.append(f"client {index} ({buyer.label}): {exc!r}")
        finally:
            with lock:
                result.attempts.extend(mine)

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    try:
        start.wait(timeout=60)
    except threading.BrokenBarrierError:
        result.crashes.append("the clients never all reached the start barrier")
    for thread in threads:
        thread.join(timeout=max_seconds + 60)
        if thread.is_alive():
            result.crashes.append(f"{thread.name} did not stop in time")
    result.wall_seconds = time.monotonic() - began
    return result


@dataclass
class Verdict:
    """What one storm shows about the target. ``oversold`` > 0 means more tickets were sold
    than there were: issued beyond what was left, or final ``sold`` above ``capacity``."""

    attempts: int
    sales: int
    issued: int
    left_before: int
    capacity: int
    final_sold: int
    final_held: int
    duplicate_codes: int
    bad_refusals: list[str]
    malformed_sales: list[str]
    crashes: list[str]
    by_kind: dict[str, dict[str, int]]

    @property
    def oversold(self) -> int:
        return max(0, self.issued - self.left_before,
                   self.final_sold + self.final_held - self.capacity)

    def problems(self) -> list[str]:
        """Everything that is wrong for a correct server (empty when all is well)."""
        found = []
        if self.issued != self.left_before:
            found.append(f"{self.issued} tickets issued, {self.left_before} were left")
        if self.oversold:
            found.append(f"oversold by {self.oversold} (sold {self.final_sold} + held "
                         f"{self.final_held} of capacity {self.capacity})")
        if self.final_sold != self.capacity:
            found.append(f"final sold {self.final_sold} != capacity {self.capacity}")
        if self.duplicate_codes:
            found.append(f"{self.duplicate_codes} duplicate ticket codes")
        found += [f"bad refusal: {r}" for r in self.bad_refusals[:10]]
        found += [f"malformed 201: {m}" for m in self.malformed_sales[:10]]
        found += [f"client crash: {c}" for c in self.crashes[:10]]
        return found

    def line(self) -> str:
        kinds = ", ".join(f"{k}: {v['201']}x201/{v['409']}x409/{v['attempts']}"
                          for k, v in sorted(self.by_kind.items()))
        return (f"{self.attempts} attempts, {self.sales} sales, {self.issued} tickets issued "
                f"of {self.left_before} left, final sold {self.final_sold}/{self.capacity}, "
                f"oversold {self.oversold} [{kinds}]")


def judge(result: StormResult, *, left_before: int,
          final_ticket_type: dict[str, Any]) -> Verdict:
    """Judge ``result`` given how many tickets were left before it and the ticket type's wire
    shape read after it."""
    tt_id = result.ticket_type_id
    bad_refusals, malformed = [], []
    by_kind: dict[str, dict[str, int]] = {}
    for a in result.attempts:
        counts = by_kind.setdefault(a.kind, {"attempts": 0, "201": 0, "409": 0})
        counts["attempts"] += 1
        if a.status == 201:
            counts["201"] += 1
            tickets = a.body.get("tickets")
            if (not isinstance(tickets, list) or len(tickets) != a.quantity
                    or any(t.get("ticket_type_id") != tt_id or not t.get("code")
                           for t in tickets)):
                malformed.append(f"{a.buyer} q={a.quantity}: {str(a.body)[:300]}")
        elif (a.status == 409 and a.body.get("error") == "insufficient_inventory"
              and any(line.get("ticket_type_id") == tt_id for line in a.body.get("lines", []))):
            counts["409"] += 1
        else:
            bad_refusals.append(f"{a.buyer} q={a.quantity}: {a.status} {str(a.body)[:300]}")
    codes = [t.get("code") for t in result.tickets]
    return Verdict(
        attempts=len(result.attempts), sales=len(result.sales), issued=len(codes),
        left_before=left_before, capacity=int(final_ticket_type["capacity"]),
        final_sold=int(final_ticket_type["sold"]), final_held=int(final_ticket_type["held"]),
        duplicate_codes=len(codes) - len(set(codes)), bad_refusals=bad_refusals,
        malformed_sales=malformed, crashes=list(result.crashes), by_kind=by_kind)


def ticket_type_by_id(http: httpx.Client, ticket_type_id: int) -> dict[str, Any]:
    """The wire shape of ticket type ``ticket_type_id`` from ``GET /v1/events``."""
    events = http.get("/v1/events")
    events.raise_for_status()
    for event in events.json()["events"]:
        for tt in event["ticket_types"]:
            if int(tt["id"]) == ticket_type_id:
                return dict(tt)
    raise AssertionError(f"ticket type {ticket_type_id} not in GET /v1/events")


# --- the real server on PostgreSQL, and the online channel ------------------------------------


PgLiveServer = LiveServer
"""A :class:`LiveServer` given ``database_url=`` serves from PostgreSQL (name kept for the
callers of this module)."""


def cashier_at_new_terminal(server: LiveServer, manager: StaffClient, username: str,
                             pin: str) -> StaffClient:
    """Pair a terminal created through the API (fast: no CLI process), sign in, open a
    shift when shifts are served."""
    created = manager.http.post("/v1/terminals", json={"name": f"storm-{uuid.uuid4().hex[:6]}"})
    assert created.status_code == 201, created.text
    http = httpx.Client(base_url=server.base_url, verify=server.tls_context(), timeout=30)
    paired = http.post("/v1/terminals/pair", json={"pairing_code": created.json()["pairing_code"]})
    assert paired.status_code == 201, paired.text
    terminal_token = paired.json()["terminal_token"]
    signed_in = http.post("/v1/sessions", json={"username": username, "pin": pin},
                          headers={"Authorization": f"Bearer {terminal_token}"})
    assert signed_in.status_code == 201, signed_in.text
    http.headers["Authorization"] = f"Bearer {signed_in.json()['token']}"
    client = StaffClient(http=http, terminal_id=paired.json()["terminal_id"],
                         terminal_token=terminal_token, staff=signed_in.json()["staff"])
    opened = client.post("/v1/shifts", {"opening_float": 20_000})
    if opened.status_code == 201:
        client.shift_id = opened.json()["id"]
    else:  # shifts not served yet: 404/405 only; anything else is a setup failure
        assert opened.status_code in (404, 405), opened.text
    return client


def db_args(server: LiveServer) -> list[str]:
    """The admin CLI's database options for ``server``."""
    return server.db_args()


def database_url(server: LiveServer) -> str:
    """The SQLAlchemy URL of ``server``'s database."""
    return server.sqlalchemy_url


def channel_tokens_available() -> bool:
    """True once the CLI has ``pos-app admin add-channel-token``."""
    return pos_app("admin", "add-channel-token", "--help", check=False).returncode == 0


def channel_token(server: LiveServer, name: str = "online") -> str | None:
    """A new channel token for ``name`` (last line of ``pos-app admin add-channel-token``),
    or None while the command does not exist yet."""
    if not channel_tokens_available():
        return None
    out = pos_app("admin", "add-channel-token", name, *db_args(server))
    return out.stdout.strip().splitlines()[-1].strip()
