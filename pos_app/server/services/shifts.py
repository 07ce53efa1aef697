"""Shifts (cash-up): open with a float, cash movements, close with the counted cash.

Each change runs like a sale (``DESIGN.md``) through
:func:`pos_app.server.services.idempotency.run_idempotent`: in one write transaction check,
change, append the audit entry (``shift_open``,
``cash_movement``, ``shift_close``; not inventory changes, so not ``changes.record``), store
the outcome with the key, commit.

Stored and replayed with the key: 201/200 successes, 409 ``shift_already_open`` and 409
``shift_not_open``. Not stored (the transaction rolls back): 404 ``not_found`` (no such
shift), 403 ``forbidden`` (a cashier acting on another terminal's shift, a channel token).

At most one ``open`` shift per terminal: checked in the transaction, with the partial unique
index ``uq_shifts_open_per_terminal`` as the backstop (a concurrent open on PostgreSQL fails
there and is answered ``shift_already_open``). Closing and cash movements lock the shift row
(``FOR UPDATE``); a cash sale reads the open shift ``FOR SHARE`` (:func:`open_shift_id`), so
on PostgreSQL a close waits for sales in flight and counts them, and a sale that waited for a
close sees the shift closed. SQLite serialises writers anyway.

``expected_cash`` and ``variance`` come from :mod:`pos_app.domain.cashup`. The count is
blind: reads of an open shift by a cashier carry no money totals (:func:`get_shift`,
:func:`list_shifts`); the answers to the cashier's own writes (the opening float just given,
the movement just made) are not reads of the totals. Money is minor
units of the shift's currency (``ServerSettings.currency``). Totals are read in bulk by
:mod:`pos_app.server.services.shift_totals`.

A close whose count is off by more than ``ServerSettings.variance_threshold`` (either way)
needs a manager's approval and a non-blank note, like a refund: the shift is found and the
caller authorised first (:func:`authorize_close`); a manager closing approves themselves;
anyone else sends ``manager: {username, pin}``, throttled and checked with Argon2 by the
route before the transaction (any refusal: one 403 ``approval_refused``, not stored).
Without both the close is refused 409 ``variance_needs_approval`` and NOT stored (the key is
freed, nothing changes): the body says neither the expected cash nor the variance, so the
count stays blind. The PIN never reaches the idempotency request hash (only the manager's
username does), the stored response or the audit log; the ``shift_close`` audit entry keeps
``approved_by`` and the note.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pos_app.api import schemas
from pos_app.api.errors import ERROR_STATUS, ErrorCode
from pos_app.domain import cashup
from pos_app.server import audit, sql
from pos_app.server.db import Database
from pos_app.server.errors import ApiError
from pos_app.server.models import CashMovement, Shift
from pos_app.server.services import anchoring, idempotency
from pos_app.server.services.principal import Principal
from pos_app.server.services.shift_totals import (
    blind,
    movement_out,
    shift_out,
    shift_reports,
)

__all__ = [
    "DEFAULT_VARIANCE_THRESHOLD",
    "VARIANCE_NEEDS_APPROVAL",
    "ShiftOutcome",
    "add_cash_movement",
    "authorize_close",
    "close_shift",
    "get_shift",
    "list_shifts",
    "open_shift",
    "open_shift_id",
    "read_ahead_open_shift",
]


DEFAULT_VARIANCE_THRESHOLD = 500
"""Minor units a count may be off, either way, without a manager (``ServerSettings``)."""

VARIANCE_NEEDS_APPROVAL = ("The count is off by more than the allowed amount - a manager must "
                           "approve it with their PIN and a note. The shift is still open.")

log = logging.getLogger("pos_app.server.shifts")


@dataclass(frozen=True)
class ShiftOutcome:
    """What to answer: ``status`` and JSON ``body``; ``replayed`` when it came from the key."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


_OPEN_SHIFT = sql.Statement(
    "SELECT id FROM shifts WHERE terminal_id = :terminal_id AND status = 'open'")
_OPEN_SHIFT_LOCKED = sql.Statement(
    _OPEN_SHIFT.sqlite, postgresql=f"{_OPEN_SHIFT.sqlite} FOR SHARE")


def read_ahead_open_shift(session: Session, terminal_id: int | None) -> None:
    """Queue :func:`open_shift_id`'s locked read to travel with the transaction's next round
    trip (:func:`pos_app.server.sql.read_ahead`; PostgreSQL only)."""
    if terminal_id is not None:
        sql.read_ahead(session, _OPEN_SHIFT_LOCKED, {"terminal_id": terminal_id})


