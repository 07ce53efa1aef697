"""Refunds: money back for some or all tickets of a sale, in one guarded transaction.

``POST /v1/sales/{id, ticket code or number}/refunds`` (``shared/API.md``, Sales and
refunds):

1. Authorise before any write (:func:`authorize`): a channel token may not refund (403
   ``forbidden``); an unknown sale, or one out of the caller's scope (another till's sale
   by number: docs/api.md, Scopes), is 404 before any PIN is looked at; a manager approves
   their own refund; a cashier must give a manager's username and PIN in the body. When a
   manager block is given it is checked whoever calls (by the route: throttled, then
   :func:`pos_app.server.services.identity.approving_manager`; any refusal is one 403
   ``approval_refused``), and that manager approves.
2. Run once per ``Idempotency-Key`` (:func:`idempotency.run_idempotent`). The request hash
   leaves the manager's PIN out (it is never stored, not even hashed with the body).
3. In the effect's transaction: find the sale (404, not stored), pick the tickets (default:
   every still-valid ticket of the sale; a code of another sale: 422 ``invalid_request``, not
   stored; a ticket already refunded: 409 ``already_refunded``, stored), find the caller's
   open shift for a cash refund (none: 409 ``shift_not_open``, stored), expire lapsed holds
   of the ticket types, then under a SAVEPOINT insert the refund and its ``refund_tickets``
   rows (their primary key, the ticket code, makes a second refund of a ticket impossible
   even when two race on PostgreSQL: the loser gets 409 ``already_refunded``), mark the
   tickets refunded and guard last ``UPDATE ticket_types SET sold = sold - q WHERE id = :id
   AND sold >= q RETURNING`` in ticket type id order.
4. Set the sale's status (``partially_refunded`` or ``refunded``) and record the change with
   :func:`changes.record` (action ``refund``, ``approved_by`` the manager, the reason).

``already_refunded`` is not among the contract's codes (``API.md`` is silent on refunding a
ticket twice); it is documented in the OpenAPI responses of the route.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pos_app.api import schemas
from pos_app.api.errors import ERROR_STATUS, ErrorCode
from pos_app.server.db import Database
from pos_app.server.errors import ApiError
from pos_app.server.models import (
    Refund,
    RefundTicket,
    Sale,
    SaleLine,
    Shift,
    Ticket,
    TicketType,
)
from pos_app.server.services import changes, guards, idempotency, sales_query
from pos_app.server.services.expiry import expire_lapsed
from pos_app.server.services.principal import Principal

__all__ = ["ALREADY_REFUNDED", "RefundOutcome", "authorize", "create_refund", "find_sale"]

ALREADY_REFUNDED = ErrorCode.ALREADY_REFUNDED.value
"""Error code (409) of a refund naming a ticket that was refunded before."""


@dataclass(frozen=True)
class RefundOutcome:
    """What to answer: ``status`` and JSON ``body``; ``replayed`` when it came from the key."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


def _forbidden(message: str) -> ApiError:
    return ApiError(ErrorCode.FORBIDDEN, message)


def authorize(db: Database, principal: Principal, sale_ref: str,
              manager: schemas.ManagerApproval | None) -> int | None:
    """Check, before any PIN is looked at, that ``principal`` may refund sale ``sale_ref``:
    returns the approving manager's staff id when no PIN is needed (a manager refunding
    without a ``manager`` block approves their own), or ``None`` when ``manager``'s PIN
    must be checked next (:func:`pos_app.server.services.identity.approving_manager`).

    Raises:
        ApiError: 403 ``forbidden`` for a channel token or a cashier without a manager's
            credentials; 404 ``not_found`` when there is no such sale or it is out of the
            caller's scope (whatever the PIN).
    """
    if principal.is_channel or principal.staff_id is None:
        raise _forbidden("A channel token cannot refund; refunds are made at the box office.")
    with db.read() as session:
        find_sale(session, principal, sale_ref)
    if manager is not None:
        return None
    if principal.has_role("manager"):
        return principal.staff_id
    raise _forbidden("A cashier needs a manager's username and PIN to refund.")


