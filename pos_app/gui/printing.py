"""The receipt printer, whichever this terminal has: a Qt/CUPS printer, an ESC/POS thermal
printer, or none (PDFs only), behind one :class:`ReceiptPrinter`.

Every document is first saved as a PDF in the receipts folder (the record), then printed on
the destination chosen in the printer settings (:mod:`pos_app.gui.printer_config`):

- ``system``: each PDF page is rasterised with pypdfium2 at the printer's resolution and
  painted on a page of the same size, so what prints is exactly the PDF kept.
- ``thermal``: sales and hold slips print natively (ESC/POS text, native QR codes) through
  :class:`pos_app.receipts.ThermalPrinter`; documents that exist only as PDF are rasterised
  to the roll's dot width and sent as a raster image. The cash drawer wired to the printer
  can be kicked (:meth:`ReceiptPrinter.kick_drawer`).
- ``pdf``: nothing prints; the sentence says where the PDF was saved.

Every method that prints or asks a printer blocks: call them on a worker (through the
``TaskRunner``). They only use ``QPrinter``, ``QPainter`` and ``QImage``, which Qt allows off
the GUI thread, and never a widget. :meth:`ReceiptPrinter.apply` (new settings) and
:attr:`ReceiptPrinter.last_readiness` are safe from any thread.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QMarginsF, QRectF, QSizeF, Qt
from PySide6.QtGui import QFont, QGuiApplication, QImage, QPageLayout, QPageSize, QPainter
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo

from pos_app.api.schemas import Event, Sale
from pos_app.gui.ports import RegisterPaths
from pos_app.gui.printer_config import (
    PrinterReadiness,
    PrinterSettings,
    Readiness,
    paper_dots,
)

if TYPE_CHECKING:
    from pos_app.receipts import HoldSlipData, ThermalPrinter

__all__ = [
    "DEFAULT_DPI",
    "MM_PER_POINT",
    "PrintFailed",
    "PrinterReadiness",
    "Readiness",
    "ReceiptPrinter",
    "print_headless",
    "raster_job",
]

DEFAULT_DPI = 203
"""Resolution of common 80 mm thermal receipt printers (8 dots per mm)."""

MM_PER_POINT = 25.4 / 72
"""PDF user space is in points (1/72 inch)."""

RASTER_THRESHOLD = 160
"""Grey level (0-255) below which a rasterised pixel prints black: a hard threshold keeps
anti-aliased text crisp on a thermal head, where dithering would fray its edges."""


class PrintFailed(RuntimeError):
    """The printer refused the job (offline, out of paper, unreachable, driver error), or the
    cash drawer did not open. The PDF, when there is one, is already in the receipts folder."""


class _HasReceiptsFolder(Protocol):
    """A register (``RegisterPort``, ``HoldDeskPort``): where its receipts are saved."""

    @property
    def paths(self) -> RegisterPaths: ...


class ReceiptPrinter:
    """Prints receipts and slips on this terminal's configured printer (module docstring).

    Args:
        printer_name: shorthand for ``settings=PrinterSettings(system_printer=printer_name)``:
            a system printer by name; ``None`` uses the default printer at delivery time
            (so a printer plugged in later is picked up).
        dpi: rasterisation resolution in dots per inch for system printers.
        settings: the printer settings; replace them later with :meth:`apply`.

    Raises:
        TypeError: both ``printer_name`` and ``settings`` were given.
    """

    def __init__(self, printer_name: str | None = None, *, dpi: int = DEFAULT_DPI,
                 settings: PrinterSettings | None = None) -> None:
        if settings is not None and printer_name is not None:
            raise TypeError("give printer_name or settings, not both")
        self.dpi = dpi
        self._lock = threading.Lock()
        self._settings = settings if settings is not None else PrinterSettings(
            system_printer=printer_name)
        self._thermal: ThermalPrinter | None = None
        self._thermal_for: tuple[str, str] | None = None  # its address and profile
        self._last_readiness: PrinterReadiness | None = None

    # --- settings ----------------------------------------------------------------------------

    @property
    def settings(self) -> PrinterSettings:
        """The settings in force (safe from any thread)."""
        with self._lock:
            return self._settings

    def apply(self, settings: PrinterSettings) -> None:
        """Use ``settings`` from the next job on (a job already printing finishes as it
        started). Safe from any thread; forgets :attr:`last_readiness`."""
        with self._lock:
            self._settings = settings
            self._last_readiness = None

    @property
    def printer_name(self) -> str | None:
        """The chosen system printer's name (``None``: the default printer)."""
        return self.settings.system_printer

    @property
    def last_readiness(self) -> PrinterReadiness | None:
        """What the last :meth:`readiness` check found; ``None`` before the first check and
        after :meth:`apply`. Safe from any thread, never blocks on the printer."""
        with self._lock:
            return self._last_readiness

    def printer_info(self) -> QPrinterInfo | None:
        """The system printer to use now, or ``None`` when the destination is not
        ``system`` or the system has no such printer."""
        return _system_printer(self.settings)

    def _thermal_printer(self) -> tuple[PrinterSettings, ThermalPrinter | None]:
        """The settings in force and, for a thermal destination, its printer (one instance
        per address and profile, so its lock keeps a drawer kick out of a print job's
        bytes even across :meth:`apply`).

        Raises:
            PrintFailed: the thermal printer's address is not valid.
        """
        settings = self.settings
        if settings.destination != "thermal":
            return settings, None
        # Imported outside the lock: the first import takes a while, and the GUI thread
        # reads ``settings`` and ``last_readiness`` under the same lock.
        from pos_app.receipts import ThermalPrinter

        where = (settings.thermal_url, settings.thermal_profile)
        with self._lock:
            if self._thermal is None or self._thermal_for != where:
                try:
                    self._thermal = ThermalPrinter(settings.thermal_url,
                                                   profile=settings.thermal_profile)
                except ValueError as error:
                    raise PrintFailed(f"the printer setting is wrong: {error}") from error
                self._thermal_for = where
            return settings, self._thermal

    def _printer_for(self, pdf: Path) -> tuple[PrinterSettings, ThermalPrinter | None]:
        """:meth:`_thermal_printer`, its :class:`PrintFailed` naming the saved ``pdf``."""
        try:
            return self._thermal_printer()
        except PrintFailed as error:
            raise PrintFailed(f"{error}; saved as {pdf.name}") from error

    # --- documents ---------------------------------------------------------------------------

    def deliver(self, pdf_path: Path) -> str:
        """Print ``pdf_path`` (already in the receipts folder); returns a sentence for the
        cashier: ``"Printed on <printer>"``, or ``"Saved to <path>"`` when there is no
        printer (PDF mode, or no system printer). Worker only.

        On a thermal printer each page is rasterised to the roll's printable width
        (:func:`~pos_app.gui.printer_config.paper_dots`) and printed as one cut piece.

        Raises:
            PrintFailed: the printer was there but refused the job, or cannot be reached.
            OSError / pypdfium2.PdfiumError: the PDF cannot be read.
        """
        settings, thermal = self._thermal_printer()
        if thermal is not None:
            job = raster_job(pdf_path, settings)
            _send(pdf_path, lambda: _raw_job(thermal, job))
            return f"Printed on {thermal.address}"
        return self._deliver_pdf(settings, pdf_path)

    def deliver_sale(self, register: _HasReceiptsFolder, sale: Sale, event: Event, *,
                     reprint: bool = False, staff_name: str, terminal_name: str) -> str:
        """Save ``sale``'s receipt as ``receipt-000042.pdf`` in ``register.paths.receipts_dir``
        (always, whatever prints: the record, with every ticket's QR code on it), then print:
        natively on a thermal printer, from a PDF on a system printer. Worker only.

        With ``settings.separate_tickets`` what prints is the receipt (codes listed) then one
        cut ticket per admission (on a system printer from ``sale-000042.pdf``, saved beside
        the record); without, the receipt alone with each ticket's QR code. ``reprint`` marks
        them REPRINT (``-reprint`` in the file names).

        Returns the sentence of :meth:`deliver`. Raises :class:`PrintFailed` (the record is
        saved; the message names it) and ``OSError`` (the folder cannot be written).
        """
        from pos_app.receipts import receipt_from_sale, write_receipt, write_sale_documents

        data = receipt_from_sale(sale, event, staff_name=staff_name,
                                 terminal_name=terminal_name, reprint=reprint)
        folder = Path(register.paths.receipts_dir)
        folder.mkdir(parents=True, exist_ok=True)
        pdf = write_receipt(data, folder)
        settings, thermal = self._printer_for(pdf)
        if thermal is not None:
            if settings.separate_tickets:
                _send(pdf, lambda: thermal.print_sale(data))
            else:
                _send(pdf, lambda: thermal.print_receipt(data, ticket_qr=True))
            return f"Printed on {thermal.address}"
        if settings.separate_tickets and _system_printer(settings) is not None:
            # Rendered only to be printed: without a printer the record alone is kept.
            return self._deliver_pdf(settings, write_sale_documents(data, folder))
        return self._deliver_pdf(settings, pdf)

    def deliver_hold_slip(self, register: _HasReceiptsFolder, data: HoldSlipData) -> str:
        """Save the cash hold slip ``data`` as ``hold-<code>.pdf`` in
        ``register.paths.receipts_dir``, then print it (natively on a thermal printer).
        Worker only. Returns and raises as :meth:`deliver_sale`."""
        from pos_app.receipts import write_hold_slip

        folder = Path(register.paths.receipts_dir)
        folder.mkdir(parents=True, exist_ok=True)
        pdf = write_hold_slip(data, folder)
        settings, thermal = self._printer_for(pdf)
        if thermal is None:
            return self._deliver_pdf(settings, pdf)
        _send(pdf, lambda: thermal.print_hold_slip(data))
        return f"Printed on {thermal.address}"

    def _deliver_pdf(self, settings: PrinterSettings, pdf_path: Path) -> str:
        info = _system_printer(settings)
        if info is None:
            return f"Saved to {pdf_path}"
        printer = QPrinter(info, QPrinter.PrinterMode.HighResolution)
        printer.setDocName(pdf_path.name)
        self.print_to(printer, pdf_path, width_mm=settings.paper_width_mm)
        return f"Printed on {info.printerName()}"

    def print_to(self, printer: QPrinter, pdf_path: Path, *,
                 width_mm: float | None = None) -> int:
        """Paint every page of ``pdf_path`` onto ``printer``; returns the number of pages.

        The printer's paper is set to each PDF page's size in millimetres, without margins,
        or, with ``width_mm``, to that width and the page's height scaled alike (an 80 mm
        receipt on a 58 mm roll). Works for any ``QPrinter`` (also ``PdfFormat`` output,
        which the tests use).
        """
        import pypdfium2 as pdfium  # heavy; only needed when printing

        document = pdfium.PdfDocument(str(pdf_path))
        painter: QPainter | None = None
        try:
            pages = len(document)
            for index in range(pages):
                page = document[index]
                width_pt, height_pt = page.get_size()
                scale = 1.0 if width_mm is None else width_mm / (width_pt * MM_PER_POINT)
                image = _to_qimage(page.render(scale=scale * self.dpi / 72).to_pil())
                layout = QPageLayout(
                    QPageSize(QSizeF(width_pt * MM_PER_POINT * scale,
                                     height_pt * MM_PER_POINT * scale),
                              QPageSize.Unit.Millimeter, "Receipt"),
                    QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0),
                    QPageLayout.Unit.Millimeter)
                if painter is None:
                    printer.setPageLayout(layout)
                    printer.setFullPage(True)
                    painter = QPainter()
                    if not painter.begin(printer):
                        raise PrintFailed(f"the printer {printer.printerName()!r} refused the job")
                else:
                    printer.setPageLayout(layout)
                    if not printer.newPage():
                        raise PrintFailed("the printer could not start a new page")
                target = QRectF(printer.pageLayout().fullRectPixels(printer.resolution()))
                painter.drawImage(target, image)
                page.close()
            return pages
        finally:
            if painter is not None:
                painter.end()
            document.close()

    # --- drawer, status, test page -----------------------------------------------------------

    def kick_drawer(self) -> str | None:
        """Open the cash drawer wired to the thermal printer (``ESC p``), at once: call it on
        a worker as a cash sale confirms, before the receipt is rendered or printed.

        Returns ``"Cash drawer opened"``, or ``None`` when there is nothing to do (not a
        thermal printer, or the drawer kick is off in the settings).

        Raises:
            PrintFailed: the kick did not reach the printer (open the drawer by key).
        """
        settings, thermal = self._thermal_printer()
        if thermal is None or not settings.kick_drawer:
            return None
        from pos_app.receipts import ThermalPrinterError

        try:
            thermal.kick_drawer()
        except ThermalPrinterError as error:
            raise PrintFailed(f"the cash drawer did not open: {error}") from error
        return "Cash drawer opened"

    def readiness(self) -> PrinterReadiness:
        """Ask the configured printer whether it can print now; also kept as
        :attr:`last_readiness`. Blocks up to a few seconds (worker only); never raises for
        printer trouble.

        Thermal printers answer ESC/POS real-time status requests; system printers report
        ``QPrinterInfo.state()`` (Idle/Active: ready, Aborted/Error: offline).
        """
        settings = self.settings
        try:
            current, thermal = self._thermal_printer()
        except PrintFailed as error:
            found = PrinterReadiness(Readiness.OFFLINE, f"Printer not usable - {error}")
        else:
            settings = current
            found = (_thermal_readiness(thermal) if thermal is not None
                     else _system_readiness(settings))
        with self._lock:
            # A check that started before :meth:`apply` describes the old printer: not kept.
            if settings is self._settings:
                self._last_readiness = found
        return found

    def print_test_page(self) -> str:
        """Print a short test page on the configured printer; returns the sentence of
        :meth:`deliver` (or says that receipts are saved as PDF). Worker only.

        Raises:
            PrintFailed: the printer refused the page or cannot be reached.
        """
        settings, thermal = self._thermal_printer()
        lines = ["Box Office - test print", "",
                 f"Paper: {settings.paper_width_mm} mm",
                 "If you can read this, receipts will print here."]
        if thermal is not None:
            lines.insert(1, f"Printer: {thermal.address} ({settings.thermal_profile})")
            job = _test_job(settings.thermal_profile, lines)
            _send(None, lambda: _raw_job(thermal, job))
            return f"Printed on {thermal.address}"
        info = _system_printer(settings)
        if info is None:
            return "No printer to test: receipts are saved as PDF"
        lines.insert(1, f"Printer: {info.printerName()}")
        printer = QPrinter(info, QPrinter.PrinterMode.HighResolution)
        printer.setDocName("Test print")
        printer.setPageLayout(QPageLayout(
            QPageSize(QSizeF(settings.paper_width_mm, 60), QPageSize.Unit.Millimeter, "Test"),
            QPageLayout.Orientation.Portrait, QMarginsF(4, 4, 4, 4), QPageLayout.Unit.Millimeter))
        painter = QPainter()
        if not painter.begin(printer):
            raise PrintFailed(f"the printer {info.printerName()!r} refused the test page")
        try:
            painter.setFont(QFont("DejaVu Sans", 9))
            area = QRectF(printer.pageLayout().paintRectPixels(printer.resolution()))
            painter.drawText(area, int(Qt.AlignmentFlag.AlignLeft | Qt.TextFlag.TextWordWrap),
                             "\n".join(lines))
        finally:
            painter.end()
        return f"Printed on {info.printerName()}"


