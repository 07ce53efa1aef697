"""Counting the drawer by denomination: the opening float and the blind close count add up
the notes and coins typed (Tab or Up/Down between rows), and what is sent is their total."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from pos_app.gui.shell.main_window import MainWindow
from pos_app.gui.shifts.cash_count import CashCountWidget, denomination_name
from pos_app.journal import Register
from tests.gui.shifts.test_shift_end_to_end import SCREENSHOTS, sign_in_without_a_shift
from tests.support.live_server import LiveServer


def test_the_count_adds_up_and_the_keys_walk_the_rows(qtbot: QtBot, styled_app: object) -> None:
    count = CashCountWidget("USD")
    qtbot.addWidget(count)
    count.show()
    twenties, fives, quarters = (count.count_edits[v] for v in (2000, 500, 25))
    qtbot.keyClicks(twenties, "3")
    count.activateWindow()
    twenties.setFocus()
    qtbot.waitUntil(twenties.hasFocus)
    qtbot.keyClick(twenties, Qt.Key.Key_Down)  # $10 row
    assert count.count_edits[1000].hasFocus()
    qtbot.keyClick(count.count_edits[1000], Qt.Key.Key_Down)  # $5 row
    assert fives.hasFocus()
    qtbot.keyClicks(fives, "1")
    qtbot.keyClicks(quarters, "4")
    qtbot.keyClicks(quarters, "x-")  # not a count: refused by the field
    assert count.counts() == {2000: 3, 500: 1, 25: 4}
    assert count.total() == 6600 and count.total_label.text() == "$66.00"
    assert count.line_labels[2000].text() == "$60.00" and count.line_labels[1000].text() == ""
    assert twenties.accessibleName() == "How many $20.00 notes"
    assert denomination_name(25, "USD") == "$0.25 coins"
    assert denomination_name(200, "EUR") == "€2.00 coins"
    assert [v for v in CashCountWidget("GBP").count_edits][:2] == [5000, 2000]


def test_float_and_blind_close_counted_note_by_note(
        qtbot: QtBot, real_window: MainWindow, register: Register,
        live_server: LiveServer) -> None:
    win = real_window
    sign_in_without_a_shift(qtbot, win)
    win.runner.wait_idle()
    shifts = win.sell.shifts
    with qtbot.waitSignal(shifts.shift_opened, timeout=20_000) as opened:
        assert shifts.request_open("USD")
        dialog = shifts.float_dialog
        assert dialog is not None and dialog.count is not None
        dialog.count.set_counts({2000: 5, 1000: 5, 100: 40, 25: 40})  # $200.00
        assert dialog.amount_edit.text() == "$200.00" and dialog.amount_edit.isReadOnly()
        dialog.grab().save(str(SCREENSHOTS / "shift-float-count.png"))
        qtbot.keyClick(dialog.count.count_edits[25], Qt.Key.Key_Return)
    assert opened.args[0].shift.opening_float == 20_000

    qtbot.mouseClick(shifts.close_button, Qt.MouseButton.LeftButton)
    close = shifts.close_dialog
    assert close is not None and close.count is not None and not close.showing_result
    qtbot.keyClicks(close.count.first_edit(), "1")  # one $100 note
    qtbot.keyClicks(close.count.count_edits[5000], "2")  # two $50 notes
    assert close.count.total_label.text() == "$200.00"
    with qtbot.waitSignal(shifts.shift_closed, timeout=20_000) as closed:
        qtbot.keyClick(close.count.count_edits[5000], Qt.Key.Key_Return)
    shift = closed.args[0].shift
    assert (shift.expected_cash, shift.counted_cash, shift.variance) == (20_000, 20_000, 0)
    assert close.verdict_label.text() == "The drawer balances."


def test_pay_in_pay_out_and_drop_with_a_reason_count_in_the_expected_cash(
        qtbot: QtBot, real_window: MainWindow, register: Register,
        live_server: LiveServer) -> None:
    win = real_window
    sign_in_without_a_shift(qtbot, win)
    win.runner.wait_idle()
    shifts = win.sell.shifts
    assert not shifts.cash_button.isEnabled()  # no shift, no cash movement
    with qtbot.waitSignal(shifts.shift_opened, timeout=20_000):
        assert shifts.request_open("USD")
        assert shifts.float_dialog is not None
        qtbot.keyClicks(shifts.float_dialog.amount_edit, "100")
        qtbot.keyClick(shifts.float_dialog.amount_edit, Qt.Key.Key_Return)
    assert shifts.cash_button.isEnabled() and shifts.cash_button.accessibleName()

    qtbot.mouseClick(shifts.cash_button, Qt.MouseButton.LeftButton)
    dialog = shifts.cash_dialog
    assert dialog is not None and dialog.isVisible() and dialog.kind == "pay_in"
    qtbot.keyClicks(dialog.amount_edit, "20")
    qtbot.keyClick(dialog.amount_edit, Qt.Key.Key_Return)  # no reason: refused, nothing sent
    assert "Say why" in dialog.hint_label.text()
    qtbot.keyClicks(dialog.reason_edit, "change from the safe")
    with qtbot.waitSignal(dialog.recorded, timeout=20_000):
        qtbot.keyClick(dialog.reason_edit, Qt.Key.Key_Return)
    assert dialog.hint_label.text() == "Pay in of $20.00 recorded."
    for kind, amount, reason in (("pay_out", "15.50", "courier"), ("drop", "50", "to safe")):
        dialog.kind_buttons[kind].click()
        qtbot.keyClicks(dialog.amount_edit, amount)
        qtbot.keyClicks(dialog.reason_edit, reason)
        with qtbot.waitSignal(dialog.recorded, timeout=20_000):
            qtbot.keyClick(dialog.reason_edit, Qt.Key.Key_Return)
    dialog.grab().save(str(SCREENSHOTS / "cash-movement.png"))
    qtbot.keyClick(dialog.amount_edit, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible())

    qtbot.mouseClick(shifts.close_button, Qt.MouseButton.LeftButton)
    close = shifts.close_dialog
    assert close is not None
    qtbot.keyClicks(close.amount_edit, "54.50")
    with qtbot.waitSignal(shifts.shift_closed, timeout=20_000) as closed:
        qtbot.keyClick(close.amount_edit, Qt.Key.Key_Return)
    shift = closed.args[0].shift
    # 100 + 20 - 15.50 - 50 = 54.50, computed by the server.
    assert (shift.pay_ins, shift.pay_outs, shift.drops) == (2000, 1550, 5000)
    assert (shift.expected_cash, shift.variance) == (5450, 0)
