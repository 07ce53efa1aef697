"""Holds: tickets reserved for a while (``shared/API.md``, Holds).

Placing a hold is one transaction shaped like a sale (``DESIGN.md``, "The sale, server
side"): claim the idempotency key; check the lines (known ticket types, one event); expire
the lapsed holds of those ticket types (:func:`expiry.expire_lapsed`); SAVEPOINT; insert the
hold and its lines; guard last, per line in ticket type id order::

    UPDATE ticket_types SET held = held + :q, version = version + 1
     WHERE id = :id AND sold + held + :q <= :limit RETURNING capacity, sold, held

where ``:limit`` is ``capacity`` for the box office and ``min(coalesce(public_limit,
capacity), capacity)`` (as a portable ``CASE``) for a channel token, so the online shop never
takes the hidden expansion kept for the door. A refusal rolls back to the savepoint and is
stored with the key: 409 ``insufficient_inventory`` with ``lines`` whose ``available`` is what
the caller's channel may buy. Success is recorded with :func:`changes.record` (``hold``).

A hold reads ``expired`` from the instant ``expires_at <= now`` (server clock), before any
sweeper. Releasing claims the hold with ``UPDATE holds ... WHERE status = 'active' AND
expires_at > :now`` and then gives its quantities back (``held >= :q`` guard, ``release``).

Who sees what (issue 16; docs/api.md, Scopes): a cash hold is found and paid at any
window (the customer comes back to any of them), so staff see every cash hold; a checkout
hold (a basket being paid now) is seen and paid only at the terminal that placed it: another
terminal's is 404 for a cashier (:func:`visible_condition`), and paying it is refused even
for a manager, who may read and release it. A channel token sees only the holds it placed
(others are 404). A cashier releases the holds of its own terminal (another terminal's cash
hold: 403, ask a manager), a manager any hold.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from pos_app.api import schemas
from pos_app.api.errors import ERROR_STATUS, ErrorCode
from pos_app.domain import inventory as rules
from pos_app.server.db import Database
from pos_app.server.errors import ApiError
from pos_app.server.models import Event, Hold, HoldLine, Sale, TicketType
from pos_app.server.services import changes, expiry, guards, idempotency, shifts
from pos_app.server.services.principal import Principal

__all__ = [
    "CODE_ALPHABET",
    "HoldOutcome",
    "actor_of",
    "create_hold",
    "effective_status",
    "find_hold",
    "get_hold",
    "guard_limit",
    "hold_out",
    "insufficient",
    "list_holds",
    "new_hold_code",
    "not_active_refusal",
    "release_hold",
    "sales_channel",
    "visible_condition",
]

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""Hold codes are read aloud: no 0/O, no 1/I."""
CODE_LENGTH = 6
_CODE_ATTEMPTS = 8


@dataclass(frozen=True)
class HoldOutcome:
    """What to answer: ``status`` and JSON ``body``; ``replayed`` when it came from the key."""

    status: int
    body: dict[str, Any] = field(default_factory=dict)
    replayed: bool = False


