"""A whole cash-up in the POS window against the real server (variance threshold $5.00): a
float through the float dialog, a sale, a pay-out through Cash (Ctrl+M) (no X-report for a
cashier: it would give the count away; a manager prints one from the same dialog), a blind
count $15.00 short that the server sends back for a manager's approval, a wrong PIN, then
morgan's PIN and a note close it; the Z-report PDF carries exactly the server's figures.

Refreshes ``docs/screenshots/cash-movement-x-report.png``,
``docs/screenshots/shift-close-approval.png`` and ``docs/screenshots/shift-close-approved.png``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pypdf
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from pos_app.api.schemas import Shift
from pos_app.domain.money import format_money
from pos_app.gui.printing.printer_config import PrinterSettings
from pos_app.gui.shell.main_window import MainWindow
from pos_app.journal import EntryState, Register
from tests.gui.helpers import select_event, sign_in
from tests.gui.shifts.test_shift_end_to_end import SCREENSHOTS, sign_in_without_a_shift
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.slow

MANAGER_PIN = "2468"


def pdf_rows(path: Path) -> list[str]:
    """Each printed row of the PDF's one page, top-down: the strings sharing a baseline, left
    to right, joined by one space (a label and its amount come out as one row)."""
    [page] = pypdf.PdfReader(path).pages
    spans: dict[float, list[tuple[float, str]]] = {}

    def visit(text: str, cm: Any, tm: Any, font: Any, size: float) -> None:
        if text.strip():
            spans.setdefault(round(float(tm[5]), 1), []).append((float(tm[4]), text.strip()))

    page.extract_text(visitor_text=visit)
    return [" ".join(t for _, t in sorted(spans[y])) for y in sorted(spans, reverse=True)]


def visible_text(widget: Any) -> str:
    return " ".join(label.text() for label in widget.findChildren(QLabel)
                    if label.isVisible())


def expected_rows(shift: Shift) -> list[str]:
    """The Z-report rows that must carry the server's figures, as the report words them."""
    money = shift.currency

    def m(amount: int) -> str:
        return format_money(amount, money)

    assert shift.variance is not None and shift.expected_cash is not None
    assert shift.counted_cash is not None and shift.first_sale_number is not None
    rows = [
        f"Shift {shift.id}", f"{shift.terminal_name}",
        f"Opened by {shift.opened_by_name}", f"Closed by {shift.closed_by_name}",
        f"Variance approved by {shift.approved_by_name}",
        f"Opening float {m(shift.opening_float)}",
        f"Cash sales ({shift.sales.count}) {m(shift.sales.amount)}",
        f"Cash refunds ({shift.refunds.count}) {m(-shift.refunds.amount)}",
        f"Pay-ins {m(shift.pay_ins)}", f"Pay-outs {m(-shift.pay_outs)}",
        f"Drops to safe {m(-shift.drops)}",
        f"EXPECTED {m(shift.expected_cash)}", f"COUNTED {m(shift.counted_cash)}",
        f"VARIANCE (short) {m(shift.variance)}", f"Note: {shift.note}",
        f"Placed {shift.holds.placed}", f"Converted to sales {shift.holds.converted}",
        f"Released {shift.holds.released}", f"Expired {shift.holds.expired}",
        f"First sale #{shift.first_sale_number:06d}",
        f"Last sale #{shift.last_sale_number:06d}"]
    rows += [f"{t.tickets} x {t.name} {m(t.amount)}" for t in shift.ticket_types]
    return rows


