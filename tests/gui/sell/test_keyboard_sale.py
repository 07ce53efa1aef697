"""The sell screen with the keyboard only (pos_app.gui.sell.sell_keys), against the real register
and a live HTTPS server: F-keys, +/-, digits from anywhere, Enter, Ctrl+Enter, Exact cash."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from pos_app.api.schemas import SaleLineIn
from pos_app.gui.shell.main_window import MainWindow
from pos_app.journal import EntryState, Register
from tests.gui.helpers import journal_thread_held, ready
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.slow


def test_a_two_ticket_exact_cash_sale_takes_three_key_presses(
        qtbot: QtBot, real_window: MainWindow, register: Register,
        live_server: LiveServer) -> None:
    win = real_window
    ready(qtbot, win, register, live_server)
    sell = win.sell
    assert [tile.key for tile in sell.tiles.tiles()] == ["F1", "F2"]
    focus = sell.focusWidget() or sell

    qtbot.keyClick(focus, Qt.Key.Key_F1)
    qtbot.keyClick(sell.focusWidget() or sell, Qt.Key.Key_F1)
    with qtbot.waitSignal(sell.sale_confirmed, timeout=20_000) as confirmed:
        qtbot.keyClick(sell.focusWidget() or sell, Qt.Key.Key_Return,
                       Qt.KeyboardModifier.ControlModifier)
    win.runner.wait_idle()

    sale = confirmed.args[0].sale
    assert [(line.name, line.quantity) for line in sale.lines] == [("GA", 2)]
    assert sale.payment.tendered == sale.total == 5000
    assert sale.payment.change == 0
    assert sell.result_card.change_text() == "$0.00"
    assert sell.basket.is_empty()
    assert sell.property("lastAnnouncement") == f"Sale {sale.number} confirmed. Change due $0.00."


def test_plus_minus_digits_from_a_tile_and_a_double_enter_sell_once(
        qtbot: QtBot, real_window: MainWindow, register: Register,
        live_server: LiveServer) -> None:
    win = real_window
    ready(qtbot, win, register, live_server)
    sell = win.sell
    qtbot.keyClick(sell.focusWidget() or sell, Qt.Key.Key_F2)  # VIP
    qtbot.keyClick(sell.focusWidget() or sell, Qt.Key.Key_Plus)
    qtbot.keyClick(sell.focusWidget() or sell, Qt.Key.Key_Plus)
    qtbot.keyClick(sell.focusWidget() or sell, Qt.Key.Key_Minus)
    assert sell.basket.quantity_of(sell.tiles.tile_named("VIP").ticket_type.id) == 2
    assert sell.panel.total_label.text() == "$50.00"

    # Digits typed while a tile has the focus land in the tender field.
    tile = sell.tiles.tile_named("GA")
    tile.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.keyClick(tile, "6")
    qtbot.keyClick(sell.focusWidget() or sell, "0")  # the keyboard types where the focus is
    assert sell.panel.tendered_edit.text() == "60"
    assert sell.panel.tendered_edit.hasFocus()

    def sales_journaled() -> int:
        return sum(e.operation == "sale" for e in register.journal.entries())

    journaled_before = sales_journaled()
    with qtbot.waitSignal(sell.sale_confirmed, timeout=20_000) as confirmed:
        qtbot.keyClick(sell.panel.tendered_edit, Qt.Key.Key_Return)
        qtbot.keyClick(sell.focusWidget() or sell, Qt.Key.Key_Return)  # the scanner's second
    win.runner.wait_idle()
    qtbot.keyClick(sell.focusWidget() or sell, Qt.Key.Key_Return)  # and one after the result
    win.runner.wait_idle()

    assert confirmed.args[0].sale.payment.change == 1000
    assert sales_journaled() == journaled_before + 1  # one sale, not two
    assert sell.result_card.change_text() == "$10.00"


def test_a_sale_refused_for_inventory_keeps_the_basket(
        qtbot: QtBot, real_window: MainWindow, register: Register,
        live_server: LiveServer) -> None:
    win = real_window
    ready(qtbot, win, register, live_server, capacity=2)
    sell = win.sell
    ga = sell.tiles.tile_named("GA").ticket_type.id
    with journal_thread_held(win):  # the basket's hold goes out only after ...
        qtbot.keyClick(sell.focusWidget() or sell, Qt.Key.Key_F1)
        qtbot.keyClick(sell.focusWidget() or sell, Qt.Key.Key_F1)
        # ... another sale took one of the two.
        other = register.sell([SaleLineIn(ticket_type_id=ga, quantity=1)], tendered=2500)
        assert other.state is EntryState.CONFIRMED

    with qtbot.waitSignal(sell.sale_refused, timeout=20_000):
        qtbot.keyClick(sell.focusWidget() or sell, Qt.Key.Key_Return,
                       Qt.KeyboardModifier.ControlModifier)
    win.runner.wait_idle()
    assert sell.basket.quantity_of(ga) == 2  # intact: the cashier decides what to do
    assert sell.banner.isVisible()
    assert sell.banner.text() == "Only 1 GA left - reduce the quantity."
    assert sell.property("lastAnnouncement").startswith("Not sold.")