def new_hold_code() -> str:
    """Six characters of :data:`CODE_ALPHABET` (30 random bits), e.g. ``K7QX3M``."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def sales_channel(principal: Principal) -> rules.Channel:
    """The availability a caller sells against: a channel token the public limit, staff the
    whole capacity."""
    return rules.Channel.ONLINE if principal.is_channel else rules.Channel.BOX_OFFICE


def guard_limit(principal: Principal) -> ColumnElement[int]:
    """The SQL expression ``sold + held`` may reach for ``principal``: ``capacity`` for the box
    office, ``min(coalesce(public_limit, capacity), capacity)`` for a channel (a ``CASE``,
    valid on SQLite and PostgreSQL alike)."""
    if not principal.is_channel:
        return TicketType.capacity.expression
    limit: ColumnElement[int] = case(
        (and_(TicketType.public_limit.is_not(None),
              TicketType.public_limit < TicketType.capacity), TicketType.public_limit),
        else_=TicketType.capacity)
    return limit


def actor_of(session: Session, principal: Principal) -> changes.Actor:
    """The audit actor for ``principal``: staff with terminal and its open shift, or the
    channel."""
    return changes.Actor(staff_id=principal.staff_id, terminal_id=principal.terminal_id,
                         channel=principal.channel,
                         shift_id=shifts.open_shift_id(session, principal.terminal_id))


def effective_status(hold: Hold, now: datetime) -> str:
    """The status a reader sees: ``expired`` for an ``active`` hold whose time has passed."""
    if hold.status == "active" and hold.expires_at <= now:
        return "expired"
    return hold.status


def insufficient(session: Session, principal: Principal, quantity: Mapping[int, int], *,
                 failed: int, message: str) -> HoldOutcome:
    """The stored 409 ``insufficient_inventory``: every line short of stock, with what the
    caller's channel may buy now (read after the rollback)."""
    channel = sales_channel(principal)
    rows = session.execute(
        select(TicketType.id, TicketType.capacity, TicketType.public_limit, TicketType.sold,
               TicketType.held)
        .where(TicketType.id.in_(list(quantity))).order_by(TicketType.id)).all()
    lines = []
    for tt_id, capacity, public_limit, sold, held in rows:
        left = rules.sellable(channel, capacity, public_limit, sold, held)
        if tt_id == failed or left < quantity[tt_id]:
            lines.append({"ticket_type_id": tt_id, "requested": quantity[tt_id],
                          "available": left})
    code = ErrorCode.INSUFFICIENT_INVENTORY
    return HoldOutcome(ERROR_STATUS[code], {"error": str(code), "message": message,
                                            "lines": lines})


def not_active_refusal(hold: Hold, now: datetime) -> HoldOutcome:
    """409 ``hold_expired`` (lapsed, swept or not) or 409 ``hold_not_active`` with
    ``status`` (converted, released)."""
    status = effective_status(hold, now)
    if status == "expired":
        code = ErrorCode.HOLD_EXPIRED
        body = {"error": str(code), "message": f"Hold {hold.code} expired; its tickets are "
                "back on sale.", "hold_id": hold.id, "status": status,
                "expires_at": hold.expires_at.isoformat().replace("+00:00", "Z")}
    else:
        code = ErrorCode.HOLD_NOT_ACTIVE
        body = {"error": str(code), "message": f"Hold {hold.code} is {status}, not active.",
                "hold_id": hold.id, "status": status}
    return HoldOutcome(ERROR_STATUS[code], body)


# --- reading ----------------------------------------------------------------------------------


def visible_condition(principal: Principal) -> ColumnElement[bool] | None:
    """The holds ``principal`` may see, as a SQL condition (``None``: every hold, a
    manager): a channel token its own; a cashier every cash hold and its own terminal's
    checkout holds."""
    if principal.is_channel:
        return Hold.channel_token_id == principal.channel_token_id
    if principal.has_role("manager"):
        return None
    return or_(Hold.kind == "cash", Hold.terminal_id == principal.terminal_id)


def find_hold(session: Session, principal: Principal, ref: str) -> Hold:
    """The hold with id ``ref`` (32 hex characters) or code ``ref`` (any case) that
    ``principal`` may see.

    Raises:
        ApiError: 404 ``not_found`` (also for another channel token's hold, and for a
            cashier another terminal's checkout hold: :func:`visible_condition`).
    """
    ref = ref.strip()
    query = select(Hold).where(Hold.id == ref if len(ref) == 32 else Hold.code == ref.upper())
    visible = visible_condition(principal)
    if visible is not None:
        query = query.where(visible)
    hold = session.scalars(query).first() if 0 < len(ref) <= 32 else None
    if hold is None:
        raise ApiError(ErrorCode.NOT_FOUND, f"Hold {ref!r} was not found.")
    return hold


