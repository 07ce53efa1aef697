"""Reading inventory and bumping the inventory version."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pos_app.api import schemas
from pos_app.domain import inventory as rules
from pos_app.server.models import Counters, Event, TicketType

__all__ = ["bump_counters", "inventory_version", "list_events", "next_sale_number",
           "ticket_type_out"]


def ticket_type_out(tt: TicketType, currency: str) -> schemas.TicketType:
    """The wire shape of ``tt`` with ``available``, ``public_available`` and ``stock_level``
    computed by :mod:`pos_app.domain.inventory` (``held`` = the stored unexpired holds)."""
    remaining = rules.available(tt.capacity, tt.sold, tt.held)
    level = rules.stock_level(remaining, rules.Thresholds(low=tt.threshold_low,
                                                          critical=tt.threshold_critical))
    return schemas.TicketType(
        id=tt.id, event_id=tt.event_id, name=tt.name, price=tt.price, currency=currency,
        capacity=tt.capacity, public_limit=tt.public_limit, sold=tt.sold, held=tt.held,
        available=remaining,
        public_available=rules.public_available(tt.capacity, tt.public_limit, tt.sold, tt.held),
        stock_level=level.value,
        thresholds=schemas.Thresholds(low=tt.threshold_low, critical=tt.threshold_critical),
        alert_ladder=list(tt.alert_ladder), version=tt.version,
    )


def inventory_version(session: Session) -> int:
    """The current inventory version (0 for a fresh database)."""
    return int(session.scalar(select(Counters.inventory_version).where(Counters.id == 1)) or 0)


def list_events(session: Session) -> schemas.EventsResponse:
    """Every event (by start time) with its ticket types (by id), read in one snapshot."""
    version = inventory_version(session)
    events = session.scalars(select(Event).order_by(Event.starts_at, Event.id)).all()
    types = session.scalars(select(TicketType).order_by(TicketType.id)).all()
    by_event: dict[str, list[TicketType]] = {}
    for tt in types:
        by_event.setdefault(tt.event_id, []).append(tt)
    return schemas.EventsResponse(inventory_version=version, events=[
        schemas.Event(id=e.id, name=e.name, venue=e.venue, starts_at=e.starts_at,
                      timezone=e.timezone, currency=e.currency,
                      ticket_types=[ticket_type_out(t, e.currency)
                                    for t in by_event.get(e.id, [])])
        for e in events
    ])


def bump_counters(session: Session, *, sale_number: bool = False) -> tuple[int, int]:
    """Increment the inventory version (and, with ``sale_number=True``, the sale number) in
    the caller's transaction; returns ``(inventory_version, last_sale_number)``.

    The counters row is a hot row: call this after the inventory guard, just before commit.
    """
    values = {Counters.inventory_version: Counters.inventory_version + 1}
    if sale_number:
        values[Counters.last_sale_number] = Counters.last_sale_number + 1
    row = session.execute(
        update(Counters).where(Counters.id == 1).values(values)
        .returning(Counters.inventory_version, Counters.last_sale_number)
        .execution_options(synchronize_session=False)
    ).one()
    return int(row[0]), int(row[1])


def next_sale_number(session: Session) -> int:
    """Hand out the next sale number in the caller's transaction (sequential, no reuse once
    committed). The counters row is a hot row: call after the guard, just before commit."""
    row = session.execute(
        update(Counters).where(Counters.id == 1)
        .values({Counters.last_sale_number: Counters.last_sale_number + 1})
        .returning(Counters.last_sale_number)
        .execution_options(synchronize_session=False)
    ).one()
    return int(row[0])
