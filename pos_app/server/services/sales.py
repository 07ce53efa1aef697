"""The sale: one database transaction (``DESIGN.md``, "The sale, server side").

1. The caller authenticated (:class:`Principal`) and pydantic validated the body.
2. Claim the idempotency key (a replay or a refusal of the key ends here).
3. Check the lines (one event, known ticket types), the open shift and the cash tendered.
4. The guard, first: for each line in ticket type id order ``UPDATE ticket_types SET sold =
   sold + :q, version = version + 1 WHERE id = :id AND sold + held + :q <= capacity
   RETURNING capacity, sold, held`` (the last one also takes the sale number on
   PostgreSQL). A multi-line sale runs its guards in a savepoint; a line short of stock
   rolls them back. Then lapsed holds of these ticket types are expired
   (:func:`expiry.expire_lapsed`) and, if any was, the guards run once more; still short,
   409 ``insufficient_inventory``.
5. Insert the sale, its lines and its tickets, append the audit entries with the guard's
   before/after counts, take the transaction's inventory version, store the response with
   the key; commit. The INSERTs are deferred (:func:`pos_app.server.sql.defer`): on
   PostgreSQL they travel in one round trip with the next statement.

Deviation from the design note, on purpose: audit entries are appended after the guard, not
before it, so their before/after counts are the guard's own (``RETURNING``) and not a
read-then-write guess. A lapsed hold still counts as held until it is expired, which happens
only when a sale would otherwise be short (or by the sweeper): the guard then sees the same
availability as every read, which subtracts lapsed holds.

Round trips on PostgreSQL: the key's lock, the key, the ticket types and the shift are read
ahead in one round trip (:func:`pos_app.server.sql.read_ahead`), and the INSERTs travel with
the next statement. In a group-commit batch the reads and the guards of all its sales go in
the batch's first round trip (:class:`_SaleEffect`), so a sale in a busy batch costs none of
its own; a batch in which a sale cannot use its guard sent ahead runs again the plain way.
A hold's payment sends no guard ahead: it runs in turn, and no later sale's guard goes
before it (:mod:`pos_app.server.group_commit`), so its counts too are the audit's.

Outcomes stored with the key and replayed: 201 sale, 409 ``insufficient_inventory``,
422 ``insufficient_tender``. Not stored (the transaction rolls back): 422 ``invalid_request``
(unknown ticket type, lines of several events, non-cash payment from a terminal, non-external
payment from a channel token), 404 for an unknown ``hold_id`` (or another channel token's,
or for a cashier another terminal's checkout hold), 403 for a terminal converting a hold of
another channel or a manager paying another terminal's checkout hold, and every 5xx.

Channels and holds: a channel token's ``lines`` are guarded against the public limit
(:func:`holds.guard_limit`) and paid ``external``. ``{hold_id}``
converts a hold (:func:`_convert`): the hold is claimed (``active`` and unexpired, else the
stored 409 ``hold_expired`` / ``hold_not_active``), its quantities move held -> sold under a
``held >= :q`` guard, and the sale carries the hold's lines and prices and ``hold_id``.
"""

from __future__ import annotations

import base64
import functools
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pos_app.api import schemas
from pos_app.api.errors import ERROR_STATUS, ErrorCode
from pos_app.domain import cash
from pos_app.server import sql
from pos_app.server.db import Database
from pos_app.server.errors import ApiError
from pos_app.server.group_commit import SpeculationMissed
from pos_app.server.models import Hold, HoldLine, Sale, SaleLine, Ticket
from pos_app.server.services import (
    changes,
    expiry,
    guards,
    holds,
    idempotency,
    sales_query,
    shifts,
)
from pos_app.server.services.inventory import next_sale_number
from pos_app.server.services.principal import Principal

__all__ = ["SaleOutcome", "create_sale", "create_sale_async", "get_sale", "new_ticket_code"]


