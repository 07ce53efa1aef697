"""The terminal's sale path against a real ``pos-app serve`` over verified HTTPS."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from pos_app.api.schemas import CashPayment, SaleCreate, SaleLineIn, TicketType
from pos_app.client import (
    Credentials,
    IdempotencyKeyReused,
    InventoryClient,
    ServerUnreachable,
    TerminalPaths,
    TlsVerificationFailed,
    pair_terminal,
)
from pos_app.journal import EntryState, Register, open_register
from tests.support.certs import make_ca
from tests.support.live_server import LiveServer, start_live_server

SECRET_PIN = "97531864"

def other_ca(path: Path) -> Path:
    """A CA certificate the server's certificate does not chain to."""
    path.write_bytes(make_ca("Somebody else's CA").pem)
    return path


def paired_register(server: LiveServer, paths: TerminalPaths | None = None, *,
                    username: str = "alex", pin: str = "1234") -> Register:
    pair_terminal(server.base_url, server.add_terminal(), ca_file=server.ca_file, paths=paths)
    register = open_register(paths)
    register.sign_in(username, pin)
    opened = register.open_shift(20_000)  # box-office cash sales need an open shift
    assert opened.state is EntryState.CONFIRMED, opened.message
    return register


@pytest.fixture
def register(live_server: LiveServer, pos_home: Path) -> Iterator[Register]:
    with paired_register(live_server) as opened:
        yield opened


def ga_of(register: Register, event_id: str) -> TicketType:
    register.events()
    return register.event(event_id).ticket_types[0]


def test_a_paired_signed_in_terminal_sells_and_journals_the_server_sale_number(
        live_server: LiveServer, register: Register) -> None:
    event_id = live_server.small_event(capacity=5, price=2500)
    ga = ga_of(register, event_id)
    assert (ga.name, ga.available) == ("GA", 5)

    outcome = register.sell([SaleLineIn(ticket_type_id=ga.id, quantity=2)], 6000)

    assert outcome.state is EntryState.CONFIRMED and outcome.sale is not None
    assert (outcome.sale.total, outcome.sale.payment.change) == (5000, 1000)
    assert len(outcome.sale.tickets) == 2
    entry = register.journal.get(outcome.key)
    assert entry is not None and entry.state is EntryState.CONFIRMED
    assert entry.reference == str(outcome.sale.number)
    assert register.client.get_sale(outcome.sale.number).id == outcome.sale.id
    assert ga_of(register, event_id).available == 3


def test_the_same_body_with_the_same_key_replays_the_same_sale(
        live_server: LiveServer, register: Register) -> None:
    event_id = live_server.small_event(capacity=5)
    ga = ga_of(register, event_id)
    outcome = register.sell([SaleLineIn(ticket_type_id=ga.id, quantity=1)], 2500)
    assert outcome.sale is not None
    entry = register.journal.get(outcome.key)
    assert entry is not None

    replay = register.client.create_sale(SaleCreate.model_validate(entry.body),
                                         idempotency_key=entry.key)

    assert (replay.id, replay.number) == (outcome.sale.id, outcome.sale.number)
    assert ga_of(register, event_id).available == 4


def test_a_different_body_with_the_same_key_is_refused_and_sells_nothing(
        live_server: LiveServer, register: Register) -> None:
    event_id = live_server.small_event(capacity=5)
    ga = ga_of(register, event_id)
    outcome = register.sell([SaleLineIn(ticket_type_id=ga.id, quantity=1)], 2500)
    other = SaleCreate(lines=[SaleLineIn(ticket_type_id=ga.id, quantity=3)],
                       payment=CashPayment(method="cash", tendered=10000))

    with pytest.raises(IdempotencyKeyReused):
        register.client.create_sale(other, idempotency_key=outcome.key)

    assert ga_of(register, event_id).available == 4


