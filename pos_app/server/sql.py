"""Fixed SQL statements run straight on the DBAPI cursor of a session's connection.

The sale path (idempotency key, shift, ticket types, sale rows, the guard, audit append,
counters, live stamp) runs about twenty statements a sale. Built and compiled by SQLAlchemy
per call they cost ~0.3 ms each in Python (profiled with cProfile: cache-key generation and
coercion dominate), against ~10 us for the ``sqlite3`` call itself, which capped the server
near 150 sales/s. A :class:`Statement` is written once as SQL with ``:name`` parameters and
executed on the session's own DBAPI connection, so it joins the session's transaction
(``BEGIN IMMEDIATE`` on SQLite, the READ COMMITTED transaction on PostgreSQL) and its
savepoints, and commits or rolls back with it.

Rules for callers:

* The session is flushed first (:func:`execute` does it), because raw statements do not
  autoflush pending ORM objects.
* Values go in as plain Python: :func:`db_time` for datetimes (naive UTC text on SQLite, the
  format SQLAlchemy's ``DateTime`` stores there, so SQL comparisons and ORM reads agree;
  aware UTC on PostgreSQL), :func:`db_json` for JSON columns, :func:`from_db_json` and
  :func:`from_db_time` to read them back.
* A statement that differs between the dialects gives its PostgreSQL text separately.
* A statement whose result nobody reads and whose failure would be a bug (an INSERT of new
  rows, the audit head) may be :func:`defer`-red: on PostgreSQL it is queued and sent with
  the next statement of the transaction in one pipeline (psycopg pipeline mode, one round
  trip for the lot), so its error, if any, surfaces there. Queued statements run before any
  statement SQLAlchemy issues (ORM flushes) and before ``COMMIT``; a ``ROLLBACK`` drops them.
  On SQLite, which has no round trips, :func:`defer` runs the statement at once.
* Savepoints are deferred too on PostgreSQL (:func:`install_deferred_hooks` gives the
  engine's dialect queueing ``SAVEPOINT``/``RELEASE SAVEPOINT``): a group-commit batch opens
  and releases one per unit, and each used to cost a round trip of its own. ``ROLLBACK TO
  SAVEPOINT`` of a savepoint still queued just cuts the queue back to it (nothing was sent);
  of one already sent it drops the queue (all issued after it) and is sent at once.
* A read whose answer is needed later in the transaction may be :func:`read_ahead`: queued
  like a deferred statement, and the next :func:`execute` of the same statement with equal
  parameters returns its result. A group-commit batch sends the key locks, keys, ticket
  types and shift reads of all its sales in one round trip this way. Read-ahead results are
  forgotten at commit, rollback and any ``ROLLBACK TO SAVEPOINT`` (what was read may have
  been undone), never by ``SAVEPOINT`` or ``RELEASE``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, NamedTuple

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from pos_app.server.tx_state import state

__all__ = ["Ahead", "Statement", "db_json", "db_time", "defer", "dialect",
           "execute", "executemany", "flush_deferred", "from_db_json", "from_db_time",
           "in_list", "install_deferred_hooks", "read_ahead", "send_ahead"]

_NAMED = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


def _pyformat(sql: str) -> str:
    """``:name`` parameters as psycopg's ``%(name)s`` (``::`` casts and literal ``%`` kept)."""
    return _NAMED.sub(r"%(\1)s", sql.replace("%", "%%"))


class Statement:
    """One SQL statement with ``:name`` parameters, kept ready for both dialects.

    Args:
        sql: the statement as SQLite (and, unless ``postgresql`` is given, PostgreSQL) runs it.
        postgresql: the PostgreSQL text when it differs (``FOR SHARE``, ``SKIP LOCKED``...).
    """

    __slots__ = ("postgresql", "sqlite")

    def __init__(self, sql: str, *, postgresql: str | None = None) -> None:
        self.sqlite = sql
        self.postgresql = _pyformat(postgresql if postgresql is not None else sql)

    def text_for(self, dialect_name: str) -> str:
        """The SQL text to hand the driver of ``dialect_name``."""
        return self.postgresql if dialect_name == "postgresql" else self.sqlite


def dialect(session: Session) -> str:
    """``"sqlite"`` or ``"postgresql"`` for ``session`` (its
    :attr:`~pos_app.server.tx_state.TxState.dialect`: no bind lookup)."""
    return state(session).dialect