@dataclass(frozen=True)
class SaleOutcome:
    """What to answer: ``status`` and JSON ``body``; ``replayed`` when it came from the key."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


def new_ticket_code() -> str:
    """A ticket code: 16 random bytes as base32 without padding (26 characters, A-Z 2-7),
    which a QR code holds in its compact alphanumeric mode."""
    return base64.b32encode(secrets.token_bytes(16)).decode("ascii").rstrip("=")


def _refusal(code: ErrorCode, message: str, **extra: Any) -> SaleOutcome:
    return SaleOutcome(status=ERROR_STATUS[code],
                       body={"error": str(code), "message": message, **extra})


def _sale_out(sale: Any, lines: Sequence[Any], tickets: Sequence[Any]) -> schemas.Sale:
    """The wire shape of a sale from its rows (ORM objects or anything with the columns as
    attributes)."""
    return schemas.Sale(
        id=sale.id, number=sale.number or 0, status=sale.status,
        channel=sale.channel, event_id=sale.event_id,
        lines=[schemas.SaleLine(ticket_type_id=ln.ticket_type_id, name=ln.name,
                                quantity=ln.quantity, unit_price=ln.unit_price,
                                amount=ln.amount)
               for ln in sorted(lines, key=lambda ln: ln.ticket_type_id)],
        total=sale.total, currency=sale.currency,
        payment=schemas.PaymentOut(method=sale.method,
                                   tendered=sale.tendered, change=sale.change,
                                   reference=sale.reference),
        tickets=[schemas.Ticket(code=t.code, ticket_type_id=t.ticket_type_id,
                                status=t.status)
                 for t in sorted(tickets, key=lambda t: (t.ticket_type_id, t.code))],
        created_at=sale.created_at, terminal_id=sale.terminal_id, staff_id=sale.staff_id,
        shift_id=sale.shift_id,
    )


def _check_payment(principal: Principal, body: schemas.SaleCreate) -> None:
    """Terminals take cash; a channel token's shop took the money (``external``)."""
    if principal.is_channel and not isinstance(body.payment, schemas.ExternalPayment):
        raise ApiError(ErrorCode.INVALID_REQUEST,
                       "A sales channel pays externally: payment {method: external, reference}.")
    if not principal.is_channel and not isinstance(body.payment, schemas.CashPayment):
        raise ApiError(ErrorCode.INVALID_REQUEST, "Box-office terminals take cash payments.")


@dataclass(frozen=True)
class _Type:
    """What a sale needs of a ticket type (read with Core: no ORM identity map)."""

    id: int
    event_id: str
    name: str
    price: int
    ladder: list[int]
    currency: str


@functools.lru_cache(maxsize=64)
def _types_statement(count: int) -> sql.Statement:
    """The read of ``count`` ticket types: one :class:`~pos_app.server.sql.Statement` per
    count, so that a read-ahead (:meth:`_SaleEffect.read_ahead`) and the read itself are the
    same."""
    placeholders, _ = sql.in_list("id", [None] * count)
    return sql.Statement(
        "SELECT tt.id, tt.event_id, tt.name, tt.price, tt.alert_ladder, e.currency "
        "FROM ticket_types tt JOIN events e ON e.id = tt.event_id "
        f"WHERE tt.id IN ({placeholders}) ORDER BY tt.id")


def _types_query(body: schemas.SaleCreate) -> tuple[list[int], sql.Statement, dict[str, Any]]:
    assert body.lines is not None  # the schema guarantees hold_id xor lines
    ids = sorted(line.ticket_type_id for line in body.lines)
    return ids, _types_statement(len(ids)), sql.in_list("id", ids)[1]


