"""Reading the audit log and the stock alerts (manager): keyset pages, never ``OFFSET``.

``GET /v1/audit`` pages by ``seq`` (``order=asc`` oldest first, ``desc`` newest first) with
an opaque cursor: URL-safe base64 of ``{"seq": last seq, "order": ...}``. Each equality
filter (``terminal_id``, ``staff_id``, ``shift_id``, ``action``, ``ticket_type_id``) is served
by its ``(filter, seq)`` index, so a page costs a short index range scan whatever the size of
the log; there is no ``COUNT(*)``.

Time filters (``from`` inclusive, ``to`` exclusive) are exact ``at`` predicates, narrowed to a
``seq`` range found through the ``at`` index. ``seq`` follows the order of appends and ``at``
is the server clock read when the request began, so ``at`` may run slightly out of ``seq``
order; the narrowing assumes it never runs more than :data:`CLOCK_SKEW` (5 minutes, far
beyond the database's lock timeouts) out of order.

Free text ``q`` (case-insensitive substring of ``reason``, ``ref_id`` or ``action``) has no
index, so one request scans at most :data:`TEXT_WINDOW` sequence numbers: a page may then
hold fewer than ``limit`` entries while ``next_cursor`` is not null; follow it to go on.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal

from sqlalchemy import ColumnElement, func, inspect, or_, select
from sqlalchemy.orm import Session

from pos_app.api import schemas
from pos_app.api.errors import ErrorCode
from pos_app.server import audit
from pos_app.server.audit_anchors import ANCHOR_FILE
from pos_app.server.chain_key import Chain
from pos_app.server.db import Database
from pos_app.server.errors import ApiError
from pos_app.server.inputs import cursor_int
from pos_app.server.models import AuditEntry, AuditHead, StockAlert
from pos_app.server.secrets_dir import SECRETS_DIRNAME, SecretsError
from pos_app.server.services import anchoring
from pos_app.server.services.pin_attempts import SECURITY_ALERT
from pos_app.server.settings import database_url_for

__all__ = [
    "CLOCK_SKEW",
    "TEXT_WINDOW",
    "AuditFilters",
    "decode_cursor",
    "encode_cursor",
    "entry_out",
    "list_alerts",
    "list_entries",
    "list_security_alerts",
    "verify_database",
]

CLOCK_SKEW = timedelta(minutes=5)
TEXT_WINDOW = 50_000

Order = Literal["asc", "desc"]


@dataclass(frozen=True)
class AuditFilters:
    """Filters of ``GET /v1/audit``; ``None`` means "any"."""

    from_: datetime | None = None
    to: datetime | None = None
    terminal_id: int | None = None
    staff_id: int | None = None
    shift_id: int | None = None
    action: str | None = None
    ticket_type_id: int | None = None
    q: str | None = None


def encode_cursor(seq: int, order: str) -> str:
    """The opaque cursor after the entry ``seq`` when paging in ``order``."""
    raw = json.dumps({"seq": seq, "order": order}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_cursor(cursor: str, order: str) -> int:
    """The ``seq`` after which the next page starts.

    Raises:
        ApiError: 422 ``invalid_request`` for a cursor this server did not give out for
            ``order``.
    """
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        seq, was = data["seq"], data["order"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        raise ApiError(ErrorCode.INVALID_REQUEST, "The cursor is not valid.") from None
    if was != order:
        raise ApiError(ErrorCode.INVALID_REQUEST,
                       "The cursor is not valid for this order; start again without it.")
    return cursor_int(seq)


def _counts(capacity: int | None, sold: int | None,
            held: int | None) -> schemas.AuditCounts | None:
    if capacity is None and sold is None and held is None:
        return None
    return schemas.AuditCounts(capacity=capacity, sold=sold, held=held)


def entry_out(e: AuditEntry) -> schemas.AuditEntry:
    """The wire shape of one audit entry (``ref`` keyed ``<ref_type>_id``)."""
    ref = {f"{e.ref_type}_id": e.ref_id} if e.ref_type and e.ref_id is not None else None
    return schemas.AuditEntry(
        seq=e.seq, at=e.at, action=e.action,
        actor=schemas.AuditActor(staff_id=e.staff_id, terminal_id=e.terminal_id,
                                 channel=e.channel),
        ticket_type_id=e.ticket_type_id, quantity=e.quantity,
        before=_counts(e.before_capacity, e.before_sold, e.before_held),
        after=_counts(e.after_capacity, e.after_sold, e.after_held),
        ref=ref, reason=e.reason, prev_hash=e.prev_hash, hash=e.hash, shift_id=e.shift_id,
        approved_by=e.approved_by)


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _time_bounds(session: Session, filters: AuditFilters) -> tuple[int | None, int | None]:
    """``(lo, hi)``: every entry inside the time filters has ``lo < seq < hi`` (None: no
    bound), found with one probe of the ``at`` index each (see :data:`CLOCK_SKEW`)."""
    lo = hi = None
    if filters.from_ is not None:
        lo = session.scalar(select(AuditEntry.seq)
                            .where(AuditEntry.at < filters.from_ - CLOCK_SKEW)
                            .order_by(AuditEntry.at.desc()).limit(1))
    if filters.to is not None:
        hi = session.scalar(select(AuditEntry.seq)
                            .where(AuditEntry.at >= filters.to + CLOCK_SKEW)
                            .order_by(AuditEntry.at.asc()).limit(1))
    return lo, hi


def list_entries(session: Session, filters: AuditFilters, *, limit: int = 100,
                 cursor: str | None = None, order: Order = "asc") -> schemas.AuditPage:
    """One page of entries matching every filter, in ``seq`` ``order``.

    Raises:
        ApiError: 422 ``invalid_request`` for a bad cursor.
    """
    conditions: list[ColumnElement[bool]] = []
    for column, value in ((AuditEntry.terminal_id, filters.terminal_id),
                          (AuditEntry.staff_id, filters.staff_id),
                          (AuditEntry.shift_id, filters.shift_id),
                          (AuditEntry.action, filters.action),
                          (AuditEntry.ticket_type_id, filters.ticket_type_id)):
        if value is not None:
            conditions.append(column == value)
    if filters.from_ is not None:
        conditions.append(AuditEntry.at >= filters.from_)
    if filters.to is not None:
        conditions.append(AuditEntry.at < filters.to)
    lo, hi = _time_bounds(session, filters)
    after = decode_cursor(cursor, order) if cursor is not None else None
    # The open seq range (lower, upper) this page may come from; None: unbounded.
    lower = max((x for x in (after if order == "asc" else None, lo) if x is not None),
                default=None)
    upper = min((x for x in (after if order == "desc" else None, hi) if x is not None),
                default=None)

    window_end: int | None = None  # where this request's scan stops (free text only)
    if filters.q:
        pattern = _like(filters.q)
        conditions.append(or_(AuditEntry.reason.ilike(pattern, escape="\\"),
                              AuditEntry.ref_id.ilike(pattern, escape="\\"),
                              AuditEntry.action.ilike(pattern, escape="\\")))
        first = lower if lower is not None else 0
        last = upper if upper is not None else (
            session.scalar(select(func.max(AuditEntry.seq))) or 0) + 1
        if last - first - 1 > TEXT_WINDOW:
            if order == "asc":
                window_end = first + TEXT_WINDOW
                upper = window_end + 1
            else:
                window_end = last - TEXT_WINDOW
                lower = window_end - 1
    if lower is not None:
        conditions.append(AuditEntry.seq > lower)
    if upper is not None:
        conditions.append(AuditEntry.seq < upper)

    key = AuditEntry.seq.asc() if order == "asc" else AuditEntry.seq.desc()
    rows = list(session.scalars(select(AuditEntry).where(*conditions).order_by(key)
                                .limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    next_cursor = None
    if more:
        next_cursor = encode_cursor(rows[-1].seq, order)
    elif window_end is not None:  # the scan window ended before the log did
        next_cursor = encode_cursor(window_end, order)
    return schemas.AuditPage(entries=[entry_out(e) for e in rows], next_cursor=next_cursor)


def list_alerts(session: Session, *, since: int | None, limit: int = 100) -> schemas.AlertsResponse:
    """Stock alerts newest last: those after ``since`` (a ``seq``, oldest first, at most
    ``limit``), or without ``since`` the latest ``limit`` alerts."""
    if since is not None:
        rows = list(session.scalars(select(StockAlert).where(StockAlert.seq > since)
                                    .order_by(StockAlert.seq).limit(limit)))
    else:
        rows = list(session.scalars(select(StockAlert).order_by(StockAlert.seq.desc())
                                    .limit(limit)))[::-1]
    return schemas.AlertsResponse(alerts=[
        schemas.StockAlertOut(seq=a.seq, at=a.at, ticket_type_id=a.ticket_type_id,
                              event_id=a.event_id, level=a.level, available=a.available)
        for a in rows])


def list_security_alerts(session: Session, *, since: int | None,
                         limit: int = 100) -> schemas.SecurityAlertsResponse:
    """The audit log's ``security_alert`` entries newest last: those after ``since`` (an
    audit ``seq``; oldest first, at most ``limit``), or without ``since`` the latest
    ``limit`` (:mod:`pos_app.server.services.pin_attempts` writes them)."""
    query = select(AuditEntry).where(AuditEntry.action == SECURITY_ALERT)
    if since is not None:
        rows = list(session.scalars(query.where(AuditEntry.seq > since)
                                    .order_by(AuditEntry.seq).limit(limit)))
    else:
        rows = list(session.scalars(query.order_by(AuditEntry.seq.desc()).limit(limit)))[::-1]
    return schemas.SecurityAlertsResponse(alerts=[
        schemas.SecurityAlertOut(seq=row.seq, at=row.at, reason=row.reason or "",
                                 terminal_id=row.terminal_id)
        for row in rows])


def verify_database(database: str, data_dir: Path) -> audit.VerifyResult:
    """Verify the audit chain of ``database`` (an absolute data folder or a SQLAlchemy URL),
    read-only, without migrating it, with the audit key and anchors of ``data_dir``'s
    secrets folder (:mod:`pos_app.server.services.anchoring`).

    A database never served by a version that keys the chain (no ``keyed_from_seq``, or
    NULL) whose data folder has no anchor file yet is verified as it was written: plain
    SHA-256 throughout.

    Raises:
        ValueError: the data folder does not exist;
            :class:`~pos_app.server.secrets_dir.SecretsError` when its audit key is missing
            (for a chain keyed before) or is not a key;
            :class:`~pos_app.server.audit_anchors.AnchorFileError` for a bad anchor file.
        sqlalchemy.exc.SQLAlchemyError: the database cannot be read.
    """
    if "://" not in database:
        folder = Path(database)
        if not folder.is_dir():
            raise ValueError(f"no data folder at {database}")
    anchor_file = data_dir / SECRETS_DIRNAME / ANCHOR_FILE
    legacy = not anchor_file.exists()
    chain = Chain() if legacy else anchoring.load_chain(data_dir, create=False)
    anchors = audit.Anchors(keyed_after=None) if legacy else audit.Anchors.of(chain)
    db = Database(database_url_for(database), chain=chain)
    try:
        columns = {c["name"] for c in inspect(db.engine).get_columns("audit_head")}
        with db.read() as session:
            if legacy and "keyed_from_seq" in columns and session.scalar(
                    select(AuditHead.keyed_from_seq).where(AuditHead.id == 1)) is not None:
                raise SecretsError(f"{anchor_file} is missing, but this database's audit "
                                   "chain is keyed: give the --data-dir its server uses, or "
                                   "restore its secrets folder from the same backup")
            if "counts_from_seq" in columns:
                return audit.verify(session, anchors=anchors)
            # Not yet upgraded (migration 0006): every entry so far is from before the check.
            head = session.scalar(select(AuditHead.seq).where(AuditHead.id == 1))
            return audit.verify(session, anchors=anchors, counts_from=int(head or 0))
    finally:
        db.dispose()
