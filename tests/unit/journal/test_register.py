from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pos_app.api.schemas import SaleLineIn
from pos_app.client import (
    Credentials,
    InventoryClient,
    NotPaired,
    NotSignedIn,
    TerminalConfig,
    TerminalPaths,
    Unauthorized,
    save_config,
)
from pos_app.journal import EntryState, Journal, Register, open_register
from tests.fakes import FakeCredentials, FakeInventoryServer

GA = 1


@pytest.fixture
def server() -> FakeInventoryServer:
    return FakeInventoryServer(capacity=5, price=2500, types=("GA", "VIP"))


@pytest.fixture
def register(tmp_path: Path, server: FakeInventoryServer) -> Iterator[Register]:
    paths = TerminalPaths.under(tmp_path / "home").ensure()
    config = TerminalConfig(server_url="https://pos.test", ca_file=paths.ca_file,
                            terminal_id=7, terminal_name="till-1")
    client = InventoryClient(config.server_url, ca_file=config.ca_file,
                             terminal_token=server.terminal_token, transport=server.transport())
    credentials = FakeCredentials(config.server_url, terminal_token=server.terminal_token)
    with Register(client, Journal(paths.journal_file), credentials,  # type: ignore[arg-type]
                  config, paths) as opened:
        opened.sign_in("alex", "1234")
        yield opened


def ga(quantity: int) -> list[SaleLineIn]:
    return [SaleLineIn(ticket_type_id=GA, quantity=quantity)]


def test_a_confirmed_sale_is_journaled_with_the_server_sale_number(
        register: Register, server: FakeInventoryServer) -> None:
    outcome = register.sell(ga(2), 6000)
    assert outcome.state is EntryState.CONFIRMED and outcome.sale is not None
    assert outcome.message == f"Sale {outcome.sale.number} confirmed - change due $10.00."
    entry = register.journal.get(outcome.key)
    assert entry is not None and entry.state is EntryState.CONFIRMED
    assert entry.reference == str(outcome.sale.number)
    assert entry.response == outcome.sale.model_dump(mode="json")
    assert (entry.staff_id, entry.terminal_id) == (1, 7)
    assert len(server.sales) == 1


def test_the_key_sent_is_the_journal_key_and_is_committed_pending_first(
        register: Register, server: FakeInventoryServer) -> None:
    seen: list[tuple[str, EntryState | None]] = []

    def check(request: httpx.Request) -> None:
        if request.url.path == "/v1/sales":
            key = request.headers["Idempotency-Key"]
            with Journal(register.journal.path) as other:  # another connection: committed?
                entry = other.get(key)
            seen.append((key, entry.state if entry else None))

    server.on_request = check
    outcome = register.sell(ga(1), 2500)
    assert seen == [(outcome.key, EntryState.PENDING)]
    assert json.loads(server.requests[-1].content) == register.journal.get(outcome.key).body


def test_selling_more_than_available_is_refused_naming_the_ticket_type(
        register: Register, server: FakeInventoryServer) -> None:
    register.events()
    register.sell(ga(4), 10000)
    basket = ga(3)
    outcome = register.sell(basket, 10000)
    assert outcome.state is EntryState.REFUSED and outcome.sale is None
    assert outcome.message == "Only 1 GA left - reduce the quantity."
    assert outcome.error is not None and outcome.error.error == "insufficient_inventory"
    assert basket == ga(3)
    entry = register.journal.get(outcome.key)
    assert entry is not None and entry.state is EntryState.REFUSED
    assert entry.error_code == "insufficient_inventory" and entry.reference is None


def test_a_sold_out_type_says_so(register: Register) -> None:
    register.events()
    register.sell(ga(5), 20000)
    assert register.sell(ga(1), 2500).message == "GA is sold out - remove it from the sale."


def test_tender_below_total_is_refused(register: Register, server: FakeInventoryServer) -> None:
    outcome = register.sell(ga(2), 4999)
    assert outcome.state is EntryState.REFUSED
    assert outcome.message == "Cash tendered is less than the total."
    assert register.journal.get(outcome.key).error_code == "insufficient_tender"
    assert server.sales == {}


def test_an_unreachable_server_refuses_the_sale_as_offline(
        register: Register, server: FakeInventoryServer) -> None:
    server.failures.append("connect")
    outcome = register.sell(ga(1), 2500)
    assert outcome.state is EntryState.REFUSED
    assert outcome.message == "Server unreachable - no sales until the connection is back."
    entry = register.journal.get(outcome.key)
    assert entry is not None and (entry.state, entry.error_code) == (EntryState.REFUSED,
                                                                      "offline")


def test_an_untrusted_certificate_refuses_the_sale_and_says_re_pair(
        register: Register, server: FakeInventoryServer) -> None:
    server.failures.append("tls")
    outcome = register.sell(ga(1), 2500)
    assert outcome.state is EntryState.REFUSED and "re-paired" in outcome.message
    assert register.journal.get(outcome.key).error_code == "offline"


@pytest.mark.parametrize("failure", ["read_timeout", "lost_answer", "500"])
def test_no_answer_leaves_the_sale_unknown_never_confirmed(
        register: Register, server: FakeInventoryServer, failure: str) -> None:
    server.failures.append(failure)
    outcome = register.sell(ga(1), 2500)
    assert outcome.state is EntryState.UNKNOWN and outcome.sale is None
    assert "may or may not have gone through" in outcome.message
    entry = register.journal.get(outcome.key)
    assert entry is not None and entry.state is EntryState.UNKNOWN
    assert entry.error_code == "outcome_unknown"


