"""Closing with a manager's approval through the journal: the PIN goes on the wire, never into
the journal; the server's ``variance_needs_approval`` and a wrong PIN read as sentences."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pos_app.api.schemas import ManagerApproval
from pos_app.client import InventoryClient, TerminalConfig, TerminalPaths
from pos_app.journal import EntryState, Journal, Register
from tests.fakes import FakeCredentials
from tests.unit.journal.test_register_shifts import NOW, FakeShiftServer, shift_json

PIN = "739104826351"
"""Twelve digits (the longest PIN): unlike a short one, it cannot turn up by chance among the
journal file's random keys, hashes and timestamps."""


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


def test_the_refusal_asks_for_a_manager_and_names_no_amount(
        register: Register, server: FakeShiftServer) -> None:
    server.answer = lambda _r: httpx.Response(409, json={
        "error": "variance_needs_approval", "message": "server words", "shift_id": 3})
    refused = register.close_shift(3, 10_000)
    assert refused.state is EntryState.REFUSED and refused.error is not None
    assert refused.error.error == "variance_needs_approval"
    assert refused.message == ("The count is off by more than the allowed amount - a manager "
                               "must approve it with their PIN and a note.")


def test_a_wrong_pin_is_said_in_the_servers_words(
        register: Register, server: FakeShiftServer) -> None:
    server.answer = lambda _r: httpx.Response(403, json={
        "error": "approval_refused", "message": "The approval was refused: check the "
                                                "manager's username and PIN."})
    refused = register.close_shift(3, 10_000, "short",
                                   manager=ManagerApproval(username="morgan", pin="0000"))
    assert refused.state is EntryState.REFUSED
    assert refused.message == "The approval was refused: check the manager's username and PIN."


def test_the_pin_is_sent_but_only_the_managers_username_is_journaled(
        register: Register, server: FakeShiftServer) -> None:
    server.answer = lambda _r: httpx.Response(200, json=shift_json(
        status="closed", closed_at=NOW.isoformat(), closed_by=1, expected_cash=20_000,
        counted_cash=10_000, variance=-10_000, note="drawer short", approved_by=2,
        approved_by_name="Morgan Lee"))
    closed = register.close_shift(3, 10_000, "drawer short",
                                  manager=ManagerApproval(username="morgan", pin=PIN))
    assert closed.state is EntryState.CONFIRMED and closed.shift is not None
    assert closed.shift.approved_by_name == "Morgan Lee"
    [(_method, path, key, sent)] = server.seen[-1:]
    assert path == "/v1/shifts/3/close" and key == closed.key
    assert sent == {"counted_cash": 10_000, "note": "drawer short",
                    "manager": {"username": "morgan", "pin": PIN}}
    entry = register.journal.get(closed.key)
    assert entry is not None
    assert entry.body == {"shift_id": 3, "counted_cash": 10_000, "note": "drawer short",
                          "manager": {"username": "morgan"}}
    assert PIN not in json.dumps([entry.body, entry.response])
    register.journal.close()
    stored = Path(register.paths.journal_file).read_bytes()
    assert PIN.encode() not in stored and b'"pin"' not in stored