def raster_job(pdf_path: Path, settings: PrinterSettings) -> bytes:
    """ESC/POS job printing every page of ``pdf_path`` as a raster image (``GS v 0``), each
    page one cut piece, scaled to the roll's printable width (576 dots for 80 mm, 384 for
    58 mm; narrower if the printer profile's head is).

    Raises:
        PrintFailed: ``settings.thermal_profile`` is not a python-escpos profile.
        OSError / pypdfium2.PdfiumError: the PDF cannot be read.
    """
    import pypdfium2 as pdfium
    from escpos.printer import Dummy  # type: ignore[import-untyped]

    try:
        job = Dummy(profile=settings.thermal_profile)
    except KeyError:
        raise PrintFailed(f"unknown printer profile {settings.thermal_profile!r}") from None
    dots = paper_dots(settings.paper_width_mm)
    head = job.profile.profile_data.get("media", {}).get("width", {}).get("pixels")
    if isinstance(head, int) and head > 0:
        dots = min(dots, head)
    document = pdfium.PdfDocument(str(pdf_path))
    try:
        for index in range(len(document)):
            page = document[index]
            width_pt, _height_pt = page.get_size()
            gray = page.render(scale=dots / width_pt, grayscale=True).to_pil().convert("L")
            page.close()
            if gray.width > dots:  # rounding may add a column the head does not have
                gray = gray.crop((0, 0, dots, gray.height))
            image = gray.point(lambda level: 255 if level >= RASTER_THRESHOLD else 0).convert("1")
            job.hw("INIT")
            job.image(image, center=False)
            job.cut()
    finally:
        document.close()
    output: bytes = job.output
    return output


