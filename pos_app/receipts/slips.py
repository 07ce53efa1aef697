"""Hold slip and refund slip PDFs for an 80 mm roll, one page each.

The hold slip is handed to a customer who will pay cash later: the hold code is printed large
in groups of three and spelled in the ICAO alphabet so it can be read over the counter or the
phone, with its QR code for the hold desk's scanner, and the "Pay by" time in the venue's zone.
It is not a ticket, and says so.

The refund slip is the box office's record of cash paid back: the sale, the refunded tickets
(their codes no longer admit anyone), the amount, the approving manager, the time, the reason,
and a line for the customer's signature.
"""

from __future__ import annotations

from pathlib import Path

from reportlab.lib.units import mm

from pos_app.domain.money import format_money
from pos_app.receipts.layout import (
    BOLD,
    ITALIC,
    MONO,
    MONO_BOLD,
    REGULAR,
    Layout,
    render_pages,
    write_new_pdf,
)
from pos_app.receipts.slip_data import HoldSlipData, RefundSlipData, refund_lines
from pos_app.receipts.text import format_local_time, group_code, spell_code

__all__ = [
    "HOLD_CODE_SIZE",
    "HOLD_QR_SIZE",
    "hold_slip_filename",
    "refund_slip_filename",
    "render_hold_slip",
    "render_refund_slip",
    "write_hold_slip",
    "write_refund_slip",
]

HOLD_CODE_SIZE = 30
"""Point size of the hold code: about 6 mm capitals, readable at arm's length."""
HOLD_QR_SIZE = 22 * mm
"""Aimed width of the hold code's QR symbol (short code: fewer, larger modules)."""
HOLD_FOOTER = "This slip is not a ticket"
REFUND_FOOTER = "The refunded tickets no longer admit anyone"


def _title(kind: str, reprint: bool) -> str:
    return kind + (" (reprint)" if reprint else "")


def _event_header(page: Layout, venue: str, event_name: str, starts: str) -> None:
    page.text(venue, BOLD, 12, "centre")
    page.gap(1)
    page.text(event_name, REGULAR, 10, "centre")
    page.text(starts, REGULAR, 9, "centre")


def hold_slip_layout(data: HoldSlipData) -> Layout:
    """Place every element of the hold slip; the last ``y`` is the content's height."""
    zone = data.timezone
    money = data.currency
    page = Layout()
    _event_header(page, data.venue, data.event_name, format_local_time(data.event_starts_at, zone))
    if data.reprint:
        page.reprint_banner()

    page.rule(dashed=True)
    page.text("CASH HOLD - HOLD CODE", BOLD, 9, "centre")
    page.gap(1.5 * mm)
    page.text(group_code(data.hold_code), MONO_BOLD, HOLD_CODE_SIZE, "centre")
    page.gap(0.5 * mm)
    page.text(spell_code(data.hold_code), REGULAR, 7.5, "centre")
    page.qr(data.hold_code, HOLD_QR_SIZE)

    page.rule(dashed=True)
    page.row("Customer", data.customer_name, BOLD, 10)
    if data.customer_phone:
        page.row("Phone", data.customer_phone)

    page.rule(dashed=True)
    for line in data.lines:
        page.row(
            f"{line.quantity} x {line.name}  @ {format_money(line.unit_price, money)}",
            format_money(line.amount, money),
        )
    page.rule(weight=0.9)
    page.row("TOTAL TO PAY", format_money(data.total, money), BOLD, 12)

    page.gap(2 * mm)
    page.boxed(f"Pay by {format_local_time(data.expires_at, zone)}", BOLD, 10)
    page.gap(1 * mm)
    page.text(
        "Pay in cash at the box office before then, quoting the hold code. "
        "After that time the tickets go back on sale.",
        REGULAR,
        7.5,
        "centre",
    )

    page.rule(dashed=True)
    page.row("Held", format_local_time(data.created_at, zone), REGULAR, 8)
    page.row("Held by", data.staff_name, REGULAR, 8)
    page.row("Terminal", data.terminal_name, REGULAR, 8)
    page.rule(dashed=True)
    page.text(HOLD_FOOTER, ITALIC, 7.5, "centre")
    return page