class _SaleEffect(idempotency.GuardedEffect):
    """The effect of a sale of ``body.lines`` (:func:`_sell`) with what it sends ahead: its
    ticket types and the terminal's open shift, read ahead to travel with the idempotency
    key's round trip on PostgreSQL; in a group-commit batch on PostgreSQL its guards too
    (:meth:`send_ahead`).

    The guards go in the batch's round trip, each sale's right after those of the units
    before it, so a sale costs no round trip of its own; the writer sends none past a unit
    that runs in turn (a hold's payment) before that unit has run. While every sale uses its
    guards, the database goes through exactly the states it would one unit at a time, so
    each guard's counts are the ones the audit entry needs. A sale that cannot use its
    guards (a replayed key, a refusal before the guard, too few tickets, an error) makes
    :meth:`settle` or :meth:`take` raise :class:`SpeculationMissed`: the batch is rolled
    back and run again with each guard sent in its turn. The one trace of the first attempt
    is the sale numbers its guards' ``nextval`` took: a gap in the numbers, as a rolled-back
    sale leaves (:func:`next_sale_number`).
    """

    def __init__(self, principal: Principal, body: schemas.SaleCreate, now: datetime) -> None:
        assert body.lines is not None
        self._principal, self._body, self._now = principal, body, now
        self._lines = sorted((line.ticket_type_id, line.quantity) for line in body.lines)
        self._guards: list[sql.Ahead] | None = None
        self.claimed = False  # a sale stands on the guards sent ahead

    def read_ahead(self, session: Session) -> None:
        """Queue the reads of the sale's ticket types and the terminal's open shift."""
        self._guards, self.claimed = None, False
        _ids, statement, params = _types_query(self._body)
        sql.read_ahead(session, statement, params)
        shifts.read_ahead_open_shift(session, self._principal.terminal_id)

    def send_ahead(self, session: Session) -> None:
        """Queue the sale's guards, one per line in ticket type id order (the last one takes
        the sale number)."""
        plain, numbered = (guards.SELL_CHANNEL if self._principal.is_channel
                           else guards.SELL_BOX_OFFICE)
        last = len(self._lines) - 1
        self._guards = [sql.send_ahead(session, numbered if i == last else plain,
                                       {"q": q, "id": tt})
                        for i, (tt, q) in enumerate(self._lines)]

    def take(self) -> list[Any] | None:
        """The rows of the guards sent ahead, in ticket type id order (this sale now stands
        on them), or None when none were sent.

        Raises:
            SpeculationMissed: a line was short when its guard ran.
        """
        if self._guards is None:
            return None
        rows = [guard.result().fetchone() for guard in self._guards]
        if any(row is None for row in rows):
            raise SpeculationMissed("a guard sent ahead found too few tickets")
        self.claimed = True
        return rows

    def settle(self, session: Session, *, failed: bool) -> None:
        """After the unit (``failed``: it raised).

        Raises:
            SpeculationMissed: guards were sent ahead and no sale stands on them.
        """
        sent, self._guards = self._guards is not None, None
        if sent and (failed or not self.claimed):
            raise SpeculationMissed("a sale did not use the guards it sent ahead")

    def __call__(self, session: Session) -> SaleOutcome:
        _check_payment(self._principal, self._body)
        return _sell(session, self._principal, self._body, _load_types(session, self._body),
                     self._now, self)


def _load_types(session: Session, body: schemas.SaleCreate) -> list[_Type]:
    ids, statement, params = _types_query(body)
    rows = sql.execute(session, statement, params).fetchall()
    types = [_Type(int(r[0]), str(r[1]), str(r[2]), int(r[3]),
                   list(sql.from_db_json(r[4]) or []), str(r[5])) for r in rows]
    missing = sorted(set(ids) - {t.id for t in types})
    if missing:
        raise ApiError(ErrorCode.INVALID_REQUEST,
                       f"Unknown ticket type id(s): {', '.join(map(str, missing))}.",
                       ticket_type_ids=missing)
    if len({t.event_id for t in types}) != 1:
        raise ApiError(ErrorCode.INVALID_REQUEST, "All lines of a sale must be for one event.")
    return types


_INSERT_SALE = sql.Statement(
    "INSERT INTO sales (id, number, status, channel, event_id, total, currency, method, "
    "tendered, change, reference, created_at, terminal_id, staff_id, shift_id, "
    "channel_token_id) VALUES (:id, :number, :status, :channel, :event_id, :total, "
    ":currency, :method, :tendered, :change, :reference, :created_at, :terminal_id, "
    ":staff_id, :shift_id, :channel_token_id)")
_INSERT_LINE = sql.Statement(
    "INSERT INTO sale_lines (sale_id, ticket_type_id, name, quantity, unit_price, amount) "
    "VALUES (:sale_id, :ticket_type_id, :name, :quantity, :unit_price, :amount)")
_INSERT_TICKET = sql.Statement(
    "INSERT INTO tickets (code, sale_id, ticket_type_id, status) "
    "VALUES (:code, :sale_id, :ticket_type_id, :status)")


def create_sale(db: Database, principal: Principal, body: schemas.SaleCreate, *, key: str,
                path: str, now: datetime) -> SaleOutcome:
    """Sell ``body.lines`` for cash as ``principal`` under idempotency ``key``.

    Returns the outcome to send (201 Sale body, or a stored business refusal), possibly a
    replay. Raises :class:`ApiError` for refusals that are not stored (see module notes).
    """
    done = idempotency.run_idempotent(db, principal, key, method="POST", path=path,
                                      body=body.model_dump(mode="json"),
                                      effect=_effect(principal, body, now), now=now)
    return SaleOutcome(done.status, done.body, replayed=done.replayed)


