""":class:`Journal`: the terminal's write-ahead record of every request that changes something.

An entry is committed ``pending`` (with its idempotency key) before the request leaves the
terminal, and settled once the outcome is known (``shared/DESIGN.md``, the sale path)::

    pending -> confirmed | refused | unknown | voided
    unknown -> confirmed | refused | voided

The journal never holds a token or a PIN: request bodies of sales contain neither.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, func, or_, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from pos_app.files import private_sqlite
from pos_app.journal._models import EntryRow

__all__ = [
    "ALLOWED_TRANSITIONS",
    "EntryNotFound",
    "EntryState",
    "InvalidTransition",
    "Journal",
    "JournalCorrupt",
    "JournalEntry",
    "JournalError",
]

_MIGRATIONS = Path(__file__).resolve().parent / "migrations"
WRITE_THREADS_KEPT = 256


class EntryState(StrEnum):
    """Where a journaled request stands."""

    PENDING = "pending"  # committed before sending; outcome not yet known
    CONFIRMED = "confirmed"  # the server did it (``response`` holds its answer)
    REFUSED = "refused"  # the server refused, or never saw it (``error_code`` says which)
    UNKNOWN = "unknown"  # sent, but no answer: may or may not have happened
    VOIDED = "voided"  # voided on the server: can never happen


ALLOWED_TRANSITIONS: Mapping[EntryState, frozenset[EntryState]] = {
    EntryState.PENDING: frozenset({EntryState.CONFIRMED, EntryState.REFUSED,
                                   EntryState.UNKNOWN, EntryState.VOIDED}),
    EntryState.UNKNOWN: frozenset({EntryState.CONFIRMED, EntryState.REFUSED,
                                   EntryState.VOIDED}),
}


class JournalError(Exception):
    """Base of the journal's errors::

        JournalError
        ├── JournalCorrupt       the file fails PRAGMA integrity_check (or is not SQLite)
        ├── EntryNotFound        no entry with that key (also a KeyError)
        └── InvalidTransition    settle() from/to a state the lifecycle does not allow
    """


class JournalCorrupt(JournalError):
    """The journal file is damaged; keep it for the manager and do not sell on it."""


class EntryNotFound(JournalError, KeyError):
    """No journal entry has this key."""


class InvalidTransition(JournalError):
    """The requested state change is not in :data:`ALLOWED_TRANSITIONS`."""


@dataclass(frozen=True, slots=True)
class JournalEntry:
    """One journaled request.

    Attributes:
        key: the idempotency key (uuid4 text) sent with every attempt of this request.
        operation: ``"sale"`` (later also hold, release, refund, cash_movement, shift_...).
        state: see :class:`EntryState`.
        body: the request JSON exactly as sent.
        response: the server's answer JSON (a sale, or an error body) once settled.
        error_code: the error body's code, ``"offline"`` or ``"outcome_unknown"``, if any.
        reference: the server's human reference (sale number) once confirmed.
        staff_id, terminal_id: who sent it, from where.
        created_at, updated_at: aware UTC.
        flagged_for_manager: it completed on the server without the cashier seeing it
            (settled by reconciliation or an Abandon): the manager should look at it.
        server: the server it was sent to (``"<url> CA <fingerprint>"``, see
            :class:`Journal`), ``None`` for entries journaled before servers were recorded.
    """

    key: str
    operation: str
    state: EntryState
    body: dict[str, Any]
    response: dict[str, Any] | None
    error_code: str | None
    reference: str | None
    staff_id: int | None
    terminal_id: int | None
    created_at: datetime
    updated_at: datetime
    flagged_for_manager: bool = False
    server: str | None = None

    @property
    def request(self) -> dict[str, Any]:
        """Alias of :attr:`body` (the column's name)."""
        return self.body

    @classmethod
    def _from_row(cls, row: EntryRow) -> JournalEntry:
        return cls(key=row.key, operation=row.operation, state=EntryState(row.state),
                   body=dict(row.request), response=row.response, error_code=row.error_code,
                   reference=row.reference, staff_id=row.staff_id, terminal_id=row.terminal_id,
                   created_at=row.created_at, updated_at=row.updated_at,
                   flagged_for_manager=bool(row.flagged_for_manager), server=row.server)


def _now() -> datetime:
    return datetime.now(UTC)


def _set_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


_REVISION_LINE = re.compile(
    r"""^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(None|"\w+"|'\w+')\s*$""", re.MULTILINE)


def _head_from_files() -> str | None:
    """The chain's one head, read from the ``revision`` / ``down_revision`` lines of the version
    files without importing alembic (~0.1 s of the window's start-up); ``None`` when unsure
    (a file without both lines, a merge, several heads): alembic then decides."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (_MIGRATIONS / "versions").glob("*.py"):
        found = {m[1]: m[2] for m in _REVISION_LINE.finditer(path.read_text("utf-8"))}
        if found.get("revision", "None") == "None" or "down_revision" not in found:
            return None
        revisions.add(found["revision"].strip("\"'"))
        if found["down_revision"] != "None":
            parents.add(found["down_revision"].strip("\"'"))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def _stamped_revisions(connection: Connection) -> list[str]:
    """The revisions in the file's ``alembic_version`` table (none before the first upgrade)."""
    if connection.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                                  "AND name = 'alembic_version'").first() is None:
        return []
    return [str(row[0]) for row in
            connection.exec_driver_sql("SELECT version_num FROM alembic_version")]


