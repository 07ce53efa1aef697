"""Lost answers: a TCP proxy between the terminal and the server forwards a sale request,
lets the server commit and answer, then drops the answer and closes the terminal's socket.
The sale is ``unknown``; the cashier's Retry converges on the same sale (never a second one)
and Abandon returns the sale that went through, flagged for the manager."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from pos_app.api.schemas import SaleLineIn
from pos_app.client import Credentials, InventoryClient, load_config, terminal_paths
from pos_app.journal import EntryState, Journal, Register
from tests.support.api import staff_client, ticket_type
from tests.support.dropping_proxy import DroppingProxy
from tests.support.live_server import LiveServer, pos_app


@pytest.fixture
def proxy(live_server: LiveServer) -> Iterator[DroppingProxy]:
    dropping = DroppingProxy(live_server.port)
    yield dropping
    dropping.close()


@pytest.fixture
def register(live_server: LiveServer, pos_home: Path,
             proxy: DroppingProxy) -> Iterator[Register]:
    """A paired, signed-in terminal with an open shift, talking through ``proxy``."""
    pos_app("pair", live_server.base_url, live_server.add_terminal("Lossy till"), "--ca-file",
            str(live_server.ca_file))
    pos_app("login", "alex", stdin="1234\n")
    pos_app("shift", "open", "--float", "100")
    paths = terminal_paths().ensure()
    config = load_config(paths)
    credentials = Credentials(config.server_url, paths)
    client = InventoryClient(f"https://127.0.0.1:{proxy.port}", ca_file=config.ca_file,
                             terminal_token=credentials.terminal_token)
    with Register(client, Journal(paths.journal_file), credentials, config, paths) as opened:
        assert opened.resume_session() is not None
        yield opened


def lose_next_answer(register: Register, proxy: DroppingProxy) -> None:
    register.current_shift()  # a warm keep-alive connection: the next bytes back answer us
    proxy.drop = True


def server_sales(live_server: LiveServer, shift_id: int) -> list[dict[str, object]]:
    manager = staff_client(live_server, "morgan", "2468", open_shift=False)
    try:
        page = manager.http.get("/v1/sales", params={"shift_id": shift_id, "limit": 1000})
        page.raise_for_status()
        return list(page.json()["sales"])
    finally:
        manager.close()


def test_retry_after_a_lost_answer_converges_on_the_same_sale(
        live_server: LiveServer, register: Register, proxy: DroppingProxy) -> None:
    event = live_server.small_event(capacity=50, price=1000)
    lines = [SaleLineIn(ticket_type_id=ticket_type(live_server, event)["id"], quantity=2)]
    shift = register.current_shift()
    assert shift is not None
    numbers = []
    for _ in range(3):
        lose_next_answer(register, proxy)
        lost = register.sell(lines, 2000)
        assert lost.state is EntryState.UNKNOWN and lost.sale is None

        retried = register.retry_sale(lost.key)
        assert retried.state is EntryState.CONFIRMED and retried.sale is not None
        assert register.retry_sale(lost.key).sale == retried.sale  # settled: not re-sent
        numbers.append(retried.sale.number)

    assert proxy.dropped == 3
    assert sorted(s["number"] for s in server_sales(live_server, shift.id)) == sorted(numbers)
    assert ticket_type(live_server, event)["sold"] == 6


def test_abandoning_a_sale_whose_answer_was_lost_returns_it_flagged(
        live_server: LiveServer, register: Register, proxy: DroppingProxy) -> None:
    event = live_server.small_event(capacity=50, price=1000)
    lines = [SaleLineIn(ticket_type_id=ticket_type(live_server, event)["id"], quantity=1)]
    shift = register.current_shift()
    assert shift is not None
    lose_next_answer(register, proxy)
    lost = register.sell(lines, 1500)
    assert lost.state is EntryState.UNKNOWN

    abandoned = register.abandon_sale(lost.key)

    assert abandoned.state is EntryState.CONFIRMED and abandoned.sale is not None
    assert "went through after all" in abandoned.message
    entry = register.journal.get(lost.key)
    assert entry is not None and entry.flagged_for_manager
    assert entry.reference == str(abandoned.sale.number)
    assert [s["number"] for s in server_sales(live_server, shift.id)] == [abandoned.sale.number]
    assert register.retry_sale(lost.key).sale == abandoned.sale  # no second sale either
    assert register.reconcile(void_after=timedelta(0)).unresolved == 0