def _lines_of(session: Session, hold_ids: Iterable[str]) -> dict[str, list[HoldLine]]:
    by_hold: dict[str, list[HoldLine]] = {}
    for line in session.scalars(select(HoldLine).where(HoldLine.hold_id.in_(list(hold_ids)))
                                .order_by(HoldLine.hold_id, HoldLine.ticket_type_id)):
        by_hold.setdefault(line.hold_id, []).append(line)
    return by_hold


def _sales_of(session: Session, hold_ids: Iterable[str]) -> dict[str, str]:
    return {str(hold_id): str(sale_id) for hold_id, sale_id in session.execute(
        select(Sale.hold_id, Sale.id).where(Sale.hold_id.in_(list(hold_ids)))).all()}


def hold_out(hold: Hold, lines: Iterable[HoldLine], *, now: datetime,
             sale_id: str | None = None) -> schemas.Hold:
    """The wire shape of ``hold`` as seen at ``now`` (status ``expired`` once lapsed)."""
    customer = None
    if hold.customer_name is not None:
        customer = schemas.CustomerOut(name=hold.customer_name, phone=hold.customer_phone,
                                       email=hold.customer_email)
    return schemas.Hold(
        id=hold.id, code=hold.code, kind=hold.kind,
        status=effective_status(hold, now),
        event_id=hold.event_id,
        lines=[schemas.HoldLine(ticket_type_id=ln.ticket_type_id, name=ln.name,
                                quantity=ln.quantity, unit_price=ln.unit_price,
                                amount=ln.amount)
               for ln in sorted(lines, key=lambda ln: ln.ticket_type_id)],
        total=hold.total, currency=hold.currency, customer=customer,
        created_at=hold.created_at, expires_at=hold.expires_at,
        ended_at=hold.ended_at if hold.status != "active" else None,
        terminal_id=hold.terminal_id, staff_id=hold.staff_id, shift_id=hold.shift_id,
        channel=hold.channel, release_reason=hold.release_reason, sale_id=sale_id)


def get_hold(session: Session, principal: Principal, ref: str, *,
             now: datetime) -> schemas.Hold:
    """``GET /v1/holds/{id or code}``. Raises :class:`ApiError` 404 ``not_found``."""
    hold = find_hold(session, principal, ref)
    sale_id = _sales_of(session, [hold.id]).get(hold.id)
    return hold_out(hold, _lines_of(session, [hold.id]).get(hold.id, []), now=now,
                    sale_id=sale_id)


def _encode_cursor(hold: Hold) -> str:
    raw = json.dumps([hold.created_at.isoformat(), hold.id]).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


_HOLD_ID = re.compile(r"[0-9a-f]{32}")  # uuid4().hex, as holds are keyed


def _decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, hold_id = json.loads(raw)
        at = datetime.fromisoformat(created)
        if at.tzinfo is None or not isinstance(hold_id, str) \
                or not _HOLD_ID.fullmatch(hold_id):
            raise ValueError("bad cursor")
        return at.astimezone(UTC), hold_id
    except (ValueError, TypeError, OverflowError, json.JSONDecodeError) as exc:
        raise ApiError(ErrorCode.INVALID_REQUEST, "The cursor is not valid.") from exc