def test_retrying_an_unknown_sale_replays_the_first_outcome_with_the_same_key(
        register: Register, server: FakeInventoryServer) -> None:
    server.failures.append("lost_answer")
    first = register.sell(ga(2), 5000)
    assert first.state is EntryState.UNKNOWN
    retried = register.retry_sale(first.key)
    assert retried.state is EntryState.CONFIRMED and retried.sale is not None
    assert len(server.sales) == 1
    assert server.requests[-1].headers["Idempotency-Key"] == first.key
    assert register.journal.get(first.key).reference == str(retried.sale.number)
    assert register.retry_sale(first.key) == retried  # settled: not sent again
    assert len([r for r in server.requests if r.url.path == "/v1/sales"]) == 2


def test_a_retry_that_cannot_reach_the_server_keeps_the_sale_unknown(
        register: Register, server: FakeInventoryServer) -> None:
    server.failures.append("read_timeout")
    key = register.sell(ga(1), 2500).key
    server.failures.append("connect")
    assert register.retry_sale(key).state is EntryState.UNKNOWN
    assert register.journal.get(key).state is EntryState.UNKNOWN


def test_outcomes_are_never_confirmed_without_a_sale(
        register: Register, server: FakeInventoryServer) -> None:
    server.failures.extend(["connect", "read_timeout", "500", "lost_answer"])
    for _ in range(4):
        register.sell(ga(1), 2500)
    register.sell(ga(1), 1)
    register.sell(ga(9), 99999)
    assert register.journal.entries(state=EntryState.CONFIRMED) == []


def test_selling_needs_a_session_and_lines_and_journals_nothing_otherwise(
        register: Register) -> None:
    with pytest.raises(ValueError):
        register.sell([], 100)
    register.sign_out()
    with pytest.raises(NotSignedIn):
        register.sell(ga(1), 2500)
    assert register.journal.entries() == []


def test_sign_in_keeps_the_token_in_the_keyring_and_staff_details_on_disk(
        register: Register) -> None:
    session = register.session
    assert session is not None and session.staff.username == "alex"
    assert register.credentials.session_token == session.token
    on_disk = register.paths.session_file.read_text()
    assert session.token not in on_disk and "alex" in on_disk


def test_a_wrong_pin_is_unauthorized(register: Register) -> None:
    with pytest.raises(Unauthorized):
        register.sign_in("alex", "0000")


def test_replacing_the_session_signs_in_afresh_and_ends_the_previous_one_on_the_server(
        register: Register, server: FakeInventoryServer) -> None:
    before = register.session
    assert before is not None
    after = register.replace_session("morgan", "2468")
    assert register.session == after and after.staff.username == "morgan"
    assert register.credentials.session_token == after.token
    assert before.token not in server.sessions and after.token in server.sessions
    register.events()  # the new session is the one in use
    assert server.requests[-1].headers["Authorization"] == f"Bearer {after.token}"


def test_a_wrong_pin_leaves_the_session_being_replaced_as_it_was(
        register: Register, server: FakeInventoryServer) -> None:
    before = register.session
    assert before is not None
    with pytest.raises(Unauthorized):
        register.replace_session("alex", "0000")
    assert register.session == before and before.token in server.sessions
    assert register.credentials.session_token == before.token


def test_replacing_an_expired_session_still_signs_in(
        register: Register, server: FakeInventoryServer) -> None:
    server.sessions.clear()  # the server let the session lapse
    after = register.replace_session("alex", "1234")
    assert register.session == after and list(server.sessions) == [after.token]


def test_sign_out_forgets_the_session_even_when_the_server_is_unreachable(
        register: Register, server: FakeInventoryServer) -> None:
    server.failures.append("connect")
    register.sign_out()
    assert register.session is None and register.credentials.session_token is None
    assert not register.paths.session_file.exists()


def test_events_are_cached_and_refetched_conditionally(
        register: Register, server: FakeInventoryServer) -> None:
    first = register.events()
    again = register.events()
    assert again is first
    assert server.requests[-1].headers["If-None-Match"] == '"v1"'
    assert register.event("fake-night").ticket_types[0].name == "GA"
    register.sell(ga(1), 2500)
    assert register.events().events[0].ticket_types[0].available == 4
    with pytest.raises(KeyError):
        register.event("nope")


def test_open_register_needs_a_config_and_a_terminal_token(pos_home: Path) -> None:
    paths = TerminalPaths.under(pos_home).ensure()
    with pytest.raises(NotPaired):
        open_register()
    save_config(paths, TerminalConfig(server_url="https://unpaired.test", ca_file=paths.ca_file,
                                      terminal_id=7, terminal_name="till-1"))
    with pytest.raises(NotPaired):
        open_register(paths)


def test_open_register_restores_the_signed_in_session(pos_home: Path, ca_file: Path) -> None:
    paths = TerminalPaths.under(pos_home).ensure()
    paths.ca_file.write_bytes(ca_file.read_bytes())
    save_config(paths, TerminalConfig(server_url="https://restore.test", ca_file=paths.ca_file,
                                      terminal_id=7, terminal_name="till-1"))
    credentials = Credentials("https://restore.test", paths)
    credentials.terminal_token, credentials.session_token = "term-tok", "sess-tok"
    paths.session_file.write_text(json.dumps({
        "expires_at": "2030-01-01T00:00:00Z", "terminal": {"id": 7, "name": "till-1"},
        "staff": {"id": 1, "username": "alex", "display_name": "Alex", "role": "cashier"}}))
    with open_register() as register:
        assert register.session is not None
        assert (register.session.token, register.session.staff.username) == ("sess-tok", "alex")
        assert register.client.has_session
        assert register.paths == paths and register.config.terminal_id == 7
