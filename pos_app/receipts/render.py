"""Receipt PDF for an 80 mm thermal roll: one page, as tall as its content.

Layout happens first (a list of drawing operations measured from the top of the page), so
the page height is known before the canvas exists; then the operations are replayed on a
plain reportlab canvas. Only the PDF base-14 fonts are used (Helvetica, Courier), so no font
files are embedded or needed.
"""

from __future__ import annotations

import io
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Literal, NamedTuple

from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from pos_app.domain.money import format_money
from pos_app.receipts.data import ReceiptData
from pos_app.receipts.qr import QR_QUIET_ZONE, Matrix, draw_qr, qr_matrix
from pos_app.receipts.text import format_local_time, wrap_text

__all__ = ["PAGE_WIDTH", "receipt_filename", "render_receipt", "write_receipt"]

PAGE_WIDTH: float = 80 * mm
"""Roll width in points (226.77 pt)."""
MARGIN: float = 4 * mm
"""Unprintable edge on each side, and the blank space above the first line."""
CONTENT_WIDTH: float = PAGE_WIDTH - 2 * MARGIN
"""Printable width in points (72 mm)."""
QR_SIZE: float = 30 * mm
"""Aimed width of each QR symbol without its quiet zone, in points (see :data:`PRINTER_DOT`)."""
PRINTER_DOT: float = 72 / 203
"""One dot of a 203 dpi thermal head, in points. QR modules are a whole number of dots and
start on the dot grid (from the page's top-left corner, where rasterising starts), so every
module prints the same size: sharper edges for the door scanners."""
BOTTOM_FEED: float = 8 * mm
"""Blank paper after the footer so the cutter does not cut through it."""
FOOTER = "Keep this receipt - each QR code admits one"

# Page compression, measured with tests/benchmarks/bench_receipts.py (2 tickets, interleaved
# runs): off 5.6 ms p50, on 5.9 ms; zlib costs more time than it saves. The PDF is 6.8 kB
# uncompressed (3.3 kB compressed), which a local printer spool does not notice.
PAGE_COMPRESSION = 0

REGULAR = "Helvetica"
BOLD = "Helvetica-Bold"
ITALIC = "Helvetica-Oblique"
MONO = "Courier"

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


class _Layout:
    """Operations placed top-down; ``y`` is the distance from the top of the page, in pt."""

    def __init__(self) -> None:
        self.ops: list[_Op] = []
        self.y = MARGIN

    def gap(self, points: float) -> None:
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
        self.y += 2.5 * mm
        self.ops.append(_Rule(self.y, dashed, weight))
        self.y += 1.5 * mm


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


def _money(data: ReceiptData, amount: int) -> str:
    return format_money(amount, data.currency)


def _layout(data: ReceiptData) -> _Layout:
    """Place every element of the receipt; the last ``y`` is the content's height."""
    page = _Layout()
    page.text(data.venue, BOLD, 12, "centre")
    page.gap(1)
    page.text(data.event_name, REGULAR, 10, "centre")
    page.text(format_local_time(data.event_starts_at, data.timezone), REGULAR, 9, "centre")

    if data.reprint:
        page.gap(2.5 * mm)
        top = page.y
        page.gap(1.8 * mm)
        page.text("REPRINT", BOLD, 11, "centre")
        page.gap(1.2 * mm)
        page.ops.append(_Box(top, page.y - top))

    page.rule(dashed=True)
    page.row(f"Sale #{data.sale_number:06d}", "", BOLD, 10)
    page.row("Date", format_local_time(data.sale_created_at, data.timezone))
    page.row("Served by", data.staff_name)
    page.row("Terminal", data.terminal_name)

    page.rule(dashed=True)
    for line in data.lines:
        _sale_line(page, data, line.name, line.quantity, line.unit_price, line.amount)

    page.rule(weight=0.9)
    page.row("TOTAL", _money(data, data.total), BOLD, 12)
    if data.tendered is not None:
        page.gap(0.5 * mm)
        page.row("Cash tendered", _money(data, data.tendered))
    if data.change is not None:
        page.row("Change due", _money(data, data.change))
    if data.tendered is None and data.change is None:
        page.gap(0.5 * mm)
        page.row("Payment", "Paid online")

    count = len(data.tickets)
    for number, ticket in enumerate(data.tickets, start=1):
        page.rule(dashed=True)
        page.text(f"Ticket {number} of {count}", REGULAR, 7.5, "centre")
        page.text(ticket.ticket_type, BOLD, 10, "centre")
        matrix = qr_matrix(ticket.code)
        module = max(1, round(QR_SIZE / len(matrix) / PRINTER_DOT)) * PRINTER_DOT
        size = module * len(matrix)
        quiet = QR_QUIET_ZONE * module  # no ink this close to the symbol (ISO/IEC 18004)
        page.gap(quiet)
        page.y = _on_dot_grid(page.y)
        x = _on_dot_grid((PAGE_WIDTH - size) / 2)
        page.ops.append(_Qr(ticket.code, matrix, x, page.y, size))
        page.gap(size + quiet - 0.3 * 9)  # the code's capitals start 0.3 em below y
        page.text(ticket.code, MONO, 9, "centre")

    page.rule(dashed=True)
    page.text(FOOTER, ITALIC, 7.5, "centre")
    page.gap(BOTTOM_FEED)
    return page


