"""What the hold slip and the refund slip show, resolved to plain values.

Like :class:`~pos_app.receipts.data.ReceiptData`, these are what the PDF and ESC/POS
renderers read, never the wire schemas. Money stays in integer minor units of ``currency``;
times are timezone-aware instants shown in the venue's IANA ``timezone``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pos_app.api.schemas import Event, Hold, Refund, Sale
from pos_app.receipts.data import ReceiptLine

__all__ = [
    "HoldSlipData",
    "RefundLine",
    "RefundSlipData",
    "RefundSlipTicket",
    "hold_slip_from_hold",
    "refund_lines",
    "refund_slip_from_refund",
]


def _check(document: object, times: tuple[str, ...], timezone: str) -> None:
    """Raise ``ValueError`` when one of ``times`` is naive or ``timezone`` is unknown."""
    for name in times:
        value: datetime = getattr(document, name)
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name} must be timezone-aware, got {value!r}")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{timezone!r} is not an IANA time zone") from None


@dataclass(frozen=True, slots=True)
class HoldSlipData:
    """Everything printed on a cash hold's slip.

    Attributes:
        venue, event_name: as on the receipt.
        event_starts_at: timezone-aware start of the event.
        timezone: IANA zone of the venue; every time on the slip is shown in it.
        hold_code: the code the customer quotes to pay, e.g. ``"K7QX3M"``; printed large in
            groups of three, spelled out, and as a QR code.
        customer_name: who the tickets are held for (required, not blank).
        customer_phone: the customer's phone, or ``None``.
        lines: held lines, ``(name, quantity, unit_price, amount)``, prices in minor units.
        total: amount to pay in minor units of ``currency``.
        currency: ISO 4217 code of every amount on the slip.
        created_at: timezone-aware instant the hold was placed.
        expires_at: timezone-aware instant the tickets go back on sale ("Pay by").
        staff_name, terminal_name: who placed the hold, where.
        reprint: ``True`` marks the slip REPRINT.

    Raises:
        ValueError: a datetime is naive, ``timezone`` is unknown, or the code or customer
            name is blank.
    """

    venue: str
    event_name: str
    event_starts_at: datetime
    timezone: str
    hold_code: str
    customer_name: str
    customer_phone: str | None
    lines: tuple[ReceiptLine, ...]
    total: int
    currency: str
    created_at: datetime
    expires_at: datetime
    staff_name: str
    terminal_name: str
    reprint: bool = False

    def __post_init__(self) -> None:
        _check(self, ("event_starts_at", "created_at", "expires_at"), self.timezone)
        if not self.hold_code.strip():
            raise ValueError("a hold slip needs the hold code")
        if not self.customer_name.strip():
            raise ValueError("a hold slip needs the customer's name")
        object.__setattr__(self, "lines", tuple(ReceiptLine(*line) for line in self.lines))


class RefundSlipTicket(NamedTuple):
    """One refunded ticket: its ``code``, ticket type name, and ``amount`` paid back (minor
    units)."""

    code: str
    ticket_type: str
    amount: int


class RefundLine(NamedTuple):
    """Refunded tickets of one type and price: ``quantity`` x ``name`` at ``unit_amount``,
    ``amount`` in all, and their ``codes``."""

    name: str
    quantity: int
    unit_amount: int
    amount: int
    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RefundSlipData:
    """Everything printed on a refund slip (kept by the box office, signed by the customer).

    Attributes:
        venue, event_name, event_starts_at, timezone: as on the receipt.
        sale_number: the refunded sale's number, printed as ``Sale #000042``.
        refund_id: the refund's id (several refunds of one sale have different ids).
        tickets: refunded tickets, ``(code, ticket type name, amount)``.
        amount: total paid back in minor units of ``currency``.
        currency: ISO 4217 code of every amount on the slip.
        method: ``"cash"`` (paid back from the drawer) or ``"external"`` (to the original
            payment).
        reason: why the tickets were refunded, as typed.
        approver_name: display name of the manager who approved the refund.
        staff_name, terminal_name: who paid it back, where.
        refunded_at: timezone-aware instant of the refund.
        reprint: ``True`` marks the slip REPRINT.

    Raises:
        ValueError: a datetime is naive, ``timezone`` is unknown, or there is no ticket.
    """

    venue: str
    event_name: str
    event_starts_at: datetime
    timezone: str
    sale_number: int
    refund_id: str
    tickets: tuple[RefundSlipTicket, ...]
    amount: int
    currency: str
    method: Literal["cash", "external"]
    reason: str
    approver_name: str
    staff_name: str
    terminal_name: str
    refunded_at: datetime
    reprint: bool = False

    def __post_init__(self) -> None:
        _check(self, ("event_starts_at", "refunded_at"), self.timezone)
        if not self.tickets:
            raise ValueError("a refund slip needs at least one refunded ticket")
        object.__setattr__(
            self, "tickets", tuple(RefundSlipTicket(*ticket) for ticket in self.tickets)
        )


def refund_lines(data: RefundSlipData) -> list[RefundLine]:
    """``data.tickets`` grouped by ticket type and amount, in the order first seen."""
    groups: dict[tuple[str, int], list[str]] = {}
    for ticket in data.tickets:
        groups.setdefault((ticket.ticket_type, ticket.amount), []).append(ticket.code)
    return [
        RefundLine(name, len(codes), unit, unit * len(codes), tuple(codes))
        for (name, unit), codes in groups.items()
    ]


def hold_slip_from_hold(
    hold: Hold,
    event: Event,
    *,
    staff_name: str,
    terminal_name: str,
    reprint: bool = False,
) -> HoldSlipData:
    """The slip of cash hold ``hold`` on ``event``.

    Raises:
        ValueError: ``hold`` is for another event, has no customer (a checkout hold), or a
            value is invalid (see :class:`HoldSlipData`).
    """
    if hold.event_id != event.id:
        raise ValueError(f"hold {hold.code} is for event {hold.event_id!r}, not {event.id!r}")
    if hold.customer is None:
        raise ValueError(f"hold {hold.code} has no customer: only cash holds get a slip")
    return HoldSlipData(
        venue=event.venue,
        event_name=event.name,
        event_starts_at=event.starts_at,
        timezone=event.timezone,
        hold_code=hold.code,
        customer_name=hold.customer.name,
        customer_phone=hold.customer.phone,
        lines=tuple(
            ReceiptLine(line.name, line.quantity, line.unit_price, line.amount)
            for line in hold.lines
        ),
        total=hold.total,
        currency=hold.currency,
        created_at=hold.created_at,
        expires_at=hold.expires_at,
        staff_name=staff_name,
        terminal_name=terminal_name,
        reprint=reprint,
    )


def refund_slip_from_refund(
    refund: Refund,
    sale: Sale,
    event: Event,
    *,
    approver_name: str,
    staff_name: str,
    terminal_name: str,
    reprint: bool = False,
) -> RefundSlipData:
    """The slip of ``refund`` of ``sale`` (an admission to ``event``).

    ``approver_name`` is the display name of the manager whose id is ``refund.approved_by``
    (the caller knows the staff list; the refund carries only the id).

    Raises:
        ValueError: ``refund`` is of another sale, ``sale`` of another event, a ticket's type
            is unknown, or a value is invalid (see :class:`RefundSlipData`).
    """
    if refund.sale_id != sale.id:
        raise ValueError(f"refund {refund.id} is of sale {refund.sale_id!r}, not {sale.id!r}")
    if sale.event_id != event.id:
        raise ValueError(f"sale {sale.number} is for event {sale.event_id!r}, not {event.id!r}")
    names = {ticket_type.id: ticket_type.name for ticket_type in event.ticket_types}
    names.update({line.ticket_type_id: line.name for line in sale.lines})
    tickets = []
    for ticket in refund.tickets:
        if ticket.ticket_type_id not in names:
            raise ValueError(f"ticket {ticket.code} has unknown type {ticket.ticket_type_id}")
        tickets.append(RefundSlipTicket(ticket.code, names[ticket.ticket_type_id], ticket.amount))
    return RefundSlipData(
        venue=event.venue,
        event_name=event.name,
        event_starts_at=event.starts_at,
        timezone=event.timezone,
        sale_number=refund.sale_number if refund.sale_number is not None else sale.number,
        refund_id=refund.id,
        tickets=tuple(tickets),
        amount=refund.amount,
        currency=refund.currency,
        method=refund.method,
        reason=refund.reason,
        approver_name=approver_name,
        staff_name=staff_name,
        terminal_name=terminal_name,
        refunded_at=refund.created_at,
        reprint=reprint,
    )
