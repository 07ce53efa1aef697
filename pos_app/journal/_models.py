"""SQLAlchemy 2.0 typed tables of the terminal journal (schema owned by the Alembic chain in
``pos_app/journal/migrations``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, String, TypeDecorator, false
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

__all__ = ["Base", "EntryRow", "UtcDateTime"]


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime stored as naive UTC (SQLite keeps no offset)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("journal timestamps must be timezone-aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    pass


class EntryRow(Base):
    """One journaled request: written ``pending`` before the request leaves the terminal."""

    __tablename__ = "journal_entries"
    __table_args__ = (Index("ix_journal_entries_state", "state"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(255), unique=True)
    operation: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))
    request: Mapped[dict[str, Any]] = mapped_column(JSON)
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    error_code: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reference: Mapped[str | None] = mapped_column(String(64), nullable=True)
    staff_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    terminal_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Completed on the server without the cashier seeing it (revision j0002).
    flagged_for_manager: Mapped[bool] = mapped_column(Boolean, default=False,
                                                      server_default=false())
    # The server it was sent to, "<url> CA <fingerprint>" (revision j0003; NULL before).
    server: Mapped[str | None] = mapped_column(String(300), nullable=True)
