"""What a receipt shows: :class:`ReceiptData`, built from a confirmed sale and its event.

The receipt renderer reads only this value, never the wire schemas, so it can be tested and
benchmarked without a server. Money stays in integer minor units of ``currency`` until it is
formatted for people by :func:`pos_app.domain.money.format_money`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pos_app.api.schemas import Event, Sale

__all__ = ["ReceiptData", "ReceiptLine", "ReceiptTicket", "receipt_from_sale", "sale_file_stem",
           "ticket_price"]


class ReceiptLine(NamedTuple):
    """One sale line: ``quantity`` x ``name`` at ``unit_price``; prices in minor units."""

    name: str
    quantity: int
    unit_price: int
    amount: int


class ReceiptTicket(NamedTuple):
    """One admission: the ``code`` encoded in its QR, its ticket type's name, and the price
    paid for it in minor units (``None`` when unknown: :func:`ticket_price` then looks it up
    in the sale's lines)."""

    code: str
    ticket_type: str
    unit_price: int | None = None


@dataclass(frozen=True, slots=True)
class ReceiptData:
    """Everything printed on one receipt, already resolved to plain values.

    Attributes:
        venue: venue name, printed first in bold.
        event_name: event title; wrapped to the paper width when long.
        event_starts_at: timezone-aware start of the event (any zone; shown in ``timezone``).
        timezone: IANA zone of the venue, e.g. ``"America/Chicago"``; every time on the
            receipt is shown in it.
        sale_number: the sale's sequential number, printed as ``Sale #000042``.
        sale_created_at: timezone-aware instant of the sale (UTC on the wire).
        lines: sale lines, ``(name, quantity, unit_price, amount)``.
        total: sale total in minor units of ``currency``.
        currency: ISO 4217 code of every amount on the receipt.
        tendered: cash handed over in minor units, or ``None`` when paid elsewhere.
        change: change due in minor units, or ``None`` when paid elsewhere.
        staff_name: display name of the cashier.
        terminal_name: name of the terminal that made the sale.
        tickets: admissions, ``(code, ticket type name[, unit price])``, one QR code each.
        reprint: ``True`` prints a REPRINT banner and names the file ``...-reprint.pdf``.
        refunded: tickets of the sale refunded since (a reprint), in sale order: each is
            printed as a REFUNDED block without its QR code or full code, never as an
            admission (:mod:`pos_app.receipts.refunded`).
        sale_id: the server's id of the sale (not printed): its first 8 characters go into
            the file names, so sale 1 of one server never takes the name of another's.

    Raises:
        ValueError: a datetime is naive, ``timezone`` is not a known IANA zone, or
            ``sale_number`` is negative.
    """

    venue: str
    event_name: str
    event_starts_at: datetime
    timezone: str
    sale_number: int
    sale_created_at: datetime
    lines: tuple[ReceiptLine, ...]
    total: int
    currency: str
    tendered: int | None
    change: int | None
    staff_name: str
    terminal_name: str
    tickets: tuple[ReceiptTicket, ...]
    reprint: bool = False
    refunded: tuple[ReceiptTicket, ...] = ()
    sale_id: str = ""

    def __post_init__(self) -> None:
        for name in ("event_starts_at", "sale_created_at"):
            value: datetime = getattr(self, name)
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"{name} must be timezone-aware, got {value!r}")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{self.timezone!r} is not an IANA time zone") from None
        if self.sale_number < 0:
            raise ValueError(f"sale_number must not be negative, got {self.sale_number}")
        # Accept plain tuples from callers; store the named forms.
        object.__setattr__(self, "lines", tuple(ReceiptLine(*line) for line in self.lines))
        for name in ("tickets", "refunded"):
            tickets = tuple(ReceiptTicket(*ticket) for ticket in getattr(self, name))
            object.__setattr__(self, name, tickets)


def receipt_from_sale(
    sale: Sale,
    event: Event,
    *,
    staff_name: str,
    terminal_name: str,
    reprint: bool = False,
) -> ReceiptData:
    """The receipt of ``sale``, an admission to ``event``.

    Ticket type names come from the sale's lines, falling back to the event's ticket types.
    Refunded tickets are not admissions: they go to ``refunded`` (printed marked REFUNDED,
    without a QR code), never to ``tickets``. A sale paid
    elsewhere (``payment.method == "external"``) has no tendered or change amounts.

    Raises:
        ValueError: ``sale`` belongs to another event, a ticket's type is unknown to both
            the sale and the event, or a datetime is naive (see :class:`ReceiptData`).
    """
    if sale.event_id != event.id:
        raise ValueError(f"sale {sale.number} is for event {sale.event_id!r}, not {event.id!r}")
    names = {ticket_type.id: ticket_type.name for ticket_type in event.ticket_types}
    names.update({line.ticket_type_id: line.name for line in sale.lines})
    prices = {line.ticket_type_id: line.unit_price for line in sale.lines}
    tickets: list[ReceiptTicket] = []
    refunded: list[ReceiptTicket] = []
    for ticket in sale.tickets:
        if ticket.ticket_type_id not in names:
            raise ValueError(f"ticket {ticket.code} has unknown type {ticket.ticket_type_id}")
        (tickets if ticket.status == "valid" else refunded).append(
            ReceiptTicket(
                ticket.code, names[ticket.ticket_type_id], prices.get(ticket.ticket_type_id)
            )
        )
    return ReceiptData(
        venue=event.venue,
        event_name=event.name,
        event_starts_at=event.starts_at,
        timezone=event.timezone,
        sale_number=sale.number,
        sale_created_at=sale.created_at,
        lines=tuple(
            ReceiptLine(line.name, line.quantity, line.unit_price, line.amount)
            for line in sale.lines
        ),
        total=sale.total,
        currency=sale.currency,
        tendered=sale.payment.tendered,
        change=sale.payment.change,
        staff_name=staff_name,
        terminal_name=terminal_name,
        tickets=tuple(tickets),
        reprint=reprint,
        refunded=tuple(refunded),
        sale_id=sale.id,
    )


def sale_file_stem(kind: str, data: ReceiptData) -> str:
    """``<kind>-000042-<first 8 characters of the sale id>`` (``-reprint`` added): the name
    of a sale's documents in the receipts folder. Sale numbers start again at 1 on every
    server, the sale id is unique; without a sale id: ``<kind>-000042``."""
    short = "".join(char for char in data.sale_id if char.isalnum())[:8]
    return (f"{kind}-{data.sale_number:06d}{'-' + short if short else ''}"
            f"{'-reprint' if data.reprint else ''}")


def ticket_price(data: ReceiptData, ticket: ReceiptTicket) -> int | None:
    """Price paid for ``ticket`` in minor units of ``data.currency``.

    The ticket's own ``unit_price`` when set; otherwise the unit price of the sale lines named
    like its ticket type, when they agree on one; otherwise ``None`` (the price is not shown).
    """
    if ticket.unit_price is not None:
        return ticket.unit_price
    prices = {line.unit_price for line in data.lines if line.name == ticket.ticket_type}
    return prices.pop() if len(prices) == 1 else None
