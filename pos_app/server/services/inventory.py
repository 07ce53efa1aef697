"""Reading inventory and bumping the inventory version."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pos_app.api import schemas
from pos_app.domain import inventory as rules
from pos_app.server import audit, sql
from pos_app.server.models import Counters, Event, Hold, HoldLine, TicketType
from pos_app.server.tx_state import state

__all__ = ["INVENTORY_VERSION_SEQUENCE", "SALE_NUMBER_SEQUENCE", "bump_counters",
           "bumped_version", "inventory_version", "lapsed_held", "list_events",
           "next_sale_number", "ticket_type_out"]

INVENTORY_VERSION_SEQUENCE = "pos_inventory_version_seq"
"""PostgreSQL: the sequence handing out inventory versions (migration 0003)."""
SALE_NUMBER_SEQUENCE = "pos_sale_number_seq"
"""PostgreSQL: the sequence handing out sale numbers (migration 0003)."""


def _on_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def lapsed_held(session: Session, ticket_type_ids: Collection[int] | None, *,
                now: datetime) -> dict[int, int]:
    """Tickets per ticket type id still counted in the stored ``held`` by holds that lapsed
    (``expires_at <= now``, server clock) but are still stored ``active`` because the sweeper
    has not run yet. Every read subtracts them from ``held`` (a hold is expired from the
    instant it lapses). ``ticket_type_ids=None`` means every ticket type; ticket types
    without lapsed holds are absent. Also exported as ``services.expiry.lapsed_held``."""
    if ticket_type_ids is not None and not ticket_type_ids:
        return {}
    query = (select(HoldLine.ticket_type_id, func.sum(HoldLine.quantity))
             .join(Hold, Hold.id == HoldLine.hold_id)
             .where(Hold.status == "active", Hold.expires_at <= now)
             .group_by(HoldLine.ticket_type_id))
    if ticket_type_ids is not None:
        query = query.where(HoldLine.ticket_type_id.in_(list(ticket_type_ids)))
    return {int(tt_id): int(quantity) for tt_id, quantity in session.execute(query).all()}


def ticket_type_out(tt: TicketType, currency: str, *,
                    lapsed: int = 0) -> schemas.TicketType:
    """The wire shape of ``tt`` with ``available``, ``public_available`` and ``stock_level``
    computed by :mod:`pos_app.domain.inventory`.

    ``held`` counts unexpired holds only: pass ``lapsed``, the tickets of ``tt``'s lapsed but
    not yet swept holds (``lapsed_held(session, [tt.id], now=now).get(tt.id, 0)``), and they
    are reported as available again."""
    held = max(0, tt.held - lapsed)
    remaining = rules.available(tt.capacity, tt.sold, held)
    level = rules.stock_level(remaining, rules.Thresholds(low=tt.threshold_low,
                                                          critical=tt.threshold_critical))
    return schemas.TicketType(
        id=tt.id, event_id=tt.event_id, name=tt.name, price=tt.price, currency=currency,
        capacity=tt.capacity, public_limit=tt.public_limit, sold=tt.sold, held=held,
        available=remaining,
        public_available=rules.public_available(tt.capacity, tt.public_limit, tt.sold, held),
        stock_level=level.value,
        thresholds=schemas.Thresholds(low=tt.threshold_low, critical=tt.threshold_critical),
        alert_ladder=list(tt.alert_ladder), version=tt.version,
    )


def inventory_version(session: Session) -> int:
    """The current committed inventory version (0 for a fresh database).

    SQLite: the ``counters`` row. PostgreSQL: the highest ``ticket_types.changed_version``
    visible to ``session`` (versions come from a sequence there, whose ``last_value`` would
    include transactions not yet committed); a version that changed no ticket type is never
    visible, and need not be.
    """
    if _on_postgresql(session):
        return int(session.scalar(select(func.coalesce(func.max(TicketType.changed_version), 0)))
                   or 0)
    return int(session.scalar(select(Counters.inventory_version).where(Counters.id == 1)) or 0)


def bumped_version(session: Session) -> int | None:
    """The inventory version :func:`bump_counters` handed to ``session``'s current
    transaction, or None when it took none."""
    return state(session).bumped_version


def list_events(session: Session, *, now: datetime) -> schemas.EventsResponse:
    """Every event (by start time) with its ticket types (by id), read in one snapshot.

    ``now`` is the server clock (``settings.clock.now()``): holds lapsed by then no longer
    count as held."""
    version = inventory_version(session)
    events = session.scalars(select(Event).order_by(Event.starts_at, Event.id)).all()
    types = session.scalars(select(TicketType).order_by(TicketType.id)).all()
    lapsed = lapsed_held(session, None, now=now)
    by_event: dict[str, list[TicketType]] = {}
    for tt in types:
        by_event.setdefault(tt.event_id, []).append(tt)
    return schemas.EventsResponse(inventory_version=version, events=[
        schemas.Event(id=e.id, name=e.name, venue=e.venue, starts_at=e.starts_at,
                      timezone=e.timezone, currency=e.currency,
                      ticket_types=[ticket_type_out(t, e.currency, lapsed=lapsed.get(t.id, 0))
                                    for t in by_event.get(e.id, [])])
        for e in events
    ])


_NEXT_VERSION = sql.Statement(
    "UPDATE counters SET inventory_version = inventory_version + 1 WHERE id = 1 "
    "RETURNING inventory_version",
    postgresql=f"SELECT nextval('{INVENTORY_VERSION_SEQUENCE}')")
_NEXT_NUMBER = sql.Statement(
    "UPDATE counters SET last_sale_number = last_sale_number + 1 WHERE id = 1 "
    "RETURNING last_sale_number",
    postgresql=f"SELECT nextval('{SALE_NUMBER_SEQUENCE}')")


def bump_counters(session: Session) -> int:
    """The inventory version of the caller's transaction: taken at the first call, the same
    one at every later call of the transaction (its changes all become visible at one
    commit, so readers cannot tell them apart); returns it.

    SQLite: increments the ``counters`` row (writes are serialised anyway). PostgreSQL:
    ``nextval`` of :data:`INVENTORY_VERSION_SEQUENCE` (no row lock; a rolled-back transaction
    leaves a gap) taken under the audit chain's advisory lock (:func:`audit.lock_chain`, held
    to commit), so versions are handed out in commit order and a reader that sees version
    ``v`` committed also sees every version below it. A rolled-back savepoint puts the
    remembered version back as the savepoint found it (:mod:`pos_app.server.tx_state`): a
    version taken inside it is forgotten, since the savepoint undid the increment, and a
    later call takes a new one. Raw statements (:mod:`pos_app.server.sql`): every sale takes
    one.
    """
    tx = state(session)
    if tx.bumped_version is not None:
        return tx.bumped_version
    audit.lock_chain(session)  # no-op on SQLite, and once per transaction on PostgreSQL
    version = int(sql.execute(session, _NEXT_VERSION).fetchone()[0])
    tx.bumped_version = version
    return version


def next_sale_number(session: Session) -> int:
    """Hand out the next sale number in the caller's transaction (increasing, never reused).

    SQLite: the ``counters`` row, sequential (call after the guard, just before commit).
    PostgreSQL: ``nextval`` of :data:`SALE_NUMBER_SEQUENCE`, no row lock; a rolled-back sale
    leaves a gap in the numbers."""
    return int(sql.execute(session, _NEXT_NUMBER).fetchone()[0])
