"""Engines and units of work.

One :class:`Database` per process wraps a SQLAlchemy engine. Reads run in
:meth:`Database.read`; every write runs in :meth:`Database.write` (a block) or
:meth:`Database.run_write` (a function it may run again), a unit of work that commits on
success and rolls back on any exception.

On SQLite (WAL, ``synchronous=FULL``, ``foreign_keys=ON``, ``busy_timeout``) SQLAlchemy emits
``BEGIN`` itself (the ``sqlite3`` driver's own transaction control is switched off, see the
SQLAlchemy SQLite docs, "Enabling Non-Legacy SQLite Transactional Modes"): writes begin with
``BEGIN IMMEDIATE`` and, inside this process, also queue on one :class:`threading.Lock`,
because SQLite's ``busy_timeout`` is unfair between waiting writers (``MEASUREMENTS.md``).
On PostgreSQL (``postgresql+psycopg://``) writes run under READ COMMITTED with no lock; a
serialization failure or deadlock (SQLSTATE ``40001``/``40P01``) is retried by
:meth:`Database.run_write` and raised as :class:`~pos_app.server.db_errors.WriteConflict`
when it persists (answered 409 ``request_in_progress`` by the app).

Every session carries its transaction state (:mod:`pos_app.server.tx_state`: dialect, audit
chain, sealing keys and what the transaction has done so far), restored when a savepoint rolls
back. This module is persistence only: it imports no service and nothing of HTTP
(``tests/unit/test_architecture.py``).

Live inventory (``DESIGN.md``): whoever opens a database to serve or administer it gives it
the hooks of :mod:`pos_app.server.services.live` (``write_hooks``): just before commit the
changed ticket types are stamped with the transaction's inventory version (and, on
PostgreSQL, ``NOTIFY pos_inventory`` is sent in the same transaction, delivered only on
commit); after the commit they are handed to :attr:`Database.publisher` (the process's
broadcaster); a rollback publishes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import random
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from pos_app.files import private_sqlite
from pos_app.server import tx_state
from pos_app.server.audit import lock_chain
from pos_app.server.chain_key import Chain
from pos_app.server.db_errors import WriteConflict, is_retryable
from pos_app.server.group_commit import GroupCommitWriter, Unit
from pos_app.server.sealing import Keys, throwaway_keys
from pos_app.server.sql import install_deferred_hooks

__all__ = ["Database", "Publisher", "WriteHooks"]

log = logging.getLogger("pos_app.server.db")

_WRITE_OPTION = "pos_app_write"

Publisher = Callable[[int, Collection[int]], None]
"""``publisher(inventory_version, ticket_type_ids)``, called after a commit (any thread)."""

WriteHooks = Callable[[sessionmaker[Session], Publisher], None]
"""``install(factory, publish)``: registers event hooks on the write session factory;
``publish(version, ticket_type_ids)`` hands a committed change to :attr:`Database.publisher`
(e.g. :func:`pos_app.server.services.live.install_session_hooks`)."""

T = TypeVar("T")


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
        retry_attempts: PostgreSQL only: how often :meth:`run_write` runs a unit of work that
            failed with a serialization failure or deadlock (``settings.db_retry_attempts``).
        batch_limit: most units :meth:`submit` commits in one transaction
            (``settings.write_batch_limit``).
        chain: the audit chain's key and anchor file, from the data folder's secrets
            (:func:`pos_app.server.services.anchoring.load_chain`); every session carries it
            (:attr:`pos_app.server.tx_state.TxState.chain`). None: a random key of this
            object's own and no anchors (tests; a chain written so verifies in this process
            only).
        keys: the keys sealing PIN hashes and webhook secrets, from the data folder's
            secrets (:func:`pos_app.server.services.sealing_keys.load_keys`); every session
            carries them (:attr:`pos_app.server.tx_state.TxState.keys`). None: this
            process's throwaway keys (:func:`pos_app.server.sealing.throwaway_keys`: tests;
            what is sealed so opens in this process only).
        write_hooks: each is called once with the write session factory and the publish
            function (:data:`WriteHooks`): the composition root's way to give the write
            sessions the live inventory's hooks
            (:func:`pos_app.server.services.live.install_session_hooks`). Without them
            nothing is stamped with an inventory version nor published.

    Attributes:
        publisher: called as ``publisher(inventory_version, ticket_type_ids)`` after every
            commit that changed ticket types (in the committing thread; it must only hand the
            news over, e.g. :meth:`pos_app.server.services.live.Broadcaster.notify_committed`).
            None (the default, e.g. admin commands) publishes nothing in this process.
    """

    def __init__(self, url: str, *, busy_timeout_ms: int = 15_000,
                 retry_attempts: int = 5, batch_limit: int = 64,
                 chain: Chain | None = None, keys: Keys | None = None,
                 write_hooks: Sequence[WriteHooks] = ()) -> None:
        self.url = url
        self.chain = chain or Chain()
        self.keys = keys or throwaway_keys()
        if url.startswith("sqlite"):
            path = make_url(url).database
            if path and path != ":memory:":
                private_sqlite(Path(path))  # 0600 before SQLite creates it (and its WAL)
            self.engine = create_engine(url, pool_size=10, max_overflow=40, pool_timeout=60)
            _install_sqlite_hooks(self.engine, busy_timeout_ms)
            self._lock: threading.Lock | None = threading.Lock()
        else:
            self.engine = create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)
            self._lock = None
        self.dialect: str = self.engine.dialect.name  # "sqlite" | "postgresql"
        self.retry_attempts = max(1, retry_attempts)
        self.publisher: Publisher | None = None
        self._write_engine = self.engine.execution_options(**{_WRITE_OPTION: True})
        self._read_sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(self._write_engine, expire_on_commit=False)
        tx_state.install_session_hooks(self._read_sessions)
        tx_state.install_session_hooks(self._write_sessions)
        for install in write_hooks:
            install(self._write_sessions, self._publish)
        if not self.is_sqlite:
            install_deferred_hooks(self.engine)
        self._group = GroupCommitWriter(self, batch_limit=batch_limit)

    @property
    def is_sqlite(self) -> bool:
        """True when the database is a SQLite file."""
        return self.dialect == "sqlite"

    def _publish(self, version: int, ticket_type_ids: Collection[int]) -> None:
        publisher = self.publisher
        if publisher is not None:
            try:
                publisher(version, ticket_type_ids)
            except Exception:  # the commit stands; subscribers catch up on the next change
                log.exception("publishing inventory version %d failed", version)

    def _attach(self, session: Session) -> None:
        tx_state.attach(session, dialect=self.dialect, chain=self.chain, keys=self.keys)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reads (one snapshot on SQLite WAL), closed on exit: its transaction
        ends and loaded objects stay readable (detached)."""
        with self._read_sessions() as session:
            self._attach(session)
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A unit of work: commits when the block ends normally, rolls back on an exception.

        On SQLite the transaction is ``BEGIN IMMEDIATE`` and holds this process's writer
        lock for its whole duration, so writers run one at a time, in arrival order.
        A block cannot be run again, so a PostgreSQL serialization failure or deadlock here
        raises :class:`~pos_app.server.db_errors.WriteConflict` at once (409
        ``request_in_progress`` to a client); use :meth:`run_write` for a unit of work that is
        retried instead.
        """
        if self._lock is not None:
            self._lock.acquire()
        try:
            with self._write_sessions() as session:
                self._attach(session)
                try:
                    if not self.is_sqlite:
                        lock_chain(session)  # chain before rows, in every writer: no deadlock
                    yield session
                    session.commit()
                except BaseException:
                    session.rollback()
                    raise
        except Exception as exc:
            if is_retryable(exc):
                raise WriteConflict() from exc
            raise
        finally:
            if self._lock is not None:
                self._lock.release()

    def run_write(self, unit: Callable[[Session], T], *, attempts: int | None = None) -> T:
        """Run ``unit(session)`` in a write unit of work and commit; returns what it returned.

        On PostgreSQL a serialization failure or deadlock (SQLSTATE ``40001``/``40P01``)
        rolls back and runs ``unit`` again in a fresh session, up to ``attempts`` times in all
        (default ``retry_attempts``), sleeping a jittered 5-20 ms, doubling per attempt, in
        between. ``unit`` must therefore be retry-safe: all its effects go through the
        session (no HTTP calls, no files, no in-memory state it cannot rebuild), and it must
        not keep ORM objects from an earlier attempt.

        Raises:
            WriteConflict: still failing after the last attempt
                (:class:`~pos_app.server.db_errors.WriteConflict`, 409
                ``request_in_progress`` to a client).
            Whatever ``unit`` raises otherwise (the transaction is rolled back).
        """
        total = max(1, attempts if attempts is not None else self.retry_attempts)
        for attempt in range(1, total + 1):
            try:
                with self.write() as session:
                    return unit(session)
            except WriteConflict as conflict:
                if attempt == total:
                    raise
                log.info("write conflict (%s), attempt %d of %d; retrying",
                         getattr(conflict.__cause__, "code", "retryable"), attempt, total)
                time.sleep(random.uniform(0.005, 0.020) * 2 ** (attempt - 1))
        raise AssertionError("unreachable")  # pragma: no cover

    def submit(self, unit: Unit[T]) -> Future[T]:
        """Queue ``unit`` for the group-commit writer (:mod:`pos_app.server.group_commit`):
        it runs in a write transaction shared with the other queued units, inside its own
        savepoint, and the future resolves only after that transaction committed. ``unit``
        is one of the writer's kinds (:data:`~pos_app.server.group_commit.Unit`; a plain
        function: :func:`~pos_app.server.group_commit.in_turn`) and follows the rules of
        :meth:`run_write` (retry-safe, effects through the session).
        From an event loop: ``await asyncio.wrap_future(database.submit(unit))``."""
        return self._group.submit(unit)

    async def write_async(self, unit: Unit[T]) -> T:
        """``await`` :meth:`submit`: run ``unit`` group-committed without blocking the event
        loop; returns what it returned, raises what it (or the commit) raised."""
        return await asyncio.wrap_future(self.submit(unit))

    def write_connection_engine(self) -> Engine:
        """The engine whose transactions begin as writes (``BEGIN IMMEDIATE`` on SQLite);
        used by migrations."""
        return self._write_engine

    def dispose(self) -> None:
        """Finish the queued group-commit units, then close every pooled connection."""
        self._group.stop()
        self.engine.dispose()