def open_shift_id(session: Session, terminal_id: int | None, *, lock: bool = True) -> int | None:
    """Id of the open shift at ``terminal_id``, or ``None``.

    With ``lock`` (inside a write transaction) the row is read ``FOR SHARE`` on PostgreSQL,
    so a concurrent close waits for this transaction (see module notes).
    """
    if terminal_id is None:
        return None
    row = sql.execute(session, _OPEN_SHIFT_LOCKED if lock else _OPEN_SHIFT,
                      {"terminal_id": terminal_id}).fetchone()
    return int(row[0]) if row is not None else None


# --- writes -------------------------------------------------------------------------------------


def _refusal(code: ErrorCode, message: str, **extra: Any) -> ShiftOutcome:
    return ShiftOutcome(status=ERROR_STATUS[code],
                        body={"error": str(code), "message": message, **extra})


def _require_staff(principal: Principal) -> int:
    if principal.is_channel or principal.terminal_id is None or principal.staff_id is None:
        raise ApiError(ErrorCode.FORBIDDEN, "Shifts are kept by staff at a terminal.")
    return principal.terminal_id


def _authorize(principal: Principal, shift: Shift) -> None:
    """Cashiers act on their own terminal's shifts only; managers on every shift."""
    _require_staff(principal)
    if shift.terminal_id != principal.terminal_id and not principal.has_role("manager"):
        raise ApiError(ErrorCode.FORBIDDEN,
                       "A cashier may only work with the shift of their own terminal.")


def _idempotent(db: Database, principal: Principal, *, key: str, path: str,
                body: schemas.Request | dict[str, Any], now: datetime,
                act: Callable[[Session], ShiftOutcome]) -> ShiftOutcome:
    """Claim ``key``, run ``act`` in the same write transaction, store its outcome.
    ``body`` is what identifies the request (a dict when fields must be left out)."""
    _require_staff(principal)
    hashed = body if isinstance(body, dict) else body.model_dump(mode="json")
    done = idempotency.run_idempotent(db, principal, key, method="POST", path=path,
                                      body=hashed, effect=act, now=now)
    return ShiftOutcome(done.status, done.body, replayed=done.replayed)


def _audit(session: Session, principal: Principal, shift: Shift, action: str, reason: str,
           now: datetime, approved_by: int | None = None) -> None:
    audit.append(session, [audit.AuditRecord(
        action=action, staff_id=principal.staff_id, terminal_id=principal.terminal_id,
        channel=principal.channel, shift_id=shift.id, approved_by=approved_by,
        ref_type="shift", ref_id=str(shift.id), reason=reason)], now)


def open_shift(db: Database, principal: Principal, body: schemas.ShiftOpen, *, key: str,
               path: str, currency: str, now: datetime) -> ShiftOutcome:
    """Open a shift at ``principal``'s terminal with ``body.opening_float`` minor units of
    ``currency``. Returns 201 Shift, or the stored 409 ``shift_already_open`` (with the open
    shift's ``shift_id``); possibly a replay. Raises :class:`ApiError` 403 for a channel."""

    def act(session: Session) -> ShiftOutcome:
        terminal_id = _require_staff(principal)
        assert principal.staff_id is not None
        existing = open_shift_id(session, terminal_id, lock=False)
        if existing is not None:
            return _already_open(existing)
        shift = Shift(terminal_id=terminal_id, status="open", currency=currency.upper(),
                      opening_float=body.opening_float, opened_at=now,
                      opened_by=principal.staff_id)
        try:
            with session.begin_nested():
                session.add(shift)
                session.flush()
        except IntegrityError:  # PostgreSQL: a concurrent open committed first
            existing = open_shift_id(session, terminal_id, lock=False)
            return _already_open(existing)
        _audit(session, principal, shift, "shift_open",
               f"opening float {shift.opening_float} {shift.currency}", now)
        return ShiftOutcome(201, _out(session, shift, now).model_dump(mode="json"))

    return _idempotent(db, principal, key=key, path=path, body=body, now=now, act=act)


def _already_open(shift_id: int | None) -> ShiftOutcome:
    return _refusal(ErrorCode.SHIFT_ALREADY_OPEN,
                    "A shift is already open at this terminal; close it first.",
                    shift_id=shift_id)


def _locked_open_shift(session: Session, principal: Principal,
                       shift_id: int) -> Shift | ShiftOutcome:
    shift = session.scalar(select(Shift).where(Shift.id == shift_id).with_for_update())
    if shift is None:
        raise ApiError(ErrorCode.NOT_FOUND, f"Shift {shift_id} was not found.")
    _authorize(principal, shift)
    if shift.status != "open":
        return _refusal(ErrorCode.SHIFT_NOT_OPEN, f"Shift {shift_id} is already closed.",
                        shift_id=shift_id, status=shift.status)
    return shift