def _sale_line(
    page: _Layout, data: ReceiptData, name: str, quantity: int, unit_price: int, amount: int
) -> None:
    """``2 x GA @ $199.00`` left and ``$398.00`` right; the name wraps above if too long."""
    size = 9
    amount_text = _money(data, amount)
    unit_text = f"@ {_money(data, unit_price)}"
    left = f"{quantity} x {name}  {unit_text}"
    room = CONTENT_WIDTH - stringWidth(amount_text, REGULAR, size) - 3 * mm
    if stringWidth(left, REGULAR, size) <= room:
        page.row(left, amount_text, REGULAR, size)
        return
    page.row(f"{quantity} x {name}", amount_text, REGULAR, size)  # wraps onto the left
    page.text(f"{unit_text} each", REGULAR, size, indent=4 * mm)


QrDrawer = Callable[[Canvas, str, Matrix, float, float, float], None]
"""Draws one QR: ``(canvas, code, matrix, x, top, size)``, positions in points."""


def _draw_qr_path(
    canvas: Canvas, code: str, matrix: Matrix, x: float, top: float, size: float
) -> None:
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


def render_receipt(data: ReceiptData) -> bytes:
    """The receipt of ``data`` as a one-page PDF.

    The page is ``PAGE_WIDTH`` (80 mm, 226.77 pt) wide with 4 mm margins, and exactly as tall
    as its content plus the cutter feed, so a thermal roll wastes no paper.

    Returns:
        The PDF file's bytes.

    Raises:
        segno.DataOverflowError: a ticket code is too long for a QR code.
        zoneinfo.ZoneInfoNotFoundError: ``data.timezone`` is not in the zone database.
    """
    return _render(data, _draw_qr_path)


def _render(data: ReceiptData, draw_qr_code: QrDrawer) -> bytes:
    """:func:`render_receipt` with another QR drawer (the benchmark's naive baseline)."""
    page = _layout(data)
    height = page.y
    buffer = io.BytesIO()
    canvas = Canvas(
        buffer,
        pagesize=(PAGE_WIDTH, height),
        pageCompression=PAGE_COMPRESSION,
        invariant=True,
    )
    title = f"Receipt - Sale #{data.sale_number:06d}" + (" (reprint)" if data.reprint else "")
    canvas.setTitle(title)
    canvas.setAuthor(data.venue)
    _draw(canvas, page.ops, height, draw_qr_code)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def receipt_filename(data: ReceiptData) -> str:
    """``receipt-000042.pdf``, or ``receipt-000042-reprint.pdf`` for a reprint."""
    return f"receipt-{data.sale_number:06d}{'-reprint' if data.reprint else ''}.pdf"


def write_receipt(data: ReceiptData, folder: Path) -> Path:
    """Render ``data`` and write it to ``folder / receipt_filename(data)``, atomically.

    The PDF goes to a temporary file in ``folder``, is flushed to disk, then renamed over
    the final name with :func:`os.replace`: a printer spooler or a crash never sees half a
    file. An existing receipt of the same name is replaced.

    Returns:
        Path of the written PDF.

    Raises:
        OSError: ``folder`` does not exist or is not writable (no file is left behind).
        Anything :func:`render_receipt` raises, before anything is written.
    """
    pdf = render_receipt(data)
    target = Path(folder) / receipt_filename(data)
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as temp:
            temp.write(pdf)
            temp.flush()
            os.fsync(temp.fileno())
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return target
