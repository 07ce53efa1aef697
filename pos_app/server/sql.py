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
  statement SQLAlchemy issues (ORM flushes, ``SAVEPOINT``, ``RELEASE``) and before
  ``COMMIT``; a ``ROLLBACK`` or ``ROLLBACK TO SAVEPOINT`` drops them (everything queued was
  issued after the last statement sent, so after any savepoint that can be rolled back to).
  On SQLite, which has no round trips, :func:`defer` runs the statement at once.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

__all__ = ["DIALECT_INFO", "Statement", "db_json", "db_time", "defer", "dialect", "execute",
           "executemany", "flush_deferred", "from_db_json", "from_db_time", "in_list",
           "install_deferred_hooks"]

DIALECT_INFO = "pos_dialect"
"""``session.info`` key holding the dialect name (``"sqlite"`` | ``"postgresql"``); the
:class:`~pos_app.server.db.Database` session factories set it, so no bind lookup is needed."""

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
    """``"sqlite"`` or ``"postgresql"`` for ``session`` (from ``session.info`` when set)."""
    name = session.info.get(DIALECT_INFO)
    if name is None:
        name = session.info[DIALECT_INFO] = session.get_bind().dialect.name
    return str(name)


_CONNECTION_INFO = "pos_raw_connection"  # session.info: (transaction, pool connection)
_DEFERRED = "pos_deferred_statements"  # pool connection info: [(text, params, many), ...]

_Queued = tuple[str, Any, bool]


def _connection(session: Session) -> Connection:
    """``session.connection()``, remembered for the session's current transaction or
    savepoint: asking the session each time cost ~40 us a statement, a tenth of a sale's CPU
    on PostgreSQL. Keyed by the innermost transaction, because SQLAlchemy emits a
    ``SAVEPOINT`` lazily, the first time the new nested transaction is asked for its
    connection."""
    session.flush()  # raw statements do not autoflush: pending ORM rows first
    current = session.get_nested_transaction() or session.get_transaction()
    cached = session.info.get(_CONNECTION_INFO)
    if cached is not None and current is not None and cached[0] is current:
        connection: Connection = cached[1]
        return connection
    connection = session.connection()
    session.info[_CONNECTION_INFO] = (
        session.get_nested_transaction() or session.get_transaction(), connection)
    return connection


def _driver(connection: Connection) -> Any:
    driver = connection.connection.driver_connection
    assert driver is not None  # a checked-out pool connection always has one
    return driver


def _run_queued(driver: Any, queued: list[_Queued], last: Any = None) -> None:
    """Send ``queued`` (and ``last``: ``(cursor, text, params)``) in one psycopg pipeline;
    returns once every result is in. Raises the first statement's error, if any."""
    with driver.pipeline():
        for text, params, many in queued:
            if many:
                driver.cursor().executemany(text, params)
            else:
                driver.cursor().execute(text, params)
        if last is not None:
            last[0].execute(last[1], last[2])


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
    cursor = driver.cursor()
    text = statement.text_for(dialect(session))
    queued: list[_Queued] | None = connection.info.pop(_DEFERRED, None)
    if queued:
        _run_queued(driver, queued, (cursor, text, params or {}))
    else:
        cursor.execute(text, params or {})
    return cursor


def executemany(session: Session, statement: Statement,
                rows: Iterable[Mapping[str, Any]]) -> None:
    """Run ``statement`` once per mapping of ``rows`` (an INSERT of several rows)."""
    flush_deferred(session)
    connection = _connection(session)
    _driver(connection).cursor().executemany(statement.text_for(dialect(session)), list(rows))


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
        (statement.postgresql, list(rows) if many else rows, many))


def flush_deferred(session: Session) -> None:
    """Send the statements :func:`defer`-red in ``session``'s transaction now (one round
    trip); a no-op when there are none. Raises the first one's error."""
    if session.get_transaction() is None:
        return
    connection = _connection(session)
    queued: list[_Queued] | None = connection.info.pop(_DEFERRED, None)
    if queued:
        _run_queued(_driver(connection), queued)


def install_deferred_hooks(engine: Engine) -> None:
    """Send deferred statements before anything SQLAlchemy issues on ``engine``'s connections
    and before ``COMMIT``; drop them on ``ROLLBACK`` and ``ROLLBACK TO SAVEPOINT`` (done by
    :class:`pos_app.server.db.Database` for PostgreSQL)."""

    def send(connection: Connection, *_args: Any) -> None:
        queued: list[_Queued] | None = connection.info.pop(_DEFERRED, None)
        if queued:
            _run_queued(_driver(connection), queued)

    def drop(connection: Connection, *_args: Any) -> None:
        connection.info.pop(_DEFERRED, None)

    event.listen(engine, "before_cursor_execute", send)
    event.listen(engine, "commit", send)
    event.listen(engine, "rollback", drop)
    event.listen(engine, "rollback_savepoint", drop)


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
