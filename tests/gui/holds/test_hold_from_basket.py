"""Hold for cash from the sell screen's basket, then the hold desk (pos_app.gui.holds.sell_holds),
with the keyboard only, against the real register and a live HTTPS server."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from pos_app.gui.shell.main_window import MainWindow
from pos_app.journal import Register
from tests.gui.helpers import ready
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.slow


def test_hold_the_basket_for_cash_then_find_it_on_the_hold_desk(
        qtbot: QtBot, real_window: MainWindow, register: Register,
        live_server: LiveServer) -> None:
    win = real_window
    ready(qtbot, win, register, live_server)
    sell = win.sell
    flow = win.cash_holds
    assert flow is not None and win.desk is not None
    qtbot.keyClick(sell.focusWidget() or sell, Qt.Key.Key_F1)
    qtbot.keyClick(sell.focusWidget() or sell, Qt.Key.Key_F2)
    ga = sell.tiles.tile_named("GA").ticket_type.id

    qtbot.keyClick(sell.focusWidget() or sell, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    dialog = flow.dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.name_edit)
    qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Return)  # no name yet: nothing happens
    assert dialog.isVisible() and sell.basket.quantity_of(ga) == 1
    qtbot.keyClicks(dialog.name_edit, "Dana Smith")
    qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Tab)
    qtbot.keyClicks(QApplication.focusWidget(), "555 0101")
    with qtbot.waitSignal(flow.hold_placed, timeout=20_000) as placed:
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    win.runner.wait_idle()

    hold = placed.args[0].hold
    assert hold.kind == "cash" and hold.status == "active"
    assert hold.customer.name == "Dana Smith" and hold.customer.phone == "555 0101"
    assert sorted((ln.name, ln.quantity) for ln in hold.lines) == [("GA", 1), ("VIP", 1)]
    assert sell.basket.is_empty()
    # The basket's checkout hold became the cash hold in one transaction: released, not
    # left to lapse, and the journal shows no separate release.
    journal = [(e.operation, e.request.get("kind"), e.request.get("replaces"))
               for e in reversed(register.journal.entries())]
    checkout_ids = {h.id for h in register.list_holds(kind="checkout")
                    if {ln.ticket_type_id for ln in h.lines} <= {ln.ticket_type_id
                                                                  for ln in hold.lines}}
    assert journal[-1][:2] == ("hold", "cash") and journal[-1][2] in checkout_ids
    assert "hold_release" not in {op for op, _kind, _replaces in journal}
    assert {h.status for h in register.list_holds(kind="checkout")
            if h.id in checkout_ids} == {"released"}
    assert sell.checkout is not None and sell.checkout.state == "idle"
    qtbot.waitUntil(lambda: "Slip" in sell.banner.text())
    assert f"Held for Dana Smith: code {hold.code}" in sell.banner.text()
    slips = list(Path(register.paths.receipts_dir).glob("*.pdf"))
    assert any(hold.code in slip.name for slip in slips)

    # Ctrl+L opens the desk; the code typed there finds the hold.
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5_000)
    qtbot.keyClick(sell.focusWidget() or sell, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert win.stack.currentWidget() is win.desk_page
    with qtbot.waitSignal(win.desk.holds_loaded, timeout=10_000):
        qtbot.keyClicks(win.desk.search_edit, hold.code)
    qtbot.waitUntil(lambda: win.desk.proxy.rowCount() == 1)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert win.stack.currentWidget() is sell