async def create_sale_async(db: Database, principal: Principal, body: schemas.SaleCreate, *,
                            key: str, path: str, now: datetime) -> SaleOutcome:
    """:func:`create_sale` from an event loop: the sale is group-committed with the other
    requests queued at that moment (:func:`idempotency.run_idempotent_async`); answered
    only after the commit. Returns and raises as :func:`create_sale`."""
    done = await idempotency.run_idempotent_async(
        db, principal, key, method="POST", path=path, body=body.model_dump(mode="json"),
        effect=_effect(principal, body, now), now=now)
    return SaleOutcome(done.status, done.body, replayed=done.replayed)


def _effect(principal: Principal, body: schemas.SaleCreate,
            now: datetime) -> Callable[[Session], SaleOutcome]:
    """The effect of ``POST /v1/sales``: a sale of lines (:class:`_SaleEffect`, whose guards
    may go ahead in a batch), or a hold's payment (:func:`_convert`, which runs in turn: it
    moves counts with its own statements as it runs)."""
    if body.hold_id is None:
        return _SaleEffect(principal, body, now)
    hold_id = body.hold_id

    def pay_hold(session: Session) -> SaleOutcome:
        _check_payment(principal, body)
        return _convert(session, principal, body, hold_id, now)

    return pay_hold


def _sell(session: Session, principal: Principal, body: schemas.SaleCreate,
          types: list[_Type], now: datetime, ahead: _SaleEffect | None = None) -> SaleOutcome:
    """The sale of ``body.lines``: the hot path, in raw statements (:mod:`pos_app.server.sql`),
    the guard first and the rows it pays for after it."""
    assert body.lines is not None
    # Box-office cash goes into a drawer: it needs the terminal's open shift (stored refusal).
    shift_id = shifts.open_shift_id(session, principal.terminal_id)
    if shift_id is None and not principal.is_channel:
        return _refusal(ErrorCode.SHIFT_NOT_OPEN,
                        "No shift is open at this terminal; open one before selling for cash.")
    quantity = {line.ticket_type_id: line.quantity for line in body.lines}
    total = sum(t.price * quantity[t.id] for t in types)
    paid = _settle(body.payment, total)
    if isinstance(paid, SaleOutcome):
        return paid
    guarded = _guard_lines(session, principal, types, quantity, ahead)
    if isinstance(guarded, int) and expiry.expire_lapsed(session, list(quantity), now=now):
        # Lapsed holds count as held until expired: those on these ticket types just gave
        # their tickets back, so try once more before refusing.
        guarded = _guard_lines(session, principal, types, quantity)
    if isinstance(guarded, int):
        refused = holds.insufficient(
            session, principal, quantity, failed=guarded,
            message="Not enough tickets left for this sale; nothing was sold.")
        return SaleOutcome(refused.status, refused.body)
    counts, number = guarded

    sale_id = uuid.uuid4().hex
    sale = {"id": sale_id, "number": number, "status": "confirmed",
            "channel": principal.channel, "event_id": types[0].event_id, "total": total,
            "currency": types[0].currency, "method": paid.method, "tendered": paid.tendered,
            "change": paid.change, "reference": paid.reference, "created_at": now,
            "terminal_id": principal.terminal_id, "staff_id": principal.staff_id,
            "shift_id": shift_id, "channel_token_id": principal.channel_token_id}
    lines = [{"sale_id": sale_id, "ticket_type_id": t.id, "name": t.name,
              "quantity": quantity[t.id], "unit_price": t.price,
              "amount": t.price * quantity[t.id]} for t in types]
    tickets = [{"code": new_ticket_code(), "sale_id": sale_id, "ticket_type_id": t.id,
                "status": "valid"} for t in types for _ in range(quantity[t.id])]
    # New rows only (their failure would be a bug): sent with the next statement that reads.
    sql.defer(session, _INSERT_SALE, {**sale, "created_at": sql.db_time(session, now)})
    sql.defer(session, _INSERT_LINE, lines)
    sql.defer(session, _INSERT_TICKET, tickets)

    changes.record(session, [
        changes.CountChange(
            ticket_type_id=t.id, event_id=t.event_id, action="sale", quantity=quantity[t.id],
            before=(counts[t.id][0], counts[t.id][1] - quantity[t.id], counts[t.id][2]),
            after=counts[t.id], ladder=t.ladder)
        for t in types
    ], actor=changes.Actor(staff_id=principal.staff_id, terminal_id=principal.terminal_id,
                           channel=principal.channel, shift_id=shift_id),
        ref_type="sale", ref_id=sale_id, reason=None, now=now)
    out = _sale_out(SimpleNamespace(**sale), [SimpleNamespace(**ln) for ln in lines],
                    [SimpleNamespace(**tk) for tk in tickets])
    return SaleOutcome(status=201, body=out.model_dump(mode="json"))


