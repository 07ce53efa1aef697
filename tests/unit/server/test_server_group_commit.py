"""Group commit (pos_app.server.group_commit): many sales in one transaction, each isolated in
its own savepoint, none confirmed before the commit."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from pos_app.api import schemas
from pos_app.api.errors import ErrorCode
from pos_app.server import audit, sql
from pos_app.server.db import Database
from pos_app.server.errors import ApiError
from pos_app.server.group_commit import GroupCommitWriter
from pos_app.server.models import AuditEntry, Sale, TicketType
from pos_app.server.services import idempotency, sales
from pos_app.server.services.inventory import inventory_version
from pos_app.server.services.live import TRANSACTION_INFO_KEYS
from pos_app.server.services.principal import Principal

NOW = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
CASHIER = Principal(session_id=1, staff_id=1, username="sam", display_name="Sam",
                    role="cashier", terminal_id=1, terminal_name="till")


@pytest.fixture
def database(seeded: Callable[..., Database], dialect_url: str | None) -> Database:
    """On SQLite and on PostgreSQL (where statements are deferred and pipelined)."""
    return seeded(now=NOW, ticket_types=[{"name": "GA", "price": 2500, "capacity": 5}],
                  staff=[("sam", "cashier", "1111", "Sam")], terminals=["till"],
                  shift_for=CASHIER, url=dialect_url)


def _ga(db: Database) -> int:
    with db.read() as session:
        return int(session.scalars(select(TicketType.id)).one())


def _sale_unit(db: Database, key: str, quantity: int = 1) -> Callable[[Session], Any]:
    body = schemas.SaleCreate.model_validate({
        "lines": [{"ticket_type_id": _ga(db), "quantity": quantity}],
        "payment": {"method": "cash", "tendered": 1_000_000}})
    return idempotency._unit(CASHIER.idempotency_scope, key,
                             idempotency.request_hash("POST", "/v1/sales",
                                                      body.model_dump(mode="json")),
                             "POST", "/v1/sales", sales._effect(CASHIER, body, NOW), NOW)


def _held_writer(db: Database) -> tuple[GroupCommitWriter, threading.Event]:
    """A writer whose thread is kept busy until the returned event is set, so that the units
    submitted meanwhile are committed as one batch."""
    writer = GroupCommitWriter(db, batch_limit=64, info_keys=TRANSACTION_INFO_KEYS)
    release = threading.Event()
    started = threading.Event()

    def hold(_session: Session) -> None:
        started.set()
        release.wait(10)

    writer.submit(hold)
    assert started.wait(10)
    return writer, release


def _counts(db: Database) -> tuple[int, int]:
    with db.read() as session:
        sold = int(session.scalars(select(TicketType.sold)).one())
        sales_rows = int(session.scalar(select(func.count()).select_from(Sale)) or 0)
    return sold, sales_rows


def test_queued_sales_commit_together_and_only_then_resolve(database: Database) -> None:
    writer, release = _held_writer(database)
    try:
        futures = [writer.submit(_sale_unit(database, f"k{i}")) for i in range(3)]
        assert not any(f.done() for f in futures)  # nothing confirmed before the commit
        release.set()
        outcomes = [f.result(10) for f in futures]
    finally:
        writer.stop()
    assert [o.status for o in outcomes] == [201, 201, 201]
    assert sorted(o.body["number"] for o in outcomes) == [1, 2, 3]
    assert _counts(database) == (3, 3)
    with database.read() as session:
        assert audit.verify(session).ok


def test_a_failing_unit_is_rolled_back_alone(database: Database) -> None:
    def broken(session: Session) -> None:
        _sale_unit(database, "broken")(session)  # sells, then fails: must leave no trace
        raise RuntimeError("bug after the sale")

    writer, release = _held_writer(database)
    try:
        before = writer.submit(_sale_unit(database, "a"))
        failing = writer.submit(broken)
        refused = writer.submit(_sale_unit(database, "b", quantity=10))  # stored 409
        after = writer.submit(_sale_unit(database, "c"))
        release.set()
        assert before.result(10).status == 201
        with pytest.raises(RuntimeError, match="bug after the sale"):
            failing.result(10)
        assert refused.result(10).status == 409
        assert after.result(10).status == 201
    finally:
        writer.stop()
    assert _counts(database) == (2, 2)
    with database.read() as session:
        assert audit.verify(session).ok
        # the broken unit's key was rolled back with it: a retry may execute
        assert idempotency._find(session, CASHIER.idempotency_scope, "broken") is None


def test_a_unit_whose_deferred_insert_fails_is_rolled_back_alone(database: Database) -> None:
    """On PostgreSQL the sale's INSERTs are deferred and pipelined; one that breaks a
    constraint must fail its own unit (flushed before its savepoint is released), not the
    next unit nor the batch."""
    orphan = sql.Statement("INSERT INTO sale_lines (sale_id, ticket_type_id, name, quantity, "
                           "unit_price, amount) VALUES ('no-such-sale', 1, 'x', 1, 1, 1)")

    def broken(session: Session) -> None:
        _sale_unit(database, "broken")(session)
        sql.defer(session, orphan, {})

    writer, release = _held_writer(database)
    try:
        before = writer.submit(_sale_unit(database, "a"))
        failing = writer.submit(broken)
        after = writer.submit(_sale_unit(database, "c"))
        release.set()
        assert before.result(10).status == 201
        with pytest.raises(Exception, match=r"(?i)foreign key"):
            failing.result(10)
        assert after.result(10).status == 201
    finally:
        writer.stop()
    assert _counts(database) == (2, 2)
    with database.read() as session:
        assert audit.verify(session).ok
        assert idempotency._find(session, CASHIER.idempotency_scope, "broken") is None


def test_a_rolled_back_unit_leaves_no_inventory_version_behind(database: Database) -> None:
    published: list[tuple[int, frozenset[int]]] = []
    database.publisher = lambda version, ids: published.append((version, frozenset(ids)))
    with database.read() as session:
        start = inventory_version(session)

    def broken(session: Session) -> None:
        _sale_unit(database, "broken")(session)
        raise ApiError(ErrorCode.INVALID_REQUEST, "refused after the change")

    writer, release = _held_writer(database)
    try:
        ok = writer.submit(_sale_unit(database, "ok"))
        bad = writer.submit(broken)
        release.set()
        assert ok.result(10).status == 201
        with pytest.raises(ApiError):
            bad.result(10)
    finally:
        writer.stop()
    with database.read() as session:
        committed = inventory_version(session)
    # one version for the one sale that stands, and the published version is the stored one
    assert committed == start + 1
    assert published and published[-1][0] == committed
    # the next transaction takes a new version, never one already announced
    assert _sale_after(database) == committed + 1


def _sale_after(db: Database) -> int:
    outcome = sales.create_sale(db, CASHIER, schemas.SaleCreate.model_validate({
        "lines": [{"ticket_type_id": _ga(db), "quantity": 1}],
        "payment": {"method": "cash", "tendered": 1_000_000}}), key="later",
        path="/v1/sales", now=NOW)
    assert outcome.status == 201
    with db.read() as session:
        return inventory_version(session)


def test_a_failed_commit_fails_every_unit_of_the_batch(database: Database) -> None:
    writer, release = _held_writer(database)
    try:
        first = writer.submit(_sale_unit(database, "x"))

        def poison(session: Session) -> None:
            # A deferred constraint breaks only at COMMIT: the whole batch must fail.
            if database.is_sqlite:
                session.execute(text("PRAGMA defer_foreign_keys = ON"))
                session.execute(text("INSERT INTO sale_lines (sale_id, ticket_type_id, name, "
                                     "quantity, unit_price, amount) VALUES "
                                     "('no-such-sale', 1, 'x', 1, 1, 1)"))
            else:
                session.execute(text("CREATE TEMP TABLE poison (v int UNIQUE DEFERRABLE "
                                     "INITIALLY DEFERRED) ON COMMIT DROP"))
                session.execute(text("INSERT INTO poison VALUES (1), (1)"))

        second: Future[Any] = writer.submit(poison)
        release.set()
        for future in (first, second):
            with pytest.raises(Exception, match=r"FOREIGN KEY|duplicate key"):
                future.result(10)
    finally:
        writer.stop()
    assert _counts(database) == (0, 0)


def test_database_submit_runs_through_the_writer_and_stops_on_dispose(
        database: Database) -> None:
    assert database.submit(_sale_unit(database, "via-db")).result(10).status == 201
    assert _counts(database) == (1, 1)


# --- guards sent ahead of the batch (PostgreSQL) -------------------------------------------

def _spec_unit(db: Database, key: str, *, lines: list[tuple[int, int]] | None = None,
               tendered: int = 1_000_000, principal: Principal = CASHIER) -> Any:
    """A sale unit as the route builds it: its reads and, in a batch, its guards go ahead."""
    body = schemas.SaleCreate.model_validate({
        "lines": [{"ticket_type_id": tt, "quantity": q}
                  for tt, q in (lines or [(_ga(db), 1)])],
        "payment": {"method": "cash", "tendered": tendered}})
    ahead = sales._read_ahead(principal, body)
    return idempotency._unit(principal.idempotency_scope, key,
                             idempotency.request_hash("POST", "/v1/sales",
                                                      body.model_dump(mode="json")),
                             "POST", "/v1/sales", sales._effect(principal, body, NOW, ahead),
                             NOW, ahead)


def _run_batch(db: Database, units: list[Any]) -> list[Future[Any]]:
    writer, release = _held_writer(db)
    try:
        futures = [writer.submit(unit) for unit in units]
        release.set()
        for future in futures:
            future.exception(10)
    finally:
        writer.stop()
    return futures


def _audit_counts_follow_on(db: Database) -> None:
    """Every audit entry's before-counts of a ticket type are the previous entry's after."""
    with db.read() as session:
        entries = session.execute(select(
            AuditEntry.ticket_type_id, AuditEntry.before_capacity, AuditEntry.before_sold,
            AuditEntry.before_held, AuditEntry.after_capacity, AuditEntry.after_sold,
            AuditEntry.after_held).where(AuditEntry.ticket_type_id.is_not(None))
            .order_by(AuditEntry.seq)).all()
    last: dict[int, tuple[int, int, int]] = {}
    for tt, *counts in entries:
        if tt in last and counts[0] is not None:
            assert tuple(counts[:3]) == last[tt], entries
        if counts[3] is not None:
            last[tt] = tuple(counts[3:])


def test_sales_that_do_not_use_their_guards_sent_ahead_leave_no_trace(
        database: Database) -> None:
    """A replay, a short tender and a sale that raised after its guard each had a guard sent
    ahead (PostgreSQL); none of them may keep a ticket, the sales around them stand, and
    the audit's counts follow on from entry to entry."""
    first = _run_batch(database, [_spec_unit(database, "paid")])
    assert first[0].result().status == 201

    def raises_after_the_guard(session: Session) -> Any:
        raise ApiError(ErrorCode.INVALID_REQUEST, "refused after the change")

    broken = _spec_unit(database, "broken")
    real_effect = broken._effect

    def effect(session: Session) -> Any:
        real_effect(session)
        return raises_after_the_guard(session)

    broken._effect = effect
    futures = _run_batch(database, [
        _spec_unit(database, "a"),
        _spec_unit(database, "paid"),  # replay: answered from the key
        _spec_unit(database, "short", tendered=1),  # 422 insufficient_tender, stored
        broken,
        _spec_unit(database, "b"),
    ])
    assert futures[0].result().status == 201
    assert futures[1].result().replayed
    assert futures[2].result().status == 422
    with pytest.raises(ApiError):
        futures[3].result()
    assert futures[4].result().status == 201
    assert _counts(database) == (3, 3)  # paid, a, b
    with database.read() as session:
        assert audit.verify(session).ok
        rows = session.execute(select(TicketType.sold, TicketType.held,
                                      TicketType.capacity)).one()
    assert tuple(rows) == (3, 0, 5)
    _audit_counts_follow_on(database)


