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
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = [
    "AuditEntry",
    "AuditHead",
    "Base",
    "CashMovement",
    "ChannelToken",
    "Counters",
    "Event",
    "Hold",
    "HoldLine",
    "IdempotencyKey",
    "LoginAttempt",
    "Refund",
    "RefundTicket",
    "Sale",
    "SaleLine",
    "Shift",
    "Staff",
    "StaffSession",
    "StockAlert",
    "Terminal",
    "Ticket",
    "TicketType",
    "UTCDateTime",
    "Webhook",
    "WebhookDelivery",
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
    # The inventory version of the last committed change of this row's counts or settings
    # (stamped just before commit by services.live); GET /v1/inventory?since= reads it.
    changed_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


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
    created_at: Mapped[datetime] = mapped_column(index=True)
    terminal_id: Mapped[int | None] = mapped_column(ForeignKey("terminals.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    shift_id: Mapped[int | None] = mapped_column(ForeignKey("shifts.id"), index=True)
    hold_id: Mapped[str | None] = mapped_column(ForeignKey("holds.id"), unique=True)
    channel_token_id: Mapped[int | None] = mapped_column(ForeignKey("channel_tokens.id"))


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
    completed_at: Mapped[datetime | None]


class AuditEntry(Base):
    """One append-only audit entry; ``hash = sha256(prev_hash + canonical JSON)``
    (see :mod:`pos_app.server.audit`). ``seq`` is assigned by the appender (tail + 1), so two
    concurrent appenders collide on the primary key instead of forking the chain."""

    __tablename__ = "audit_log"
    # Filters of the audit viewer (issue 6) page by seq within each filter: one index each.
    __table_args__ = (
        Index("ix_audit_log_at", "at"),
        Index("ix_audit_log_terminal_seq", "terminal_id", "seq"),
        Index("ix_audit_log_staff_seq", "staff_id", "seq"),
        Index("ix_audit_log_shift_seq", "shift_id", "seq"),
        Index("ix_audit_log_action_seq", "action", "seq"),
        Index("ix_audit_log_ticket_type_seq", "ticket_type_id", "seq"),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    action: Mapped[str] = mapped_column(String(32))
    staff_id: Mapped[int | None] = mapped_column(Integer)
    terminal_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str | None] = mapped_column(String(32))
    shift_id: Mapped[int | None] = mapped_column(Integer)
    approved_by: Mapped[int | None] = mapped_column(Integer)  # manager who authorised it
    ticket_type_id: Mapped[int | None] = mapped_column(Integer)
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


class AuditHead(Base):
    """The single row (``id = 1``) naming the newest audit entry (``seq``, ``hash``), written
    by every append in the same transaction. A hash chain alone cannot show that its newest
    entries were deleted; comparing the walked tail with the head can."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))
    # Entries up to this seq were written before audit verify checked counts (migration
    # 0006): a break of counts among them is an old break, not a failure.
    counts_from_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Entries up to this seq are plain SHA-256, later ones HMAC-SHA256 under the audit key
    # (migration 0008); NULL until the first start after that upgrade re-anchored the chain.
    # Not trusted by verify (the anchor file's upgrade line is): it only tells a server
    # that a missing secrets folder is lost, not new.
    keyed_from_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ChannelToken(Base):
    """A sales channel's credential (e.g. the online shop's backend): it acts as ``channel``
    for holds and sales only. Only the token's SHA-256 is stored."""

    __tablename__ = "channel_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class LoginAttempt(Base):
    """One checked PIN: a sign-in or a manager's approval
    (:mod:`pos_app.server.services.pin_attempts`).

    A row is written *before* the PIN is compared, as a failure due at ``at`` (the time the
    venue-wide delay lets it be evaluated), and turned into a success once the PIN matched:
    an attempt in flight counts as a failure for every limit. ``client`` is the caller's
    address; ``kind`` is ``sign_in`` or ``approval``.
    """

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_at", "username", "at"),
                      Index("ix_login_attempts_terminal_username_at",
                            "terminal_id", "username", "at"),
                      Index("ix_login_attempts_client_at", "client", "at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]
    success: Mapped[bool] = mapped_column(Boolean)
    terminal_id: Mapped[int | None] = mapped_column(Integer)
    client: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16), default="sign_in", server_default="sign_in")


class Hold(Base):
    """Tickets reserved for a while: ``checkout`` (a basket being paid now) or ``cash`` (a named
    customer paying later). ``status`` is stored as ``active``, ``converted``, ``released`` or
    ``expired``, but an ``active`` hold whose ``expires_at <= now`` (server clock) counts as
    expired everywhere before the sweeper marks it."""

    __tablename__ = "holds"
    __table_args__ = (Index("ix_holds_status_expires_at", "status", "expires_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # checkout | cash
    status: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(32))
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    total: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    customer_name: Mapped[str | None] = mapped_column(String(120), index=True)
    customer_phone: Mapped[str | None] = mapped_column(String(40))
    customer_email: Mapped[str | None] = mapped_column(String(254))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    terminal_id: Mapped[int | None] = mapped_column(ForeignKey("terminals.id"), index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    channel_token_id: Mapped[int | None] = mapped_column(ForeignKey("channel_tokens.id"))
    shift_id: Mapped[int | None] = mapped_column(ForeignKey("shifts.id"), index=True)
    ended_at: Mapped[datetime | None]  # converted, released or expired at
    release_reason: Mapped[str | None] = mapped_column(Text)


class HoldLine(Base):
    """One ticket type on a hold, priced when the hold was placed."""

    __tablename__ = "hold_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hold_id: Mapped[str] = mapped_column(ForeignKey("holds.id"), index=True)
    ticket_type_id: Mapped[int] = mapped_column(ForeignKey("ticket_types.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(Integer)


class Shift(Base):
    """A cashier shift at one terminal: float in, cash sales and movements, counted cash out.
    At most one ``open`` shift per terminal (a partial unique index)."""

    __tablename__ = "shifts"
    __table_args__ = (
        Index("uq_shifts_open_per_terminal", "terminal_id", unique=True,
              sqlite_where=text("status = 'open'"), postgresql_where=text("status = 'open'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    terminal_id: Mapped[int] = mapped_column(ForeignKey("terminals.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # open | closed
    currency: Mapped[str] = mapped_column(String(3))
    opening_float: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(index=True)
    opened_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    counted_cash: Mapped[int | None] = mapped_column(Integer)
    expected_cash: Mapped[int | None] = mapped_column(Integer)
    variance: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)


class CashMovement(Base):
    """Cash into or out of a shift's drawer that is not a sale: ``pay_in``, ``pay_out`` or
    ``drop`` (to the safe); ``amount`` is positive minor units."""

    __tablename__ = "cash_movements"
    __table_args__ = (CheckConstraint("amount > 0", name="positive"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shift_id: Mapped[int] = mapped_column(ForeignKey("shifts.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))


class Refund(Base):
    """Money back for some or all tickets of a sale; ``approved_by`` is the manager."""

    __tablename__ = "refunds"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    sale_id: Mapped[str] = mapped_column(ForeignKey("sales.id"), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(16))  # cash | external
    reason: Mapped[str] = mapped_column(Text)
    approved_by: Mapped[int] = mapped_column(ForeignKey("staff.id"))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    terminal_id: Mapped[int | None] = mapped_column(ForeignKey("terminals.id"))
    shift_id: Mapped[int | None] = mapped_column(ForeignKey("shifts.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime]


class RefundTicket(Base):
    """A ticket given back by a refund; the primary key makes a ticket refundable once."""

    __tablename__ = "refund_tickets"

    ticket_code: Mapped[str] = mapped_column(ForeignKey("tickets.code"), primary_key=True)
    refund_id: Mapped[str] = mapped_column(ForeignKey("refunds.id"), index=True)
    ticket_type_id: Mapped[int] = mapped_column(ForeignKey("ticket_types.id"))
    amount: Mapped[int] = mapped_column(Integer)


class StockAlert(Base):
    """A downward crossing of a rung of a ticket type's ``alert_ladder`` (``level`` is the
    rung, ``available`` the count right after the change that crossed it)."""

    __tablename__ = "stock_alerts"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    ticket_type_id: Mapped[int] = mapped_column(ForeignKey("ticket_types.id"), index=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"))
    level: Mapped[int] = mapped_column(Integer)
    available: Mapped[int] = mapped_column(Integer)


class Webhook(Base):
    """A URL that receives every stock alert raised after it was added (issue 6), signed
    with its own ``secret`` (:mod:`pos_app.server.services.webhooks`).

    The outbox is the ``stock_alerts`` table itself: ``cursor_seq`` is the newest alert this
    webhook is done with (delivered, or failed for good); the next one is the lowest ``seq``
    above it. ``attempts`` counts the failed tries of that next alert and ``next_attempt_at``
    holds it back until its backoff has passed. A removed webhook keeps its row and delivery
    log (``active`` false, ``removed_at`` set) but loses its secret.
    """

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str | None] = mapped_column(String(128))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime]
    removed_at: Mapped[datetime | None]
    cursor_seq: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None]


class WebhookDelivery(Base):
    """One attempt to post one stock alert to one webhook: the delivery log.

    ``outcome`` is ``delivered`` (a 2xx), ``retrying`` (a network error, timeout, 408, 429 or
    5xx; the alert is tried again after a backoff), or ``failed`` (any other status, or the
    retry window ran out: the webhook moves on to the next alert). ``status_code`` is the
    receiver's HTTP status (None when no answer came), ``error`` what went wrong without
    one, ``duration_ms`` the time from connecting to the status line.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (Index("ix_webhook_deliveries_webhook_id_id", "webhook_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"))
    alert_seq: Mapped[int] = mapped_column(ForeignKey("stock_alerts.seq"))
    delivery_id: Mapped[str] = mapped_column(String(36))
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(String(200))
    duration_ms: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