def test_a_variance_beyond_the_threshold_needs_a_managers_pin_and_the_z_report_prints_it(
        qtbot: QtBot, real_window: MainWindow, register: Register,
        live_server: LiveServer) -> None:
    win = real_window
    win.printer.apply(PrinterSettings(destination="pdf"))  # PDFs only: nothing to print on
    event_id = live_server.small_event(capacity=10, price=2500, types=("GA", "VIP"))
    sign_in_without_a_shift(qtbot, win)
    shifts = win.sell.shifts

    # The float, through the window's float dialog.
    with qtbot.waitSignal(shifts.shift_opened, timeout=20_000):
        assert shifts.request_open("USD")
        assert shifts.float_dialog is not None
        qtbot.keyClicks(shifts.float_dialog.amount_edit, "200")
        qtbot.keyClick(shifts.float_dialog.amount_edit, Qt.Key.Key_Return)
    shift_id = shifts.shift.id if shifts.shift is not None else 0

    # One GA ticket, cash.
    select_event(qtbot, win, event_id)
    sell = win.sell
    qtbot.mouseClick(sell.tiles.tile_named("GA"), Qt.MouseButton.LeftButton)
    qtbot.keyClicks(sell.panel.tendered_edit, "25")
    with qtbot.waitSignal(sell.sale_confirmed, timeout=20_000) as sold:
        qtbot.keyClick(sell.panel.tendered_edit, Qt.Key.Key_Return)
    win.runner.wait_idle()
    assert sold.args[0].sale.shift_id == shift_id

    # A $10.00 pay-out through Cash (Ctrl+M). No X-report for a cashier: its totals would
    # give the blind count away.
    # Offscreen, nothing re-activates the window after the float dialog closed (a window
    # manager would); shortcuts only reach an active window.
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5_000)
    qtbot.keyClick(sell.focusWidget() or sell, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: shifts.cash_dialog is not None and shifts.cash_dialog.isVisible(),
                    timeout=5_000)
    cash = shifts.cash_dialog
    assert cash is not None and not cash.report_button.isVisible()
    cash.kind_buttons["pay_out"].click()
    qtbot.keyClicks(cash.amount_edit, "10")
    qtbot.keyClicks(cash.reason_edit, "courier")
    with qtbot.waitSignal(cash.recorded, timeout=20_000):
        qtbot.keyClick(cash.reason_edit, Qt.Key.Key_Return)
    qtbot.keyClick(cash.amount_edit, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not cash.isVisible(), timeout=5_000)

    # A blind count $15.00 short (expected 200 + 25 - 10 = $215.00): sent back for approval.
    qtbot.mouseClick(shifts.close_button, Qt.MouseButton.LeftButton)
    dialog = shifts.close_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.keyClicks(dialog.amount_edit, "200")
    qtbot.keyClick(dialog.amount_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.showing_approval, timeout=20_000)
    approval = dialog.approval
    assert "a manager must approve it with their PIN and a note" in approval.text_label.text()
    assert approval.counted_label.text() == "Your count: $200.00"
    assert "215" not in visible_text(dialog) and "15.00" not in visible_text(dialog)
    assert shifts.shift is not None and shifts.shift.id == shift_id  # still open
    assert approval.manager_edit.hasFocus()
    assert approval.pin_edit.echoMode() == approval.pin_edit.EchoMode.Password
    for widget in (approval.manager_edit, approval.pin_edit, approval.note_edit,
                   approval.approve_button, approval.recount_button, approval.cancel_button,
                   dialog.report_button):
        assert widget.accessibleName()

    # A wrong PIN: the server's sentence, the count and the note are kept.
    qtbot.keyClicks(approval.manager_edit, "morgan")
    qtbot.keyClicks(approval.pin_edit, "1111")
    qtbot.keyClick(approval.pin_edit, Qt.Key.Key_Return)  # no note yet: asked for, not sent
    assert approval.note_edit.hasFocus() and "Write a note" in approval.hint_label.text()
    qtbot.keyClicks(approval.note_edit, "paid the courier twice")
    qtbot.keyClick(approval.note_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "approval was refused" in approval.hint_label.text(),
                    timeout=20_000)
    assert dialog.showing_approval and approval.pin_edit.text() == ""
    assert approval.note_edit.text() == "paid the courier twice" and dialog.counted == 20_000
    approval.grab()  # laid out before the picture
    dialog.grab().save(str(SCREENSHOTS / "shift-close-approval.png"))

    # The manager's PIN: closed with the same count.
    qtbot.keyClicks(approval.pin_edit, MANAGER_PIN)
    with qtbot.waitSignal(shifts.shift_closed, timeout=20_000) as closed:
        qtbot.keyClick(approval.pin_edit, Qt.Key.Key_Return)
    shift = closed.args[0].shift
    assert (shift.expected_cash, shift.counted_cash, shift.variance) == (21_500, 20_000, -1_500)
    assert dialog.showing_result
    assert dialog.variance_label.text() == "-$15.00"
    assert dialog.verdict_label.text().startswith("The drawer is short by $15.00.")
    assert shift.approved_by_name and shift.approved_by_name in dialog.verdict_label.text()
    assert shifts.status_label.text() == "No shift open"

    # The Z-report: saved in the receipts folder, said where, and the server's figures.
    assert dialog.report_button.isVisible()
    qtbot.mouseClick(dialog.report_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Z-report of shift" in dialog.report_label.text(), timeout=20_000)
    pdf = Path(register.paths.receipts_dir) / f"z-report-shift-{shift_id}.pdf"
    assert pdf.is_file() and str(pdf) in dialog.report_label.text()
    dialog.grab().save(str(SCREENSHOTS / "shift-close-approved.png"))
    server_shift = register.manager.shift(shift_id)
    assert server_shift.approved_by is not None and server_shift.holds.placed >= 1
    assert server_shift.first_sale_number == sold.args[0].sale.number
    rows = pdf_rows(pdf)
    assert rows[0] == "Z-REPORT"
    for row in expected_rows(server_shift):
        assert row in rows, (row, rows)
    assert server_shift.ticket_types and server_shift.ticket_types[0].name == "GA"

    # The journal: refused for approval, refused for the wrong PIN, then confirmed; the PIN
    # was sent but never journaled (only the manager's username).
    closes = [e for e in register.journal.entries() if e.operation == "shift_close"]
    assert [(e.state, e.error_code) for e in closes] == [
        (EntryState.CONFIRMED, None), (EntryState.REFUSED, "approval_refused"),
        (EntryState.REFUSED, "variance_needs_approval")]
    assert closes[0].body["manager"] == {"username": "morgan"}
    assert closes[0].body["counted_cash"] == closes[2].body["counted_cash"] == 20_000
    for entry in register.journal.entries():
        stored = json.dumps([entry.body, entry.response])
        assert MANAGER_PIN not in stored and "1111" not in stored and '"pin"' not in stored
    qtbot.keyClick(dialog.done_button, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=5_000)


def test_a_manager_prints_the_x_report_from_the_cash_dialog(
        qtbot: QtBot, real_window: MainWindow, register: Register) -> None:
    win = real_window
    win.printer.apply(PrinterSettings(destination="pdf"))
    sign_in(qtbot, win, "morgan", MANAGER_PIN)
    win.runner.wait_idle()
    shifts = win.sell.shifts
    with qtbot.waitSignal(shifts.shift_opened, timeout=20_000):
        assert shifts.request_open("USD")
        assert shifts.float_dialog is not None
        qtbot.keyClicks(shifts.float_dialog.amount_edit, "150")
        qtbot.keyClick(shifts.float_dialog.amount_edit, Qt.Key.Key_Return)
    shift_id = shifts.shift.id if shifts.shift is not None else 0
    shifts.open_cash_movement()
    cash = shifts.cash_dialog
    assert cash is not None and cash.report_button.isVisible()
    cash.kind_buttons["pay_out"].click()
    qtbot.keyClicks(cash.amount_edit, "10")
    qtbot.keyClicks(cash.reason_edit, "courier")
    with qtbot.waitSignal(cash.recorded, timeout=20_000):
        qtbot.keyClick(cash.reason_edit, Qt.Key.Key_Return)
    qtbot.mouseClick(cash.report_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "X-report of shift" in cash.hint_label.text(), timeout=20_000)
    x_reports = list(Path(register.paths.receipts_dir).glob(f"x-report-shift-{shift_id}-*.pdf"))
    assert len(x_reports) == 1 and str(x_reports[0]) in cash.hint_label.text()
    x_rows = pdf_rows(x_reports[0])
    assert x_rows[0] == "X-REPORT (shift still open)" and "Pay-outs -$10.00" in x_rows
    assert "Opening float $150.00" in x_rows
    assert not [r for r in x_rows if r.startswith(("EXPECTED", "VARIANCE"))]
    cash.grab().save(str(SCREENSHOTS / "cash-movement-x-report.png"))
    cash.close()