def add_cash_movement(db: Database, principal: Principal, shift_id: int,
                      body: schemas.CashMovementCreate, *, key: str, path: str,
                      now: datetime) -> ShiftOutcome:
    """Record a pay-in, pay-out or drop on open shift ``shift_id``. Returns 201
    CashMovement, or the stored 409 ``shift_not_open``. Raises :class:`ApiError` 404 / 403."""

    def act(session: Session) -> ShiftOutcome:
        shift = _locked_open_shift(session, principal, shift_id)
        if isinstance(shift, ShiftOutcome):
            return shift
        movement = CashMovement(shift_id=shift.id, kind=body.kind, amount=body.amount,
                                reason=body.reason, created_at=now,
                                staff_id=principal.staff_id)
        session.add(movement)
        session.flush()
        _audit(session, principal, shift, "cash_movement",
               f"{body.kind} {body.amount} {shift.currency}: {body.reason}", now)
        return ShiftOutcome(201, movement_out(movement, shift.currency).model_dump(mode="json"))

    return _idempotent(db, principal, key=key, path=path, body=body, now=now, act=act)


def authorize_close(db: Database, principal: Principal, shift_id: int,
                    manager: schemas.ManagerApproval | None) -> int | None:
    """Check, before any PIN is looked at, that ``principal`` may close shift ``shift_id``;
    returns who approves a variance without a PIN: the caller when a manager and no
    ``manager`` block is given, else ``None`` (a cashier without approval, or a ``manager``
    block whose PIN the route checks next). Reads in its own transaction.

    Raises:
        ApiError: 403 ``forbidden`` (a channel token; a cashier and another terminal's
            shift); 404 ``not_found`` (no such shift, whatever the PIN).
    """
    _require_staff(principal)
    with db.read() as session:
        shift = session.get(Shift, shift_id)
        if shift is None:
            raise ApiError(ErrorCode.NOT_FOUND, f"Shift {shift_id} was not found.")
        _authorize(principal, shift)
    if manager is None and principal.has_role("manager"):
        return principal.staff_id
    return None


def close_shift(db: Database, principal: Principal, shift_id: int, body: schemas.ShiftClose,
                *, approving: int | None, key: str, path: str, now: datetime,
                variance_threshold: int = DEFAULT_VARIANCE_THRESHOLD) -> ShiftOutcome:
    """Close open shift ``shift_id`` with ``body.counted_cash``: the server computes
    ``expected_cash`` and ``variance`` and keeps them. Returns 200 Shift, or the stored 409
    ``shift_not_open``.

    When ``|variance| > variance_threshold`` (minor units) the close needs an approving
    manager, ``approving`` (from :func:`authorize_close`, or the manager whose PIN the route
    checked), and a non-blank ``body.note``; ``approved_by`` is then kept in the
    ``shift_close`` audit entry and answered in the shift.

    A close that went through anchors the audit chain's head
    (:func:`pos_app.server.services.anchoring.anchor_head`).

    Raises:
        ApiError: 404 / 403; 409 ``variance_needs_approval`` (not stored, nothing changed,
            no amount in the body).
    """
    _require_staff(principal)
    hashed = body.model_dump(mode="json")
    if body.manager is not None:  # the PIN is not part of the request's identity
        hashed["manager"] = {"username": body.manager.username}
    note = (body.note or "").strip() or None

    def act(session: Session) -> ShiftOutcome:
        shift = _locked_open_shift(session, principal, shift_id)
        if isinstance(shift, ShiftOutcome):
            return shift
        report = shift_reports(session, [shift], now)[shift.id]
        expected = cashup.expected_cash(report.drawer(shift.opening_float))
        variance = cashup.variance(body.counted_cash, expected)
        approved_by: int | None = None
        if abs(variance) > variance_threshold:
            if approving is None or not note:
                # Raised, so not stored: nothing changes and the key can be used again.
                raise ApiError(ErrorCode.VARIANCE_NEEDS_APPROVAL, VARIANCE_NEEDS_APPROVAL,
                               shift_id=shift.id)
            approved_by = approving
        shift.status = "closed"
        shift.closed_at = now
        shift.closed_by = principal.staff_id
        shift.counted_cash = body.counted_cash
        shift.expected_cash = expected
        shift.variance = variance
        shift.note = note
        session.flush()
        approvals = {shift.id: approved_by} if approved_by is not None else None
        report = shift_reports(session, [shift], now, approved=approvals)[shift.id]
        out = shift_out(shift, report)
        reason = (f"counted {shift.counted_cash}, expected {expected}, variance "
                  f"{shift.variance} {shift.currency}"
                  + (f"; approved by {out.approved_by_name or approved_by}"
                     if approved_by is not None else "")
                  + (f"; {note}" if note else ""))
        _audit(session, principal, shift, "shift_close", reason, now, approved_by)
        return ShiftOutcome(200, out.model_dump(mode="json"))

    outcome = _idempotent(db, principal, key=key, path=path, body=hashed, now=now, act=act)
    if outcome.status == 200:
        # Committed: anchor the head outside the database now, so the cash-up's entries
        # cannot be cut off unnoticed (docs/api.md, The audit chain). The close stands
        # either way; the anchoring task tries again within a minute.
        try:
            anchoring.anchor_head(db, now)
        except Exception:
            log.exception("anchoring the audit chain after closing shift %d failed", shift_id)
    return outcome


