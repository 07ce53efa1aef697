"""Shifts in the POS window with the real register, journal and a live HTTPS server: the
first Charge without a shift asks for the float and completes the sale; Close shift is a
blind count that then shows the server's variance.

Also refreshes ``docs/screenshots/shift-float.png`` and ``docs/screenshots/shift-close.png``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from pos_app.gui.shell.main_window import MainWindow
from pos_app.journal import EntryState, Register
from tests.gui.helpers import select_event, sign_in
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.slow

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def sign_in_without_a_shift(qtbot: QtBot, win: MainWindow) -> None:
    sign_in(qtbot, win, "alex", "1234")
    win.runner.wait_idle()  # the shift check at sign-in has answered
    shifts = win.sell.shifts
    assert shifts.shift is None
    assert shifts.status_label.text() == "No shift open"
    assert not shifts.close_button.isEnabled()


def test_charge_without_a_shift_asks_for_the_float_then_completes_the_sale(
        qtbot: QtBot, real_window: MainWindow, register: Register,
        live_server: LiveServer) -> None:
    win = real_window
    event_id = live_server.small_event(capacity=10, price=2500, types=("GA", "VIP"))
    sign_in_without_a_shift(qtbot, win)
    select_event(qtbot, win, event_id)
    sell = win.sell
    for _ in range(2):
        qtbot.mouseClick(sell.tiles.tile_named("GA"), Qt.MouseButton.LeftButton)
    qtbot.keyClicks(sell.panel.tendered_edit, "60")

    with qtbot.waitSignal(sell.shifts.shift_changed, timeout=20_000), \
            qtbot.assertNotEmitted(sell.sale_refused):
        qtbot.keyClick(sell.panel.tendered_edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: sell.shifts.float_dialog is not None
                        and sell.shifts.float_dialog.isVisible(), timeout=20_000)
        dialog = sell.shifts.float_dialog
        assert dialog is not None
        assert dialog.amount_edit.hasFocus()
        assert sell.basket.locked and sell.charging  # the basket waits for the shift
        qtbot.keyClicks(dialog.amount_edit, "150")
        dialog.grab().save(str(SCREENSHOTS / "shift-float.png"))
        with qtbot.waitSignal(sell.sale_confirmed, timeout=20_000) as confirmed:
            qtbot.keyClick(dialog.amount_edit, Qt.Key.Key_Return)
    win.runner.wait_idle()

    outcome = confirmed.args[0]
    assert outcome.state == "confirmed" and outcome.sale.total == 5000
    assert not dialog.isVisible()
    assert sell.result_card.isVisible() and sell.result_card.change_text() == "$10.00"
    assert sell.basket.is_empty()
    shift = sell.shifts.shift
    assert shift is not None and shift.opening_float == 15_000
    assert outcome.sale.shift_id == shift.id
    assert sell.shifts.status_label.text() == f"Shift {shift.id} open"
    # The journal: the refused first attempt, the shift, the sale under a new key.
    entries = [e for e in register.journal.entries() if e.operation != "hold"]
    assert [(e.operation, e.state) for e in entries] == [
        ("sale", EntryState.CONFIRMED), ("shift_open", EntryState.CONFIRMED),
        ("sale", EntryState.REFUSED)]
    assert entries[2].error_code == "shift_not_open" and entries[0].key != entries[2].key


def test_cancelling_the_float_dialog_keeps_the_basket_and_sells_nothing(
        qtbot: QtBot, real_window: MainWindow, live_server: LiveServer) -> None:
    win = real_window
    event_id = live_server.small_event(capacity=10, price=2500)
    sign_in_without_a_shift(qtbot, win)
    select_event(qtbot, win, event_id)
    sell = win.sell
    qtbot.mouseClick(sell.tiles.tile_named("GA"), Qt.MouseButton.LeftButton)
    qtbot.keyClicks(sell.panel.tendered_edit, "25")
    with qtbot.waitSignal(sell.sale_refused, timeout=20_000) as refused:
        qtbot.keyClick(sell.panel.tendered_edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: sell.shifts.float_dialog is not None, timeout=20_000)
        dialog = sell.shifts.float_dialog
        assert dialog is not None
        qtbot.keyClick(dialog.amount_edit, Qt.Key.Key_Escape)
    assert refused.args[0].error.error == "shift_not_open"
    assert sell.banner.isVisible() and "nothing was sold" in sell.banner.text()
    assert not sell.basket.is_empty() and not sell.basket.locked
    assert sell.shifts.shift is None


def test_close_shift_is_a_blind_count_that_then_shows_the_variance(
        qtbot: QtBot, real_window: MainWindow, register: Register,
        live_server: LiveServer) -> None:
    win = real_window
    event_id = live_server.small_event(capacity=10, price=2500)
    sign_in_without_a_shift(qtbot, win)
    win.runner.wait_idle()
    shifts = win.sell.shifts
    # Open the shift through the window: the header's status learns it.
    with qtbot.waitSignal(shifts.shift_opened, timeout=20_000):
        assert shifts.request_open("USD")
        assert shifts.float_dialog is not None
        qtbot.keyClicks(shifts.float_dialog.amount_edit, "200")
        qtbot.keyClick(shifts.float_dialog.amount_edit, Qt.Key.Key_Return)
    assert shifts.close_button.isEnabled()
    select_event(qtbot, win, event_id)
    sell = win.sell
    for _ in range(3):
        qtbot.mouseClick(sell.tiles.tile_named("GA"), Qt.MouseButton.LeftButton)
    qtbot.keyClicks(sell.panel.tendered_edit, "100")
    with qtbot.waitSignal(sell.sale_confirmed, timeout=20_000):
        qtbot.keyClick(sell.panel.tendered_edit, Qt.Key.Key_Return)
    win.runner.wait_idle()

    qtbot.mouseClick(shifts.close_button, Qt.MouseButton.LeftButton)
    dialog = shifts.close_dialog
    assert dialog is not None and dialog.isVisible() and not dialog.showing_result
    visible_text = " ".join(label.text() for label in dialog.findChildren(type(dialog.title_label))
                            if label.isVisible())
    assert "$275.00" not in visible_text  # blind: the expected cash is not shown before
    for widget in (dialog.amount_edit, dialog.note_edit, dialog.submit_button,
                   dialog.cancel_button, dialog.done_button, shifts.close_button):
        assert widget.accessibleName()
    qtbot.keyClicks(dialog.amount_edit, "270")
    qtbot.keyClicks(dialog.note_edit, "a five went missing")
    with qtbot.waitSignal(shifts.shift_closed, timeout=20_000) as closed:
        qtbot.keyClick(dialog.amount_edit, Qt.Key.Key_Return)

    shift = closed.args[0].shift
    assert (shift.expected_cash, shift.counted_cash, shift.variance) == (27_500, 27_000, -500)
    assert shift.note == "a five went missing"
    assert dialog.showing_result
    assert dialog.expected_label.text() == "$275.00"
    assert dialog.counted_label.text() == "$270.00"
    assert dialog.variance_label.text() == "-$5.00"
    assert dialog.verdict_label.text() == "The drawer is short by $5.00."
    qtbot.wait(50)
    dialog.grab().save(str(SCREENSHOTS / "shift-close.png"))
    assert shifts.status_label.text() == "No shift open" and not shifts.close_button.isEnabled()
    qtbot.keyClick(dialog.done_button, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5_000)
    assert [e.operation for e in register.journal.entries()][:1] == ["shift_close"]
