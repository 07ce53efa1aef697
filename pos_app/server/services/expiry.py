"""Hold expiry: a hold is expired from the instant ``expires_at <= now`` (server clock).

Correctness never waits for the sweeper (``DESIGN.md``, "Holds and time"):

* every write path that guards ticket types calls :func:`expire_lapsed` for those ticket
  types inside its own transaction, right before its guard, so the lapsed holds' tickets are
  back in stock before the guard reads the row;
* every read of counts subtracts :func:`lapsed_held` (quantities of holds that lapsed but are
  still stored ``active``) from ``held``;
* the sweeper (:func:`sweep`, run by :func:`run_sweeper` every ``sweeper_interval``) only
  tidies: it marks lapsed holds ``expired``, writes their ``expire`` audit entries and bumps
  the inventory version so live inventory announces the change.

Locking (PostgreSQL, READ COMMITTED): :func:`expire_lapsed` locks the lapsed holds with
``SELECT ... ORDER BY id FOR UPDATE SKIP LOCKED`` (a hold another transaction is expiring,
converting or releasing is left to it) and claims them with a conditional ``UPDATE holds ...
WHERE status = 'active'`` (one hold is expired exactly once), then locks every ticket type it
or the caller will touch in ascending id order before changing any count, so it never breaks
the id-ordered locking of the caller's guard. Lock order in every hold path: hold rows, then
ticket type rows (ascending), then the counters and the audit tail.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection
from datetime import datetime

import anyio
from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from pos_app.server import sql
from pos_app.server.db import Database
from pos_app.server.models import Hold, HoldLine, TicketType
from pos_app.server.services import changes, guards
from pos_app.server.services.inventory import lapsed_held
from pos_app.server.settings import ServerSettings

__all__ = ["SYSTEM_CHANNEL", "expire_lapsed", "lapsed_held", "run_sweeper", "start_sweeper",
           "stop_sweeper", "sweep"]

log = logging.getLogger("pos_app.server.expiry")

SYSTEM_CHANNEL = "system"
"""The audit actor's ``channel`` for an expiry: the server clock, no staff, no terminal (the
entry keeps the hold's ``shift_id`` so a shift's audit trail shows its expired holds)."""


def _lapsed(now: datetime, ticket_type_ids: Collection[int] | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Hold.status == "active", Hold.expires_at <= now]
    if ticket_type_ids is not None:
        conditions.append(exists().where(HoldLine.hold_id == Hold.id,
                                         HoldLine.ticket_type_id.in_(list(ticket_type_ids))))
    return conditions


def _lapsed_candidates(session: Session, ticket_type_ids: Collection[int] | None,
                       now: datetime) -> list[str]:
    """Ids of the lapsed ``active`` holds (on ``ticket_type_ids`` unless None), ascending,
    locked ``FOR UPDATE SKIP LOCKED`` on PostgreSQL. A raw statement: every sale runs it."""
    where = "h.status = 'active' AND h.expires_at <= :now"
    params: dict[str, object] = {"now": sql.db_time(session, now)}
    if ticket_type_ids is not None:
        placeholders, ids = sql.in_list("tt", sorted(ticket_type_ids))
        where += (" AND EXISTS (SELECT 1 FROM hold_lines hl WHERE hl.hold_id = h.id AND "
                  f"hl.ticket_type_id IN ({placeholders}))")
        params.update(ids)
    query = f"SELECT h.id FROM holds h WHERE {where} ORDER BY h.id"
    statement = sql.Statement(query, postgresql=f"{query} FOR UPDATE OF h SKIP LOCKED")
    return [str(row[0]) for row in sql.execute(session, statement, params).fetchall()]


def expire_lapsed(session: Session, ticket_type_ids: Collection[int] | None, *,
                  now: datetime) -> list[str]:
    """Expire, in the caller's write transaction, every ``active`` hold with
    ``expires_at <= now`` that has a line on one of ``ticket_type_ids`` (every ticket type
    when ``None``).

    Each such hold becomes ``expired`` (``ended_at = now``) and its quantities leave ``held``
    through a guarded ``UPDATE ... SET held = held - q WHERE held >= q RETURNING``; each is
    recorded with :func:`changes.record` (action ``expire``, ref the hold, the system actor,
    one audit entry per ticket type of the hold). Call it right before the caller's own guard.

    Returns the ids of the holds expired here (oldest expiry first).

    Raises:
        guards.CountsOutOfStep: ``held`` is smaller than a lapsed hold's quantity (a broken
            invariant; the caller's transaction rolls back).
    """
    if ticket_type_ids is not None and not ticket_type_ids:
        return []
    # Lock the lapsed holds in id order, skipping any another transaction has locked: it is
    # expiring, converting or releasing that hold, and our guard on the ticket type rows it
    # locked waits for its commit (then PostgreSQL re-evaluates the guard on fresh counts).
    candidates = _lapsed_candidates(session, ticket_type_ids, now)
    if not candidates:
        return []
    # Claim them; a hold converted/released/expired meanwhile is not returned.
    claimed = set(session.execute(
        update(Hold).where(Hold.id.in_(candidates), Hold.status == "active",
                           Hold.expires_at <= now)
        .values(status="expired", ended_at=now)
        .returning(Hold.id)
        .execution_options(synchronize_session=False)).scalars().all())
    if not claimed:
        return []
    holds = session.execute(
        select(Hold.id, Hold.shift_id).where(Hold.id.in_(claimed))
        .order_by(Hold.expires_at, Hold.id)).all()
    lines = session.execute(
        select(HoldLine.hold_id, HoldLine.ticket_type_id, HoldLine.quantity)
        .where(HoldLine.hold_id.in_(claimed))
        .order_by(HoldLine.hold_id, HoldLine.ticket_type_id)).all()
    by_hold: dict[str, list[tuple[int, int]]] = {}
    for hold_id, tt_id, quantity in lines:
        by_hold.setdefault(hold_id, []).append((int(tt_id), int(quantity)))

    # Lock every ticket type touched here or by the caller's guard, ascending, first.
    touched = {tt_id for hold_lines in by_hold.values() for tt_id, _ in hold_lines}
    if ticket_type_ids is not None:
        touched |= set(ticket_type_ids)
    types = {t.id: t for t in session.scalars(
        select(TicketType).where(TicketType.id.in_(sorted(touched)))
        .order_by(TicketType.id).with_for_update())}

    for hold_id, shift_id in holds:
        recorded: list[changes.CountChange] = []
        for tt_id, quantity in by_hold.get(hold_id, []):
            after = guards.release(session, tt_id, quantity, of=f"hold {hold_id}")
            tt = types[tt_id]
            recorded.append(changes.CountChange(
                ticket_type_id=tt_id, event_id=tt.event_id, action="expire",
                quantity=quantity, before=(after[0], after[1], after[2] + quantity),
                after=after, ladder=tt.alert_ladder))
        actor = changes.Actor(staff_id=None, terminal_id=None, channel=SYSTEM_CHANNEL,
                              shift_id=shift_id)
        changes.record(session, recorded, actor=actor, ref_type="hold", ref_id=hold_id,
                       reason="hold expired", now=now)
    for tt in types.values():
        session.expire(tt)
    return [hold_id for hold_id, _ in holds]


def _anything_lapsed(database: Database, now: datetime) -> bool:
    with database.read() as session:
        return session.scalar(select(exists().where(*_lapsed(now, None)))) is True


def sweep(database: Database, *, now: datetime) -> int:
    """Expire every lapsed hold in one write transaction; returns how many were expired.

    Looks first in a read transaction, so an idle sweep never takes the writer lock."""
    if not _anything_lapsed(database, now):
        return 0
    with database.write() as session:
        return len(expire_lapsed(session, None, now=now))


async def run_sweeper(database: Database, clock: Callable[[], datetime], *,
                      interval_seconds: float) -> None:
    """Run :func:`sweep` now and then every ``interval_seconds`` until cancelled.

    Each sweep runs in a worker thread (the event loop never blocks on the database); a
    cancelled sweeper lets a running sweep finish its transaction before it stops. A failed
    sweep is logged and retried at the next interval.
    """
    while True:
        try:
            expired = await anyio.to_thread.run_sync(lambda: sweep(database, now=clock()))
            if expired:
                log.info("expired %d lapsed hold(s)", expired)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("hold sweep failed; retrying at the next interval")
        await asyncio.sleep(interval_seconds)


def start_sweeper(database: Database, settings: ServerSettings) -> asyncio.Task[None] | None:
    """Start :func:`run_sweeper` on the running event loop (the app's lifespan) every
    ``settings.sweeper_interval`` with ``settings.clock``; None when the interval is not
    positive (sweeper switched off: correctness does not depend on it)."""
    interval = settings.sweeper_interval.total_seconds()
    if interval <= 0:
        return None
    return asyncio.get_running_loop().create_task(
        run_sweeper(database, settings.clock.now, interval_seconds=interval),
        name="pos-hold-sweeper")


async def stop_sweeper(task: asyncio.Task[None] | None) -> None:
    """Cancel the sweeper started by :func:`start_sweeper` and wait until it has stopped (a
    sweep in progress finishes its transaction first)."""
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