def list_holds(session: Session, principal: Principal, *, now: datetime,
               status: str | None = None, kind: str | None = None, q: str | None = None,
               limit: int = 100, cursor: str | None = None) -> schemas.HoldList:
    """``GET /v1/holds``: the holds ``principal`` may see (:func:`visible_condition`),
    newest first, filtered by effective ``status`` (``active`` means not
    lapsed; ``expired`` includes lapsed ones), ``kind`` and ``q`` (a case-insensitive part of
    the code, the customer's name or the customer's phone as stored); ``limit`` 1..=1000 per
    page, ``cursor`` from the previous page's ``next_cursor``.

    Raises:
        ApiError: 422 ``invalid_request`` for a malformed cursor.
    """
    query = select(Hold)
    visible = visible_condition(principal)
    if visible is not None:
        query = query.where(visible)
    if status == "active":
        query = query.where(Hold.status == "active", Hold.expires_at > now)
    elif status == "expired":
        query = query.where(or_(Hold.status == "expired",
                                and_(Hold.status == "active", Hold.expires_at <= now)))
    elif status is not None:
        query = query.where(Hold.status == status)
    if kind is not None:
        query = query.where(Hold.kind == kind)
    text = (q or "").strip()
    if text:
        query = query.where(or_(Hold.code.icontains(text, autoescape=True),
                                Hold.customer_name.icontains(text, autoescape=True),
                                Hold.customer_phone.icontains(text, autoescape=True)))
    if cursor:
        at, hold_id = _decode_cursor(cursor)
        query = query.where(or_(Hold.created_at < at,
                                and_(Hold.created_at == at, Hold.id < hold_id)))
    rows = list(session.scalars(query.order_by(Hold.created_at.desc(), Hold.id.desc())
                                .limit(limit + 1)).all())
    page, more = rows[:limit], len(rows) > limit
    ids = [h.id for h in page]
    lines, sales = _lines_of(session, ids), _sales_of(session, ids)
    return schemas.HoldList(
        holds=[hold_out(h, lines.get(h.id, []), now=now, sale_id=sales.get(h.id))
               for h in page],
        next_cursor=_encode_cursor(page[-1]) if more and page else None)


# --- placing ----------------------------------------------------------------------------------


def _load_types(session: Session, lines: Iterable[schemas.SaleLineIn],
                ) -> tuple[Event, list[TicketType]]:
    ids = sorted(line.ticket_type_id for line in lines)
    types = list(session.scalars(select(TicketType).where(TicketType.id.in_(ids))
                                 .order_by(TicketType.id)).all())
    missing = sorted(set(ids) - {t.id for t in types})
    if missing:
        raise ApiError(ErrorCode.INVALID_REQUEST,
                       f"Unknown ticket type id(s): {', '.join(map(str, missing))}.",
                       ticket_type_ids=missing)
    if len({t.event_id for t in types}) != 1:
        raise ApiError(ErrorCode.INVALID_REQUEST, "All lines of a hold must be for one event.")
    event = session.get(Event, types[0].event_id)
    assert event is not None  # foreign key
    return event, types


def _ttl(body: schemas.HoldCreate, *, checkout_ttl: timedelta, cash_ttl: timedelta,
         ) -> timedelta:
    default = cash_ttl if body.kind == "cash" else checkout_ttl
    if body.ttl_seconds is None:
        return default
    if body.ttl_seconds > default.total_seconds():
        raise ApiError(ErrorCode.INVALID_REQUEST,
                       f"ttl_seconds may shorten a {body.kind} hold, never lengthen it: "
                       f"1 to {int(default.total_seconds())} seconds.")
    return timedelta(seconds=body.ttl_seconds)


def _insert_hold(session: Session, hold: Hold) -> None:
    """Insert ``hold`` with a fresh unique code (another code on the rare collision)."""
    for _ in range(_CODE_ATTEMPTS):
        hold.code = new_hold_code()
        if session.scalar(select(Hold.id).where(Hold.code == hold.code)) is not None:
            continue
        try:
            with session.begin_nested():
                session.add(hold)
                session.flush()
            return
        except IntegrityError:  # PostgreSQL: a concurrent hold took the code first
            session.expunge(hold)
    raise RuntimeError("could not find a free hold code")


