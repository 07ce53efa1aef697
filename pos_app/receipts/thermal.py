"""ESC/POS commands for an 80 mm thermal printer, from the same data as the PDFs.

Each document is written with python-escpos onto its ``Dummy`` printer, which records the
bytes: the caller gets the whole job as ``bytes`` before anything reaches a printer, so a
rendering error never leaves half a receipt on the roll, and the job goes out in one write
(:class:`~pos_app.receipts.thermal_printer.ThermalPrinter`). Every piece of paper ends with a
feed and a cut (``GS V``); a sale's receipt and each of its tickets are separate pieces.

QR codes are sent as the printer's own QR command (``GS ( k``, ``qr_mode="native"``, the
default: small, sharp, fast) or as a raster image of the same symbol the PDF draws
(``qr_mode="image"``, for printers without native QR). The layout is in text columns of
font A: 48 on a 72 mm printable width at 203 dpi (profile ``TM-T20II``, the default).
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Callable, Collection
from typing import Any, Literal

import segno

from pos_app.domain.money import format_money
from pos_app.receipts.data import ReceiptData, ReceiptTicket, ticket_price
from pos_app.receipts.qr import QR_ERROR_LEVEL, QR_QUIET_ZONE, qr_matrix
from pos_app.receipts.refunded import refunded_commands
from pos_app.receipts.render import FOOTER, FOOTER_TICKETS_APART
from pos_app.receipts.slip_data import HoldSlipData, RefundSlipData, refund_lines
from pos_app.receipts.slips import HOLD_FOOTER, REFUND_FOOTER
from pos_app.receipts.text import format_local_time, group_code, spell_code
from pos_app.receipts.tickets import TICKET_FOOTER

__all__ = [
    "DEFAULT_PROFILE",
    "QrMode",
    "hold_slip_commands",
    "receipt_commands",
    "refund_slip_commands",
    "sale_commands",
    "tickets_commands",
]

DEFAULT_PROFILE = "TM-T20II"
"""python-escpos printer profile: Epson TM-T20II, 80 mm roll, 576 dots, 48 columns."""
TICKET_QR_DOTS = 240
"""Aimed width of a ticket's QR symbol in printer dots (30 mm at 203 dpi, as on the PDF)."""
HOLD_QR_DOTS = 176
"""Aimed width of a hold code's QR symbol in printer dots (22 mm)."""

QrMode = Literal["native", "image"]

_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})  # Babel's no-break spaces


