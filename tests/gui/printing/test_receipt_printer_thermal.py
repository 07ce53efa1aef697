"""ReceiptPrinter on a thermal destination, against a network ESC/POS printer played by a
real TCP server on a loopback port: native sale receipts, PDFs as raster images, the drawer
kick, the readiness shown before charging, and the header's status after a poll; and an 80 mm
receipt scaled for a 58 mm roll on a system printer."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from pos_app.api.schemas import Event, Sale, SaleLineIn
from pos_app.gui.core.task_runner import TaskRunner
from pos_app.gui.printing.printer_config import PrinterSettings, Readiness
from pos_app.gui.printing.printer_status import PrinterStatusButton
from pos_app.gui.printing.printing import ReceiptPrinter
from pos_app.gui.printing.thermal_jobs import PrintFailed
from tests.fakes import FakeRegister
from tests.gui.helpers import DRAWER_KICK, thermal
from tests.gui.printing.test_printing_and_runner import receipt_pdf
from tests.unit.receipts.escpos_reader import read_job
from tests.unit.receipts.printer_server import LoopbackPrinter, closed_port
from tests.unit.receipts.test_thermal_printer import (
    COVER_OPEN,
    OFFLINE,
    ONLINE,
    PAPER_LOW,
    PAPER_OK,
    PAPER_OUT,
)


def record(sale: Sale, suffix: str = "") -> str:
    """The receipt's name in the receipts folder: the sale number and its id's start."""
    short = "".join(char for char in sale.id if char.isalnum())[:8]
    return f"receipt-{sale.number:06d}-{short}{suffix}.pdf"


def sold(register: FakeRegister) -> tuple[Sale, Event]:
    """Sale #1 on the fake register: two GA and one VIP, paid $100.00."""
    outcome = register.sell([SaleLineIn(ticket_type_id=1, quantity=2),
                             SaleLineIn(ticket_type_id=2, quantity=1)], 10_000)
    assert outcome.sale is not None
    return outcome.sale, register.events().events[0]


@pytest.fixture
def register(tmp_path: Path) -> FakeRegister:
    return FakeRegister(tmp_path / "receipts")


def test_a_sale_prints_natively_and_its_pdf_is_kept_as_the_record(
        register: FakeRegister) -> None:
    sale, event = sold(register)
    with LoopbackPrinter() as server:
        where = thermal(server.url).deliver_sale(register, sale, event, staff_name="Alex",
                                                 terminal_name="Front desk 1")
        [received] = server.wait_for_jobs(1)

    assert where == f"Printed on {server.url}"
    job = read_job(received)
    assert "Sale #000001" in job.text
    assert job.qr_contents() == [ticket.code for ticket in sale.tickets]
    assert len(job.named("GS V")) == 1 + len(sale.tickets)  # receipt, then a cut per ticket
    assert not job.named("GS v 0")  # text and native QR codes, no raster image
    assert [p.name for p in register.paths.receipts_dir.iterdir()] == [record(sale)]


def test_without_separate_tickets_one_receipt_carries_every_qr_code(
        register: FakeRegister) -> None:
    sale, event = sold(register)
    with LoopbackPrinter() as server:
        thermal(server.url, separate_tickets=False).deliver_sale(
            register, sale, event, reprint=True, staff_name="Alex", terminal_name="Desk")
        [received] = server.wait_for_jobs(1)

    job = read_job(received)
    assert len(job.named("GS V")) == 1
    assert job.qr_contents() == [ticket.code for ticket in sale.tickets]
    assert "REPRINT" in job.text
    assert [p.name for p in register.paths.receipts_dir.iterdir()] == [
        record(sale, "-reprint")]


def test_a_sale_the_printer_cannot_take_is_refused_but_its_pdf_is_saved(
        register: FakeRegister) -> None:
    sale, event = sold(register)
    printer = thermal(f"tcp://127.0.0.1:{closed_port()}")

    with pytest.raises(PrintFailed, match=rf"127\.0\.0\.1.*saved as {record(sale)}"):
        printer.deliver_sale(register, sale, event, staff_name="Alex", terminal_name="Desk")
    assert (register.paths.receipts_dir / record(sale)).is_file()