def create_hold(db: Database, principal: Principal, body: schemas.HoldCreate, *, key: str,
                path: str, now: datetime, checkout_ttl: timedelta = timedelta(minutes=15),
                cash_ttl: timedelta = timedelta(hours=4)) -> HoldOutcome:
    """Place ``body`` as ``principal`` under idempotency ``key`` (see the module notes).

    ``checkout_ttl``/``cash_ttl`` are the kinds' default and longest lives
    (``ServerSettings.checkout_hold_ttl``/``cash_hold_ttl``); ``expires_at = now + ttl``.

    Returns 201 Hold or the stored 409 ``insufficient_inventory``, possibly replayed.

    With ``body.replaces`` the named hold is released and the new one placed in one
    transaction (:func:`_replace`): 409 ``hold_expired`` / ``hold_not_active`` when the old
    hold is no longer active (nothing placed), 409 ``insufficient_inventory`` when the new one
    does not fit even with the old one's tickets back (the old hold stands).

    Raises:
        ApiError: 422 ``invalid_request`` (ttl too long, unknown ticket type, several
            events, a replaced hold of another kind; not stored); with ``replaces``, 404
            ``not_found`` and 403 ``forbidden`` (another terminal's hold, as for release;
            not stored); and the idempotency refusals.
    """
    ttl = _ttl(body, checkout_ttl=checkout_ttl, cash_ttl=cash_ttl)

    def effect(session: Session) -> HoldOutcome:
        event, types = _load_types(session, body.lines)
        if body.replaces is None:
            return _place(session, principal, body, event, types, now=now, ttl=ttl)
        return _replace(session, principal, body, event, types, now=now, ttl=ttl)

    done = idempotency.run_idempotent(db, principal, key, method="POST", path=path,
                                      body=body.model_dump(mode="json"), effect=effect, now=now)
    return HoldOutcome(done.status, done.body, replayed=done.replayed)


def _place(session: Session, principal: Principal, body: schemas.HoldCreate, event: Event,
           types: list[TicketType], *, now: datetime, ttl: timedelta) -> HoldOutcome:
    quantity = {line.ticket_type_id: line.quantity for line in body.lines}
    expiry.expire_lapsed(session, list(quantity), now=now)
    actor = actor_of(session, principal)
    customer = body.customer
    savepoint = session.begin_nested()
    hold = Hold(
        id=uuid.uuid4().hex, code="", kind=body.kind, status="active",
        channel=principal.channel, event_id=event.id,
        total=sum(t.price * quantity[t.id] for t in types), currency=event.currency,
        customer_name=customer.name.strip() if customer else None,
        customer_phone=customer.phone if customer else None,
        customer_email=customer.email if customer else None,
        created_at=now, expires_at=now + ttl, terminal_id=principal.terminal_id,
        staff_id=principal.staff_id, channel_token_id=principal.channel_token_id,
        shift_id=actor.shift_id, ended_at=None, release_reason=None)
    _insert_hold(session, hold)
    lines = [HoldLine(hold_id=hold.id, ticket_type_id=t.id, name=t.name,
                      quantity=quantity[t.id], unit_price=t.price,
                      amount=t.price * quantity[t.id]) for t in types]
    session.add_all(lines)
    session.flush()

    limit = guard_limit(principal)
    counts: dict[int, changes.Counts] = {}
    for t in types:  # id order: concurrent multi-line holds lock rows in the same order
        q = quantity[t.id]
        held = guards.hold(session, t.id, q, limit=limit)
        if held is None:
            savepoint.rollback()
            return insufficient(session, principal, quantity, failed=t.id,
                                message="Not enough tickets left for this hold; nothing was "
                                        "held.")
        counts[t.id] = held
    savepoint.commit()

    changes.record(session, [
        changes.CountChange(
            ticket_type_id=t.id, event_id=t.event_id, action="hold", quantity=quantity[t.id],
            before=(counts[t.id][0], counts[t.id][1], counts[t.id][2] - quantity[t.id]),
            after=counts[t.id], ladder=t.alert_ladder)
        for t in types
    ], actor=actor, ref_type="hold", ref_id=hold.id, reason=None, now=now)
    for t in types:
        session.expire(t)
    return HoldOutcome(201, hold_out(hold, lines, now=now).model_dump(mode="json"))