def _guard_lines(session: Session, principal: Principal, types: list[_Type],
                 quantity: dict[int, int], ahead: _SaleEffect | None = None,
                 ) -> tuple[dict[int, tuple[int, int, int]], int] | int:
    """Run the guard of every line in ticket type id order (concurrent multi-line sales lock
    rows in one order); returns the ``(capacity, sold, held)`` after each and the sale number,
    or, having changed nothing, the ticket type id of the first line that is short. A single
    line needs no savepoint: its one guard either changed the row or did nothing. With guards
    sent ahead (``ahead``, see :class:`_SaleEffect`) their answers are used instead.

    Raises:
        SpeculationMissed: a guard sent ahead was short (the batch runs again).
    """
    rows = ahead.take() if ahead is not None else None
    if rows is not None:
        return ({t.id: (int(row[0]), int(row[1]), int(row[2]))
                 for t, row in zip(types, rows, strict=True)}, int(rows[-1][3]))
    plain, numbered = guards.SELL_CHANNEL if principal.is_channel else guards.SELL_BOX_OFFICE
    savepoint = session.begin_nested() if len(types) > 1 else None
    counts: dict[int, tuple[int, int, int]] = {}
    number: int | None = None
    for i, t in enumerate(types):
        last = i == len(types) - 1
        row = sql.execute(session, numbered if last else plain,
                          {"q": quantity[t.id], "id": t.id}).fetchone()
        if row is None:
            if savepoint is not None:
                savepoint.rollback()
            return t.id
        counts[t.id] = (int(row[0]), int(row[1]), int(row[2]))
        number = int(row[3]) if row[3] is not None else None
    if savepoint is not None:
        savepoint.commit()
    return counts, number if number is not None else next_sale_number(session)


@dataclass(frozen=True)
class _Paid:
    method: str
    tendered: int | None
    change: int | None
    reference: str | None


def _settle(payment: schemas.CashPayment | schemas.ExternalPayment,
            total: int) -> _Paid | SaleOutcome:
    """The payment to record, or the stored 422 ``insufficient_tender``."""
    if isinstance(payment, schemas.ExternalPayment):
        return _Paid("external", None, None, payment.reference)
    try:
        change = cash.change_due(total, payment.tendered)
    except cash.InsufficientTender:
        return _refusal(ErrorCode.INSUFFICIENT_TENDER,
                        f"Cash tendered ({payment.tendered}) is less than the total ({total}).",
                        total=total, tendered=payment.tendered)
    return _Paid("cash", payment.tendered, change, None)


