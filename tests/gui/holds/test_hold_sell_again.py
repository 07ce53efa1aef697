"""An expired cash hold cannot be paid, but its tickets can be sold again when they are still
there: on the hold desk, Ctrl+S puts them in the basket, and the sale goes as usual."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from pos_app.api.schemas import Customer, SaleLineIn
from pos_app.gui.shell.main_window import MainWindow
from pos_app.journal import EntryState, Register
from tests.gui.helpers import ready
from tests.support.live_server import LiveServer


def test_an_expired_holds_tickets_go_back_in_the_basket_and_sell(
        qtbot: QtBot, real_window: MainWindow, register: Register,
        live_server: LiveServer) -> None:
    win = real_window
    ready(qtbot, win, register, live_server, capacity=5)
    sell = win.sell
    ga = sell.tiles.tile_named("GA").ticket_type.id
    vip = sell.tiles.tile_named("VIP").ticket_type.id
    placed = register.hold([SaleLineIn(ticket_type_id=ga, quantity=2),
                            SaleLineIn(ticket_type_id=vip, quantity=1)], "cash",
                           Customer(name="Dana Late"), ttl_seconds=1)
    assert placed.state is EntryState.CONFIRMED and placed.hold is not None
    hold = placed.hold
    time.sleep(1.2)  # the server's clock passes expires_at

    win.show_hold_desk()
    desk = win.desk
    assert desk is not None
    with qtbot.waitSignal(desk.holds_loaded, timeout=20_000):
        desk.set_status_filter("expired")
    with qtbot.waitSignal(desk.holds_loaded, timeout=20_000):
        qtbot.keyClicks(desk.search_edit, hold.code)
    qtbot.keyClick(desk.search_edit, Qt.Key.Key_Down)
    assert desk.selected_hold() is not None and desk.selected_hold().code == hold.code
    assert desk.detail.sell_again_button.isVisible()
    assert not desk.detail.pay_button.isEnabled()

    with qtbot.waitSignal(sell.events_loaded, timeout=20_000):
        qtbot.keyClick(desk.table, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert win.stack.currentWidget() is sell
    assert (sell.basket.quantity_of(ga), sell.basket.quantity_of(vip)) == (2, 1)
    assert sell.banner.text() == f"Hold {hold.code}'s tickets are in the basket again: take " \
        "the cash."
    with qtbot.waitSignal(sell.sale_confirmed, timeout=20_000) as confirmed:
        qtbot.keyClick(sell.focusWidget() or sell, Qt.Key.Key_Return,
                       Qt.KeyboardModifier.ControlModifier)
    win.runner.wait_idle()
    assert sorted((ln.name, ln.quantity) for ln in confirmed.args[0].sale.lines) == [
        ("GA", 2), ("VIP", 1)]


def test_what_is_no_longer_there_is_said_and_the_rest_goes_in(
        qtbot: QtBot, real_window: MainWindow, register: Register,
        live_server: LiveServer) -> None:
    win = real_window
    ready(qtbot, win, register, live_server, capacity=3)
    sell = win.sell
    ga = sell.tiles.tile_named("GA").ticket_type.id
    placed = register.hold([SaleLineIn(ticket_type_id=ga, quantity=3)], "cash",
                           Customer(name="Sam Gone"), ttl_seconds=1)
    assert placed.hold is not None
    time.sleep(1.2)
    assert register.sell([SaleLineIn(ticket_type_id=ga, quantity=2)],
                         tendered=5000).state is EntryState.CONFIRMED
    assert win.cash_holds is not None
    with qtbot.waitSignal(sell.events_loaded, timeout=20_000):
        win.on_desk_sell_again_requested(placed.hold)
    assert sell.basket.quantity_of(ga) == 1
    assert sell.banner.text().startswith(f"Not all of hold {placed.hold.code}'s tickets are "
                                         "left: GA: 1 of 3.")


def test_a_failed_read_says_so_and_leaves_no_fill_waiting_for_the_next_refresh(
        qtbot: QtBot, real_window: MainWindow, register: Register,
        live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from pos_app.client import ServerUnreachable

    win = real_window
    ready(qtbot, win, register, live_server, capacity=3)
    sell = win.sell
    ga = sell.tiles.tile_named("GA").ticket_type.id
    placed = register.hold([SaleLineIn(ticket_type_id=ga, quantity=1)], "cash",
                           Customer(name="Ola Offline"), ttl_seconds=1)
    assert placed.hold is not None
    time.sleep(1.2)
    read_events = register.events

    def unreachable() -> object:
        raise ServerUnreachable("the server did not answer")

    monkeypatch.setattr(register, "events", unreachable)
    with qtbot.waitSignal(sell.events_failed, timeout=20_000):
        win.on_desk_sell_again_requested(placed.hold)
    assert sell.banner.text().startswith(f"Could not read the counts to sell hold "
                                         f"{placed.hold.code} again")
    monkeypatch.setattr(register, "events", read_events)
    with qtbot.waitSignal(sell.events_loaded, timeout=20_000):
        sell.refresh_events()
    assert sell.basket.is_empty()  # the later refresh did not fill the basket by itself
