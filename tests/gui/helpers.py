"""Steps the POS window's tests share."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from pos_app.gui.main_window import MainWindow


def sign_in(qtbot: QtBot, win: MainWindow, username: str = "alex", pin: str = "1234") -> None:
    """Type the credentials into the sign-in screen, press Enter, wait for the sell screen
    and its events."""
    qtbot.keyClicks(win.signin.username_edit, username)
    qtbot.keyClicks(win.signin.pin_edit, pin)
    with qtbot.waitSignal(win.sell.events_loaded, timeout=10_000):
        qtbot.keyClick(win.signin.pin_edit, Qt.Key.Key_Return)
    assert win.stack.currentWidget() is win.sell
