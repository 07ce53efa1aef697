"""Writing a parsed catalog into the database (``--demo`` and ``admin import-catalog``).

Idempotent per event id: an event whose id already exists is never changed (its ticket types
and counts are left alone; capacity goes through the capacity endpoints, and updating an
event from a file comes with the venue administration work). The import says so: an existing
event identical to the file is "already there", one that differs is "skipped" with the
differences. Staff whose username exists are skipped too (their PINs are never reset).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from pos_app.server import audit
from pos_app.server.catalog import Catalog, CatalogEvent, CatalogTicketType
from pos_app.server.models import Event, Staff, TicketType
from pos_app.server.services.inventory import bump_counters
from pos_app.server.tx_state import state

__all__ = ["CreatedEvent", "ImportReport", "SkippedEvent", "differences", "import_catalog",
           "is_empty"]


@dataclass(frozen=True)
class CreatedEvent:
    """An event the import created, with the names of its ticket types in file order."""

    id: str
    name: str
    ticket_types: list[str]


@dataclass(frozen=True)
class SkippedEvent:
    """An existing event the file describes differently, left unchanged; ``differences``
    are sentences such as ``"capacity of 'GA': file 800, server 850"``."""

    id: str
    differences: list[str]


@dataclass
class ImportReport:
    """What an import did. Usernames only: PINs are never reported.

    Attributes:
        created: events created (with their ticket types).
        unchanged: ids of events already there exactly as the file describes them.
        skipped: existing events that differ from the file (left as they are).
        staff_created: usernames created, with their roles (``[(username, role)]``).
        staff_existing: usernames already there (left as they are, PIN not reset).
    """

    created: list[CreatedEvent] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[SkippedEvent] = field(default_factory=list)
    staff_created: list[tuple[str, str]] = field(default_factory=list)
    staff_existing: list[str] = field(default_factory=list)


def is_empty(session: Session) -> bool:
    """True when the database holds no events and no staff (a fresh install)."""
    events = session.scalar(select(func.count()).select_from(Event)) or 0
    staff = session.scalar(select(func.count()).select_from(Staff)) or 0
    return events == 0 and staff == 0


def _type_differences(wanted: CatalogTicketType, row: TicketType) -> list[str]:
    pairs = [("price", wanted.price, row.price), ("capacity", wanted.capacity, row.capacity),
             ("public_limit", wanted.public_limit, row.public_limit),
             ("thresholds.low", wanted.threshold_low, row.threshold_low),
             ("thresholds.critical", wanted.threshold_critical, row.threshold_critical),
             ("alert_ladder", wanted.alert_ladder, list(row.alert_ladder or []))]
    return [f"{what} of {wanted.name!r}: file {mine}, server {theirs}"
            for what, mine, theirs in pairs if mine != theirs]


def differences(session: Session, item: CatalogEvent, event: Event) -> list[str]:
    """How the stored ``event`` differs from the file's ``item`` (empty when identical)."""
    found: list[str] = []
    for what, mine, theirs in [("name", item.name, event.name),
                               ("venue", item.venue, event.venue),
                               ("timezone", item.timezone, event.timezone),
                               ("currency", item.currency, event.currency)]:
        if mine != theirs:
            found.append(f"{what}: file {mine!r}, server {theirs!r}")
    if item.starts_at != event.starts_at:
        found.append(f"starts_at: file {item.starts_at:%Y-%m-%d %H:%M} UTC, server "
                     f"{event.starts_at:%Y-%m-%d %H:%M} UTC")
    rows = {row.name: row for row in session.scalars(
        select(TicketType).where(TicketType.event_id == event.id))}
    for wanted in item.ticket_types:
        row = rows.pop(wanted.name, None)
        if row is None:
            found.append(f"ticket type {wanted.name!r} is not on the server")
        else:
            found.extend(_type_differences(wanted, row))
    found.extend(f"ticket type {name!r} is on the server, not in the file" for name in rows)
    return found


def import_catalog(session: Session, catalog: Catalog, *, now: datetime) -> ImportReport:
    """Create the catalog's new events (with ticket types) and staff in the caller's unit of
    work; returns what was created, found unchanged and skipped. Each new ticket type's
    capacity is recorded in the audit log as a ``capacity_increase`` from 0."""
    report = ImportReport()
    records: list[audit.AuditRecord] = []
    for item in catalog.events:
        existing = session.get(Event, item.id)
        if existing is not None:
            found = differences(session, item, existing)
            if found:
                report.skipped.append(SkippedEvent(id=item.id, differences=found))
            else:
                report.unchanged.append(item.id)
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
        report.created.append(CreatedEvent(id=item.id, name=item.name,
                                           ticket_types=[tt.name for tt in item.ticket_types]))
    for person in catalog.staff:
        if session.scalars(select(Staff.id).where(Staff.username == person.username)).first():
            report.staff_existing.append(person.username)
            continue
        pins = state(session).sealing_keys().pins
        session.add(Staff(username=person.username, display_name=person.display_name,
                          role=person.role, pin_hash=pins.hash(person.pin, person.username),
                          active=True))
        report.staff_created.append((person.username, person.role))
    session.flush()
    if report.created:
        bump_counters(session)
        audit.append(session, records, now)
    return report