def _test_job(profile: str, lines: list[str]) -> bytes:
    from escpos.printer import Dummy

    try:
        job = Dummy(profile=profile)
    except KeyError:
        raise PrintFailed(f"unknown printer profile {profile!r}") from None
    job.hw("INIT")
    job.set(align="center", bold=True, double_height=True, double_width=True)
    job.textln("TEST PRINT")
    job.set(align="left", bold=False, normal_textsize=True)
    for line in lines:
        job.textln(line)
    job.cut()
    output: bytes = job.output
    return output


def _raw_job(thermal: ThermalPrinter, job: bytes) -> None:
    """Send a finished ESC/POS ``job`` through ``thermal``, under its lock and error
    handling."""
    # ``ThermalPrinter`` has no public "send these bytes" (its jobs are built from document
    # data); its ``_print`` is the one path that keeps jobs and drawer kicks apart.
    thermal._print(job)


def _send(pdf: Path | None, job: Callable[[], None]) -> None:
    """Run a thermal ``job``; a failure becomes :class:`PrintFailed` naming the saved PDF."""
    from pos_app.receipts import ThermalPrinterError

    try:
        job()
    except ThermalPrinterError as error:
        saved = f"; saved as {pdf.name}" if pdf is not None else ""
        raise PrintFailed(f"{error}{saved}") from error