def find_sale(session: Session, principal: Principal, ref: str, *,
              lock: bool = False) -> Sale:
    """The sale ``ref`` (its id, a ticket code on it, or its number) that ``principal`` may
    refund: the sales it may read (docs/api.md, Scopes; :func:`sales_query.find_readable_sale`),
    so a cashier reaches another till's sale only by its id or a ticket code, never by
    walking numbers. With ``lock`` the row is read again ``FOR UPDATE``.

    Raises:
        ApiError: 404 ``not_found``, the same for no such sale and one out of scope.
    """
    sale = sales_query.find_readable_sale(session, principal, ref)
    if sale is not None and lock:
        sale = session.scalars(select(Sale).where(Sale.id == sale.id)
                               .with_for_update()).first()
    if sale is None:
        raise ApiError(ErrorCode.NOT_FOUND, f"Sale {ref!r} was not found.")
    return sale


def _refusal(code: str, status: int, message: str, **extra: Any) -> RefundOutcome:
    return RefundOutcome(status=status, body={"error": code, "message": message, **extra})


def _already_refunded(codes: list[str]) -> RefundOutcome:
    return _refusal(ALREADY_REFUNDED, 409,
                    "Some of these tickets were already refunded; nothing was refunded.",
                    ticket_codes=sorted(codes))


def create_refund(db: Database, principal: Principal, sale_ref: str,
                  body: schemas.RefundCreate, *, approved_by: int, key: str, path: str,
                  now: datetime) -> RefundOutcome:
    """Refund tickets of sale ``sale_ref`` as ``principal`` under idempotency ``key``,
    approved by staff ``approved_by`` (found by :func:`authorize` and, with a manager's
    PIN, :func:`pos_app.server.services.identity.approving_manager`).

    Returns the outcome to send: 201 with the :class:`schemas.Refund` body, a stored
    refusal (409 ``already_refunded`` or ``shift_not_open``), or a replay of either.

    Raises:
        ApiError: 404 ``not_found`` (no such sale), 422 ``invalid_request`` (tickets of
            another sale), idempotency refusals; none of them stored.
    """
    hashed = body.model_dump(mode="json")
    if hashed.get("manager"):
        hashed["manager"] = {"username": hashed["manager"]["username"]}

    def effect(session: Session) -> RefundOutcome:
        return _refund(session, principal, sale_ref, body, approved_by, now)

    done = idempotency.run_idempotent(db, principal, key, method="POST", path=path,
                                      body=hashed, effect=effect, now=now)
    return RefundOutcome(done.status, done.body, replayed=done.replayed)


def _open_shift(session: Session, terminal_id: int | None) -> int | None:
    if terminal_id is None:
        return None
    return session.scalars(select(Shift.id).where(Shift.terminal_id == terminal_id,
                                                  Shift.status == "open")).first()


