"""``GET /v1/sales?shift_id=&from=&to=&limit=&cursor=``: sales oldest first, keyset-paged.

Pages by the sale ``number`` (unique, sequential) with an opaque cursor (URL-safe base64 of
``{"number": last number}``); ``from`` is inclusive and ``to`` exclusive on ``created_at``.
A channel token sees only its own sales. Lines and tickets of a page are loaded with one
query each (no query per sale).
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from pos_app.api import schemas
from pos_app.api.errors import ErrorCode
from pos_app.server.errors import ApiError
from pos_app.server.inputs import cursor_int
from pos_app.server.models import Sale, SaleLine, Ticket
from pos_app.server.services.principal import Principal

__all__ = ["list_sales", "sale_out"]


def _encode(number: int) -> str:
    raw = json.dumps({"number": number}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _decode(cursor: str) -> int:
    try:
        number = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))[
            "number"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise ApiError(ErrorCode.INVALID_REQUEST, "The cursor is not valid.") from None
    return cursor_int(number)


def sale_out(sale: Sale, lines: list[SaleLine], tickets: list[Ticket]) -> schemas.Sale:
    """The wire shape of ``sale`` (lines by ticket type, tickets by type then code)."""
    return schemas.Sale.model_validate({
        "id": sale.id, "number": sale.number or 0, "status": sale.status,
        "channel": sale.channel, "event_id": sale.event_id,
        "lines": [{"ticket_type_id": ln.ticket_type_id, "name": ln.name,
                   "quantity": ln.quantity, "unit_price": ln.unit_price, "amount": ln.amount}
                  for ln in sorted(lines, key=lambda ln: ln.ticket_type_id)],
        "total": sale.total, "currency": sale.currency,
        "payment": {"method": sale.method, "tendered": sale.tendered, "change": sale.change,
                    "reference": sale.reference},
        "tickets": [{"code": t.code, "ticket_type_id": t.ticket_type_id, "status": t.status}
                    for t in sorted(tickets, key=lambda t: (t.ticket_type_id, t.code))],
        "created_at": sale.created_at, "terminal_id": sale.terminal_id,
        "staff_id": sale.staff_id, "shift_id": sale.shift_id,
    })


def list_sales(session: Session, principal: Principal, *, shift_id: int | None = None,
               from_: datetime | None = None, to: datetime | None = None, limit: int = 100,
               cursor: str | None = None) -> schemas.SalesPage:
    """One page of sales matching the filters, by ascending number.

    Raises:
        ApiError: 422 ``invalid_request`` for a bad cursor.
    """
    conditions: list[ColumnElement[bool]] = [Sale.number.is_not(None)]
    if principal.is_channel:
        conditions.append(Sale.channel_token_id == principal.channel_token_id)
    if shift_id is not None:
        conditions.append(Sale.shift_id == shift_id)
    if from_ is not None:
        conditions.append(Sale.created_at >= from_)
    if to is not None:
        conditions.append(Sale.created_at < to)
    if cursor is not None:
        conditions.append(Sale.number > _decode(cursor))
    sales = list(session.scalars(select(Sale).where(*conditions).order_by(Sale.number)
                                 .limit(limit + 1)))
    more = len(sales) > limit
    sales = sales[:limit]
    ids = [s.id for s in sales]
    lines: dict[str, list[SaleLine]] = {}
    tickets: dict[str, list[Ticket]] = {}
    if ids:
        for ln in session.scalars(select(SaleLine).where(SaleLine.sale_id.in_(ids))):
            lines.setdefault(ln.sale_id, []).append(ln)
        for t in session.scalars(select(Ticket).where(Ticket.sale_id.in_(ids))):
            tickets.setdefault(t.sale_id, []).append(t)
    return schemas.SalesPage(
        sales=[sale_out(s, lines.get(s.id, []), tickets.get(s.id, [])) for s in sales],
        next_cursor=_encode(sales[-1].number or 0) if more and sales else None)
