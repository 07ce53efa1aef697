"""Receipt PDF for an 80 mm thermal roll: one page, as tall as its content.

The page is laid out with :class:`pos_app.receipts.layout.Layout` and rendered by
:func:`~pos_app.receipts.layout.render_pages`. By default the receipt carries each ticket's QR
code (the receipt is the admission); :func:`~pos_app.receipts.tickets.render_sale_documents`
prints it without them, followed by one admission ticket per page.
"""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth

from pos_app.domain.money import format_money
from pos_app.receipts.data import ReceiptData, sale_file_stem
from pos_app.receipts.layout import (
    BOLD,
    CONTENT_WIDTH,
    ITALIC,
    MONO,
    PAGE_WIDTH,
    REGULAR,
    Layout,
    QrDrawer,
    draw_qr_path,
    render_pages,
    write_new_pdf,
)
from pos_app.receipts.refunded import refunded_blocks
from pos_app.receipts.text import format_local_time

__all__ = [
    "PAGE_WIDTH",
    "receipt_filename",
    "receipt_layout",
    "receipt_title",
    "render_receipt",
    "write_receipt",
]

FOOTER = "Keep this receipt - each QR code admits one"
FOOTER_TICKETS_APART = "Thank you - your tickets are printed separately"

# Page compression, measured with tests/benchmarks/bench_receipts.py (2 tickets, interleaved
# runs): off 5.6 ms p50, on 5.9 ms; zlib costs more time than it saves. The PDF is 6.8 kB
# uncompressed (3.3 kB compressed), which a local printer spool does not notice.
PAGE_COMPRESSION = 0


def _money(data: ReceiptData, amount: int) -> str:
    return format_money(amount, data.currency)


def receipt_layout(data: ReceiptData, *, ticket_qr: bool = True) -> Layout:
    """Place every element of the receipt; the last ``y`` is the content's height.

    With ``ticket_qr`` each ticket gets its QR code and code; without, the tickets are listed
    by code only (they are printed separately, see :mod:`pos_app.receipts.tickets`). Refunded
    tickets follow, marked REFUNDED, without QR code (:mod:`pos_app.receipts.refunded`).
    """
    page = Layout()
    page.text(data.venue, BOLD, 12, "centre")
    page.gap(1)
    page.text(data.event_name, REGULAR, 10, "centre")
    page.text(format_local_time(data.event_starts_at, data.timezone), REGULAR, 9, "centre")
    if data.reprint:
        page.reprint_banner()

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
    if ticket_qr:
        for number, ticket in enumerate(data.tickets, start=1):
            page.rule(dashed=True)
            page.text(f"Ticket {number} of {count}", REGULAR, 7.5, "centre")
            page.text(ticket.ticket_type, BOLD, 10, "centre")
            page.qr(ticket.code)
            page.text(ticket.code, MONO, 9, "centre")
    elif data.tickets:
        page.rule(dashed=True)
        page.text(f"Tickets ({count})", BOLD, 9)
        for number, ticket in enumerate(data.tickets, start=1):
            page.text(f"{number}. {ticket.ticket_type}", REGULAR, 8)
            page.text(ticket.code, MONO, 8, indent=4 * mm)
    refunded_blocks(page, data, ticket_qr=ticket_qr)

    page.rule(dashed=True)
    page.text(
        FOOTER if ticket_qr or not data.tickets else FOOTER_TICKETS_APART, ITALIC, 7.5, "centre"
    )
    return page


def _sale_line(
    page: Layout, data: ReceiptData, name: str, quantity: int, unit_price: int, amount: int
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


def receipt_title(data: ReceiptData) -> str:
    """The PDF title: ``Receipt - Sale #000042``, with `` (reprint)`` for a reprint."""
    return f"Receipt - Sale #{data.sale_number:06d}" + (" (reprint)" if data.reprint else "")


def render_receipt(data: ReceiptData) -> bytes:
    """The receipt of ``data`` as a one-page PDF, with a QR code per ticket.

    The page is ``PAGE_WIDTH`` (80 mm, 226.77 pt) wide with 4 mm margins, and exactly as tall
    as its content plus the cutter feed, so a thermal roll wastes no paper.

    Returns:
        The PDF file's bytes.

    Raises:
        segno.DataOverflowError: a ticket code is too long for a QR code.
        zoneinfo.ZoneInfoNotFoundError: ``data.timezone`` is not in the zone database.
    """
    return _render(data, draw_qr_path)


def _render(data: ReceiptData, draw_qr_code: QrDrawer) -> bytes:
    """:func:`render_receipt` with another QR drawer (the benchmark's naive baseline)."""
    return render_pages(
        [receipt_layout(data)],
        title=receipt_title(data),
        author=data.venue,
        page_compression=PAGE_COMPRESSION,
        draw_qr_code=draw_qr_code,
    )


def receipt_filename(data: ReceiptData) -> str:
    """``receipt-000042-<first 8 characters of the sale id>.pdf`` (:func:`sale_file_stem`),
    ``...-reprint.pdf`` for a reprint."""
    return f"{sale_file_stem('receipt', data)}.pdf"


def write_receipt(data: ReceiptData, folder: Path) -> Path:
    """Render ``data`` and write it to ``folder / receipt_filename(data)`` as a new file.

    Never replaces a file (the folder is the record): when the name is taken (a second
    reprint), ``-2``, ``-3``... is added (:func:`~pos_app.receipts.layout.write_new_pdf`).
    The PDF is flushed to disk before it takes its name: a printer spooler or a crash never
    sees half a file.

    Returns:
        Path of the written PDF.

    Raises:
        OSError: ``folder`` does not exist or is not writable (no file is left behind).
        Anything :func:`render_receipt` raises, before anything is written.
    """
    return write_new_pdf(render_receipt(data), Path(folder) / receipt_filename(data))