class _Doc:
    """Writes one or more cut pieces of paper onto a python-escpos printer ``p``."""

    def __init__(self, p: Any, qr_mode: QrMode) -> None:
        self.p = p
        self.qr_mode = qr_mode
        self.columns: int = int(p.profile.get_columns("a"))

    def start(self) -> None:
        """Reset the printer's modes (``ESC @``) at the top of a piece of paper."""
        self.p.hw("INIT")
        self.p.magic.encoding = None  # ESC @ reset the code page; let MagicEncode re-send it

    def style(self, *, align: str = "left", bold: bool = False, size: str = "normal") -> None:
        """Text style until the next call: ``size`` normal, ``tall`` (2h), ``big`` (2x) or
        ``huge`` (3x3)."""
        if size == "huge":
            self.p.set(align=align, bold=bold, custom_size=True, width=3, height=3)
        else:
            self.p.set(
                align=align,
                bold=bold,
                normal_textsize=size == "normal",
                double_height=size in ("tall", "big"),
                double_width=size == "big",
            )

    def text(
        self,
        text: str,
        *,
        align: str = "left",
        bold: bool = False,
        size: str = "normal",
        indent: int = 0,
    ) -> None:
        """``text`` wrapped to the columns left at ``size`` (after ``indent`` spaces)."""
        self.style(align=align, bold=bold, size=size)
        width = self.columns // {"normal": 1, "tall": 1, "big": 2, "huge": 3}[size] - indent
        for line in _wrap(text, width):
            self.p.textln(" " * indent + line)
        if size != "normal" or bold or align != "left":
            self.style()

    def row(self, label: str, value: str, *, bold: bool = False, tall: bool = False) -> None:
        """``label`` flush left and ``value`` flush right; the longer one wraps."""
        self.style(bold=bold, size="tall" if tall else "normal")
        for line in _row_lines(label.translate(_SPACES), value.translate(_SPACES), self.columns):
            self.p.textln(line)
        if bold or tall:
            self.style()

    def rule(self, char: str = "-") -> None:
        self.p.textln(char * self.columns)

    def reprint_banner(self) -> None:
        """`` REPRINT `` in large white-on-black letters, centred."""
        self.p.set(align="center", bold=True, double_width=True, double_height=True, invert=True)
        self.p.textln(" REPRINT ")
        self.p.set(invert=False)
        self.style()

    def qr(self, code: str, dots: int) -> None:
        """The QR symbol of ``code`` (level M), centred, about ``dots`` printer dots wide."""
        module = max(1, min(16, round(dots / len(qr_matrix(code)))))
        if self.qr_mode == "native":
            from escpos.constants import QR_ECLEVEL_M  # type: ignore[import-untyped]

            self.p.set(align="center")
            self.p.qr(code, ec=QR_ECLEVEL_M, size=module, native=True)  # level M, as the PDF
            self.p.ln()
            self.p.set(align="left")
            return
        from PIL import Image  # Pillow comes with python-escpos; only image mode needs it

        png = io.BytesIO()
        segno.make_qr(code, error=QR_ERROR_LEVEL).save(
            png, kind="png", scale=module, border=QR_QUIET_ZONE
        )
        png.seek(0)
        self.p.image(Image.open(png), center=True)

    def cut(self) -> None:
        """Feed past the cutter and cut (``GS V``)."""
        self.p.cut()

    def event_header(self, venue: str, event_name: str, starts: str) -> None:
        self.text(venue, align="center", bold=True, size="tall")
        self.text(event_name, align="center")
        self.text(starts, align="center")


def _wrap(text: str, width: int) -> list[str]:
    text = text.translate(_SPACES)
    return textwrap.wrap(text, max(1, width), break_on_hyphens=False) or [""]


def _row_lines(label: str, value: str, columns: int) -> list[str]:
    """Lines of a label/value row ``columns`` wide (value right-aligned on the first line)."""
    if len(label) + 1 + len(value) <= columns:
        return [(label + " " * (columns - len(label) - len(value)) + value).rstrip()]
    short, long = sorted((label, value), key=len)
    room = columns - len(short) - 1
    if room < 12:  # too narrow beside it: each on lines of their own
        return _wrap(label, columns) + [line.rjust(columns) for line in _wrap(value, columns)]
    wrapped = _wrap(long, room)
    labels, values = ([short], wrapped) if short is label else (wrapped, [short])
    lines = []
    for index in range(max(len(labels), len(values))):
        left = labels[index] if index < len(labels) else ""
        right = values[index] if index < len(values) else ""
        lines.append((left + " " * (columns - len(left) - len(right)) + right).rstrip())
    return lines


def _receipt(doc: _Doc, data: ReceiptData, *, ticket_qr: bool) -> None:
    money = data.currency
    doc.start()
    doc.event_header(
        data.venue, data.event_name, format_local_time(data.event_starts_at, data.timezone)
    )
    if data.reprint:
        doc.reprint_banner()
    doc.rule()
    doc.text(f"Sale #{data.sale_number:06d}", bold=True)
    doc.row("Date", format_local_time(data.sale_created_at, data.timezone))
    doc.row("Served by", data.staff_name)
    doc.row("Terminal", data.terminal_name)
    doc.rule()
    for line in data.lines:
        doc.row(
            f"{line.quantity} x {line.name} @ {format_money(line.unit_price, money)}",
            format_money(line.amount, money),
        )
    doc.rule("=")
    doc.row("TOTAL", format_money(data.total, money), bold=True, tall=True)
    if data.tendered is not None:
        doc.row("Cash tendered", format_money(data.tendered, money))
    if data.change is not None:
        doc.row("Change due", format_money(data.change, money))
    if data.tendered is None and data.change is None:
        doc.row("Payment", "Paid online")
    count = len(data.tickets)
    if ticket_qr:
        for number, ticket in enumerate(data.tickets, start=1):
            doc.rule()
            doc.text(f"Ticket {number} of {count}", align="center")
            doc.text(ticket.ticket_type, align="center", bold=True)
            doc.qr(ticket.code, TICKET_QR_DOTS)
            doc.text(ticket.code, align="center")
    elif data.tickets:
        doc.rule()
        doc.text(f"Tickets ({count})", bold=True)
        for number, ticket in enumerate(data.tickets, start=1):
            doc.text(f"{number}. {ticket.ticket_type}")
            doc.text(ticket.code, indent=3)
    refunded_commands(doc, data, ticket_qr=ticket_qr)
    doc.rule()
    doc.text(FOOTER if ticket_qr or not data.tickets else FOOTER_TICKETS_APART, align="center")
    doc.cut()


