"""``open_shift_report`` as the manager's page calls it, with just a shift id, against the real
server: the PDF lands in the receipts folder and a message box says where; with no open shift
an X-report is refused in a sentence. The GUI thread never waits."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from pos_app.gui.core.task_runner import TaskRunner
from pos_app.gui.printing.printer_config import PrinterSettings
from pos_app.gui.printing.printing import ReceiptPrinter
from pos_app.gui.shifts.shift_report import ShiftReportResult, open_shift_report, venue_timezone
from pos_app.journal import EntryState, Register

pytestmark = pytest.mark.slow


@pytest.fixture
def runner() -> Iterator[TaskRunner]:
    tasks = TaskRunner()
    yield tasks
    tasks.wait_idle()


def test_a_past_shift_by_id_and_the_open_one_by_id(
        qtbot: QtBot, styled_app: object, register: Register, runner: TaskRunner) -> None:
    register.sign_in("morgan", "2468")
    opened = register.open_shift(5_000)
    assert opened.state is EntryState.CONFIRMED and opened.shift is not None
    shift_id = opened.shift.id
    parent = QWidget()
    qtbot.addWidget(parent)
    printer = ReceiptPrinter(settings=PrinterSettings(destination="pdf"))

    job = open_shift_report(parent, register, runner, printer, shift_id)  # still open
    with qtbot.waitSignal(job.delivered, timeout=20_000) as x_report:
        pass
    x_result: ShiftReportResult = x_report.args[0]
    assert x_result.path.name.startswith(f"x-report-shift-{shift_id}-")
    assert x_result.path.parent == Path(register.paths.receipts_dir)

    closed = register.close_shift(shift_id, 5_000)
    assert closed.state is EntryState.CONFIRMED
    job = open_shift_report(parent, register, runner, printer, shift_id)
    with qtbot.waitSignal(job.delivered, timeout=20_000) as z_report:
        pass
    result: ShiftReportResult = z_report.args[0]
    assert result.path == Path(register.paths.receipts_dir) / f"z-report-shift-{shift_id}.pdf"
    assert result.path.read_bytes().startswith(b"%PDF")
    assert result.sentence == f"Z-report of shift {shift_id}: Saved to {result.path}."
    boxes = parent.findChildren(QMessageBox, "shiftReportMessage")
    box = boxes[-1]  # the job may be gone (it deletes itself); its box stays until closed
    assert isinstance(box, QMessageBox) and box.isVisible() and box.text() == result.sentence
    assert box.icon() == QMessageBox.Icon.Information
    box.close()
    assert venue_timezone(register, result.shift)  # an IANA zone from the events, or UTC


def test_an_x_report_without_an_open_shift_says_so(
        qtbot: QtBot, styled_app: object, register: Register, runner: TaskRunner) -> None:
    register.sign_in("alex", "1234")
    parent = QWidget()
    qtbot.addWidget(parent)
    printer = ReceiptPrinter(settings=PrinterSettings(destination="pdf"))
    job = open_shift_report(parent, register, runner, printer, None)
    with qtbot.waitSignal(job.failed, timeout=20_000) as failed:
        pass
    assert failed.args[0] == "No shift is open at this terminal, so there is no X-report."
    [box] = parent.findChildren(QMessageBox, "shiftReportMessage")
    assert box.icon() == QMessageBox.Icon.Warning and box.text() == failed.args[0]
    assert not list(Path(register.paths.receipts_dir).glob("x-report-*"))
