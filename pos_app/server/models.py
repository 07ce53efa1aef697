"""Tables of the central inventory (SQLAlchemy 2.0 typed declarative models).

Tables are adapters, not API schemas: routes translate them into ``pos_app.api.schemas``.
Every datetime column is timezone-aware UTC (:class:`UTCDateTime`); money is integer minor
units next to the event's ISO 4217 currency.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "AuditEntry",
    "Base",
    "Counters",
    "Event",
    "IdempotencyKey",
    "Sale",
    "SaleLine",
    "Staff",
    "StaffSession",
    "Terminal",
    "Ticket",
    "TicketType",
    "UTCDateTime",
]


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend.

    Naive values are refused; aware values are converted to UTC. SQLite has no time zones,
    so the value is stored as naive UTC there and read back with ``tzinfo=UTC``.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; give a timezone-aware time")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with stable constraint names (Alembic-friendly)."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), dict[str, Any]: JSON}


Base.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Counters(Base):
    """The single row (``id = 1``) of global counters: the inventory version bumped by every
    committed inventory change, and the last sale number handed out."""

    __tablename__ = "counters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    inventory_version: Mapped[int] = mapped_column(Integer, default=0)
    last_sale_number: Mapped[int] = mapped_column(Integer, default=0)


class Event(Base):
    """A performance: ``starts_at`` in UTC, ``timezone`` the venue's IANA zone."""

    __tablename__ = "events"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    venue: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    timezone: Mapped[str] = mapped_column(String(64))
    currency: Mapped[str] = mapped_column(String(3))


class TicketType(Base):
    """Stock of one kind of ticket: ``sold + held <= capacity`` always (a CHECK constraint)."""

    __tablename__ = "ticket_types"
    __table_args__ = (
        CheckConstraint("sold >= 0 AND held >= 0 AND sold + held <= capacity", name="counts"),
        UniqueConstraint("event_id", "name", name="uq_ticket_types_event_id_name"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    price: Mapped[int] = mapped_column(Integer)
    capacity: Mapped[int] = mapped_column(Integer)
    public_limit: Mapped[int | None] = mapped_column(Integer)
    sold: Mapped[int] = mapped_column(Integer, default=0)
    held: Mapped[int] = mapped_column(Integer, default=0)
    threshold_low: Mapped[int] = mapped_column(Integer, default=0)
    threshold_critical: Mapped[int] = mapped_column(Integer, default=0)
    alert_ladder: Mapped[list[int]] = mapped_column(JSON, default=list)
    version: Mapped[int] = mapped_column(Integer, default=1)


class Staff(Base):
    """A person who signs in at a terminal with a PIN (only its Argon2 hash is stored)."""

    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(16))  # cashier | manager | admin
    pin_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)


class Terminal(Base):
    """A box-office till. Before pairing it has a pairing code hash; after, a token hash."""

    __tablename__ = "terminals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    pairing_code_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    pairing_expires_at: Mapped[datetime | None]
    paired_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class StaffSession(Base):
    """A signed-in staff member at one terminal; only the token's SHA-256 is stored."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class Sale(Base):
    """A confirmed sale; ``number`` is sequential and human-readable."""

    __tablename__ = "sales"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    number: Mapped[int | None] = mapped_column(Integer, unique=True)
    status: Mapped[str] = mapped_column(String(24))
    channel: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    total: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(16))
    tendered: Mapped[int | None] = mapped_column(Integer)
    change: Mapped[int | None] = mapped_column(Integer)
    reference: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime]
    terminal_id: Mapped[int | None] = mapped_column(ForeignKey("terminals.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    shift_id: Mapped[int | None] = mapped_column(Integer, index=True)


class SaleLine(Base):
    """One ticket type on a sale, priced at the time of sale."""

    __tablename__ = "sale_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sale_id: Mapped[str] = mapped_column(ForeignKey("sales.id"), index=True)
    ticket_type_id: Mapped[int] = mapped_column(ForeignKey("ticket_types.id"))
    name: Mapped[str] = mapped_column(String(120))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(Integer)


class Ticket(Base):
    """One admission: ``code`` is 26 characters of base32 (128 random bits), QR friendly."""

    __tablename__ = "tickets"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    sale_id: Mapped[str] = mapped_column(ForeignKey("sales.id"), index=True)
    ticket_type_id: Mapped[int] = mapped_column(ForeignKey("ticket_types.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # valid | refunded


class IdempotencyKey(Base):
    """A request key claimed by a caller (``scope``, e.g. ``terminal:7``) and its stored
    outcome. ``status`` is ``in_progress``, ``completed`` or ``voided``."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("scope", "key", name="uq_idempotency_keys_scope_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    response_status: Mapped[int | None] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(index=True)


class AuditEntry(Base):
    """One append-only audit entry; ``hash = sha256(prev_hash + canonical JSON)``
    (see :mod:`pos_app.server.audit`). ``seq`` is assigned by the appender (tail + 1), so two
    concurrent appenders collide on the primary key instead of forking the chain."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_at", "at"),)

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(32), index=True)
    staff_id: Mapped[int | None] = mapped_column(Integer)
    terminal_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str | None] = mapped_column(String(32))
    ticket_type_id: Mapped[int | None] = mapped_column(Integer, index=True)
    quantity: Mapped[int | None] = mapped_column(Integer)
    before_capacity: Mapped[int | None] = mapped_column(Integer)
    before_sold: Mapped[int | None] = mapped_column(Integer)
    before_held: Mapped[int | None] = mapped_column(Integer)
    after_capacity: Mapped[int | None] = mapped_column(Integer)
    after_sold: Mapped[int | None] = mapped_column(Integer)
    after_held: Mapped[int | None] = mapped_column(Integer)
    ref_type: Mapped[str | None] = mapped_column(String(16))
    ref_id: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
