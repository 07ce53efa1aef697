"""Admission tickets on an 80 mm roll: one page (one cut piece of paper) per ticket.

What a thermal box office hands over for a sale of N tickets is N + 1 pieces of paper: the
receipt, then one ticket per admission, each cut off on its own so a group can split them at
the door. :func:`render_sale_documents` produces exactly that as one PDF (the receipt page,
without QR codes, then a page per ticket), so it is a single print job whose pages come out
in order; thermal printer drivers cut at the end of each page (or can be set to). On ESC/POS
printers :mod:`pos_app.receipts.thermal` sends a cut after each piece itself.

:func:`render_tickets` gives the ticket pages alone (e.g. to reprint one lost ticket).
"""

from __future__ import annotations

from collections.abc import Collection
from pathlib import Path

from reportlab.lib.units import mm

from pos_app.domain.money import format_money
from pos_app.receipts.data import ReceiptData, ReceiptTicket, sale_file_stem, ticket_price
from pos_app.receipts.layout import (
    BOLD,
    ITALIC,
    MONO,
    REGULAR,
    Layout,
    render_pages,
    write_new_pdf,
)
from pos_app.receipts.render import receipt_layout, receipt_title
from pos_app.receipts.text import format_local_time

__all__ = [
    "TICKET_FOOTER",
    "render_sale_documents",
    "render_tickets",
    "sale_documents_filename",
    "tickets_filename",
    "write_sale_documents",
    "write_tickets",
]

TICKET_FOOTER = "Admits one - valid for a single entry"


def ticket_layout(data: ReceiptData, ticket: ReceiptTicket, number: int) -> Layout:
    """The page of ``ticket``, the ``number``-th (from 1) of ``data.tickets``."""
    page = Layout()
    page.text(data.event_name, BOLD, 13, "centre")
    page.gap(1)
    page.text(format_local_time(data.event_starts_at, data.timezone), BOLD, 10, "centre")
    page.text(data.venue, REGULAR, 9, "centre")
    if data.reprint:
        page.reprint_banner()

    page.rule(dashed=True)
    page.text("ADMISSION", REGULAR, 7.5, "centre")
    page.text(ticket.ticket_type, BOLD, 16, "centre")
    price = ticket_price(data, ticket)
    if price is not None:
        page.text(format_money(price, data.currency), REGULAR, 10, "centre")
    page.qr(ticket.code)
    page.text(ticket.code, MONO, 9, "centre")

    page.rule(dashed=True)
    page.row(f"Sale #{data.sale_number:06d}", f"Ticket {number} of {len(data.tickets)}", REGULAR, 8)
    page.row("Sold", format_local_time(data.sale_created_at, data.timezone), REGULAR, 8)
    page.gap(1 * mm)
    page.text(TICKET_FOOTER, ITALIC, 7.5, "centre")
    return page


def _ticket_pages(data: ReceiptData, codes: Collection[str] | None) -> list[Layout]:
    if codes is not None:
        unknown = set(codes) - {ticket.code for ticket in data.tickets}
        if unknown:
            raise ValueError(f"not tickets of sale {data.sale_number}: {sorted(unknown)}")
    return [
        ticket_layout(data, ticket, number)
        for number, ticket in enumerate(data.tickets, start=1)
        if codes is None or ticket.code in codes
    ]


def render_tickets(data: ReceiptData, *, codes: Collection[str] | None = None) -> bytes:
    """The admission tickets of ``data`` as a PDF, one 80 mm page per ticket, in sale order.

    Each page shows the event, its start in the venue's zone, the venue, the ticket type, its
    price, and the ticket's code as text and as a QR code (whole printer dots, ~30 mm). With
    ``data.reprint`` every page is marked REPRINT.

    Args:
        data: the sale, as for the receipt.
        codes: print only these tickets (a reprint of a lost one); all when ``None``.

    Raises:
        ValueError: the sale has no (selected) ticket, or ``codes`` names a ticket of
            another sale.
        segno.DataOverflowError: a ticket code is too long for a QR code.
    """
    pages = _ticket_pages(data, codes)
    if not pages:
        raise ValueError(f"sale {data.sale_number} has no ticket to print")
    title = f"Tickets - Sale #{data.sale_number:06d}" + (" (reprint)" if data.reprint else "")
    return render_pages(pages, title=title, author=data.venue)


def render_sale_documents(data: ReceiptData) -> bytes:
    """Everything a sale prints, as one PDF: the receipt, then one page per ticket.

    The receipt page lists the ticket codes without QR codes (the tickets carry them, so no
    piece of paper admits twice by accident). A sale without tickets is the receipt alone.

    Raises:
        segno.DataOverflowError: a ticket code is too long for a QR code.
    """
    pages = [receipt_layout(data, ticket_qr=False), *_ticket_pages(data, None)]
    return render_pages(pages, title=receipt_title(data), author=data.venue)


def tickets_filename(data: ReceiptData) -> str:
    """``tickets-000042-<first 8 of the sale id>.pdf`` (``-reprint`` added for a reprint)."""
    return f"{sale_file_stem('tickets', data)}.pdf"


def sale_documents_filename(data: ReceiptData) -> str:
    """``sale-000042-<first 8 of the sale id>.pdf`` (``-reprint`` added for a reprint)."""
    return f"{sale_file_stem('sale', data)}.pdf"


def write_tickets(data: ReceiptData, folder: Path, *, codes: Collection[str] | None = None) -> Path:
    """:func:`render_tickets` written atomically to ``folder / tickets_filename(data)`` as a
    new file (``-2``... added when the name is taken: never replacing one).

    Raises:
        OSError: ``folder`` is missing or not writable (no file is left behind).
        Anything :func:`render_tickets` raises, before anything is written.
    """
    return write_new_pdf(render_tickets(data, codes=codes), Path(folder) / tickets_filename(data))


def write_sale_documents(data: ReceiptData, folder: Path) -> Path:
    """:func:`render_sale_documents` written atomically to
    ``folder / sale_documents_filename(data)`` as a new file (``-2``... added when the name
    is taken: never replacing one).

    Raises:
        OSError: ``folder`` is missing or not writable (no file is left behind).
        Anything :func:`render_sale_documents` raises, before anything is written.
    """
    return write_new_pdf(render_sale_documents(data), Path(folder) / sale_documents_filename(data))