def _system_printer(settings: PrinterSettings) -> QPrinterInfo | None:
    if settings.destination != "system":
        return None
    if settings.system_printer is not None:
        info = QPrinterInfo.printerInfo(settings.system_printer)
    else:
        info = QPrinterInfo.defaultPrinter()
    return None if info.isNull() else info


def _system_readiness(settings: PrinterSettings) -> PrinterReadiness:
    if settings.destination == "pdf":
        return PrinterReadiness(Readiness.NO_PRINTER, "Receipts are saved as PDF (no printer)")
    info = _system_printer(settings)
    if info is None:
        missing = (f"Printer {settings.system_printer!r} is not installed"
                   if settings.system_printer else "No printer is installed")
        return PrinterReadiness(Readiness.NO_PRINTER, f"{missing} - receipts are saved as PDF")
    name = info.printerName()
    state = info.state()
    if state in (QPrinter.PrinterState.Idle, QPrinter.PrinterState.Active):
        return PrinterReadiness(Readiness.OK, f"Printer ready ({name})")
    if state == QPrinter.PrinterState.Aborted:
        return PrinterReadiness(Readiness.OFFLINE, f"Printer {name} stopped its last job")
    return PrinterReadiness(Readiness.OFFLINE, f"Printer {name} is stopped or offline")