def _ticket(doc: _Doc, data: ReceiptData, ticket: ReceiptTicket, number: int) -> None:
    doc.start()
    doc.text(data.event_name, align="center", bold=True, size="tall")
    doc.text(format_local_time(data.event_starts_at, data.timezone), align="center", bold=True)
    doc.text(data.venue, align="center")
    if data.reprint:
        doc.reprint_banner()
    doc.rule()
    doc.text("ADMISSION", align="center")
    doc.text(ticket.ticket_type, align="center", bold=True, size="big")
    price = ticket_price(data, ticket)
    if price is not None:
        doc.text(format_money(price, data.currency), align="center")
    doc.qr(ticket.code, TICKET_QR_DOTS)
    doc.text(ticket.code, align="center")
    doc.rule()
    doc.row(f"Sale #{data.sale_number:06d}", f"Ticket {number} of {len(data.tickets)}")
    doc.row("Sold", format_local_time(data.sale_created_at, data.timezone))
    doc.text(TICKET_FOOTER, align="center")
    doc.cut()


def _tickets(doc: _Doc, data: ReceiptData, codes: Collection[str] | None) -> None:
    if codes is not None:
        unknown = set(codes) - {ticket.code for ticket in data.tickets}
        if unknown:
            raise ValueError(f"not tickets of sale {data.sale_number}: {sorted(unknown)}")
    for number, ticket in enumerate(data.tickets, start=1):
        if codes is None or ticket.code in codes:
            _ticket(doc, data, ticket, number)


def _hold_slip(doc: _Doc, data: HoldSlipData) -> None:
    zone, money = data.timezone, data.currency
    doc.start()
    doc.event_header(data.venue, data.event_name, format_local_time(data.event_starts_at, zone))
    if data.reprint:
        doc.reprint_banner()
    doc.rule()
    doc.text("CASH HOLD - HOLD CODE", align="center", bold=True)
    doc.p.ln()
    doc.text(group_code(data.hold_code), align="center", bold=True, size="huge")
    doc.text(spell_code(data.hold_code), align="center")
    doc.qr(data.hold_code, HOLD_QR_DOTS)
    doc.rule()
    doc.row("Customer", data.customer_name, bold=True)
    if data.customer_phone:
        doc.row("Phone", data.customer_phone)
    doc.rule()
    for line in data.lines:
        doc.row(
            f"{line.quantity} x {line.name} @ {format_money(line.unit_price, money)}",
            format_money(line.amount, money),
        )
    doc.rule("=")
    doc.row("TOTAL TO PAY", format_money(data.total, money), bold=True, tall=True)
    doc.p.ln()
    doc.text("PAY BY", align="center", bold=True)
    doc.text(format_local_time(data.expires_at, zone), align="center", bold=True, size="tall")
    doc.text(
        "Pay in cash at the box office before then, quoting the hold code. "
        "After that time the tickets go back on sale.",
        align="center",
    )
    doc.rule()
    doc.row("Held", format_local_time(data.created_at, zone))
    doc.row("Held by", data.staff_name)
    doc.row("Terminal", data.terminal_name)
    doc.rule()
    doc.text(HOLD_FOOTER, align="center")
    doc.cut()


