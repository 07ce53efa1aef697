"""Recording an inventory change: the one place every change of counts goes through.

A service that moved counts (sale, hold, release, expiry, refund, capacity change) calls
:func:`record` in the same transaction, after its guard, with the before/after counts the
guard returned. :func:`record` then, in order:

1. appends one audit entry per ticket type changed (``shared/API.md``, Audit log);
2. raises a ``stock_alert`` for every rung of the ticket type's ``alert_ladder`` crossed
   downwards (``before_available > rung >= after_available``), as a :class:`StockAlert` row
   plus an audit entry; a rung is crossed again only after availability rose above it;
3. bumps the inventory version once for the whole transaction;
4. notes the changed ticket type ids in the transaction's state (:func:`changed_ticket_types`,
   :mod:`pos_app.server.tx_state`) so the live-inventory publisher can announce them after
   commit, never before (and never those of a savepoint rolled back).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session

from pos_app.domain import inventory as rules
from pos_app.server import audit
from pos_app.server.models import StockAlert
from pos_app.server.services.inventory import bump_counters
from pos_app.server.tx_state import state

__all__ = ["Actor", "CountChange", "Counts", "changed_ticket_types",
           "crossed_rungs", "record"]

Counts = tuple[int, int, int]
"""``(capacity, sold, held)`` of one ticket type."""


@dataclass(frozen=True)
class Actor:
    """Who made a change: staff at a terminal (with its open shift), or a sales channel."""

    staff_id: int | None
    terminal_id: int | None
    channel: str | None
    shift_id: int | None = None
    approved_by: int | None = None


@dataclass(frozen=True)
class CountChange:
    """One ticket type's counts before and after a change, from the guard's ``RETURNING``.

    ``quantity`` is the tickets moved (or the capacity delta), ``ladder`` the ticket type's
    ``alert_ladder`` (descending remaining counts).
    """

    ticket_type_id: int
    event_id: str
    action: str
    quantity: int | None
    before: Counts
    after: Counts
    ladder: Sequence[int] = ()


def crossed_rungs(ladder: Sequence[int], before_available: int, after_available: int) -> list[int]:
    """Rungs of ``ladder`` crossed downwards when availability went from ``before_available``
    to ``after_available``: every ``rung`` with ``after <= rung < before``, highest first.

    >>> crossed_rungs([25, 15, 10, 5, 2, 0], 26, 9)
    [25, 15, 10]
    """
    return sorted((r for r in ladder if after_available <= r < before_available), reverse=True)


def changed_ticket_types(session: Session) -> set[int]:
    """Ticket type ids changed in ``session``'s current transaction (read by the publisher
    after commit; :attr:`~pos_app.server.tx_state.TxState.changed_ticket_types`, cleared
    when the transaction ends, put back as a savepoint found them when it rolls back)."""
    return state(session).changed_ticket_types


def record(session: Session, changes: Sequence[CountChange], *, actor: Actor,
           ref_type: str | None, ref_id: str | None, reason: str | None,
           now: datetime) -> int:
    """Audit ``changes``, raise their stock alerts, bump the inventory version; returns it.

    Call inside the write transaction, after the guard and just before commit (the counters
    row is a hot row). ``now`` is the server clock.
    """
    records: list[audit.AuditRecord] = []
    alerts: list[dict[str, object]] = []
    for change in changes:
        records.append(audit.AuditRecord(
            action=change.action, staff_id=actor.staff_id, terminal_id=actor.terminal_id,
            channel=actor.channel, shift_id=actor.shift_id, approved_by=actor.approved_by,
            ticket_type_id=change.ticket_type_id, quantity=change.quantity,
            before=change.before, after=change.after, ref_type=ref_type, ref_id=ref_id,
            reason=reason))
        before_available = rules.available(*change.before)
        after_available = rules.available(*change.after)
        for rung in crossed_rungs(change.ladder, before_available, after_available):
            alerts.append({"at": now, "ticket_type_id": change.ticket_type_id,
                           "event_id": change.event_id, "level": rung,
                           "available": after_available})
            records.append(audit.AuditRecord(
                action="stock_alert", staff_id=actor.staff_id, terminal_id=actor.terminal_id,
                channel=actor.channel, shift_id=actor.shift_id,
                ticket_type_id=change.ticket_type_id, quantity=rung, before=change.before,
                after=change.after, ref_type=ref_type, ref_id=ref_id,
                reason=f"{after_available} left, at or below {rung}"))
    if alerts:
        session.execute(insert(StockAlert), alerts)
    audit.append(session, records, now)
    version = bump_counters(session)
    changed_ticket_types(session).update(c.ticket_type_id for c in changes)
    return version
