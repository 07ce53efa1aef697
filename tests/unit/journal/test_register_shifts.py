"""Shift operations go through the journal like sales: pending before the request, settled
from the answer (or its absence)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from pos_app.client import InventoryClient, NotSignedIn, TerminalConfig, TerminalPaths
from pos_app.journal import EntryState, Journal, Register
from tests.fakes import FakeCredentials

NOW = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)


def shift_json(**changes: Any) -> dict[str, Any]:
    shift: dict[str, Any] = {
        "id": 3, "terminal_id": 7, "status": "open", "currency": "USD",
        "opening_float": 20_000, "opened_at": NOW.isoformat(), "opened_by": 1,
        "closed_at": None, "closed_by": None, "expected_cash": None, "counted_cash": None,
        "variance": None, "note": None, "sales": {"count": 0, "amount": 0},
        "refunds": {"count": 0, "amount": 0}, "pay_ins": 0, "pay_outs": 0, "drops": 0,
        "ticket_types": [], "holds": {"placed": 0, "active": 0, "converted": 0,
                                      "released": 0, "expired": 0},
        "cash_movements": []}
    return {**shift, **changes}


class FakeShiftServer:
    """Answers sign-in and the shift routes; ``answer`` decides the shift routes' reply."""

    def __init__(self) -> None:
        self.journal: Journal | None = None
        self.seen: list[tuple[str, str, str | None, Any]] = []
        self.answer: Callable[[httpx.Request], httpx.Response] = self.ok

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/sessions":
            return httpx.Response(201, json={
                "token": "session", "expires_at": (NOW + timedelta(hours=8)).isoformat(),
                "staff": {"id": 1, "username": "alex", "display_name": "Alex",
                          "role": "cashier"},
                "terminal": {"id": 7, "name": "till"}})
        key = request.headers.get("Idempotency-Key")
        if key is not None and self.journal is not None:
            entry = self.journal.get(key)  # write-ahead: on disk before the request left
            assert entry is not None and entry.state is EntryState.PENDING
        body = json.loads(request.content) if request.content else None
        self.seen.append((request.method, request.url.path, key, body))
        return self.answer(request)

    def ok(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "GET" and path == "/v1/shifts":
            return httpx.Response(200, json={"shifts": [shift_json()], "next_cursor": None})
        if path == "/v1/shifts":
            return httpx.Response(201, json=shift_json())
        if path.endswith("/cash-movements"):
            return httpx.Response(201, json={
                "id": 1, "shift_id": 3, "kind": "drop", "amount": 5000, "currency": "USD",
                "reason": "safe", "created_at": NOW.isoformat(), "staff_id": 1})
        return httpx.Response(200, json=shift_json(
            status="closed", closed_at=NOW.isoformat(), closed_by=1, expected_cash=20_000,
            counted_cash=19_700, variance=-300))


@pytest.fixture
def server() -> FakeShiftServer:
    return FakeShiftServer()


@pytest.fixture
def register(tmp_path: Path, server: FakeShiftServer) -> Iterator[Register]:
    paths = TerminalPaths.under(tmp_path / "home").ensure()
    config = TerminalConfig(server_url="https://pos.test", ca_file=paths.ca_file,
                            terminal_id=7, terminal_name="till")
    client = InventoryClient(config.server_url, ca_file=config.ca_file,
                             terminal_token="terminal",
                             transport=httpx.MockTransport(server.handle))
    journal = Journal(paths.journal_file)
    server.journal = journal
    credentials = FakeCredentials(config.server_url, terminal_token="terminal")
    with Register(client, journal, credentials, config, paths) as opened:  # type: ignore[arg-type]
        opened.sign_in("alex", "1234")
        yield opened


def test_opening_a_shift_is_journaled_and_confirmed_with_the_shift(
        register: Register, server: FakeShiftServer) -> None:
    outcome = register.open_shift(20_000)
    assert outcome.state is EntryState.CONFIRMED and outcome.shift is not None
    assert outcome.message == "Shift 3 opened with a float of $200.00."
    entry = register.journal.get(outcome.key)
    assert entry is not None
    assert (entry.operation, entry.state, entry.reference) == ("shift_open",
                                                               EntryState.CONFIRMED, "shift 3")
    assert entry.body == {"opening_float": 20_000}
    assert server.seen[-1] == ("POST", "/v1/shifts", outcome.key, {"opening_float": 20_000})


def test_a_cash_movement_and_a_close_are_journaled_under_their_own_keys(
        register: Register, server: FakeShiftServer) -> None:
    moved = register.cash_movement(3, "drop", 5000, "safe")
    assert moved.state is EntryState.CONFIRMED and moved.movement is not None
    assert moved.message == "Drop to the safe of $50.00 recorded on shift 3."
    closed = register.close_shift(3, 19_700, "three dollars short")
    assert closed.state is EntryState.CONFIRMED and closed.shift is not None
    assert closed.shift.variance == -300
    assert "variance -$3.00 (short)" in closed.message
    assert [(m, p, b) for m, p, _k, b in server.seen] == [
        ("POST", "/v1/shifts/3/cash-movements", {"kind": "drop", "amount": 5000,
                                                 "reason": "safe"}),
        ("POST", "/v1/shifts/3/close", {"counted_cash": 19_700,
                                        "note": "three dollars short"})]
    operations = [(e.operation, e.state) for e in register.journal.entries()]
    assert operations == [("shift_close", EntryState.CONFIRMED),
                          ("cash_movement", EntryState.CONFIRMED)]


def test_a_refusal_is_settled_refused_with_the_servers_error(
        register: Register, server: FakeShiftServer) -> None:
    server.answer = lambda _r: httpx.Response(409, json={
        "error": "shift_already_open", "message": "A shift is already open here.",
        "shift_id": 3})
    outcome = register.open_shift(0)
    assert outcome.state is EntryState.REFUSED and outcome.error is not None
    assert outcome.error.error == "shift_already_open"
    assert register.journal.get(outcome.key).error_code == "shift_already_open"  # type: ignore[union-attr]


def test_no_answer_is_unknown_and_never_sent_is_refused_offline(
        register: Register, server: FakeShiftServer) -> None:
    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    server.answer = timeout
    unknown = register.close_shift(3, 100)
    assert unknown.state is EntryState.UNKNOWN
    assert "may or may not" in unknown.message
    server.answer = refused
    offline = register.open_shift(100)
    assert offline.state is EntryState.REFUSED and offline.error is not None
    assert offline.error.error == "offline"
    states = {e.key: e.state for e in register.journal.entries()}
    assert states == {unknown.key: EntryState.UNKNOWN, offline.key: EntryState.REFUSED}


def test_current_shift_reads_the_open_shift_of_this_terminal(
        register: Register, server: FakeShiftServer) -> None:
    shift = register.current_shift()
    assert shift is not None and shift.id == 3
    request = server.seen[-1]
    assert request[:2] == ("GET", "/v1/shifts")
    server.answer = lambda _r: httpx.Response(200, json={"shifts": [], "next_cursor": None})
    assert register.current_shift() is None


def test_nothing_is_journaled_when_nobody_is_signed_in(register: Register) -> None:
    register.sign_out()
    with pytest.raises(NotSignedIn):
        register.open_shift(100)
    assert register.journal.entries() == []
