"""Engines and units of work.

One :class:`Database` per process wraps a SQLAlchemy engine. Reads run in
:meth:`Database.read`; every write runs in :meth:`Database.write`, a unit of work that commits
on success and rolls back on any exception.

On SQLite (WAL, ``synchronous=FULL``, ``foreign_keys=ON``, ``busy_timeout``) SQLAlchemy emits
``BEGIN`` itself (the ``sqlite3`` driver's own transaction control is switched off, see the
SQLAlchemy SQLite docs, "Enabling Non-Legacy SQLite Transactional Modes"): writes begin with
``BEGIN IMMEDIATE`` and, inside this process, also queue on one :class:`threading.Lock`,
because SQLite's ``busy_timeout`` is unfair between waiting writers (``MEASUREMENTS.md``).
On PostgreSQL (``postgresql+psycopg://``) writes run under READ COMMITTED with no lock.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

__all__ = ["Database"]

_WRITE_OPTION = "pos_app_write"


def _install_sqlite_hooks(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN, not the driver
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        if conn.get_execution_options().get(_WRITE_OPTION):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")


class Database:
    """A database at ``url`` with read and write units of work.

    Args:
        url: SQLAlchemy URL, ``sqlite:///ABSOLUTE/PATH`` or ``postgresql+psycopg://...``.
        busy_timeout_ms: SQLite only: wait for another process's write lock this long.
    """

    def __init__(self, url: str, *, busy_timeout_ms: int = 15_000) -> None:
        self.url = url
        if url.startswith("sqlite"):
            self.engine = create_engine(url, pool_size=10, max_overflow=40, pool_timeout=60)
            _install_sqlite_hooks(self.engine, busy_timeout_ms)
            self._lock: threading.Lock | None = threading.Lock()
        else:
            self.engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
            self._lock = None
        self.dialect: str = self.engine.dialect.name  # "sqlite" | "postgresql"
        self._write_engine = self.engine.execution_options(**{_WRITE_OPTION: True})
        self._read_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(self._write_engine, expire_on_commit=False)

    @property
    def is_sqlite(self) -> bool:
        """True when the database is a SQLite file."""
        return self.dialect == "sqlite"

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads (one snapshot on SQLite WAL), closed on exit: its transaction
        ends and loaded objects stay readable (detached)."""
        with self._read_sessions() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A unit of work: commits when the block ends normally, rolls back on an exception.

        On SQLite the transaction is ``BEGIN IMMEDIATE`` and holds this process's writer
        lock for its whole duration, so writers run one at a time, in arrival order.
        """
        if self._lock is not None:
            self._lock.acquire()
        try:
            with self._write_sessions() as session:
                try:
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        finally:
            if self._lock is not None:
                self._lock.release()

    def write_connection_engine(self) -> Engine:
        """The engine whose transactions begin as writes (``BEGIN IMMEDIATE`` on SQLite);
        used by migrations."""
        return self._write_engine

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
