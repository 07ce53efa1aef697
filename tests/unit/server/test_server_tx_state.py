"""The transaction state (pos_app.server.tx_state): one object per session, put back as a
savepoint found it when the savepoint rolls back (whoever opened it), cleared when the
transaction ends, on both databases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from pos_app.server import audit
from pos_app.server.db import Database
from pos_app.server.models import AuditEntry, TicketType
from pos_app.server.services import changes, guards
from pos_app.server.services.inventory import inventory_version
from pos_app.server.tx_state import TxState, state

NOW = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
ONLINE = changes.Actor(staff_id=None, terminal_id=None, channel="online")


@pytest.fixture
def database(seeded: Callable[..., Database], dialect_url: str | None) -> Database:
    return seeded(now=NOW, ticket_types=[{"name": "GA", "price": 2500, "capacity": 10}],
                  url=dialect_url)


def _ga(db: Database) -> int:
    with db.read() as session:
        return int(session.scalars(select(TicketType.id)).one())


def _hold(session: Session, ticket_type_id: int) -> None:
    """Hold one ticket and record it (audit entry, inventory version, changed ticket type)."""
    after = guards.hold(session, ticket_type_id, 1, limit=TicketType.capacity)
    assert after is not None
    changes.record(session, [changes.CountChange(
        ticket_type_id=ticket_type_id, event_id="gig", action="hold", quantity=1,
        before=(after[0], after[1], after[2] - 1), after=after)],
        actor=ONLINE, ref_type="hold", ref_id="test", reason=None, now=NOW)


def _audit_seqs(db: Database) -> list[int]:
    with db.read() as session:
        return list(session.scalars(select(AuditEntry.seq).where(AuditEntry.action == "hold")
                                    .order_by(AuditEntry.seq)))


def test_after_a_rolled_back_append_the_next_entry_follows_the_last_that_stands(
        database: Database) -> None:
    ga = _ga(database)
    with database.write() as session:
        _hold(session, ga)  # stands
        savepoint = session.begin_nested()
        _hold(session, ga)  # undone, with its audit entry
        savepoint.rollback()
        _hold(session, ga)  # takes the undone entry's seq, chained to the first
    seqs = _audit_seqs(database)
    assert len(seqs) == 2 and seqs[1] == seqs[0] + 1
    with database.read() as session:
        assert audit.verify(session).ok
        assert session.scalars(select(TicketType.held)).one() == 2


def test_a_rolled_back_savepoint_announces_nothing_and_takes_no_version(
        database: Database) -> None:
    published: list[tuple[int, frozenset[int]]] = []
    database.publisher = lambda version, ids: published.append((version, frozenset(ids)))
    with database.read() as session:
        start = inventory_version(session)
    with database.write() as session:
        savepoint = session.begin_nested()
        _hold(session, _ga(database))
        savepoint.rollback()
    assert published == []
    with database.read() as session:
        assert inventory_version(session) == start


def test_a_released_savepoint_is_announced_with_the_transaction(database: Database) -> None:
    published: list[tuple[int, frozenset[int]]] = []
    database.publisher = lambda version, ids: published.append((version, frozenset(ids)))
    ga = _ga(database)
    with database.read() as session:
        start = inventory_version(session)
    with database.write() as session:
        savepoint = session.begin_nested()
        _hold(session, ga)
        savepoint.commit()
        assert published == []  # nothing before the commit
    with database.read() as session:
        assert inventory_version(session) == start + 1
    assert published == [(start + 1, frozenset({ga}))]


def test_each_savepoint_puts_back_what_it_found_and_the_end_of_the_transaction_clears_it(
        database: Database) -> None:
    with database.read() as session:
        tx = state(session)
        tx.changed_ticket_types.add(1)
        tx.bumped_version, tx.audit_tail = 7, (3, "a")
        found = tx.snapshot()
        outer = session.begin_nested()
        tx.changed_ticket_types.add(2)
        tx.bumped_version = 8
        inner = session.begin_nested()
        tx.audit_tail, tx.chain_held = (4, "b"), not tx.chain_held
        inner.commit()  # released into the outer savepoint: still there
        assert (tx.audit_tail, tx.bumped_version) == ((4, "b"), 8)
        outer.rollback()  # and undone with it
        assert tx.snapshot() == found
        assert tx.changed_ticket_types == {1}
        session.commit()
        assert tx.snapshot() == TxState(dialect=tx.dialect).snapshot()
        assert state(session) is tx  # the same object for the session's next transaction


def test_a_session_knows_its_database_dialect_chain_and_keys(database: Database) -> None:
    with database.read() as session:
        tx = state(session)
        assert tx.dialect == database.dialect
        assert tx.audit_chain() is database.chain
        assert tx.sealing_keys() is database.keys


def test_a_session_no_database_opened_has_no_chain_nor_keys(database: Database) -> None:
    with Session(database.engine) as session:
        tx = state(session)
        assert tx.dialect == database.dialect
        with pytest.raises(RuntimeError, match="audit chain"):
            tx.audit_chain()
        with pytest.raises(RuntimeError, match="sealing keys"):
            tx.sealing_keys()
