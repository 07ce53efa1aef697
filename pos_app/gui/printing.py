"""Hand a rendered receipt PDF to the receipt printer, or say where it was saved.

:meth:`ReceiptPrinter.deliver` runs on a worker thread (through the ``TaskRunner``): it only
uses ``QPrinter``, ``QPainter`` and ``QImage``, which Qt allows off the GUI thread, and never a
widget. Each PDF page is rasterised with pypdfium2 at the printer's resolution and painted on a
page of the same size, so what prints is exactly the PDF kept in the receipts folder.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QMarginsF, QRectF, QSizeF
from PySide6.QtGui import QGuiApplication, QImage, QPageLayout, QPageSize, QPainter
from PySide6.QtPrintSupport import QPrinter, QPrinterInfo

__all__ = ["DEFAULT_DPI", "MM_PER_POINT", "PrintFailed", "ReceiptPrinter", "print_headless"]

DEFAULT_DPI = 203
"""Resolution of common 80 mm thermal receipt printers (8 dots per mm)."""

MM_PER_POINT = 25.4 / 72
"""PDF user space is in points (1/72 inch)."""


class PrintFailed(RuntimeError):
    """The printer refused the job (offline, out of paper, driver error)."""


class ReceiptPrinter:
    """Prints receipt PDFs on one printer: the system default, or ``printer_name``.

    Args:
        printer_name: a printer known to the system; ``None`` uses the default printer
            at delivery time (so a printer plugged in later is picked up).
        dpi: rasterisation resolution in dots per inch.
    """

    def __init__(self, printer_name: str | None = None, *, dpi: int = DEFAULT_DPI) -> None:
        self.printer_name = printer_name
        self.dpi = dpi

    def printer_info(self) -> QPrinterInfo | None:
        """The printer to use now, or ``None`` when the system has none."""
        if self.printer_name is not None:
            info = QPrinterInfo.printerInfo(self.printer_name)
        else:
            info = QPrinterInfo.defaultPrinter()
        return None if info.isNull() else info

    def deliver(self, pdf_path: Path) -> str:
        """Print ``pdf_path`` if a printer is available; returns a sentence for the cashier.

        Runs on a worker thread. Returns ``"Printed on <printer>"``, or ``"Saved to <path>"``
        when there is no printer (the PDF already sits in the receipts folder).

        Raises:
            PrintFailed: the printer was there but refused the job.
            OSError / pypdfium2.PdfiumError: the PDF cannot be read.
        """
        info = self.printer_info()
        if info is None:
            return f"Saved to {pdf_path}"
        printer = QPrinter(info, QPrinter.PrinterMode.HighResolution)
        printer.setDocName(pdf_path.name)
        self.print_to(printer, pdf_path)
        return f"Printed on {info.printerName()}"

    def print_to(self, printer: QPrinter, pdf_path: Path) -> int:
        """Paint every page of ``pdf_path`` onto ``printer``; returns the number of pages.

        The printer's paper is set to each PDF page's size in millimetres, without margins.
        Works for any ``QPrinter`` (also ``PdfFormat`` output, which the tests use).
        """
        import pypdfium2 as pdfium  # heavy; only needed when printing

        document = pdfium.PdfDocument(str(pdf_path))
        painter: QPainter | None = None
        try:
            pages = len(document)
            for index in range(pages):
                page = document[index]
                width_pt, height_pt = page.get_size()
                image = _to_qimage(page.render(scale=self.dpi / 72).to_pil())
                layout = QPageLayout(
                    QPageSize(QSizeF(width_pt * MM_PER_POINT, height_pt * MM_PER_POINT),
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


def _to_qimage(pil_image: object) -> QImage:
    """A deep-copied ``QImage`` of a Pillow image (converted to 8-bit RGB)."""
    rgb = pil_image.convert("RGB")  # type: ignore[attr-defined]
    width, height = rgb.size
    data = rgb.tobytes("raw", "RGB")
    image = QImage(data, width, height, width * 3, QImage.Format.Format_RGB888)
    return image.copy()  # detach from ``data``, which Python frees
