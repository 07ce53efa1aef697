"""What ``make run`` (``pos-app demo``) shows, driven as the README's walkthrough says, keys
only: a fresh ``pos-app serve --demo``, a terminal paired as the demo pairs it, the window.

The shift's first sale goes through the opening-float dialog; afterwards the keys sell again
without a click (issue 15). Refreshes the README's hero screenshot,
``docs/screenshots/make-run-sale.png``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from pos_app.client import pair_terminal
from pos_app.demo import DEMO_TERMINAL_NAME
from pos_app.gui import TaskRunner, create_main_window
from pos_app.gui.shell.main_window import MainWindow
from pos_app.journal import open_register
from tests.gui.helpers import press, sign_in
from tests.support.live_server import start_live_server

pytestmark = pytest.mark.slow

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
DIGITS = {"0": Qt.Key.Key_0, "1": Qt.Key.Key_1, "2": Qt.Key.Key_2}


@pytest.fixture
def demo_window(qtbot: QtBot, styled_app: object, tmp_path: Path,
                pos_home: Path) -> Iterator[MainWindow]:
    """The window of a fresh demo: its own ``serve --demo`` (nothing sold, no shift), this
    terminal paired as the demo's, shown and active as ``pos-app`` shows it."""
    (tmp_path / "demo-server").mkdir()
    with start_live_server(tmp_path / "demo-server") as server:
        pair_terminal(server.base_url, server.add_terminal(DEMO_TERMINAL_NAME),
                      ca_file=server.ca_file)
        with open_register() as register:
            win = create_main_window(register, runner=TaskRunner())
            qtbot.addWidget(win)
            win.show()
            win.activateWindow()
            qtbot.waitUntil(win.isActiveWindow, timeout=5_000)
            yield win
            if win.live is not None:
                win.live.stop()
            win.runner.wait_idle()


def type_digits(qtbot: QtBot, win: MainWindow, text: str) -> None:
    for digit in text:
        press(qtbot, win, DIGITS[digit])


def test_the_readme_walkthrough_sells_at_the_grand_hall_through_the_float_dialog(
        qtbot: QtBot, demo_window: MainWindow) -> None:
    win, sell = demo_window, demo_window.sell
    sign_in(qtbot, win, "alex", "1234")
    win.runner.wait_idle()
    # It opens on the soonest event, the Grand Hall; F1 is General Admission at $45.00.
    assert sell.current_event is not None
    assert sell.current_event.id == "grand-hall-2026-03-14"
    f1 = sell.tiles.tile_at(0)
    assert f1 is not None and f1.ticket_type.name == "General Admission"
    assert f1.ticket_type.price == 4500
    assert sell.shifts.shift is None

    # F1, F1, 100, Enter: no shift yet, so the float first ...
    press(qtbot, win, Qt.Key.Key_F1)
    press(qtbot, win, Qt.Key.Key_F1)
    type_digits(qtbot, win, "100")
    press(qtbot, win, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: sell.shifts.float_dialog is not None
                    and sell.shifts.float_dialog.isVisible(), timeout=20_000)
    dialog = sell.shifts.float_dialog
    assert dialog is not None and QApplication.focusWidget() is dialog.amount_edit
    type_digits(qtbot, win, "200")
    # ... then the sale goes through by itself.
    with qtbot.waitSignal(sell.sale_confirmed, timeout=20_000) as first, \
            qtbot.waitSignal(sell.receipt_delivered, timeout=20_000):
        press(qtbot, win, Qt.Key.Key_Return)
    win.runner.wait_idle()
    sale = first.args[0].sale
    assert [(line.name, line.quantity) for line in sale.lines] == [("General Admission", 2)]
    assert sale.payment.tendered == 10_000 and sale.payment.change == 1_000
    assert sell.result_card.change_text() == "$10.00"
    assert sell.shifts.shift is not None
    assert not dialog.isVisible()
    qtbot.waitUntil(lambda: f1.left_text == "798 left", timeout=10_000)
    qtbot.wait(50)
    win.grab().save(str(SCREENSHOTS / "make-run-sale.png"))

    # No click: F1, F1, Ctrl+Enter sells again (the keys came back to the sell screen).
    assert sell.isAncestorOf(QApplication.focusWidget())
    press(qtbot, win, Qt.Key.Key_F1)
    press(qtbot, win, Qt.Key.Key_F1)
    with qtbot.waitSignal(sell.sale_confirmed, timeout=20_000) as second:
        press(qtbot, win, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    win.runner.wait_idle()
    again = second.args[0].sale
    assert [(line.name, line.quantity) for line in again.lines] == [("General Admission", 2)]
    assert again.number == sale.number + 1 and again.payment.change == 0