def _refund_slip(doc: _Doc, data: RefundSlipData) -> None:
    money = data.currency
    doc.start()
    doc.event_header(
        data.venue, data.event_name, format_local_time(data.event_starts_at, data.timezone)
    )
    if data.reprint:
        doc.reprint_banner()
    doc.rule()
    doc.text("REFUND", align="center", bold=True, size="big")
    doc.text(f"Sale #{data.sale_number:06d}", bold=True)
    doc.row("Refunded", format_local_time(data.refunded_at, data.timezone))
    doc.row("Approved by", data.approver_name)
    doc.row("Paid back by", data.staff_name)
    doc.row("Terminal", data.terminal_name)
    doc.rule()
    doc.text("Refunded tickets", bold=True)
    for line in refund_lines(data):
        doc.row(
            f"{line.quantity} x {line.name} @ {format_money(line.unit_amount, money)}",
            format_money(line.amount, money),
        )
        for code in line.codes:
            doc.text(code, indent=3)
    doc.rule("=")
    label = "REFUNDED IN CASH" if data.method == "cash" else "REFUNDED TO PAYMENT"
    doc.row(label, format_money(data.amount, money), bold=True, tall=True)
    if data.method != "cash":
        doc.text("Paid back to the original payment, not from the drawer.")
    doc.text(f"Reason: {data.reason}")
    doc.p.ln(3)
    doc.rule("_")
    doc.text("Customer signature")
    doc.rule()
    doc.text(REFUND_FOOTER, align="center")
    doc.text(f"Refund {data.refund_id}", align="center")
    doc.cut()


def _commands(write: Callable[[_Doc], None], profile: str, qr_mode: QrMode) -> bytes:
    from escpos.printer import Dummy  # type: ignore[import-untyped]

    printer = Dummy(profile=profile)
    write(_Doc(printer, qr_mode))
    output: bytes = printer.output
    return output


def receipt_commands(
    data: ReceiptData,
    *,
    profile: str = DEFAULT_PROFILE,
    qr_mode: QrMode = "native",
    ticket_qr: bool = True,
) -> bytes:
    """ESC/POS job printing the receipt of ``data`` (one cut piece).

    Args:
        profile: python-escpos printer profile name (columns, code pages, image width).
        qr_mode: ``"native"`` (``GS ( k``) or ``"image"`` (raster bit image).
        ticket_qr: print each ticket's QR code on the receipt (the receipt admits); ``False``
            lists the codes only, for when the tickets print separately.

    Raises:
        KeyError: ``profile`` is not a python-escpos printer profile.
    """
    return _commands(lambda doc: _receipt(doc, data, ticket_qr=ticket_qr), profile, qr_mode)


def tickets_commands(
    data: ReceiptData,
    *,
    codes: Collection[str] | None = None,
    profile: str = DEFAULT_PROFILE,
    qr_mode: QrMode = "native",
) -> bytes:
    """ESC/POS job printing each admission ticket of ``data`` (only ``codes`` when given),
    each on its own cut piece, in sale order. Options as :func:`receipt_commands`.

    Raises:
        ValueError: ``codes`` names a ticket of another sale.
    """
    return _commands(lambda doc: _tickets(doc, data, codes), profile, qr_mode)


def sale_commands(
    data: ReceiptData, *, profile: str = DEFAULT_PROFILE, qr_mode: QrMode = "native"
) -> bytes:
    """ESC/POS job of everything a sale prints: the receipt (codes listed, no QR), then one
    cut ticket per admission; the same pieces as the PDF of
    :func:`~pos_app.receipts.tickets.render_sale_documents`."""

    def write(doc: _Doc) -> None:
        _receipt(doc, data, ticket_qr=False)
        _tickets(doc, data, None)

    return _commands(write, profile, qr_mode)


def hold_slip_commands(
    data: HoldSlipData, *, profile: str = DEFAULT_PROFILE, qr_mode: QrMode = "native"
) -> bytes:
    """ESC/POS job printing the hold slip of ``data``: the hold code at triple size."""
    return _commands(lambda doc: _hold_slip(doc, data), profile, qr_mode)


def refund_slip_commands(
    data: RefundSlipData, *, profile: str = DEFAULT_PROFILE, qr_mode: QrMode = "native"
) -> bytes:
    """ESC/POS job printing the refund slip of ``data``."""
    return _commands(lambda doc: _refund_slip(doc, data), profile, qr_mode)