_DEFERRED = "pos_deferred_statements"  # pool connection info: [_Queued, ...]
_READ_AHEAD = "pos_read_ahead"  # pool connection info: {(statement id, params): [(cursor,
# the queue it went into)]}: a cursor is still unsent while that list is the queue (a send
# takes the whole queue away)
_NO_SUCH_SAVEPOINT = "3B001"  # PostgreSQL invalid_savepoint_specification


class _Queued(NamedTuple):
    """A statement waiting for the next round trip: ``many`` runs it once per mapping of
    ``params``; ``cursor`` (a read-ahead) is the one to run it on; ``savepoint`` names the
    savepoint a queued ``SAVEPOINT`` opens."""

    text: str
    params: Any
    many: bool = False
    cursor: Any = None
    savepoint: str | None = None


def _connection(session: Session) -> Connection:
    """``session.connection()``, remembered for the session's current transaction or
    savepoint: asking the session each time cost ~40 us a statement, a tenth of a sale's CPU
    on PostgreSQL. Keyed by the innermost transaction, because SQLAlchemy emits a
    ``SAVEPOINT`` lazily, the first time the new nested transaction is asked for its
    connection."""
    session.flush()  # raw statements do not autoflush: pending ORM rows first
    tx = state(session)
    current = session.get_nested_transaction() or session.get_transaction()
    cached = tx.connection
    if cached is not None and current is not None and cached[0] is current:
        return cached[1]
    connection = session.connection()
    now_current = session.get_nested_transaction() or session.get_transaction()
    assert now_current is not None  # session.connection() began one
    tx.connection = (now_current, connection)
    return connection


def _driver(connection: Connection) -> Any:
    driver = connection.connection.driver_connection
    assert driver is not None  # a checked-out pool connection always has one
    return driver


def _run_queued(driver: Any, queued: list[_Queued], last: Any = None) -> None:
    """Send ``queued`` (and ``last``: ``(cursor, text, params)``) in one psycopg pipeline;
    returns once every result is in. Raises the first statement's error, if any."""
    with driver.pipeline():
        # One cursor for the statements whose results nobody reads: a cursor each cost more
        # Python time than the statement (psycopg copies its adapters per cursor).
        shared = driver.cursor()
        for item in queued:
            if item.many:
                shared.executemany(item.text, item.params)
            elif item.params is None:  # SAVEPOINT / RELEASE: never worth preparing
                shared.execute(item.text, prepare=False)
            elif item.cursor is not None:
                item.cursor.execute(item.text, item.params)
            else:
                shared.execute(item.text, item.params)
        if last is not None:
            last[0].execute(last[1], last[2])


def _params_key(params: Mapping[str, Any] | None) -> tuple[Any, ...]:
    return tuple(sorted(params.items())) if params else ()


def execute(session: Session, statement: Statement,
            params: Mapping[str, Any] | None = None) -> Any:
    """Run ``statement`` with ``params`` in ``session``'s transaction; returns the DBAPI
    cursor (``fetchone()``/``fetchall()`` give plain tuples, ``rowcount`` the rows changed).
    Statements :func:`defer`-red before it are sent first, in the same round trip.

    Raises whatever the driver raises (``sqlite3.IntegrityError``, ``psycopg`` errors): they
    are not wrapped in SQLAlchemy's exception classes.
    """
    connection = _connection(session)
    driver = _driver(connection)
    queued: list[_Queued] | None
    ahead: dict[Any, list[Any]] | None = connection.info.get(_READ_AHEAD)
    cursors = ahead.get((id(statement), _params_key(params))) if ahead else None
    if cursors:  # read ahead: sent already (what was queued since can wait), or now
        cursor, queue = cursors.pop(0)
        if connection.info.get(_DEFERRED) is queue:
            _run_queued(driver, connection.info.pop(_DEFERRED))
        return cursor
    cursor = driver.cursor()
    text = statement.text_for(dialect(session))
    queued = connection.info.pop(_DEFERRED, None)
    if queued:
        _run_queued(driver, queued, (cursor, text, params or {}))
    else:
        cursor.execute(text, params or {})
    return cursor


def executemany(session: Session, statement: Statement,
                rows: Iterable[Mapping[str, Any]]) -> None:
    """Run ``statement`` once per mapping of ``rows`` (an INSERT of several rows)."""
    connection = _connection(session)
    driver = _driver(connection)
    text = statement.text_for(dialect(session))
    queued: list[_Queued] | None = connection.info.pop(_DEFERRED, None)
    if queued:  # one round trip for the queue and these rows
        _run_queued(driver, [*queued, _Queued(text, list(rows), many=True)])
    else:
        driver.cursor().executemany(text, list(rows))


