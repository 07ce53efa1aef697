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
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session

__all__ = ["DIALECT_INFO", "Statement", "db_json", "db_time", "dialect", "execute",
           "executemany", "from_db_json", "from_db_time", "in_list"]

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


def _cursor(session: Session) -> tuple[Any, str]:
    session.flush()  # raw statements do not autoflush: pending ORM rows first
    connection = session.connection().connection.driver_connection
    assert connection is not None  # a checked-out pool connection always has one
    return connection.cursor(), dialect(session)


def execute(session: Session, statement: Statement,
            params: Mapping[str, Any] | None = None) -> Any:
    """Run ``statement`` with ``params`` in ``session``'s transaction; returns the DBAPI
    cursor (``fetchone()``/``fetchall()`` give plain tuples, ``rowcount`` the rows changed).

    Raises whatever the driver raises (``sqlite3.IntegrityError``, ``psycopg`` errors): they
    are not wrapped in SQLAlchemy's exception classes.
    """
    cursor, name = _cursor(session)
    cursor.execute(statement.text_for(name), params or {})
    return cursor


def executemany(session: Session, statement: Statement,
                rows: Iterable[Mapping[str, Any]]) -> None:
    """Run ``statement`` once per mapping of ``rows`` (an INSERT of several rows)."""
    cursor, name = _cursor(session)
    cursor.executemany(statement.text_for(name), list(rows))


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