def _convert(session: Session, principal: Principal, body: schemas.SaleCreate, ref: str,
             now: datetime) -> SaleOutcome:
    """Convert the hold ``ref`` (id or code) into a sale: held -> sold in this transaction.

    Stored refusals: 409 ``hold_expired`` (lapsed, even before the sweeper), 409
    ``hold_not_active`` with ``status``, 409 ``shift_not_open``, 422 ``insufficient_tender``.
    Not stored: 404 (no such hold, another channel token's, or for a cashier another
    terminal's checkout hold), 403 (a terminal converting another channel's hold; a manager
    paying another terminal's checkout hold).
    """
    hold = holds.find_hold(session, principal, ref)
    if not principal.is_channel and hold.channel != principal.channel:
        raise ApiError(ErrorCode.FORBIDDEN,
                       f"Hold {hold.code} belongs to the {hold.channel} channel; only it may "
                       "convert it.")
    if hold.kind == "checkout" and hold.terminal_id != principal.terminal_id:
        # Only a manager gets here (a cashier does not see it): the basket is at its till.
        raise ApiError(ErrorCode.FORBIDDEN,
                       f"Hold {hold.code} is a basket being paid at another terminal; it is "
                       "paid there.")
    if holds.effective_status(hold, now) != "active":
        refused = holds.not_active_refusal(hold, now)
        return SaleOutcome(refused.status, refused.body)
    shift_id = shifts.open_shift_id(session, principal.terminal_id)
    if shift_id is None and not principal.is_channel:
        return _refusal(ErrorCode.SHIFT_NOT_OPEN,
                        "No shift is open at this terminal; open one before selling for cash.")
    paid = _settle(body.payment, hold.total)
    if isinstance(paid, SaleOutcome):
        return paid
    claimed = session.execute(
        update(Hold).where(Hold.id == hold.id, Hold.status == "active", Hold.expires_at > now)
        .values(status="converted", ended_at=now)
        .returning(Hold.id).execution_options(synchronize_session=False)).first()
    if claimed is None:  # converted, released or swept since it was read
        session.refresh(hold)
        refused = holds.not_active_refusal(hold, now)
        return SaleOutcome(refused.status, refused.body)
    hold_lines = sorted(session.scalars(select(HoldLine).where(HoldLine.hold_id == hold.id)),
                        key=lambda ln: ln.ticket_type_id)
    expiry.expire_lapsed(session, [ln.ticket_type_id for ln in hold_lines], now=now)

    recorded: list[changes.CountChange] = []
    for ln in hold_lines:  # id order, like every guard
        after, ladder = guards.sell_held(session, ln.ticket_type_id, ln.quantity,
                                         of=f"hold {hold.id}")
        recorded.append(changes.CountChange(
            ticket_type_id=ln.ticket_type_id, event_id=hold.event_id, action="sale",
            quantity=ln.quantity, before=(after[0], after[1] - ln.quantity,
                                          after[2] + ln.quantity),
            after=after, ladder=ladder))

    sale = Sale(id=uuid.uuid4().hex, number=None, status="confirmed", channel=principal.channel,
                event_id=hold.event_id, total=hold.total, currency=hold.currency,
                method=paid.method, tendered=paid.tendered, change=paid.change,
                reference=paid.reference, created_at=now, terminal_id=principal.terminal_id,
                staff_id=principal.staff_id, shift_id=shift_id, hold_id=hold.id,
                channel_token_id=principal.channel_token_id)
    lines = [SaleLine(sale_id=sale.id, ticket_type_id=ln.ticket_type_id, name=ln.name,
                      quantity=ln.quantity, unit_price=ln.unit_price, amount=ln.amount)
             for ln in hold_lines]
    tickets = [Ticket(code=new_ticket_code(), sale_id=sale.id, ticket_type_id=ln.ticket_type_id,
                      status="valid") for ln in hold_lines for _ in range(ln.quantity)]
    session.add(sale)
    session.flush()
    session.add_all([*lines, *tickets])
    sale.number = next_sale_number(session)
    changes.record(session, recorded, actor=changes.Actor(
        staff_id=principal.staff_id, terminal_id=principal.terminal_id,
        channel=principal.channel, shift_id=shift_id),
        ref_type="sale", ref_id=sale.id, reason=f"hold {hold.code} converted", now=now)
    session.flush()
    return SaleOutcome(status=201, body=_sale_out(sale, lines, tickets).model_dump(mode="json"))


def get_sale(session: Session, principal: Principal, ref: str) -> schemas.Sale:
    """The sale ``ref`` as ``principal`` may read it (docs/api.md, Scopes): ``ref`` is the
    sale's id (32 hex characters), a ticket code on it (26 characters of base32, any case) or
    its number (digits).

    A channel token reads only the sales it made; a cashier reads its own terminal's sales
    by any of the three, and another terminal's box-office sale only by its id or a ticket
    code (both unguessable), never by the sequential number; a manager reads any.

    Raises:
        ApiError: 404 ``not_found``, the same answer for a sale that does not exist and one
            the caller may not read.
    """
    sale = sales_query.find_readable_sale(session, principal, ref)
    if sale is None:
        raise ApiError(ErrorCode.NOT_FOUND, f"Sale {ref!r} was not found.")
    lines = list(session.scalars(select(SaleLine).where(SaleLine.sale_id == sale.id)).all())
    tickets = list(session.scalars(select(Ticket).where(Ticket.sale_id == sale.id)).all())
    return _sale_out(sale, lines, tickets)
