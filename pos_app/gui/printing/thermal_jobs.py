"""ESC/POS jobs the receipt printer builds itself, for what a thermal printer cannot print
natively from document data, and how every thermal call's failure is reported.

- :func:`raster_job`: the pages of a PDF (a document that exists only as PDF) as raster
  images, each page one cut piece.
- :func:`build_test_page`: the printer settings' test page.
- :func:`send_thermal`: run a call on a :class:`~pos_app.receipts.ThermalPrinter`; its
  failure becomes :class:`PrintFailed`, naming the PDF kept as the record.

:class:`PrintFailed` is defined here because these functions raise it; callers import it
from here. Everything here renders a PDF or
talks to a printer: worker threads only. python-escpos, pypdfium2 and :mod:`pos_app.receipts` are
imported on first use, so that the window starts without them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from pos_app.gui.printing.printer_config import PrinterSettings, paper_dots

__all__ = ["RASTER_THRESHOLD", "PrintFailed", "build_test_page", "raster_job", "send_thermal"]

RASTER_THRESHOLD = 160
"""Grey level (0-255) below which a rasterised pixel prints black: a hard threshold keeps
anti-aliased text crisp on a thermal head, where dithering would fray its edges."""


class PrintFailed(RuntimeError):
    """The printer refused the job (offline, out of paper, unreachable, driver error), or the
    cash drawer did not open. The PDF, when there is one, is already in the receipts folder."""


def _dummy(profile: str) -> Any:
    """A python-escpos ``Dummy`` (collects a job's bytes) for printer ``profile``.

    Raises:
        PrintFailed: ``profile`` is not a python-escpos profile.
    """
    from escpos.printer import Dummy  # type: ignore[import-untyped]

    try:
        return Dummy(profile=profile)
    except KeyError:
        raise PrintFailed(f"unknown printer profile {profile!r}") from None


def raster_job(pdf_path: Path, settings: PrinterSettings) -> bytes:
    """ESC/POS job printing every page of ``pdf_path`` as a raster image (``GS v 0``), each
    page one cut piece, scaled to the roll's printable width (576 dots for 80 mm, 384 for
    58 mm; narrower if the printer profile's head is).

    Raises:
        PrintFailed: ``settings.thermal_profile`` is not a python-escpos profile.
        OSError / pypdfium2.PdfiumError: the PDF cannot be read.
    """
    import pypdfium2 as pdfium

    job = _dummy(settings.thermal_profile)
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


def build_test_page(profile: str, lines: list[str]) -> bytes:
    """ESC/POS job of the test page: "TEST PRINT" in large letters, then ``lines`` (the
    printer, the paper width, a sentence), then a cut.

    Raises:
        PrintFailed: ``profile`` is not a python-escpos profile.
    """
    job = _dummy(profile)
    job.hw("INIT")
    job.set(align="center", bold=True, double_height=True, double_width=True)
    job.textln("TEST PRINT")
    job.set(align="left", bold=False, normal_textsize=True)
    for line in lines:
        job.textln(line)
    job.cut()
    output: bytes = job.output
    return output


def send_thermal(pdf: Path | None, job: Callable[[], None]) -> None:
    """Run ``job``, a call on a thermal printer (``thermal.print_job(...)``,
    ``thermal.print_sale(...)``). Blocks on the printer: worker only.

    Raises:
        PrintFailed: the job did not reach the printer
            (:class:`~pos_app.receipts.ThermalPrinterError`); the message ends with
            "saved as <pdf's file name>" when there is a ``pdf``.
    """
    from pos_app.receipts import ThermalPrinterError

    try:
        job()
    except ThermalPrinterError as error:
        saved = f"; saved as {pdf.name}" if pdf is not None else ""
        raise PrintFailed(f"{error}{saved}") from error
