"""Writing a parsed catalog into the database (``--demo`` and ``admin import-catalog``).

Idempotent per event id: an event whose id already exists is skipped as a whole (its ticket
types and counts are left alone; changing capacity goes through the capacity endpoints of a
later milestone). Staff whose username exists are skipped too (PINs are not reset).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pos_app.server import audit, security
from pos_app.server.catalog import Catalog
from pos_app.server.models import Event, Staff, TicketType
from pos_app.server.services.inventory import bump_counters

__all__ = ["import_catalog", "is_empty"]


def is_empty(session: Session) -> bool:
    """True when the database holds no events and no staff (a fresh install)."""
    events = session.scalar(select(func.count()).select_from(Event)) or 0
    staff = session.scalar(select(func.count()).select_from(Staff)) or 0
    return events == 0 and staff == 0


def import_catalog(session: Session, catalog: Catalog, *, now: datetime) -> int:
    """Create the catalog's new events (with ticket types) and staff in the caller's unit of
    work; returns the number of events created. Each new ticket type's capacity is recorded
    in the audit log as a ``capacity_increase`` from 0."""
    created = 0
    records: list[audit.AuditRecord] = []
    for item in catalog.events:
        if session.get(Event, item.id) is not None:
            continue
        session.add(Event(id=item.id, name=item.name, venue=item.venue,
                          starts_at=item.starts_at, timezone=item.timezone,
                          currency=item.currency))
        session.flush()
        for tt in item.ticket_types:
            row = TicketType(event_id=item.id, name=tt.name, price=tt.price,
                             capacity=tt.capacity, public_limit=tt.public_limit, sold=0,
                             held=0, threshold_low=tt.threshold_low,
                             threshold_critical=tt.threshold_critical,
                             alert_ladder=tt.alert_ladder, version=1)
            session.add(row)
            session.flush()
            records.append(audit.AuditRecord(
                action="capacity_increase", channel="admin", ticket_type_id=row.id,
                quantity=tt.capacity, before=(0, 0, 0), after=(tt.capacity, 0, 0),
                reason=f"catalog import of event {item.id}"))
        created += 1
    for person in catalog.staff:
        if session.scalars(select(Staff.id).where(Staff.username == person.username)).first():
            continue
        session.add(Staff(username=person.username, display_name=person.display_name,
                          role=person.role, pin_hash=security.hash_pin(person.pin),
                          active=True))
    session.flush()
    if created:
        bump_counters(session)
        audit.append(session, records, now)
    return created