def test_a_guard_short_when_the_batch_began_is_asked_again(database: Database) -> None:
    """Capacity 5, four sold: a replay's guard sent ahead takes the last ticket, so the next
    sale's guard sent ahead finds none; the batch runs again with each guard in its turn and
    that sale gets it. Never more than the capacity."""
    assert [f.result().status for f in _run_batch(
        database, [_spec_unit(database, f"k{i}") for i in range(4)])] == [201] * 4
    futures = _run_batch(database, [
        _spec_unit(database, "k0"),  # replay
        _spec_unit(database, "last"),
        _spec_unit(database, "too-many"),
    ])
    assert futures[0].result().replayed
    assert futures[1].result().status == 201
    assert futures[2].result().status == 409  # stored insufficient_inventory
    assert _counts(database) == (5, 5)
    with database.read() as session:
        assert audit.verify(session).ok
    _audit_counts_follow_on(database)


def test_a_multi_line_sale_short_on_one_line_takes_nothing(
        seeded: Callable[..., Database], dialect_url: str | None) -> None:
    database = seeded(now=NOW, ticket_types=[{"name": "GA", "price": 2500, "capacity": 5},
                                             {"name": "VIP", "price": 9000, "capacity": 1}],
                      staff=[("sam", "cashier", "1111", "Sam")], terminals=["till"],
                      shift_for=CASHIER, url=dialect_url)
    with database.read() as session:
        ga, vip = session.scalars(select(TicketType.id).order_by(TicketType.id)).all()
    futures = _run_batch(database, [
        _spec_unit(database, "both", lines=[(ga, 2), (vip, 2)]),  # VIP short
        _spec_unit(database, "ga", lines=[(ga, 3)]),
    ])
    assert futures[0].result().status == 409
    assert futures[1].result().status == 201
    with database.read() as session:
        sold = dict(session.execute(select(TicketType.id, TicketType.sold)).all())
        assert audit.verify(session).ok
    assert sold == {ga: 3, vip: 0}
    _audit_counts_follow_on(database)


def test_a_replay_in_a_batch_with_room_to_spare_keeps_no_ticket(database: Database) -> None:
    """Nothing runs short here (capacity 5, at most 4 taken ahead): only the replay's own
    unused guard can send the batch back, and it must."""
    assert _run_batch(database, [_spec_unit(database, "paid")])[0].result().status == 201
    futures = _run_batch(database, [_spec_unit(database, "a"),
                                     _spec_unit(database, "paid"),
                                     _spec_unit(database, "b")])
    assert [f.result().status for f in futures] == [201, 201, 201]
    assert futures[1].result().replayed
    assert _counts(database) == (3, 3)
    _audit_counts_follow_on(database)