def _thermal_readiness(thermal: ThermalPrinter) -> PrinterReadiness:
    from pos_app.receipts import PrinterState

    status = thermal.status()
    states: dict[PrinterState, Readiness] = {
        PrinterState.READY: Readiness.OK,
        PrinterState.PAPER_LOW: Readiness.PAPER_LOW,
        PrinterState.UNKNOWN: Readiness.UNKNOWN,
        PrinterState.OUT_OF_PAPER: Readiness.PAPER_OUT,
        PrinterState.OFFLINE: Readiness.OFFLINE,
        PrinterState.UNREACHABLE: Readiness.OFFLINE,
    }
    state = states[status.state]
    # ``PrinterStatus`` tells an open cover apart only in its sentence ("offline: the cover
    # is open"); the cashier's fix (close the cover) differs from a printer that is off.
    if state is Readiness.OFFLINE and "cover is open" in status.message:
        state = Readiness.COVER_OPEN
    return PrinterReadiness(state, status.message)


def print_headless(pdf_path: Path, printer: ReceiptPrinter | None = None) -> str:
    """Deliver ``pdf_path`` from a process without a window (``pos-app sell --print``).

    Printing needs a ``QGuiApplication`` but no screen: without a display the offscreen
    platform is used. Returns the same sentence as :meth:`ReceiptPrinter.deliver`.
    """
    from pos_app.display import display_problem

    if QGuiApplication.instance() is None:
        if display_problem() is not None:
            os.environ["QT_QPA_PLATFORM"] = "offscreen"
        QGuiApplication([sys.argv[0]])
    return (printer or ReceiptPrinter()).deliver(pdf_path)


def _to_qimage(pil_image: Any) -> QImage:
    """A deep-copied ``QImage`` of a Pillow image (converted to 8-bit RGB)."""
    rgb = pil_image.convert("RGB")
    width, height = rgb.size
    data = rgb.tobytes("raw", "RGB")
    image = QImage(data, width, height, width * 3, QImage.Format.Format_RGB888)
    return image.copy()  # detach from ``data``, which Python frees
