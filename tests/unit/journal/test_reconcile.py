"""Reconciliation and Abandon settle lost outcomes by looking keys up and voiding them; they
never re-send a request (shared/DESIGN.md, the sale path)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest

from pos_app.api.schemas import SaleLineIn
from pos_app.client import InventoryClient, TerminalConfig, TerminalPaths
from pos_app.journal import EntryState, Journal, Register
from tests.fakes import FakeCredentials, FakeInventoryServer

GA = 1
PREFIX = "/v1/idempotency-keys/"


class KeyRoutes:
    """Adds ``GET /v1/idempotency-keys/{key}`` and ``POST .../void`` (API.md) in front of a
    :class:`FakeInventoryServer`, and refuses a voided key's late request."""

    def __init__(self, server: FakeInventoryServer) -> None:
        self.server = server
        self.voided: set[str] = set()
        self.offline = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        if self.offline:
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        path = request.url.path
        if path.startswith(PREFIX):
            self.server.requests.append(request)
            key, void = unquote(path.removeprefix(PREFIX)), False
            if key.endswith("/void") and request.method == "POST":
                key, void = key.removesuffix("/void"), True
            stored = self.server.keys.get(key)
            if stored is not None:
                return httpx.Response(200, json={"status": "completed", "response": {
                    "status": stored[1], "body": stored[2]}})
            if key in self.voided:
                return httpx.Response(200, json={"status": "voided", "response": None})
            if void:
                self.voided.add(key)
                return httpx.Response(200, json={"status": "voided", "response": None})
            return httpx.Response(404, json={"error": "not_found", "message": "Never seen."})
        key = request.headers.get("Idempotency-Key")
        if key in self.voided:
            self.server.requests.append(request)
            return httpx.Response(409, json={"error": "idempotency_key_voided",
                                             "message": "This key was voided."})
        return self.server.handle(request)


@pytest.fixture
def server() -> FakeInventoryServer:
    return FakeInventoryServer(capacity=5, price=2500, types=("GA", "VIP"))


@pytest.fixture
def routes(server: FakeInventoryServer) -> KeyRoutes:
    return KeyRoutes(server)


@pytest.fixture
def register(tmp_path: Path, server: FakeInventoryServer,
             routes: KeyRoutes) -> Iterator[Register]:
    paths = TerminalPaths.under(tmp_path / "home").ensure()
    config = TerminalConfig(server_url="https://pos.test", ca_file=paths.ca_file,
                            terminal_id=7, terminal_name="till-1")
    client = InventoryClient(config.server_url, ca_file=config.ca_file,
                             terminal_token=server.terminal_token,
                             transport=httpx.MockTransport(routes.handle))
    credentials = FakeCredentials(config.server_url, terminal_token=server.terminal_token)
    with Register(client, Journal(paths.journal_file), credentials,  # type: ignore[arg-type]
                  config, paths) as opened:
        opened.sign_in("alex", "1234")
        yield opened


def ga(quantity: int) -> list[SaleLineIn]:
    return [SaleLineIn(ticket_type_id=GA, quantity=quantity)]


def sale_posts(server: FakeInventoryServer) -> int:
    return sum(1 for r in server.requests if r.url.path == "/v1/sales" and r.method == "POST")


def later(minutes: float) -> datetime:
    return datetime.now(UTC) + timedelta(minutes=minutes)


def test_a_sale_that_completed_unseen_is_settled_confirmed_and_flagged_without_resending(
        register: Register, server: FakeInventoryServer) -> None:
    server.failures.append("lost_answer")
    lost = register.sell(ga(2), 5000)
    assert lost.state is EntryState.UNKNOWN

    report = register.reconcile()

    entry = register.journal.get(lost.key)
    assert entry is not None and entry.state is EntryState.CONFIRMED
    assert entry.flagged_for_manager
    assert entry.reference == str(next(iter(server.sales.values()))["number"])
    assert report.confirmed == report.flagged == [lost.key] and report.unresolved == 0
    assert sale_posts(server) == 1 and len(server.sales) == 1


def test_an_old_unknown_sale_the_server_never_saw_is_voided_and_can_never_execute(
        register: Register, server: FakeInventoryServer, routes: KeyRoutes) -> None:
    server.failures.append("read_timeout")
    lost = register.sell(ga(1), 2500)

    report = register.reconcile(now=later(3))

    assert report.voided == [lost.key] and report.flagged == [] and report.unresolved == 0
    entry = register.journal.get(lost.key)
    assert entry is not None and entry.state is EntryState.VOIDED
    assert not entry.flagged_for_manager
    assert lost.key in routes.voided
    assert register.retry_sale(lost.key).state is EntryState.VOIDED  # not re-sent
    assert sale_posts(server) == 1 and server.sales == {}