def test_selling_more_than_available_is_refused_naming_the_ticket_type(
        live_server: LiveServer, register: Register) -> None:
    event_id = live_server.small_event(capacity=5)
    ga = ga_of(register, event_id)
    register.sell([SaleLineIn(ticket_type_id=ga.id, quantity=4)], 10000)
    ga_of(register, event_id)
    basket = [SaleLineIn(ticket_type_id=ga.id, quantity=2)]

    outcome = register.sell(basket, 10000)

    assert outcome.state is EntryState.REFUSED and outcome.sale is None
    assert outcome.message == "Only 1 GA left - reduce the quantity."
    assert basket == [SaleLineIn(ticket_type_id=ga.id, quantity=2)]
    entry = register.journal.get(outcome.key)
    assert entry is not None and entry.state is EntryState.REFUSED
    assert entry.error_code == "insufficient_inventory"
    assert ga_of(register, event_id).available == 1


def test_tender_below_the_total_is_refused(live_server: LiveServer, register: Register) -> None:
    event_id = live_server.small_event(capacity=5, price=2500)
    ga = ga_of(register, event_id)

    outcome = register.sell([SaleLineIn(ticket_type_id=ga.id, quantity=2)], 4999)

    assert outcome.state is EntryState.REFUSED
    assert outcome.message == "Cash tendered is less than the total."
    assert register.journal.get(outcome.key).error_code == "insufficient_tender"
    assert ga_of(register, event_id).available == 5


def test_a_server_outside_the_pinned_ca_fails_tls_verification(
        live_server: LiveServer, tmp_path: Path) -> None:
    wrong = other_ca(tmp_path / "other-ca.pem")
    with InventoryClient(live_server.base_url, ca_file=wrong) as client, \
            pytest.raises(TlsVerificationFailed, match="re-pair"):
        client.health()

    code = live_server.add_terminal()
    paths = TerminalPaths.under(tmp_path / "terminal").ensure()
    with pytest.raises(TlsVerificationFailed):
        pair_terminal(live_server.base_url, code, ca_file=wrong, paths=paths)
    assert not paths.config_file.exists()
    # The code was never spent: pairing with the right CA still works.
    config = pair_terminal(live_server.base_url, code, ca_file=live_server.ca_file, paths=paths)
    assert config.ca_file.read_bytes() == live_server.ca_file.read_bytes()


def test_a_stopped_server_is_unreachable_and_the_sale_is_refused_offline(
        tmp_path: Path) -> None:
    (tmp_path / "server").mkdir()
    with start_live_server(tmp_path / "server") as server:
        event_id = server.small_event(capacity=5)
        paths = TerminalPaths.under(tmp_path / "terminal").ensure()
        register = paired_register(server, paths)
        ga = ga_of(register, event_id)
        server.stop()
        try:
            with pytest.raises(ServerUnreachable):
                register.client.health()
            outcome = register.sell([SaleLineIn(ticket_type_id=ga.id, quantity=1)], 2500)
        finally:
            register.close()
    assert outcome.state is EntryState.REFUSED
    assert outcome.message == "Server unreachable - no sales until the connection is back."
    with open_register(paths) as reopened:
        entry = reopened.journal.get(outcome.key)
    assert entry is not None and (entry.state, entry.error_code) == (EntryState.REFUSED,
                                                                      "offline")


def test_no_token_or_pin_is_written_to_the_terminal_home(
        live_server: LiveServer, pos_home: Path) -> None:
    username = f"pin{uuid.uuid4().hex[:6]}"
    live_server.add_staff(username, role="cashier", pin=SECRET_PIN)
    event_id = live_server.small_event(capacity=5)
    with paired_register(live_server, username=username, pin=SECRET_PIN) as register:
        ga = ga_of(register, event_id)
        assert register.sell([SaleLineIn(ticket_type_id=ga.id, quantity=1)], 2500).sale
        assert register.sell([SaleLineIn(ticket_type_id=ga.id, quantity=9)], 99999).error
        session = register.session
        assert session is not None
        secrets = [session.token,
                   Credentials(live_server.base_url, register.paths).terminal_token, SECRET_PIN]
        register.sign_out()
        secrets.append(register.sign_in(username, SECRET_PIN).token)
    assert all(secrets)
    files = [path for path in pos_home.rglob("*") if path.is_file()]
    assert {p.name for p in files} >= {"config.json", "journal.sqlite3", "ca.pem"}
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert str(secret).encode() not in data, f"{secret[:4]}... found in {path.name}"
