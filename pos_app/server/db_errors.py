"""What a database error means to the units of work: retry it, abort the batch, or give up.

Persistence-level only: nothing here knows HTTP. :class:`WriteConflict` is answered 409
``request_in_progress`` (``Retry-After: 1``) by the app's error handling
(:func:`pos_app.server.errors.write_conflict_error`).

Tree::

    Exception
    └── WriteConflict   (a unit of work kept failing with a serialization failure/deadlock)
"""

from __future__ import annotations

import sqlite3
import sys

from sqlalchemy.exc import DBAPIError

__all__ = ["RETRYABLE_SQLSTATES", "WriteConflict", "is_database_error", "is_retryable"]

RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})
"""PostgreSQL ``serialization_failure`` and ``deadlock_detected``: the transaction was rolled
back by the server and running the same unit of work again is expected to succeed."""


class WriteConflict(Exception):
    """The database kept refusing a unit of work with a serialization failure or deadlock
    (SQLSTATE :data:`RETRYABLE_SQLSTATES`, the ``__cause__``); nothing was changed and the
    caller may try again shortly. Raised by :meth:`pos_app.server.db.Database.write` (a
    block, not run again) and :meth:`~pos_app.server.db.Database.run_write` (after its last
    attempt)."""

    def __init__(self) -> None:
        super().__init__("The server is busy with conflicting changes; nothing was changed. "
                         "Try again in a moment.")


def is_retryable(exc: BaseException) -> bool:
    """True for a PostgreSQL serialization failure or deadlock (SQLSTATE ``40001``/``40P01``),
    raised through SQLAlchemy or straight from psycopg (:mod:`pos_app.server.sql`)."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc  # raw driver errors (sql.py) too
    return getattr(orig, "sqlstate", None) in RETRYABLE_SQLSTATES


def is_database_error(exc: BaseException) -> bool:
    """True for an error raised by the database driver (``psycopg.Error``, ``sqlite3.Error``),
    raw (:mod:`pos_app.server.sql`) or wrapped by SQLAlchemy (``DBAPIError``)."""
    if isinstance(exc, DBAPIError | sqlite3.Error):
        return True
    psycopg = sys.modules.get("psycopg")  # loaded only when serving PostgreSQL
    return psycopg is not None and isinstance(exc, psycopg.Error)