def test_a_hold_slip_prints_natively(register: FakeRegister) -> None:
    from tests.unit.receipts.samples import HOLD_CODE, hold_slip

    with LoopbackPrinter() as server:
        thermal(server.url).deliver_hold_slip(register, hold_slip())
        [received] = server.wait_for_jobs(1)

    assert read_job(received).qr_contents() == [HOLD_CODE]
    assert (register.paths.receipts_dir / f"hold-{HOLD_CODE}.pdf").is_file()


@pytest.mark.parametrize(("paper_mm", "dots"), [(80, 576), (58, 384)])
def test_a_pdf_only_document_prints_as_a_raster_image_across_the_roll(
        tmp_path: Path, qapp: object, paper_mm: int, dots: int) -> None:
    import pypdfium2 as pdfium

    pdf = receipt_pdf(tmp_path)
    document = pdfium.PdfDocument(str(pdf))
    pages = len(document)
    document.close()
    with LoopbackPrinter() as server:
        where = thermal(server.url, paper_width_mm=paper_mm).deliver(pdf)
        [received] = server.wait_for_jobs(1)

    assert where == f"Printed on {server.url}"
    job = read_job(received)
    rasters = job.named("GS v 0")  # xL xH yL yH: width in bytes of 8 dots, height in dots
    assert rasters
    assert {raster[0] + 256 * raster[1] for raster in rasters} == {dots // 8}
    assert sum(raster[2] + 256 * raster[3] for raster in rasters) > 400  # the whole page
    assert len(job.named("GS V")) == pages


def test_the_drawer_kick_is_sent_at_once_as_its_own_job() -> None:
    with LoopbackPrinter() as server:
        said = thermal(server.url).kick_drawer()
        [received] = server.wait_for_jobs(1)

    assert said == "Cash drawer opened"
    assert received == DRAWER_KICK


def test_no_drawer_kick_when_it_is_off_or_the_printer_has_no_drawer_port() -> None:
    with LoopbackPrinter() as server:
        assert thermal(server.url, kick_drawer=False).kick_drawer() is None
        assert ReceiptPrinter(settings=PrinterSettings(destination="pdf")).kick_drawer() is None
        assert ReceiptPrinter(printer_name="no-such-printer-here").kick_drawer() is None
        with pytest.raises(AssertionError, match="saw 0"):
            server.wait_for_jobs(1, timeout=0.3)


def test_a_drawer_that_cannot_be_reached_is_reported() -> None:
    with pytest.raises(PrintFailed, match="cash drawer did not open"):
        thermal(f"tcp://127.0.0.1:{closed_port()}").kick_drawer()


def test_readiness_says_offline_when_nothing_listens() -> None:
    printer = thermal(f"tcp://127.0.0.1:{closed_port()}")
    assert printer.last_readiness is None

    readiness = printer.readiness()

    assert readiness.state is Readiness.OFFLINE
    assert readiness.needs_attention
    assert "127.0.0.1" in readiness.message
    assert printer.last_readiness == readiness


@pytest.mark.parametrize(("answers", "state", "words"), [
    ({1: OFFLINE, 4: PAPER_OUT}, Readiness.PAPER_OUT, "out of paper"),
    ({1: OFFLINE, 2: COVER_OPEN, 4: PAPER_OK}, Readiness.COVER_OPEN, "cover is open"),
    ({1: ONLINE, 4: PAPER_LOW}, Readiness.PAPER_LOW, "running low"),
    ({1: ONLINE, 4: PAPER_OK}, Readiness.OK, "ready"),
])
def test_readiness_reports_what_the_printer_answers(
        answers: dict[int, int], state: Readiness, words: str) -> None:
    with LoopbackPrinter(answers) as server:
        readiness = thermal(server.url).readiness()

    assert readiness.state is state
    assert words in readiness.message
    assert readiness.needs_attention == (state in (Readiness.PAPER_OUT, Readiness.COVER_OPEN))


def test_new_settings_forget_the_last_readiness(qapp: object) -> None:
    printer = thermal(f"tcp://127.0.0.1:{closed_port()}")
    printer.readiness()

    printer.apply(PrinterSettings(destination="pdf"))

    assert printer.last_readiness is None
    assert printer.readiness().state is Readiness.NO_PRINTER
    assert printer.last_readiness is not None
    assert printer.last_readiness.message == "Receipts are saved as PDF (no printer)"


def test_a_bad_address_in_the_settings_file_fails_the_print_but_keeps_the_record(
        register: FakeRegister) -> None:
    sale, event = sold(register)

    with pytest.raises(PrintFailed, match=rf"bad printer address.*saved as {record(sale)}"):
        thermal("lpd://printer").deliver_sale(register, sale, event, staff_name="Alex",
                                              terminal_name="Desk")
    assert (register.paths.receipts_dir / record(sale)).is_file()


def test_a_bad_address_in_the_settings_file_is_reported_not_raised_by_readiness() -> None:
    readiness = thermal("lpd://printer").readiness()

    assert readiness.state is Readiness.OFFLINE
    assert "bad printer address" in readiness.message


def test_pdf_mode_saves_the_receipt_and_prints_nothing(register: FakeRegister) -> None:
    sale, event = sold(register)
    printer = ReceiptPrinter(settings=PrinterSettings(destination="pdf"))

    where = printer.deliver_sale(register, sale, event, staff_name="Alex", terminal_name="D")

    assert where == f"Saved to {register.paths.receipts_dir / record(sale)}"
    assert [p.name for p in register.paths.receipts_dir.iterdir()] == [record(sale)]


def test_the_header_status_shows_out_of_paper_after_a_poll(qtbot: QtBot) -> None:
    runner = TaskRunner()
    with LoopbackPrinter({1: OFFLINE, 4: PAPER_OUT}) as server:
        printer = thermal(server.url)
        status = PrinterStatusButton(printer, runner, interval_ms=60_000)
        qtbot.addWidget(status)
        assert status.text() == "Checking printer…"
        with qtbot.waitSignal(status.readiness_changed, timeout=10_000) as changed:
            status.show()  # shown: polls at once, then every interval
        assert runner.wait_idle()

    assert changed.args[0].state is Readiness.PAPER_OUT
    assert status.text() == "Out of paper"
    assert status.accessibleName() == "Printer: Out of paper"
    assert status.property("level") == "error"
    assert printer.last_readiness == changed.args[0]


def test_a_refresh_during_a_poll_polls_again_and_shows_only_the_newer_state(
        qtbot: QtBot) -> None:
    runner = TaskRunner()
    with LoopbackPrinter({1: ONLINE, 4: PAPER_OK}) as server:
        printer = thermal(server.url)
        status = PrinterStatusButton(printer, runner, interval_ms=60_000)
        qtbot.addWidget(status)
        seen: list[object] = []
        status.readiness_changed.connect(seen.append)
        status.refresh()
        printer.apply(PrinterSettings(destination="pdf"))
        status.refresh()  # while the first poll runs
        assert runner.wait_idle()
        qtbot.waitUntil(lambda: not status.checking)

    assert [getattr(r, "state", None) for r in seen] == [Readiness.NO_PRINTER]
    assert status.text() == "PDF receipts"


def test_a_system_printer_with_58_mm_paper_gets_the_receipt_scaled_to_the_roll(
        tmp_path: Path, qapp: object) -> None:
    import pypdfium2 as pdfium
    from PySide6.QtPrintSupport import QPrinter

    from pos_app.gui.printing.printing import MM_PER_POINT

    pdf = receipt_pdf(tmp_path)
    source = pdfium.PdfDocument(str(pdf))
    width, height = source[0].get_size()
    source.close()
    target = QPrinter(QPrinter.PrinterMode.HighResolution)
    target.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    target.setOutputFileName(str(tmp_path / "printed.pdf"))

    ReceiptPrinter(dpi=150).print_to(target, pdf, width_mm=58)

    printed = pdfium.PdfDocument(str(tmp_path / "printed.pdf"))
    printed_width, printed_height = printed[0].get_size()
    printed.close()
    assert printed_width * MM_PER_POINT == pytest.approx(58, abs=0.5)
    assert printed_height / printed_width == pytest.approx(height / width, rel=0.01)
