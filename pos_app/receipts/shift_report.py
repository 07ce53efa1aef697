"""Z-report (a closed shift's cash-up) and X-report (an open shift so far) as an 80 mm PDF.

Receipt width, like the slips, not A4: the box office prints on the thermal roll, and
:meth:`pos_app.gui.printing.printing.ReceiptPrinter.deliver` rasterises a PDF to the roll's width;
an A4 page shrunk to 72 mm would be unreadable. On a system printer it prints at its own size.
One page, as tall as its content (:mod:`pos_app.receipts.layout`, the house fonts).

Sections: header (title, shift, terminal, who opened / closed / approved, when), the cash
drawer (opening float, cash sales count and amount, cash refunds, pay-ins, pay-outs, drops,
then expected, counted and variance for a closed shift), the note, tickets by ticket type,
holds (placed, converted, released, expired, still active), sales (first and last number),
each cash movement, and a footer with the time printed.

An X-report never shows the expected cash: the server has not computed it while the shift
is open (the close is a blind count).

Build the data with :func:`shift_report_from_shift` (from the wire ``Shift``); render with
:func:`render_shift_report`, or save with :func:`write_shift_report`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pos_app.api.schemas import Shift
from pos_app.domain.money import format_money
from pos_app.receipts.layout import BOLD, ITALIC, REGULAR, Layout, render_pages, write_new_pdf
from pos_app.receipts.text import format_local_time

__all__ = [
    "X_TITLE",
    "Z_TITLE",
    "ShiftReportData",
    "ShiftReportMovement",
    "ShiftReportTicketType",
    "render_shift_report",
    "shift_report_filename",
    "shift_report_from_shift",
    "shift_report_layout",
    "signed_money",
    "write_shift_report",
]

Z_TITLE = "Z-REPORT"
X_TITLE = "X-REPORT (shift still open)"

_KINDS = {"pay_in": "Pay-in", "pay_out": "Pay-out", "drop": "Drop to safe"}


@dataclass(frozen=True, slots=True)
class ShiftReportTicketType:
    """Tickets of one type sold for cash in the shift; ``amount`` in minor units."""

    name: str
    tickets: int
    amount: int


@dataclass(frozen=True, slots=True)
class ShiftReportMovement:
    """One pay-in, pay-out or drop: ``kind`` as on the wire, ``amount`` > 0 minor units."""

    at: datetime
    kind: str
    amount: int
    reason: str


@dataclass(frozen=True, slots=True)
class ShiftReportData:
    """Everything printed on a shift report, resolved to plain values.

    Money is integer minor units of ``currency``; times are timezone-aware and shown in the
    venue's IANA ``timezone``. ``closed`` picks the Z-report (``expected``, ``counted`` and
    ``variance`` set) over the X-report (they are ``None``). Staff and terminal are display
    names (``None`` when the server did not say). ``first_sale`` / ``last_sale`` are sale
    numbers, ``None`` without sales.

    Raises:
        ValueError: a naive time or an unknown ``timezone``.
    """

    shift_id: int
    closed: bool
    currency: str
    timezone: str
    terminal: str | None
    opened_at: datetime
    opened_by: str | None
    closed_at: datetime | None
    closed_by: str | None
    approved_by: str | None
    opening_float: int
    cash_sales_count: int
    cash_sales: int
    refunds_count: int
    refunds: int
    pay_ins: int
    pay_outs: int
    drops: int
    expected: int | None
    counted: int | None
    variance: int | None
    note: str | None
    ticket_types: tuple[ShiftReportTicketType, ...]
    holds_placed: int
    holds_converted: int
    holds_released: int
    holds_expired: int
    holds_active: int
    first_sale: int | None
    last_sale: int | None
    movements: tuple[ShiftReportMovement, ...]
    printed_at: datetime

    def __post_init__(self) -> None:
        times = [self.opened_at, self.printed_at, *(m.at for m in self.movements)]
        if self.closed_at is not None:
            times.append(self.closed_at)
        for moment in times:
            if moment.tzinfo is None or moment.utcoffset() is None:
                raise ValueError(f"times must be timezone-aware, got {moment!r}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{self.timezone!r} is not an IANA time zone") from None

    @property
    def title(self) -> str:
        """:data:`Z_TITLE` for a closed shift, :data:`X_TITLE` for an open one."""
        return Z_TITLE if self.closed else X_TITLE


def shift_report_from_shift(shift: Shift, *, timezone: str,
                            printed_at: datetime) -> ShiftReportData:
    """The report of ``shift`` (``GET /v1/shifts/{id}``), times shown in ``timezone``.

    Raises:
        ValueError: ``printed_at`` is naive or ``timezone`` unknown; the shift came without
            its money totals (``blind``: a cashier's read of an open shift, docs/api.md).
    """
    if (shift.opening_float is None or shift.sales is None or shift.refunds is None
            or shift.pay_ins is None or shift.pay_outs is None or shift.drops is None
            or shift.ticket_types is None or shift.cash_movements is None):
        raise ValueError(f"Shift {shift.id}'s money totals are withheld while it is open "
                         "(blind count); a manager can print its X-report.")
    closed = shift.status == "closed"
    return ShiftReportData(
        shift_id=shift.id, closed=closed, currency=shift.currency, timezone=timezone,
        terminal=shift.terminal_name, opened_at=shift.opened_at,
        opened_by=shift.opened_by_name, closed_at=shift.closed_at,
        closed_by=shift.closed_by_name, approved_by=shift.approved_by_name,
        opening_float=shift.opening_float, cash_sales_count=shift.sales.count,
        cash_sales=shift.sales.amount, refunds_count=shift.refunds.count,
        refunds=shift.refunds.amount, pay_ins=shift.pay_ins, pay_outs=shift.pay_outs,
        drops=shift.drops,
        expected=shift.expected_cash if closed else None,
        counted=shift.counted_cash if closed else None,
        variance=shift.variance if closed else None, note=shift.note,
        ticket_types=tuple(ShiftReportTicketType(t.name, t.tickets, t.amount)
                           for t in shift.ticket_types),
        holds_placed=shift.holds.placed, holds_converted=shift.holds.converted,
        holds_released=shift.holds.released, holds_expired=shift.holds.expired,
        holds_active=shift.holds.active, first_sale=shift.first_sale_number,
        last_sale=shift.last_sale_number,
        movements=tuple(ShiftReportMovement(m.created_at, m.kind, m.amount, m.reason)
                        for m in shift.cash_movements),
        printed_at=printed_at)


def signed_money(amount: int, currency: str) -> str:
    """``format_money`` with a ``+`` before a positive amount (a variance: ``+$3.00``)."""
    return ("+" if amount > 0 else "") + format_money(amount, currency)


def _sale_number(number: int | None) -> str:
    return f"#{number:06d}" if number is not None else "none"


def _header(page: Layout, data: ShiftReportData) -> None:
    zone = data.timezone
    page.text(data.title, BOLD, 16 if data.closed else 13, "centre")
    page.gap(1)
    page.text(f"Shift {data.shift_id}", BOLD, 11, "centre")
    if data.terminal:
        page.text(data.terminal, REGULAR, 9, "centre")
    page.rule(dashed=True)
    page.row("Opened", format_local_time(data.opened_at, zone), REGULAR, 8)
    page.row("Opened by", data.opened_by or "-", REGULAR, 8)
    if data.closed_at is not None:
        page.row("Closed", format_local_time(data.closed_at, zone), REGULAR, 8)
        page.row("Closed by", data.closed_by or "-", REGULAR, 8)
    if data.approved_by:
        page.row("Variance approved by", data.approved_by, REGULAR, 8)


def _drawer(page: Layout, data: ShiftReportData) -> None:
    money = data.currency
    page.rule(dashed=True)
    page.text("CASH DRAWER", BOLD, 9)
    page.row("Opening float", format_money(data.opening_float, money))
    page.row(f"Cash sales ({data.cash_sales_count})", format_money(data.cash_sales, money))
    page.row(f"Cash refunds ({data.refunds_count})", format_money(-data.refunds, money))
    page.row("Pay-ins", format_money(data.pay_ins, money))
    page.row("Pay-outs", format_money(-data.pay_outs, money))
    page.row("Drops to safe", format_money(-data.drops, money))
    page.rule(weight=0.9)
    if data.expected is None or data.counted is None or data.variance is None:
        page.text("Expected cash is shown at the close (blind count).", ITALIC, 7.5)
        return
    page.row("EXPECTED", format_money(data.expected, money), BOLD, 10)
    page.row("COUNTED", format_money(data.counted, money), BOLD, 10)
    verdict = ("balanced" if data.variance == 0
               else "over" if data.variance > 0 else "short")
    page.row(f"VARIANCE ({verdict})", signed_money(data.variance, money), BOLD, 11)


def shift_report_layout(data: ShiftReportData) -> Layout:
    """Place every element of the report; the last ``y`` is the content's height."""
    money = data.currency
    page = Layout()
    _header(page, data)
    _drawer(page, data)
    if data.note:
        page.gap(1)
        page.text(f"Note: {data.note}", REGULAR, 8)

    page.rule(dashed=True)
    page.text("TICKETS BY TICKET TYPE (cash)", BOLD, 9)
    if not data.ticket_types:
        page.text("No tickets sold for cash.", REGULAR, 8)
    for line in data.ticket_types:
        page.row(f"{line.tickets} x {line.name}", format_money(line.amount, money))

    page.rule(dashed=True)
    page.text("HOLDS", BOLD, 9)
    page.row("Placed", str(data.holds_placed))
    page.row("Converted to sales", str(data.holds_converted))
    page.row("Released", str(data.holds_released))
    page.row("Expired", str(data.holds_expired))
    if data.holds_active:
        page.row("Still active", str(data.holds_active))

    page.rule(dashed=True)
    page.text("SALES", BOLD, 9)
    page.row("First sale", _sale_number(data.first_sale))
    page.row("Last sale", _sale_number(data.last_sale))

    if data.movements:
        page.rule(dashed=True)
        page.text("CASH MOVEMENTS", BOLD, 9)
        for movement in data.movements:
            page.row(f"{_KINDS.get(movement.kind, movement.kind)}  "
                     f"{format_local_time(movement.at, data.timezone)}",
                     format_money(movement.amount, money), REGULAR, 8)
            page.text(movement.reason, ITALIC, 7.5, indent=3)

    page.rule(dashed=True)
    page.text(f"Printed {format_local_time(data.printed_at, data.timezone)}", REGULAR, 7.5,
              "centre")
    return page


def render_shift_report(data: ShiftReportData) -> bytes:
    """The report of ``data`` as a one-page, 80 mm wide PDF (title ``Z-REPORT`` or
    ``X-REPORT``)."""
    title = f"{'Z' if data.closed else 'X'}-report - shift {data.shift_id}"
    return render_pages([shift_report_layout(data)], title=title,
                        author=data.terminal or "box office")


def shift_report_filename(data: ShiftReportData) -> str:
    """``z-report-shift-12.pdf``; an X-report adds the time printed
    (``x-report-shift-12-20260301-1800.pdf``, in UTC) so each one is kept."""
    if data.closed:
        return f"z-report-shift-{data.shift_id}.pdf"
    stamp = data.printed_at.astimezone(ZoneInfo("UTC")).strftime("%Y%m%d-%H%M%S")
    return f"x-report-shift-{data.shift_id}-{stamp}.pdf"


def write_shift_report(data: ShiftReportData, folder: Path) -> Path:
    """:func:`render_shift_report` written atomically to
    ``folder / shift_report_filename(data)``, as a new file: ``-2``, ``-3``... is added when
    the name is taken (another server's shift 12), never replacing one.

    Raises:
        OSError: ``folder`` is missing or not writable (no file is left behind).
    """
    return write_new_pdf(render_shift_report(data), Path(folder) / shift_report_filename(data))
