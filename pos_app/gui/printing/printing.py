"""The receipt printer, whichever this terminal has: a Qt/CUPS printer, an ESC/POS thermal
printer, or none (PDFs only), behind one :class:`ReceiptPrinter`.

Every document is first saved as a PDF in the receipts folder (the record), then printed on
the destination chosen in the printer settings (:mod:`pos_app.gui.printing.printer_config`):

- ``system``: each PDF page is rasterised with pypdfium2 at the printer's resolution and
  painted on a page of the same size, so what prints is exactly the PDF kept.
- ``thermal``: sales and hold slips print natively (ESC/POS text, native QR codes) through
  :class:`pos_app.receipts.ThermalPrinter`; documents that exist only as PDF are rasterised
  to the roll's dot width and sent as a raster image. The cash drawer wired to the printer
  can be kicked (:meth:`ReceiptPrinter.kick_drawer`).
- ``pdf``: nothing prints; the sentence says where the PDF was saved.

The ESC/POS jobs built for a thermal printer (raster pages, the test page) and
:class:`PrintFailed` live in :mod:`pos_app.gui.printing.thermal_jobs`, the readiness checks in
:mod:`pos_app.gui.printing.printer_readiness`.

Every method that prints or asks a printer blocks: call them on a worker (through the
``TaskRunner``). They only use ``QPrinter``, ``QPainter`` and ``QImage``, which Qt allows off
the GUI thread, and never a widget. :meth:`ReceiptPrinter.apply` (new settings) and
:attr:`ReceiptPrinter.last_readiness` are safe from any thread.
"""

from __future__ import annotations

import os
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import QMarginsF, QRectF, QSizeF, Qt
from PySide6.QtGui import QFont, QGuiApplication, QImage, QPageLayout, QPageSize, QPainter
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo

from pos_app.api.schemas import Event, Sale
from pos_app.gui.core.ports import RegisterPaths
from pos_app.gui.printing.printer_config import PrinterReadiness, PrinterSettings, Readiness
from pos_app.gui.printing.printer_readiness import (
    system_printer,
    system_readiness,
    thermal_readiness,
)
from pos_app.gui.printing.thermal_jobs import (
    PrintFailed,
    build_test_page,
    raster_job,
    send_thermal,
)

if TYPE_CHECKING:
    from pos_app.receipts import HoldSlipData, RefundSlipData, ThermalPrinter

__all__ = ["DEFAULT_DPI", "MM_PER_POINT", "ReceiptPrinter", "print_headless"]

DEFAULT_DPI = 203
"""Resolution of common 80 mm thermal receipt printers (8 dots per mm)."""

MM_PER_POINT = 25.4 / 72
"""PDF user space is in points (1/72 inch)."""

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
        return system_printer(self.settings)

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
        (:func:`~pos_app.gui.printing.printer_config.paper_dots`) and printed as one cut piece.

        Raises:
            PrintFailed: the printer was there but refused the job, or cannot be reached.
            OSError / pypdfium2.PdfiumError: the PDF cannot be read.
        """
        settings, thermal = self._thermal_printer()
        if thermal is not None:
            job = raster_job(pdf_path, settings)
            send_thermal(pdf_path, lambda: thermal.print_job(job))
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
                send_thermal(pdf, lambda: thermal.print_sale(data))
            else:
                send_thermal(pdf, lambda: thermal.print_receipt(data, ticket_qr=True))
            return f"Printed on {thermal.address}"
        if settings.separate_tickets and system_printer(settings) is not None:
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
        send_thermal(pdf, lambda: thermal.print_hold_slip(data))
        return f"Printed on {thermal.address}"

    def deliver_refund_slip(self, register: _HasReceiptsFolder, data: RefundSlipData) -> str:
        """:meth:`deliver_hold_slip` for a refund slip (``refund-000042-<id>.pdf``)."""
        from pos_app.receipts import write_refund_slip

        folder = Path(register.paths.receipts_dir)
        folder.mkdir(parents=True, exist_ok=True)
        pdf = write_refund_slip(data, folder)
        settings, thermal = self._printer_for(pdf)
        if thermal is None:
            return self._deliver_pdf(settings, pdf)
        send_thermal(pdf, lambda: thermal.print_refund_slip(data))
        return f"Printed on {thermal.address}"

    def _deliver_pdf(self, settings: PrinterSettings, pdf_path: Path) -> str:
        info = system_printer(settings)
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
            found = (thermal_readiness(thermal) if thermal is not None
                     else system_readiness(settings))
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
            job = build_test_page(settings.thermal_profile, lines)
            send_thermal(None, lambda: thermal.print_job(job))
            return f"Printed on {thermal.address}"
        info = system_printer(settings)
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