# --- reads --------------------------------------------------------------------------------------


def get_shift(session: Session, principal: Principal, shift_id: int,
              now: datetime) -> schemas.Shift:
    """Shift ``shift_id`` with its totals as ``principal`` may read them
    (:func:`_as_read_by`: no money totals for a cashier while it is open). Raises
    :class:`ApiError` 404, or 403 for a cashier asking about another terminal's shift."""
    shift = session.get(Shift, shift_id)
    if shift is None:
        raise ApiError(ErrorCode.NOT_FOUND, f"Shift {shift_id} was not found.")
    _authorize(principal, shift)
    return _as_read_by(principal, _out(session, shift, now))


def _as_read_by(principal: Principal, shift: schemas.Shift) -> schemas.Shift:
    """The blind count (issue 16): a cashier reads an open shift without its money totals
    (:func:`~pos_app.server.services.shift_totals.blind`); a manager reads everything, and
    a closed shift is read whole (the close's own answer carries the result anyway)."""
    if shift.status == "open" and not principal.has_role("manager"):
        return blind(shift)
    return shift


def _out(session: Session, shift: Shift, now: datetime) -> schemas.Shift:
    return shift_out(shift, shift_reports(session, [shift], now)[shift.id])


def list_shifts(session: Session, principal: Principal, *, terminal_id: str | None,
                status: str | None, opened_from: datetime | None, opened_to: datetime | None,
                limit: int, cursor: str | None, now: datetime) -> schemas.ShiftList:
    """Shifts newest first, filtered by terminal (an id, or ``me`` for the caller's),
    ``status`` and the time they opened (``opened_from <= opened_at < opened_to``).

    A cashier sees only their own terminal's shifts (another ``terminal_id``: 403), and
    the open one without its money totals (:func:`_as_read_by`).
    Raises :class:`ApiError` 422 for a malformed ``terminal_id`` or ``cursor``.
    """
    own = _require_staff(principal)
    wanted: int | None
    if terminal_id is None:
        wanted = None if principal.has_role("manager") else own
    elif terminal_id == "me":
        wanted = own
    elif terminal_id.isdigit() and len(terminal_id) < 10:
        wanted = int(terminal_id)
    else:
        raise ApiError(ErrorCode.INVALID_REQUEST, "terminal_id must be a terminal id or 'me'.")
    if wanted is not None and wanted != own and not principal.has_role("manager"):
        raise ApiError(ErrorCode.FORBIDDEN,
                       "A cashier may only list the shifts of their own terminal.")
    query = select(Shift).order_by(Shift.id.desc()).limit(limit + 1)
    if wanted is not None:
        query = query.where(Shift.terminal_id == wanted)
    if status is not None:
        query = query.where(Shift.status == status)
    if opened_from is not None:
        query = query.where(Shift.opened_at >= _aware(opened_from))
    if opened_to is not None:
        query = query.where(Shift.opened_at < _aware(opened_to))
    if cursor is not None:
        query = query.where(Shift.id < _decode_cursor(cursor))
    rows = list(session.scalars(query).all())
    more = len(rows) > limit
    rows = rows[:limit]
    reports = shift_reports(session, rows, now)
    return schemas.ShiftList(
        shifts=[_as_read_by(principal, shift_out(s, reports[s.id])) for s in rows],
        next_cursor=_encode_cursor(rows[-1].id) if more and rows else None)


def _aware(value: datetime) -> datetime:
    """``value`` in UTC (naive means UTC). Raises 422 for a time UTC cannot hold."""
    try:
        return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)
    except OverflowError:
        raise ApiError(ErrorCode.INVALID_REQUEST, "The time is out of range.") from None


def _encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"shift:{last_id}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix != "shift" or not number.isdigit() or len(number) > 9:
            raise ValueError(cursor)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ApiError(ErrorCode.INVALID_REQUEST, "The cursor is not valid.") from None
