"""Steps the POS window's tests share."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from pos_app.gui.shell.main_window import MainWindow


def sign_in(qtbot: QtBot, win: MainWindow, username: str = "alex", pin: str = "1234") -> None:
    """Type the credentials into the sign-in screen, press Enter, wait for the sell screen
    and its events."""
    qtbot.keyClicks(win.signin.username_edit, username)
    qtbot.keyClicks(win.signin.pin_edit, pin)
    with qtbot.waitSignal(win.sell.events_loaded, timeout=10_000):
        qtbot.keyClick(win.signin.pin_edit, Qt.Key.Key_Return)
    assert win.stack.currentWidget() is win.sell


def select_event(qtbot: QtBot, win: MainWindow, event_id: str) -> None:
    """Click the event's row in the event list."""
    view = win.sell.event_list
    row = win.sell.events_model.row_of(event_id)
    assert row is not None, "the event is not listed"
    index = win.sell.events_model.index(row)
    view.scrollTo(index)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton,
                     pos=view.visualRect(index).center())
    assert win.sell.current_event is not None
    assert win.sell.current_event.id == event_id


@contextmanager
def journal_thread_held(win: MainWindow) -> Iterator[None]:
    """Keep the window's journal thread (``TaskRunner.write``) busy until the block ends: what
    the window sends meanwhile (checkout holds, sales) goes out afterwards, in order, as over
    a slow network, so a test can let another terminal act first."""
    gate = threading.Event()
    win.runner.write(gate.wait, 30)
    try:
        yield
    finally:
        gate.set()


def press(qtbot: QtBot, win: MainWindow, key: Qt.Key,
          modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """Press ``key`` as a keyboard does: on the widget that has the focus, else on the active
    window, else on ``win`` (never aimed at the sell screen: keys that would go nowhere for
    a cashier must go nowhere here)."""
    target = QApplication.focusWidget() or QApplication.activeWindow() or win
    qtbot.keyClick(target, key, modifier)
