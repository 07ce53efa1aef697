"""Page layout shared by every 80 mm document: receipt, admission ticket, hold and refund slips.

A document is laid out first, as a list of drawing operations measured from the top of its
page (:class:`Layout`), so each page's height is known before the canvas exists; then
:func:`render_pages` replays the operations on a plain reportlab canvas, one page per layout,
each page exactly as tall as its content. Only the PDF base-14 fonts are used (Helvetica,
Courier), so no font files are embedded or needed.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Literal, NamedTuple

from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from pos_app.files import atomic_write, flushed_temp
from pos_app.receipts.qr import QR_QUIET_ZONE, Matrix, draw_qr, qr_matrix
from pos_app.receipts.text import wrap_text

__all__ = [
    "BOLD",
    "BOTTOM_FEED",
    "CONTENT_WIDTH",
    "ITALIC",
    "MARGIN",
    "MONO",
    "MONO_BOLD",
    "PAGE_WIDTH",
    "PRINTER_DOT",
    "QR_SIZE",
    "REGULAR",
    "REPRINT_LABEL",
    "Layout",
    "QrDrawer",
    "draw_qr_path",
    "render_pages",
    "write_new_pdf",
    "write_pdf",
]

PAGE_WIDTH: float = 80 * mm
"""Roll width in points (226.77 pt)."""
MARGIN: float = 4 * mm
"""Unprintable edge on each side, and the blank space above the first line."""
CONTENT_WIDTH: float = PAGE_WIDTH - 2 * MARGIN
"""Printable width in points (72 mm)."""
QR_SIZE: float = 30 * mm
"""Aimed width of a ticket's QR symbol without its quiet zone, in points (see
:data:`PRINTER_DOT`)."""
PRINTER_DOT: float = 72 / 203
"""One dot of a 203 dpi thermal head, in points. QR modules are a whole number of dots and
start on the dot grid (from the page's top-left corner, where rasterising starts), so every
module prints the same size: sharper edges for the door scanners."""
BOTTOM_FEED: float = 8 * mm
"""Blank paper after the footer so the cutter does not cut through it."""
REPRINT_LABEL = "REPRINT"
"""The word boxed near the top of every reprinted document."""

REGULAR = "Helvetica"
BOLD = "Helvetica-Bold"
ITALIC = "Helvetica-Oblique"
MONO = "Courier"
MONO_BOLD = "Courier-Bold"

Align = Literal["left", "centre", "right"]


class _Text(NamedTuple):
    x: float
    baseline: float  # from the top of the page
    font: str
    size: float
    text: str


class _Rule(NamedTuple):
    y: float
    dashed: bool
    weight: float


class _Box(NamedTuple):
    top: float
    height: float


class _Qr(NamedTuple):
    code: str
    matrix: tuple[bytearray, ...]
    x: float
    top: float
    size: float


_Op = _Text | _Rule | _Box | _Qr


class Layout:
    """Operations of one page placed top-down; ``y`` is the distance from the page's top, in pt.

    After the last element, ``y`` is the height the page needs.
    """

    def __init__(self) -> None:
        self.ops: list[_Op] = []
        self.y = MARGIN

    def gap(self, points: float) -> None:
        """Leave ``points`` of blank paper."""
        self.y += points

    def text(
        self, text: str, font: str, size: float, align: Align = "left", indent: float = 0
    ) -> None:
        """One or more lines of ``text``, wrapped to the content width less ``indent`` pt."""
        for line in wrap_text(text, font, size, CONTENT_WIDTH - indent):
            self.y += size
            x = _aligned(line, font, size, align) + indent
            self.ops.append(_Text(x, self.y, font, size, line))
            self.y += size * 0.3

    def row(self, label: str, value: str, font: str = REGULAR, size: float = 9) -> None:
        """``label`` flush left and ``value`` flush right, sharing their first baseline.

        The shorter side keeps one line and the other wraps into the room left beside it.
        """
        gap = 3 * mm
        label_width = stringWidth(label, font, size)
        value_width = stringWidth(value, font, size)
        if value_width <= label_width:
            labels = wrap_text(label, font, size, CONTENT_WIDTH - value_width - gap)
            values = [value]
        else:
            labels = [label]
            values = wrap_text(value, font, size, CONTENT_WIDTH - label_width - gap)
        right = PAGE_WIDTH - MARGIN
        first = self.y + size
        for index, line in enumerate(labels):
            self.ops.append(_Text(MARGIN, first + index * size * 1.3, font, size, line))
        for index, line in enumerate(values):
            if not line:
                continue
            x = right - stringWidth(line, font, size)
            self.ops.append(_Text(x, first + index * size * 1.3, font, size, line))
        self.y = first + (max(len(labels), len(values)) - 1) * size * 1.3 + size * 0.3

    def rule(self, *, dashed: bool = False, weight: float = 0.6) -> None:
        """A line across the content width, with a little space above and below."""
        self.y += 2.5 * mm
        self.ops.append(_Rule(self.y, dashed, weight))
        self.y += 1.5 * mm

    def boxed(self, text: str, font: str = BOLD, size: float = 11) -> None:
        """``text`` centred in a box as wide as the content (the REPRINT banner)."""
        top = self.y
        self.gap(1.8 * mm)
        self.text(text, font, size, "centre")
        self.gap(1.2 * mm)
        self.ops.append(_Box(top, self.y - top))

    def reprint_banner(self) -> None:
        """The boxed :data:`REPRINT_LABEL`, with space above it."""
        self.gap(2.5 * mm)
        self.boxed(REPRINT_LABEL)

    def qr(self, code: str, size: float = QR_SIZE) -> None:
        """A QR symbol of ``code``, centred, about ``size`` pt wide, with its quiet zone.

        Modules are a whole number of printer dots and the symbol starts on the dot grid.

        Raises:
            segno.DataOverflowError: ``code`` does not fit in a QR code.
        """
        matrix = qr_matrix(code)
        module = max(1, round(size / len(matrix) / PRINTER_DOT)) * PRINTER_DOT
        width = module * len(matrix)
        quiet = QR_QUIET_ZONE * module  # no ink this close to the symbol (ISO/IEC 18004)
        self.gap(quiet)
        self.y = _on_dot_grid(self.y)
        x = _on_dot_grid((PAGE_WIDTH - width) / 2)
        self.ops.append(_Qr(code, matrix, x, self.y, width))
        self.gap(width + quiet - 0.3 * 9)  # text that follows starts 0.3 em below y


def _aligned(text: str, font: str, size: float, align: Align) -> float:
    if align == "left":
        return MARGIN
    width: float = stringWidth(text, font, size)
    if align == "right":
        return PAGE_WIDTH - MARGIN - width
    return (PAGE_WIDTH - width) / 2


def _on_dot_grid(points: float) -> float:
    """``points`` rounded up to a whole number of printer dots."""
    return math.ceil(points / PRINTER_DOT - 1e-9) * PRINTER_DOT


QrDrawer = Callable[[Canvas, str, Matrix, float, float, float], None]
"""Draws one QR: ``(canvas, code, matrix, x, top, size)``, positions in points."""


def draw_qr_path(
    canvas: Canvas, code: str, matrix: Matrix, x: float, top: float, size: float
) -> None:
    """The shipped :data:`QrDrawer`: one filled path per symbol (:func:`qr.draw_qr`)."""
    draw_qr(canvas, matrix, x=x, top=top, size=size)


def _draw(canvas: Canvas, ops: list[_Op], height: float, draw_qr_code: QrDrawer) -> None:
    font = ("", 0.0)
    for op in ops:
        if isinstance(op, _Text):
            if (op.font, op.size) != font:
                font = (op.font, op.size)
                canvas.setFont(op.font, op.size)
            canvas.drawString(op.x, height - op.baseline, op.text)
        elif isinstance(op, _Rule):
            canvas.setLineWidth(op.weight)
            if op.dashed:
                canvas.setDash(1.5, 1.5)
            else:
                canvas.setDash()
            y = height - op.y
            canvas.line(MARGIN, y, PAGE_WIDTH - MARGIN, y)
        elif isinstance(op, _Box):
            canvas.setLineWidth(1.2)
            canvas.setDash()
            canvas.rect(MARGIN, height - op.top - op.height, CONTENT_WIDTH, op.height)
        else:
            draw_qr_code(canvas, op.code, op.matrix, op.x, height - op.top, op.size)


def render_pages(
    pages: Sequence[Layout],
    *,
    title: str,
    author: str,
    page_compression: int = 0,
    draw_qr_code: QrDrawer = draw_qr_path,
) -> bytes:
    """One PDF with a page per layout in ``pages``, each ``PAGE_WIDTH`` wide and as tall as
    its layout's final ``y`` plus :data:`BOTTOM_FEED` (so the cutter misses the last line).

    Args:
        pages: laid-out pages, in print order; at least one.
        title, author: the PDF's document information.
        page_compression: reportlab's ``pageCompression`` (0 off, 1 zlib).
        draw_qr_code: how QR symbols are drawn (the benchmark swaps in a naive one).

    Returns:
        The PDF file's bytes.

    Raises:
        ValueError: ``pages`` is empty.
    """
    if not pages:
        raise ValueError("a document needs at least one page")
    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=(PAGE_WIDTH, pages[0].y + BOTTOM_FEED),
        pageCompression=page_compression,
        invariant=True,
    )
    canvas.setTitle(title)
    canvas.setAuthor(author)
    for page in pages:
        height = page.y + BOTTOM_FEED
        canvas.setPageSize((PAGE_WIDTH, height))
        _draw(canvas, page.ops, height, draw_qr_code)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def write_pdf(pdf: bytes, target: Path) -> Path:
    """Write ``pdf`` to ``target`` atomically and return ``target``.

    The bytes go to a temporary file beside ``target``, are flushed to disk, then renamed over
    ``target`` with :func:`os.replace`: a printer spooler or a crash never sees half a file.
    An existing file of that name is replaced.

    Raises:
        OSError: the folder does not exist or is not writable (no file is left behind).
    """
    return atomic_write(target, pdf)


def write_new_pdf(pdf: bytes, target: Path) -> Path:
    """Write ``pdf`` as a new file named ``target``, or ``<stem>-2<suffix>``, ``-3``... when
    that name is taken; returns the path written. Never replaces an existing file: the
    receipts folder is the record (``shared/DESIGN.md``), and a home paired with another
    server, or a second reprint, must not overwrite what it holds.

    The bytes go to a temporary file beside ``target`` and are flushed to disk, then
    hard-linked to the first free name (:func:`os.link` fails on an existing name, so two
    writers racing for one name both keep their file); a crash leaves no half file.

    Raises:
        OSError: the folder does not exist or is not writable (no file is left behind).
    """
    temp = flushed_temp(target.parent, target.name, pdf)
    try:
        candidate, attempt = target, 1
        while True:
            try:
                os.link(temp, candidate)
                return candidate
            except FileExistsError:
                attempt += 1
                candidate = target.with_name(f"{target.stem}-{attempt}{target.suffix}")
    finally:
        temp.unlink(missing_ok=True)