def _replace(session: Session, principal: Principal, body: schemas.HoldCreate, event: Event,
             types: list[TicketType], *, now: datetime, ttl: timedelta) -> HoldOutcome:
    """Release ``body.replaces`` and place ``body`` in its stead, both or neither.

    The release runs first, so the old hold's tickets count for the new one (a basket of 2 of
    the last 2 tickets can grow to 3 when a third comes back). An ``insufficient_inventory``
    refusal's ``available`` is therefore what this basket could hold in place of the old hold.
    """
    assert body.replaces is not None
    old = _releasable(session, principal, body.replaces)
    both = session.begin_nested()
    released = _release(session, principal, old, "replaced by the basket's new hold",
                        now=now)
    if released.status != 200:
        both.commit()  # nothing was released; lapsed holds it expired stay expired
        return released
    placed = _place(session, principal, body, event, types, now=now, ttl=ttl)
    if placed.status != 201:
        both.rollback()  # the old hold stands, as if nothing had been asked
        placed.body["message"] = ("Not enough tickets left for these lines; the earlier hold "
                                  f"{old.code} stands.")
        placed.body["hold_id"] = old.id
        return placed
    both.commit()
    return placed


def _releasable(session: Session, principal: Principal, ref: str) -> Hold:
    """The hold ``ref`` that ``principal`` may release (a cashier: only this terminal's).

    Raises:
        ApiError: 404 ``not_found``; 403 ``forbidden``.
    """
    hold = find_hold(session, principal, ref)
    if not principal.is_channel and not principal.has_role("manager") \
            and hold.terminal_id != principal.terminal_id:
        raise ApiError(ErrorCode.FORBIDDEN,
                       "A cashier may release only the holds of this terminal; ask a "
                       "manager.")
    return hold


# --- releasing --------------------------------------------------------------------------------


def release_hold(db: Database, principal: Principal, ref: str, body: schemas.HoldRelease, *,
                 key: str, path: str, now: datetime) -> HoldOutcome:
    """Release the hold ``ref`` (id or code) under idempotency ``key``: its tickets go back.

    Returns 200 Hold (``released``), or the stored 409 ``hold_expired`` / ``hold_not_active``
    (with ``status``), possibly replayed.

    Raises:
        ApiError: 404 ``not_found``; 403 ``forbidden`` for a cashier releasing another
            terminal's hold (neither stored); the idempotency refusals.
    """

    def effect(session: Session) -> HoldOutcome:
        hold = _releasable(session, principal, ref)
        return _release(session, principal, hold, body.reason, now=now)

    done = idempotency.run_idempotent(db, principal, key, method="POST", path=path,
                                      body=body.model_dump(mode="json"), effect=effect, now=now)
    return HoldOutcome(done.status, done.body, replayed=done.replayed)


def _release(session: Session, principal: Principal, hold: Hold, reason: str | None, *,
             now: datetime) -> HoldOutcome:
    lines = _lines_of(session, [hold.id]).get(hold.id, [])
    type_ids = [ln.ticket_type_id for ln in lines]
    claimed = session.execute(
        update(Hold).where(Hold.id == hold.id, Hold.status == "active", Hold.expires_at > now)
        .values(status="released", ended_at=now, release_reason=reason)
        .returning(Hold.id).execution_options(synchronize_session=False)).first()
    expiry.expire_lapsed(session, type_ids, now=now)  # this hold too, when it lapsed
    session.refresh(hold)
    if claimed is None:
        return not_active_refusal(hold, now)

    types = {t.id: t for t in session.scalars(select(TicketType)
                                              .where(TicketType.id.in_(type_ids)))}
    recorded = []
    for line in sorted(lines, key=lambda ln: ln.ticket_type_id):
        after = guards.release(session, line.ticket_type_id, line.quantity,
                               of=f"hold {hold.id}")
        recorded.append(changes.CountChange(
            ticket_type_id=line.ticket_type_id, event_id=hold.event_id, action="release",
            quantity=line.quantity, before=(after[0], after[1], after[2] + line.quantity),
            after=after, ladder=types[line.ticket_type_id].alert_ladder))
    changes.record(session, recorded, actor=actor_of(session, principal), ref_type="hold",
                   ref_id=hold.id, reason=reason, now=now)
    for t in types.values():
        session.expire(t)
    return HoldOutcome(200, hold_out(hold, lines, now=now).model_dump(mode="json"))