def defer(session: Session, statement: Statement,
          rows: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> None:
    """Run ``statement`` (once, or once per mapping when ``rows`` is a list) later in this
    transaction, at the latest before it commits (see the module notes); at once on SQLite.

    Only for statements whose result is not needed and whose failure would be a bug: the
    error of a deferred statement is raised by whatever sends it."""
    if dialect(session) != "postgresql":
        if isinstance(rows, Mapping):
            execute(session, statement, rows)
        elif len(rows) == 1:
            execute(session, statement, rows[0])
        else:
            executemany(session, statement, rows)
        return
    connection = _connection(session)
    many = not isinstance(rows, Mapping)
    connection.info.setdefault(_DEFERRED, []).append(
        _Queued(statement.postgresql, list(rows) if many else rows, many))


def read_ahead(session: Session, statement: Statement,
               params: Mapping[str, Any] | None = None) -> None:
    """PostgreSQL: queue the read ``statement`` with ``params`` to travel with the next round
    trip of this transaction; the next :func:`execute` of the same :class:`Statement` object
    (a module-level constant: it is known by identity) with equal ``params`` in this
    transaction returns its cursor instead of sending it again
    (unless a ``ROLLBACK TO SAVEPOINT`` came in between). A no-op on SQLite (no round trips
    to save).

    Only for reads nothing in between changes: what this transaction writes after the
    read-ahead and before the :func:`execute` is not in its result. A read-ahead nobody
    executes is forgotten at the end of the transaction (its query ran, harmlessly). The
    same read asked for by several units (a batch of sales of one ticket type) is sent once
    per asker, each :func:`execute` taking the next result."""
    if dialect(session) != "postgresql":
        return
    connection = _connection(session)
    cursor = _driver(connection).cursor()
    queue = connection.info.setdefault(_DEFERRED, [])
    queue.append(_Queued(statement.postgresql, dict(params or {}), cursor=cursor))
    connection.info.setdefault(_READ_AHEAD, {}).setdefault(
        (id(statement), _params_key(params)), []).append((cursor, queue))


def flush_deferred(session: Session) -> None:
    """Send the statements :func:`defer`-red in ``session``'s transaction now (one round
    trip); a no-op when there are none. Raises the first one's error."""
    if session.get_transaction() is None:
        return
    connection = _connection(session)
    queued: list[_Queued] | None = connection.info.pop(_DEFERRED, None)
    if queued:
        _run_queued(_driver(connection), queued)


class Ahead:
    """A statement sent ahead (:func:`send_ahead`): :meth:`result` is its cursor, once the
    round trip it travels in is done."""

    __slots__ = ("_connection", "_cursor", "_queue")

    def __init__(self, connection: Connection, cursor: Any, queue: Any) -> None:
        self._connection, self._cursor, self._queue = connection, cursor, queue

    def result(self) -> Any:
        """The DBAPI cursor with the statement's result, sending it (with what is queued
        before it) if it has not gone yet. Raises what the driver raises; a statement sent
        ahead inside a savepoint rolled back before it went has no result."""
        if self._queue is not None and self._connection.info.get(_DEFERRED) is self._queue:
            _run_queued(_driver(self._connection), self._connection.info.pop(_DEFERRED))
        return self._cursor


def send_ahead(session: Session, statement: Statement,
               params: Mapping[str, Any] | None = None) -> Ahead:
    """Queue ``statement`` (a read or a write) to travel with the next round trip of this
    transaction, like :func:`defer`, and return an :class:`Ahead` to read its result with
    later; on SQLite it runs at once. Unlike :func:`read_ahead` the result belongs to the
    caller alone (nothing else can take it), so it suits a conditional write whose answer
    matters, such as a sale's guard sent ahead of a batch."""
    connection = _connection(session)
    driver = _driver(connection)
    cursor = driver.cursor()
    if dialect(session) != "postgresql":
        cursor.execute(statement.sqlite, dict(params or {}))
        return Ahead(connection, cursor, None)
    queue = connection.info.setdefault(_DEFERRED, [])
    queue.append(_Queued(statement.postgresql, dict(params or {}), cursor=cursor))
    return Ahead(connection, cursor, queue)


def install_deferred_hooks(engine: Engine) -> None:
    """Send deferred statements before anything SQLAlchemy issues on ``engine``'s connections
    and before ``COMMIT``; drop them on ``ROLLBACK``; queue ``SAVEPOINT`` and ``RELEASE
    SAVEPOINT`` and handle ``ROLLBACK TO SAVEPOINT`` as the module notes say (done by
    :class:`pos_app.server.db.Database` for PostgreSQL).

    The savepoint statements are SQLAlchemy's dialect methods (``do_savepoint``,
    ``do_release_savepoint``, ``do_rollback_to_savepoint``, the documented points where a
    dialect emits them), replaced on this engine's dialect instance only."""

    def send(connection: Connection, *_args: Any) -> None:
        connection.info.pop(_READ_AHEAD, None)
        queued: list[_Queued] | None = connection.info.pop(_DEFERRED, None)
        if queued:
            _run_queued(_driver(connection), queued)

    def send_before(connection: Connection, *_args: Any) -> None:
        queued: list[_Queued] | None = connection.info.pop(_DEFERRED, None)
        if queued:
            _run_queued(_driver(connection), queued)

    def drop(connection: Connection, *_args: Any) -> None:
        connection.info.pop(_READ_AHEAD, None)
        connection.info.pop(_DEFERRED, None)

    def do_savepoint(connection: Connection, name: str) -> None:
        connection.info.setdefault(_DEFERRED, []).append(
            _Queued(f"SAVEPOINT {name}", None, savepoint=name))

    def do_release_savepoint(connection: Connection, name: str) -> None:
        connection.info.setdefault(_DEFERRED, []).append(
            _Queued(f"RELEASE SAVEPOINT {name}", None))

    def do_rollback_to_savepoint(connection: Connection, name: str) -> None:
        connection.info.pop(_READ_AHEAD, None)
        queued: list[_Queued] = connection.info.get(_DEFERRED) or []
        for at, item in enumerate(queued):
            if item.savepoint == name:  # never sent: forget it and all after it
                del queued[at:]
                return
        connection.info.pop(_DEFERRED, None)  # all issued after the savepoint
        try:
            rollback_to(connection, name)
        except DBAPIError as exc:
            # Sent, but the pipeline carrying it failed before it ran: there is nothing to
            # roll back to, and the transaction stays failed, which its next statement or
            # COMMIT reports (the error that failed the pipeline was raised already).
            if getattr(exc.orig, "sqlstate", None) != _NO_SUCH_SAVEPOINT:
                raise

    dialect = engine.dialect
    rollback_to = dialect.do_rollback_to_savepoint
    dialect.do_savepoint = do_savepoint  # type: ignore[method-assign]
    dialect.do_release_savepoint = do_release_savepoint  # type: ignore[method-assign]
    dialect.do_rollback_to_savepoint = do_rollback_to_savepoint  # type: ignore[method-assign]
    event.listen(engine, "before_cursor_execute", send_before)
    event.listen(engine, "commit", send)
    event.listen(engine, "rollback", drop)


def db_time(session: Session, moment: datetime) -> Any:
    """``moment`` (timezone-aware) as the driver stores it: naive UTC text
    ``YYYY-MM-DD HH:MM:SS.ffffff`` on SQLite (SQLAlchemy's ``DateTime`` storage format),
    the aware UTC datetime on PostgreSQL.

    Raises:
        ValueError: ``moment`` is naive.
    """
    if moment.tzinfo is None:
        raise ValueError("naive datetimes are not stored; give a timezone-aware time")
    moment = moment.astimezone(UTC)
    if dialect(session) == "postgresql":
        return moment
    return moment.replace(tzinfo=None).isoformat(" ", "microseconds")


def from_db_time(value: Any) -> datetime | None:
    """A datetime column's value as read by a raw statement, as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def db_json(session: Session, value: Any) -> Any:
    """``value`` for a ``JSON`` column: text on SQLite, psycopg's ``Json`` on PostgreSQL."""
    if dialect(session) == "postgresql":
        from psycopg.types.json import Json

        return Json(value)
    return json.dumps(value)


def from_db_json(value: Any) -> Any:
    """A ``JSON`` column's value as read by a raw statement (text on SQLite, already parsed
    by psycopg on PostgreSQL)."""
    return json.loads(value) if isinstance(value, str | bytes) else value


def in_list(name: str, values: Sequence[Any]) -> tuple[str, dict[str, Any]]:
    """``(":name_0, :name_1, ...", {"name_0": v0, ...})`` for an ``IN (...)`` of ``values``."""
    keys = [f"{name}_{i}" for i in range(len(values))]
    return ", ".join(f":{k}" for k in keys), dict(zip(keys, values, strict=True))
