"""ReceiptPrinter rasterises receipt PDFs onto a printer; TaskRunner keeps slow work off the
GUI thread and serialises journal writes."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from PySide6.QtPrintSupport import QPrinter
from pytestqt.qtbot import QtBot

from pos_app.gui.core.task_runner import TaskRunner
from pos_app.gui.printing.printing import ReceiptPrinter


def receipt_pdf(folder: Path) -> Path:
    from datetime import UTC, datetime

    from pos_app.receipts import ReceiptData, write_receipt

    data = ReceiptData(
        venue="The Grand Hall", event_name="Harbour Lights Live",
        event_starts_at=datetime(2026, 3, 15, 1, 30, tzinfo=UTC), timezone="America/Chicago",
        sale_number=7, sale_created_at=datetime(2026, 3, 14, 23, 0, tzinfo=UTC),
        lines=(("GA", 2, 2500, 5000),), total=5000, currency="USD", tendered=6000,
        change=1000, staff_name="Alex", terminal_name="Front desk 1",
        tickets=(("T-1", "GA"), ("T-2", "GA")))
    return write_receipt(data, folder)


def test_without_a_printer_the_receipt_is_reported_as_saved(tmp_path: Path, qapp: object) -> None:
    pdf = receipt_pdf(tmp_path)
    printer = ReceiptPrinter(printer_name="no-such-printer-here")
    assert printer.printer_info() is None
    assert printer.deliver(pdf) == f"Saved to {pdf}"


def test_print_to_paints_every_page_at_the_pdf_page_size(tmp_path: Path, qapp: object) -> None:
    import pypdfium2 as pdfium

    pdf = receipt_pdf(tmp_path)
    source = pdfium.PdfDocument(str(pdf))
    width, height = source[0].get_size()
    pages = len(source)
    source.close()
    target = QPrinter(QPrinter.PrinterMode.HighResolution)
    target.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    out = tmp_path / "printed.pdf"
    target.setOutputFileName(str(out))
    assert ReceiptPrinter(dpi=150).print_to(target, pdf) == pages
    printed = pdfium.PdfDocument(str(out))
    assert len(printed) == pages
    printed_width, printed_height = printed[0].get_size()
    printed.close()
    assert printed_width == pytest.approx(width, abs=1.5)
    assert printed_height == pytest.approx(height, abs=1.5)


def test_tasks_run_on_workers_and_report_on_the_gui_thread(qtbot: QtBot) -> None:
    runner = TaskRunner()
    seen: list[threading.Thread] = []
    task = runner.read(lambda: seen.append(threading.current_thread()) or 42)
    with qtbot.waitSignal(task.finished) as blocker:
        pass
    assert blocker.args == [42]
    assert seen[0] is not threading.main_thread()
    assert runner.wait_idle()
    assert not runner.busy


def test_a_failing_task_reports_its_exception(qtbot: QtBot) -> None:
    runner = TaskRunner()

    def boom() -> None:
        raise ValueError("no")

    task = runner.write(boom)
    with qtbot.waitSignal(task.failed) as blocker, qtbot.assertNotEmitted(task.finished):
        pass
    assert isinstance(blocker.args[0], ValueError)
    runner.wait_idle()


def test_writes_run_one_at_a_time_in_order(qtbot: QtBot) -> None:
    runner = TaskRunner()
    active = 0
    most = 0
    order: list[int] = []
    lock = threading.Lock()

    def write(n: int) -> int:
        nonlocal active, most
        with lock:
            active += 1
            most = max(most, active)
        time.sleep(0.02)
        with lock:
            active -= 1
            order.append(n)
        return n

    for n in range(5):
        runner.write(write, n)
    assert runner.wait_idle(10_000)
    assert most == 1
    assert order == [0, 1, 2, 3, 4]
