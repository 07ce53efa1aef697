"""Every control a cashier can reach has a name a screen reader can say: on the sell screen
with a basket, the hold desk, and the dialogs they open (Hold for cash, receipts of the shift,
printer settings). Qt gives a screen reader ``QAccessibleInterface.text(Name)``; for a control
without an accessible name, a button falls back to its visible text, other widgets to
nothing."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from pos_app.gui.shell.main_window import MainWindow
from pos_app.journal import Register
from tests.gui.helpers import ready, unnamed_controls
from tests.support.live_server import LiveServer


def test_every_focusable_control_has_a_spoken_name(
        qtbot: QtBot, real_window: MainWindow, register: Register,
        live_server: LiveServer) -> None:
    win = real_window
    ready(qtbot, win, register, live_server)
    sell = win.sell
    qtbot.keyClick(sell.focusWidget() or sell, Qt.Key.Key_F1)
    assert sell.checkout is not None
    qtbot.waitUntil(lambda: sell.checkout.state == "held", timeout=20_000)
    assert unnamed_controls(win) == []
    # Everything in the header still fits the box office's 1280-pixel screens.
    assert win.minimumSizeHint().width() <= 1280 and win.width() == 1280

    # Hold for cash (Ctrl+H).
    qtbot.keyClick(sell.focusWidget() or sell, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier)
    assert win.cash_holds is not None and win.cash_holds.dialog is not None
    dialog = win.cash_holds.dialog
    qtbot.waitUntil(dialog.isVisible)
    assert unnamed_controls(dialog) == []
    dialog.reject()

    # Receipts of this shift (Ctrl+R).
    win.show_shift_receipts()
    receipts = win.receipts_dialog
    assert receipts is not None
    qtbot.waitUntil(receipts.isVisible)
    assert unnamed_controls(receipts) == []
    receipts.close()

    # Printer settings (the header's printer button).
    win.show_printer_settings()
    printer = win.printer_dialog
    assert printer is not None
    qtbot.waitUntil(printer.isVisible)
    assert unnamed_controls(printer) == []
    printer.reject()

    # The hold desk (Ctrl+L).
    win.show_hold_desk()
    assert win.desk is not None
    qtbot.waitUntil(win.desk.isVisible)
    assert unnamed_controls(win) == []
    QApplication.processEvents()