def test_a_recent_unknown_sale_is_looked_up_but_left_alone(
        register: Register, server: FakeInventoryServer, routes: KeyRoutes) -> None:
    server.failures.append("read_timeout")
    lost = register.sell(ga(1), 2500)

    report = register.reconcile(void_after=timedelta(minutes=2))

    assert report.left == [lost.key] and report.unresolved == 1
    entry = register.journal.get(lost.key)
    assert entry is not None and entry.state is EntryState.UNKNOWN
    assert routes.voided == set()
    assert sale_posts(server) == 1


def test_a_pending_entry_left_by_a_crash_is_voided_but_a_fresh_one_is_not_touched(
        register: Register, server: FakeInventoryServer, routes: KeyRoutes) -> None:
    crashed = register.journal.begin("sale", {"lines": [{"ticket_type_id": GA, "quantity": 1}],
                                              "payment": {"method": "cash", "tendered": 2500}},
                                     staff_id=1, terminal_id=7)
    before = len(server.requests)

    fresh = register.reconcile()
    assert fresh.left == [crashed.key]
    assert len(server.requests) == before  # a possibly running request is not even looked up

    report = register.reconcile(now=later(0.5))
    assert report.voided == [crashed.key]
    assert crashed.key in routes.voided
    assert sale_posts(server) == 0


def test_at_start_up_every_pending_entry_is_settled_at_once(
        register: Register, routes: KeyRoutes) -> None:
    crashed = register.journal.begin("sale", {"lines": [{"ticket_type_id": GA, "quantity": 1}],
                                              "payment": {"method": "cash", "tendered": 2500}},
                                     staff_id=1, terminal_id=7)
    report = register.reconcile(at_startup=True)
    assert report.voided == [crashed.key] and crashed.key in routes.voided


def test_a_stored_refusal_is_settled_refused_and_not_flagged(
        register: Register, server: FakeInventoryServer) -> None:
    server.failures.append("lost_answer")
    lost = register.sell(ga(9), 100_000)  # more than the capacity: refused, answer lost

    report = register.reconcile()

    entry = register.journal.get(lost.key)
    assert entry is not None and entry.state is EntryState.REFUSED
    assert entry.error_code == "insufficient_inventory" and not entry.flagged_for_manager
    assert report.refused == [lost.key] and report.flagged == []


def test_network_failures_during_reconciliation_leave_entries_as_they_are(
        register: Register, server: FakeInventoryServer, routes: KeyRoutes) -> None:
    server.failures.append("lost_answer")
    lost = register.sell(ga(1), 2500)
    routes.offline = True

    report = register.reconcile(now=later(10))

    assert report.offline and report.left == [lost.key]
    entry = register.journal.get(lost.key)
    assert entry is not None and entry.state is EntryState.UNKNOWN


def test_abandoning_a_sale_that_went_through_returns_it_confirmed_and_flagged(
        register: Register, server: FakeInventoryServer) -> None:
    server.failures.append("lost_answer")
    lost = register.sell(ga(2), 6000)

    outcome = register.abandon_sale(lost.key)

    assert outcome.state is EntryState.CONFIRMED and outcome.sale is not None
    assert "went through after all" in outcome.message
    assert "change due $10.00" in outcome.message and "manager" in outcome.message
    entry = register.journal.get(lost.key)
    assert entry is not None and entry.flagged_for_manager
    assert sale_posts(server) == 1


def test_abandoning_a_sale_the_server_never_saw_voids_it_for_good(
        register: Register, server: FakeInventoryServer, routes: KeyRoutes) -> None:
    server.failures.append("read_timeout")
    lost = register.sell(ga(1), 2500)

    outcome = register.abandon_sale(lost.key)

    assert outcome.state is EntryState.VOIDED and outcome.sale is None
    assert outcome.message == "Sale cancelled - it can never go through."
    assert lost.key in routes.voided and server.sales == {}


def test_abandoning_while_offline_leaves_the_sale_unknown(
        register: Register, server: FakeInventoryServer, routes: KeyRoutes) -> None:
    server.failures.append("read_timeout")
    lost = register.sell(ga(1), 2500)
    routes.offline = True
    outcome = register.abandon_sale(lost.key)
    assert outcome.state is EntryState.UNKNOWN and "Cannot reach the server" in outcome.message


def test_the_journal_lists_flagged_entries(register: Register,
                                           server: FakeInventoryServer) -> None:
    server.failures.append("lost_answer")
    lost = register.sell(ga(1), 2500)
    register.sell(ga(1), 2500)
    register.reconcile()
    assert [e.key for e in register.journal.entries(flagged=True)] == [lost.key]
