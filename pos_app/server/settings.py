"""The server's configuration as one typed object."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from pos_app.domain.clock import Clock, SystemClock

__all__ = ["SQLITE_FILENAME", "ServerSettings", "database_url_for"]

SQLITE_FILENAME = "pos.sqlite3"


def database_url_for(database: str) -> str:
    """SQLAlchemy URL for ``database``: an absolute folder path (SQLite file
    ``DIR/pos.sqlite3``, folder created if missing) or already a SQLAlchemy URL.

    Raises:
        ValueError: a relative folder path.
    """
    if "://" in database:
        return database
    folder = Path(database)
    if not folder.is_absolute():
        raise ValueError(f"the data folder must be an absolute path, not {database!r}")
    folder.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{folder / SQLITE_FILENAME}"


@dataclass(frozen=True)
class ServerSettings:
    """Everything the app needs to run.

    Attributes:
        database_url: SQLAlchemy URL (``sqlite:///...`` or ``postgresql+psycopg://...``).
        session_ttl: lifetime of a staff session token (12 hours).
        pairing_code_ttl: lifetime of a terminal pairing code (10 minutes).
        idempotency_ttl: how long idempotency keys are kept at least (24 hours).
        clock: the source of "now" for every expiry decision (inject a FixedClock in tests).
        sqlite_busy_timeout_ms: how long SQLite waits for another process's write lock.
    """

    database_url: str
    session_ttl: timedelta = timedelta(hours=12)
    pairing_code_ttl: timedelta = timedelta(minutes=10)
    idempotency_ttl: timedelta = timedelta(hours=24)
    clock: Clock = field(default_factory=SystemClock)
    sqlite_busy_timeout_ms: int = 15_000