def _migrate(connection: Connection) -> None:
    head = _head_from_files()
    if head is not None and _stamped_revisions(connection) == [head]:
        return  # at head already: alembic is not even imported
    from alembic import command
    from alembic.config import Config
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    head = ScriptDirectory.from_config(config).get_current_head()
    if MigrationContext.configure(connection).get_current_revision() == head:
        return
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


class Journal:
    """The journal in the SQLite file ``path`` (created and migrated on open).

    SQLite in WAL mode with ``synchronous=FULL``: a returned :meth:`begin` or :meth:`settle`
    is on disk. Opening runs ``PRAGMA integrity_check`` and raises :class:`JournalCorrupt`
    unless it answers ``ok``. Safe to use from several threads (writes are serialised by a
    lock) and from several processes on the same file (each write is one statement).

    ``write_threads`` (always on, cheap): the last :data:`WRITE_THREADS_KEPT` entry writes
    (:meth:`begin`, :meth:`settle`, :meth:`touch`) as ``(thread, method, key)``, ``thread``
    being the ``threading.current_thread()`` that wrote; the window's tests use it to prove no
    journal write runs on the GUI thread.

    ``server`` (e.g. ``"https://pos.example:8443 CA 3F:A2:..."``) is recorded on every entry
    :meth:`begin` writes; :meth:`unresolved` then returns only entries of that server (and
    those of no recorded server), so a home paired with another server never looks up or
    voids the first server's keys on the second.
    """

    def __init__(self, path: Path, *, server: str | None = None) -> None:
        self.path = Path(path)
        self.server = server
        private_sqlite(self.path)  # customers and amounts: owner-only, as its folder
        self._lock = threading.Lock()
        self.write_threads: deque[tuple[threading.Thread, str, str]] = deque(
            maxlen=WRITE_THREADS_KEPT)
        self._engine: Engine = create_engine(
            f"sqlite:///{self.path}", connect_args={"check_same_thread": False, "timeout": 10})
        event.listen(self._engine, "connect", _set_pragmas)
        try:
            with self._engine.connect() as connection:
                result = [row[0] for row in connection.exec_driver_sql("PRAGMA integrity_check")]
                if result != ["ok"]:
                    raise JournalCorrupt(f"The journal {self.path} is damaged: "
                                         f"{'; '.join(map(str, result[:5]))}")
            with self._engine.begin() as connection:
                _migrate(connection)
        except DatabaseError as exc:
            self._engine.dispose()
            raise JournalCorrupt(f"The journal {self.path} cannot be read: {exc.orig}") from exc
        except BaseException:
            self._engine.dispose()
            raise

    def pragma(self, name: str) -> Any:
        """The value of ``PRAGMA name`` on a journal connection (diagnostics and tests)."""
        if not name.replace("_", "").isalnum():
            raise ValueError(f"not a pragma name: {name!r}")
        with self._engine.connect() as connection:
            return connection.execute(text(f"PRAGMA {name}")).scalar()

    def begin(self, operation: str, body: Mapping[str, Any], *, staff_id: int | None,
              terminal_id: int | None) -> JournalEntry:
        """Record a new request as ``pending`` with a fresh idempotency key (uuid4) and commit
        it to disk before returning: the write-ahead step. ``body`` is the request JSON
        (JSON-serialisable dict; never tokens or PINs)."""
        now = _now()
        row = EntryRow(key=str(uuid.uuid4()), operation=operation, state=EntryState.PENDING,
                       request=dict(body), response=None, error_code=None, reference=None,
                       staff_id=staff_id, terminal_id=terminal_id, created_at=now,
                       updated_at=now, flagged_for_manager=False, server=self.server)
        self.write_threads.append((threading.current_thread(), "begin", row.key))
        with self._lock, Session(self._engine, expire_on_commit=False) as session:
            session.add(row)
            session.commit()
            return JournalEntry._from_row(row)

    def settle(self, key: str, state: EntryState | str, *,
               response: Mapping[str, Any] | None = None, error_code: str | None = None,
               reference: str | None = None, flagged: bool = False) -> JournalEntry:
        """Move entry ``key`` to ``state``, recording the outcome, and commit;
        ``flagged=True`` also sets ``flagged_for_manager`` (a completion nobody saw).

        Raises:
            EntryNotFound: no entry has ``key``.
            InvalidTransition: the entry's current state may not move to ``state``.
        """
        target = EntryState(state)
        sources = [src for src, targets in ALLOWED_TRANSITIONS.items() if target in targets]
        self.write_threads.append((threading.current_thread(), "settle", key))
        with self._lock, Session(self._engine, expire_on_commit=False) as session:
            result = session.execute(
                update(EntryRow)
                .where(EntryRow.key == key, EntryRow.state.in_([s.value for s in sources]))
                .values(state=target.value,
                        response=dict(response) if response is not None else None,
                        error_code=error_code, reference=reference, updated_at=_now(),
                        **({"flagged_for_manager": True} if flagged else {})),
                execution_options={"synchronize_session": False})
            session.commit()
            row = session.scalars(select(EntryRow).where(EntryRow.key == key)).one_or_none()
        if row is None:
            raise EntryNotFound(key)
        if getattr(result, "rowcount", 0) != 1:
            raise InvalidTransition(f"journal entry {key} is {row.state}; it cannot become "
                                    f"{target.value}")
        return JournalEntry._from_row(row)

    def touch(self, key: str) -> JournalEntry:
        """Mark entry ``key`` as attempted again now (``updated_at``) without changing state."""
        self.write_threads.append((threading.current_thread(), "touch", key))
        with self._lock, Session(self._engine, expire_on_commit=False) as session:
            session.execute(update(EntryRow).where(EntryRow.key == key)
                            .values(updated_at=_now()),
                            execution_options={"synchronize_session": False})
            session.commit()
        return self._require(key)

    def get(self, key: str) -> JournalEntry | None:
        """The entry with ``key``, or ``None``."""
        with Session(self._engine) as session:
            row = session.scalars(select(EntryRow).where(EntryRow.key == key)).one_or_none()
            return None if row is None else JournalEntry._from_row(row)

    def _require(self, key: str) -> JournalEntry:
        entry = self.get(key)
        if entry is None:
            raise EntryNotFound(key)
        return entry

    def entries(self, *, state: EntryState | str | None = None, operation: str | None = None,
                limit: int | None = 100, flagged: bool | None = None) -> list[JournalEntry]:
        """Up to ``limit`` entries (``None``: all), newest first, optionally only those in
        ``state`` / of ``operation`` / with ``flagged_for_manager`` equal to ``flagged``."""
        query = select(EntryRow).order_by(EntryRow.id.desc()).limit(limit)
        if flagged is not None:
            query = query.where(EntryRow.flagged_for_manager.is_(flagged))
        if state is not None:
            query = query.where(EntryRow.state == EntryState(state).value)
        if operation is not None:
            query = query.where(EntryRow.operation == operation)
        with Session(self._engine) as session:
            return [JournalEntry._from_row(row) for row in session.scalars(query)]

    def servers(self) -> list[str]:
        """Every server recorded on an entry, in the order first journaled."""
        query = (select(EntryRow.server).where(EntryRow.server.is_not(None))
                 .group_by(EntryRow.server).order_by(func.min(EntryRow.id)))
        with Session(self._engine) as session:
            return [str(server) for server in session.scalars(query)]

    def unresolved(self) -> list[JournalEntry]:
        """Every ``pending`` / ``unknown`` entry of this journal's ``server`` (or of no
        recorded server), oldest first: what reconciliation settles."""
        query = (select(EntryRow)
                 .where(EntryRow.state.in_([EntryState.PENDING.value, EntryState.UNKNOWN.value]))
                 .order_by(EntryRow.id))
        if self.server is not None:
            query = query.where(or_(EntryRow.server.is_(None), EntryRow.server == self.server))
        with Session(self._engine) as session:
            return [JournalEntry._from_row(row) for row in session.scalars(query)]

    def close(self) -> None:
        """Close every connection (checkpointing the WAL)."""
        self._engine.dispose()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