def refund_slip_layout(data: RefundSlipData) -> Layout:
    """Place every element of the refund slip; the last ``y`` is the content's height."""
    money = data.currency
    page = Layout()
    _event_header(
        page, data.venue, data.event_name, format_local_time(data.event_starts_at, data.timezone)
    )
    if data.reprint:
        page.reprint_banner()

    page.rule(dashed=True)
    page.text("REFUND", BOLD, 14, "centre")
    page.gap(1 * mm)
    page.row(f"Sale #{data.sale_number:06d}", "", BOLD, 10)
    page.row("Refunded", format_local_time(data.refunded_at, data.timezone))
    page.row("Approved by", data.approver_name)
    page.row("Paid back by", data.staff_name)
    page.row("Terminal", data.terminal_name)

    page.rule(dashed=True)
    page.text("Refunded tickets", BOLD, 9)
    for line in refund_lines(data):
        page.row(
            f"{line.quantity} x {line.name}  @ {format_money(line.unit_amount, money)}",
            format_money(line.amount, money),
        )
        for code in line.codes:
            page.text(code, MONO, 8, indent=4 * mm)

    page.rule(weight=0.9)
    label = "REFUNDED IN CASH" if data.method == "cash" else "REFUNDED TO PAYMENT"
    page.row(label, format_money(data.amount, money), BOLD, 12)
    if data.method != "cash":
        page.text("Paid back to the original payment, not from the drawer.", REGULAR, 7.5)
    page.gap(1 * mm)
    page.text(f"Reason: {data.reason}", REGULAR, 8)

    page.gap(12 * mm)  # room to sign
    page.rule(weight=0.5)
    page.text("Customer signature", REGULAR, 7.5)
    page.rule(dashed=True)
    page.text(REFUND_FOOTER, ITALIC, 7.5, "centre")
    page.text(f"Refund {data.refund_id}", MONO, 6, "centre")
    return page


def render_hold_slip(data: HoldSlipData) -> bytes:
    """The hold slip of ``data`` as a one-page, 80 mm wide PDF.

    Raises:
        segno.DataOverflowError: the hold code is too long for a QR code.
    """
    return render_pages(
        [hold_slip_layout(data)],
        title=_title(f"Hold {data.hold_code}", data.reprint),
        author=data.venue,
    )


def render_refund_slip(data: RefundSlipData) -> bytes:
    """The refund slip of ``data`` as a one-page, 80 mm wide PDF."""
    title = _title(f"Refund - Sale #{data.sale_number:06d}", data.reprint)
    return render_pages([refund_slip_layout(data)], title=title, author=data.venue)


def hold_slip_filename(data: HoldSlipData) -> str:
    """``hold-K7QX3M.pdf``, or ``hold-K7QX3M-reprint.pdf`` for a reprint."""
    code = "".join(char for char in data.hold_code.upper() if char.isalnum())
    return f"hold-{code}{'-reprint' if data.reprint else ''}.pdf"


def refund_slip_filename(data: RefundSlipData) -> str:
    """``refund-000042-<first 8 characters of the refund id>.pdf`` (``-reprint`` added)."""
    short = "".join(char for char in data.refund_id if char.isalnum())[:8]
    return f"refund-{data.sale_number:06d}-{short}{'-reprint' if data.reprint else ''}.pdf"


def write_hold_slip(data: HoldSlipData, folder: Path) -> Path:
    """:func:`render_hold_slip` written atomically to ``folder / hold_slip_filename(data)``
    as a new file (``-2``... added when the name is taken: never replacing one).

    Raises:
        OSError: ``folder`` is missing or not writable (no file is left behind).
    """
    return write_new_pdf(render_hold_slip(data), Path(folder) / hold_slip_filename(data))


def write_refund_slip(data: RefundSlipData, folder: Path) -> Path:
    """:func:`render_refund_slip` written atomically to ``folder / refund_slip_filename(data)``
    as a new file (``-2``... added when the name is taken: never replacing one).

    Raises:
        OSError: ``folder`` is missing or not writable (no file is left behind).
    """
    return write_new_pdf(render_refund_slip(data), Path(folder) / refund_slip_filename(data))