def _refund(session: Session, principal: Principal, sale_ref: str, body: schemas.RefundCreate,
            approved_by: int, now: datetime) -> RefundOutcome:
    sale = find_sale(session, principal, sale_ref, lock=True)
    tickets = {t.code: t for t in session.scalars(
        select(Ticket).where(Ticket.sale_id == sale.id).order_by(Ticket.code))}
    if body.ticket_codes is None:
        chosen = [t for t in tickets.values() if t.status == "valid"]
        if not chosen:
            return _already_refunded(list(tickets))
    else:
        foreign = sorted(c for c in body.ticket_codes if c not in tickets)
        if foreign:
            raise ApiError(ErrorCode.INVALID_REQUEST,
                           f"{len(foreign)} ticket code(s) do not belong to sale "
                           f"{sale.number or sale.id}.", ticket_codes=foreign)
        chosen = [tickets[c] for c in sorted(body.ticket_codes)]
        refunded = [t.code for t in chosen if t.status != "valid"]
        if refunded:
            return _already_refunded(refunded)

    shift_id = _open_shift(session, principal.terminal_id) if sale.method == "cash" else None
    if sale.method == "cash" and shift_id is None:
        return _refusal(str(ErrorCode.SHIFT_NOT_OPEN), ERROR_STATUS[ErrorCode.SHIFT_NOT_OPEN],
                        "Open a shift at this terminal before paying back cash.")

    prices = {ln.ticket_type_id: ln.unit_price for ln in session.scalars(
        select(SaleLine).where(SaleLine.sale_id == sale.id))}
    quantity = Counter(t.ticket_type_id for t in chosen)
    type_ids = sorted(quantity)
    expire_lapsed(session, type_ids, now=now)
    types = {t.id: t for t in session.scalars(
        select(TicketType).where(TicketType.id.in_(type_ids)).order_by(TicketType.id))}

    savepoint = session.begin_nested()
    refund = Refund(id=uuid.uuid4().hex, sale_id=sale.id,
                    amount=sum(prices[t.ticket_type_id] for t in chosen),
                    currency=sale.currency, method=sale.method, reason=body.reason.strip(),
                    approved_by=approved_by, staff_id=principal.staff_id,
                    terminal_id=principal.terminal_id, shift_id=shift_id,
                    channel=principal.channel, created_at=now)
    rows = [RefundTicket(ticket_code=t.code, refund_id=refund.id,
                         ticket_type_id=t.ticket_type_id, amount=prices[t.ticket_type_id])
            for t in chosen]
    try:
        session.add(refund)
        session.flush()
        session.add_all(rows)
        session.flush()
    except IntegrityError:  # PostgreSQL: a concurrent refund of one of these tickets won
        savepoint.rollback()
        return _already_refunded([t.code for t in chosen])
    marked = session.execute(
        update(Ticket).where(Ticket.code.in_([t.code for t in chosen]),
                             Ticket.status == "valid")
        .values(status="refunded").execution_options(synchronize_session=False))
    if getattr(marked, "rowcount", len(chosen)) != len(chosen):
        savepoint.rollback()
        return _already_refunded([t.code for t in chosen])

    counts: dict[int, changes.Counts] = {}
    for tt_id in type_ids:  # id order, like every guard
        q = quantity[tt_id]
        counts[tt_id] = guards.unsell(session, tt_id, q, of=f"sale {sale.id}")
    savepoint.commit()

    still_valid = sum(1 for t in tickets.values() if t.status == "valid") - len(chosen)
    sale.status = "refunded" if still_valid <= 0 else "partially_refunded"
    for t in chosen:
        t.status = "refunded"
    changes.record(session, [
        changes.CountChange(
            ticket_type_id=tt_id, event_id=types[tt_id].event_id, action="refund",
            quantity=quantity[tt_id],
            before=(counts[tt_id][0], counts[tt_id][1] + quantity[tt_id], counts[tt_id][2]),
            after=counts[tt_id], ladder=types[tt_id].alert_ladder)
        for tt_id in type_ids
    ], actor=changes.Actor(staff_id=principal.staff_id, terminal_id=principal.terminal_id,
                           channel=principal.channel, shift_id=shift_id,
                           approved_by=approved_by),
        ref_type="refund", ref_id=refund.id, reason=refund.reason, now=now)
    session.flush()
    for tt in types.values():
        session.expire(tt)
    out = schemas.Refund(
        id=refund.id, sale_id=sale.id, sale_number=sale.number,
        sale_status=sale.status,
        tickets=[schemas.RefundTicketOut(code=r.ticket_code, ticket_type_id=r.ticket_type_id,
                                         amount=r.amount) for r in rows],
        amount=refund.amount, currency=refund.currency,
        method=refund.method,
        reason=refund.reason, approved_by=approved_by, staff_id=refund.staff_id,
        terminal_id=refund.terminal_id, shift_id=shift_id, created_at=now)
    return RefundOutcome(status=201, body=out.model_dump(mode="json"))
