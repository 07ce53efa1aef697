"""Steps the POS window's tests share."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import QAbstractButton, QApplication, QWidget
from pytestqt.qtbot import QtBot

from pos_app.api.schemas import Hold
from pos_app.gui.printing.printer_config import PrinterSettings
from pos_app.gui.printing.printing import ReceiptPrinter
from pos_app.gui.shell.main_window import MainWindow
from pos_app.journal import EntryState, Register
from tests.support.live_server import LiveServer


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


def open_shift(qtbot: QtBot, win: MainWindow, register: Register) -> None:
    """Box-office cash sales need an open shift: open one through the register's journaled
    path (as ``pos-app shift open`` would), then let the window learn it."""
    win.runner.wait_idle()  # the window's own shift check at sign-in has answered
    outcome = register.open_shift(0)
    assert outcome.state is EntryState.CONFIRMED, outcome.message
    with qtbot.waitSignal(win.sell.shifts.shift_changed, timeout=10_000):
        win.sell.shifts.refresh()
    assert win.sell.shifts.shift is not None


def choose_event_with_arrows(qtbot: QtBot, win: MainWindow, event_id: str) -> None:
    """Focus the event list and press Down until ``event_id`` is shown (keyboard only)."""
    view = win.sell.event_list
    view.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.keyClick(view, Qt.Key.Key_Home)
    for _ in range(win.sell.events_model.rowCount() + 1):
        shown = win.sell.current_event
        if shown is not None and shown.id == event_id:
            return
        qtbot.keyClick(view, Qt.Key.Key_Down)
    raise AssertionError(f"event {event_id} not reached with the arrow keys")


def ready(qtbot: QtBot, win: MainWindow, register: Register, live_server: LiveServer,
          *, capacity: int = 10) -> str:
    event_id = live_server.small_event(capacity=capacity, price=2500, types=("GA", "VIP"))
    win.activateWindow()  # shortcuts, like the cashier's keys, go to the active window
    qtbot.waitUntil(win.isActiveWindow, timeout=5_000)
    sign_in(qtbot, win, "alex", "1234")
    open_shift(qtbot, win, register)
    with qtbot.waitSignal(win.sell.events_loaded, timeout=10_000):
        win.sell.refresh_events()
    choose_event_with_arrows(qtbot, win, event_id)
    qtbot.waitUntil(lambda: all(tile.isVisible() for tile in win.sell.tiles.tiles()))
    return event_id


def holds(register: Register, event_id: str, **filters: str) -> list[Hold]:
    """This event's holds (the server is shared by the module's tests), newest first."""
    [event] = [e for e in register.events().events if e.id == event_id]
    ids = {t.id for t in event.ticket_types}
    return [h for h in register.list_holds(**filters)
            if {line.ticket_type_id for line in h.lines} <= ids]


def press_on_sell(qtbot: QtBot, win: MainWindow, key: Qt.Key,
                  modifier: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:
    """Press ``key`` on the sell screen's focused widget (else on the screen itself)."""
    qtbot.keyClick(win.sell.focusWidget() or win.sell, key, modifier)


def wait_held(qtbot: QtBot, win: MainWindow, quantity: int) -> None:
    checkout = win.sell.checkout
    assert checkout is not None
    qtbot.waitUntil(lambda: checkout.state == "held" and not checkout.busy
                    and checkout.hold is not None
                    and sum(line.quantity for line in checkout.hold.lines) == quantity,
                    timeout=20_000)


def unnamed_controls(root: QWidget) -> list[str]:
    """Visible widgets under ``root`` that take keyboard focus but have no spoken name."""
    missing = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not widget.isVisible() or widget.focusPolicy() == Qt.FocusPolicy.NoFocus:
            continue
        if widget.metaObject().className() in ("QScrollBar", "QHeaderView"):
            continue  # scrolled by the view's own keys; Qt names them itself
        interface = QAccessible.queryAccessibleInterface(widget)
        name = interface.text(QAccessible.Text.Name) if interface is not None else ""
        if not name.strip() and isinstance(widget, QAbstractButton):
            name = widget.text().replace("&", "")
        if not name.strip():
            missing.append(f"{widget.metaObject().className()}#{widget.objectName()}")
    return missing


DRAWER_KICK = b"\x1bp\x00\x32\x32"  # ESC p, pin 2, 100 ms on, 100 ms off


def thermal(url: str, **changes: Any) -> ReceiptPrinter:
    """A receipt printer whose settings send everything to the ESC/POS printer at ``url``."""
    return ReceiptPrinter(settings=PrinterSettings(destination="thermal", thermal_url=url,
                                                   **changes))
