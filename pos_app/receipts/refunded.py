"""How a refunded ticket shows on a reprinted receipt, on the PDF and on an ESC/POS printer.

A refund makes a ticket's code invalid at the door, but the customer may still hold the
first receipt. A reprint therefore prints each refunded ticket (``ReceiptData.refunded``)
as a block of its own where its QR code would be: the ticket type, a boxed (PDF) or inverted
(ESC/POS) ``REFUNDED``, "NOT VALID FOR ENTRY", and only the last characters of its code, so
the paper can be matched to the refund slip but nothing on it can be scanned or keyed in as
a ticket. No QR symbol is drawn for it. Where the tickets print separately the receipt lists
them as ``REFUNDED`` too, and no admission ticket is printed for them.
"""

from __future__ import annotations

from typing import Any, Protocol

from reportlab.lib.units import mm

from pos_app.receipts.data import ReceiptData, ReceiptTicket
from pos_app.receipts.layout import BOLD, MONO, REGULAR, Layout

__all__ = [
    "NOT_VALID",
    "REFUNDED",
    "code_tail",
    "refunded_blocks",
    "refunded_commands",
]

REFUNDED = "REFUNDED"
"""The word on every refunded ticket's block."""
NOT_VALID = "NOT VALID FOR ENTRY"
"""What the door staff and the customer read under it."""
TAIL = 6
"""Characters of a refunded ticket's code printed (too few to be a ticket)."""


def code_tail(ticket: ReceiptTicket) -> str:
    """``"Code ending 8HTR2Q"``: the last :data:`TAIL` characters of ``ticket``'s code."""
    return f"Code ending {ticket.code[-TAIL:]}"


def refunded_blocks(page: Layout, data: ReceiptData, *, ticket_qr: bool) -> None:
    """Add ``data.refunded`` to a receipt ``page``: with ``ticket_qr`` a block per ticket
    in place of its QR code, without it a list (the tickets print separately)."""
    if not data.refunded:
        return
    if not ticket_qr:
        page.rule(dashed=True)
        page.text(f"Refunded - {NOT_VALID.lower()} ({len(data.refunded)})", BOLD, 9)
        for ticket in data.refunded:
            page.text(f"{ticket.ticket_type} - {REFUNDED}", BOLD, 8)
            page.text(code_tail(ticket), MONO, 8, indent=4 * mm)
        return
    for ticket in data.refunded:
        page.rule(dashed=True)
        page.text("Refunded ticket", REGULAR, 7.5, "centre")
        page.text(ticket.ticket_type, BOLD, 10, "centre")
        page.gap(2)
        page.boxed(REFUNDED, BOLD, 20)
        page.gap(3)
        page.text(NOT_VALID, BOLD, 11, "centre")
        page.text(code_tail(ticket), MONO, 8, "centre")


class _Doc(Protocol):
    """What :func:`refunded_commands` uses of ``pos_app.receipts.thermal``'s writer."""

    p: Any

    def text(self, text: str, *, align: str = ..., bold: bool = ..., size: str = ...,
             indent: int = ...) -> None: ...

    def rule(self, char: str = ...) -> None: ...

    def style(self, *, align: str = ..., bold: bool = ..., size: str = ...) -> None: ...


def refunded_commands(doc: _Doc, data: ReceiptData, *, ticket_qr: bool) -> None:
    """:func:`refunded_blocks` on an ESC/POS receipt: ``REFUNDED`` large, white on black."""
    if not data.refunded:
        return
    if not ticket_qr:
        doc.rule()
        doc.text(f"Refunded - {NOT_VALID.lower()} ({len(data.refunded)})", bold=True)
        for ticket in data.refunded:
            doc.text(f"{ticket.ticket_type} - {REFUNDED}", bold=True)
            doc.text(code_tail(ticket), indent=3)
        return
    for ticket in data.refunded:
        doc.rule()
        doc.text("Refunded ticket", align="center")
        doc.text(ticket.ticket_type, align="center", bold=True)
        doc.p.set(align="center", bold=True, double_width=True, double_height=True,
                  invert=True)
        doc.p.textln(f" {REFUNDED} ")
        doc.p.set(invert=False)
        doc.style()
        doc.text(NOT_VALID, align="center", bold=True)
        doc.text(code_tail(ticket), align="center")
