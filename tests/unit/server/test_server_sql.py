"""Raw statements (pos_app.server.sql): deferred statements keep their order, join the
transaction and its savepoints, and never outlive a rollback, on both databases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from pos_app.server import sql
from pos_app.server.db import Database
from pos_app.server.models import TicketType

NOW = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
_SELL = sql.Statement("UPDATE ticket_types SET sold = sold + :q WHERE id = :id")
_SOLD = sql.Statement("SELECT sold FROM ticket_types WHERE id = :id")


@pytest.fixture
def database(seeded: Callable[..., Database], dialect_url: str | None) -> Database:
    return seeded(now=NOW, ticket_types=[{"name": "GA", "price": 2500, "capacity": 100}],
                  url=dialect_url)


def _ga(db: Database) -> int:
    with db.read() as session:
        return int(session.scalars(select(TicketType.id)).one())


def _sold(db: Database) -> int:
    with db.read() as session:
        return int(session.scalars(select(TicketType.sold)).one())


def _pending(session: Session) -> int:
    """How many deferred statements wait (always 0 on SQLite, which runs them at once),
    not counting the audit chain's lock that every write transaction queues first."""
    queued = session.connection().info.get("pos_deferred_statements", [])
    return len([q for q in queued if "pg_advisory_xact_lock" not in q.text])


def test_deferred_statements_run_in_order_before_the_next_read(database: Database) -> None:
    ga = _ga(database)
    with database.write() as session:
        sql.defer(session, _SELL, {"q": 2, "id": ga})
        sql.defer(session, _SELL, [{"q": 3, "id": ga}, {"q": 5, "id": ga}])
        assert _pending(session) == (0 if database.is_sqlite else 2)
        assert sql.execute(session, _SOLD, {"id": ga}).fetchone()[0] == 10
        assert _pending(session) == 0
    assert _sold(database) == 10


def test_deferred_statements_run_before_an_orm_statement_and_before_commit(
        database: Database) -> None:
    ga = _ga(database)
    with database.write() as session:
        sql.defer(session, _SELL, {"q": 4, "id": ga})
        # a SQLAlchemy statement sees them (sent by the before_cursor_execute hook)
        assert session.scalar(select(TicketType.sold).where(TicketType.id == ga)) == 4
        sql.defer(session, _SELL, {"q": 1, "id": ga})  # nothing reads after this one
    assert _sold(database) == 5


def test_a_rolled_back_savepoint_drops_what_was_deferred_inside_it_only(
        database: Database) -> None:
    ga = _ga(database)
    with database.write() as session:
        sql.defer(session, _SELL, {"q": 1, "id": ga})  # before the savepoint: stays
        savepoint = session.begin_nested()
        sql.defer(session, _SELL, {"q": 50, "id": ga})
        savepoint.rollback()
        # the savepoint itself was queued (never sent): cut back to it, the first one stays
        assert _pending(session) == (0 if database.is_sqlite else 1)
        sql.defer(session, _SELL, {"q": 2, "id": ga})
    assert _sold(database) == 3


def test_a_rolled_back_transaction_leaves_nothing_queued(database: Database) -> None:
    ga = _ga(database)
    with pytest.raises(RuntimeError), database.write() as session:
        sql.defer(session, _SELL, {"q": 7, "id": ga})
        raise RuntimeError("changed my mind")
    with database.write() as session:  # the pooled connection carries nothing over
        assert _pending(session) == 0
        sql.execute(session, _SELL, {"q": 1, "id": ga})
    assert _sold(database) == 1


def test_a_deferred_statement_fails_where_it_is_sent_and_the_savepoint_recovers(
        database: Database) -> None:
    ga = _ga(database)
    broken = sql.Statement("INSERT INTO sale_lines (sale_id, ticket_type_id, name, quantity, "
                           "unit_price, amount) VALUES ('no-such-sale', 1, 'x', 1, 1, 1)")
    with database.write() as session:
        savepoint = session.begin_nested()
        sql.defer(session, _SELL, {"q": 9, "id": ga})
        with pytest.raises(Exception, match=r"(?i)foreign key"):
            sql.defer(session, broken, {})
            sql.flush_deferred(session)
        savepoint.rollback()
        sql.execute(session, _SELL, {"q": 1, "id": ga})
        count = session.scalar(select(func.count()).select_from(text("sale_lines")))
        assert count == 0
    assert _sold(database) == 1


def test_a_read_ahead_answers_its_execute_and_a_savepoint_rollback_forgets_it(
        database: Database) -> None:
    ga = _ga(database)
    with database.write() as session:
        sql.read_ahead(session, _SOLD, {"id": ga})
        sql.read_ahead(session, _SOLD, {"id": ga})  # asked twice: sent twice, used in turn
        sql.defer(session, _SELL, {"q": 4, "id": ga})  # after the reads: not in their answer
        first = sql.execute(session, _SOLD, {"id": ga}).fetchone()[0]
        second = sql.execute(session, _SOLD, {"id": ga}).fetchone()[0]
        third = sql.execute(session, _SOLD, {"id": ga}).fetchone()[0]  # asked for real
        assert (first, second, third) == ((0, 0, 4) if not database.is_sqlite else (4, 4, 4))
        savepoint = session.begin_nested()
        sql.execute(session, _SELL, {"q": 1, "id": ga})
        sql.read_ahead(session, _SOLD, {"id": ga})
        sql.flush_deferred(session)  # the read-ahead went: it saw 5
        savepoint.rollback()
        # rolled back: the read-ahead (5) is forgotten, the next read asks again
        assert sql.execute(session, _SOLD, {"id": ga}).fetchone()[0] == 4
    assert _sold(database) == 4


def test_a_statement_sent_ahead_gives_its_own_result(database: Database) -> None:
    ga = _ga(database)
    guard = sql.Statement("UPDATE ticket_types SET sold = sold + :q WHERE id = :id "
                          "AND sold + :q <= capacity RETURNING sold")
    with database.write() as session:
        taken = sql.send_ahead(session, guard, {"q": 60, "id": ga})
        refused = sql.send_ahead(session, guard, {"q": 60, "id": ga})
        assert taken.result().fetchone()[0] == 60
        assert refused.result().fetchone() is None  # capacity 100
    assert _sold(database) == 60
