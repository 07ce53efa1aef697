"""Group commit (pos_app.server.group_commit): many sales in one transaction, each isolated in
its own savepoint, none confirmed before the commit."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import Session

from pos_app.api import schemas
from pos_app.api.errors import ErrorCode
from pos_app.server import audit, sql
from pos_app.server.db import Database
from pos_app.server.errors import ApiError
from pos_app.server.group_commit import GroupCommitWriter, Unit, in_turn
from pos_app.server.models import AuditEntry, Sale, StockAlert, TicketType
from pos_app.server.services import holds, idempotency, sales
from pos_app.server.services.inventory import inventory_version
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


def _unit(key: str, body: schemas.SaleCreate, *, principal: Principal = CASHIER,
          now: datetime = NOW) -> Unit[Any]:
    """``POST /v1/sales`` with ``body`` as the route queues it (a sale of lines sends its
    reads and, in a batch on PostgreSQL, its guards ahead; a hold's payment runs in turn)."""
    return idempotency._unit(principal.idempotency_scope, key,
                             idempotency.request_hash("POST", "/v1/sales",
                                                      body.model_dump(mode="json")),
                             "POST", "/v1/sales", sales._effect(principal, body, now), now)


def _sale_unit(db: Database, key: str, quantity: int = 1, *,
               lines: list[tuple[int, int]] | None = None, tendered: int = 1_000_000,
               principal: Principal = CASHIER) -> Unit[Any]:
    """A sale of ``quantity`` GA (or of ``lines``: ``(ticket type id, quantity)``)."""
    body = schemas.SaleCreate.model_validate({
        "lines": [{"ticket_type_id": tt, "quantity": q}
                  for tt, q in (lines or [(_ga(db), quantity)])],
        "payment": {"method": "cash", "tendered": tendered}})
    return _unit(key, body, principal=principal)


def _held_writer(db: Database) -> tuple[GroupCommitWriter, threading.Event]:
    """A writer whose thread is kept busy until the returned event is set, so that the units
    submitted meanwhile are committed as one batch."""
    writer = GroupCommitWriter(db, batch_limit=64)
    release = threading.Event()
    started = threading.Event()

    def hold(_session: Session) -> None:
        started.set()
        release.wait(10)

    writer.submit(in_turn(hold))
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
        failing = writer.submit(in_turn(broken))
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
        failing = writer.submit(in_turn(broken))
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


def test_a_unit_whose_flush_fails_before_the_database_is_rolled_back_alone(
        database: Database) -> None:
    """A flush refused by SQLAlchemy itself (a naive datetime: no database error) leaves the
    unit's savepoint inactive but open: it is rolled back, with the transaction's state, and
    the units after it still run in the batch."""
    def broken(session: Session) -> None:
        _sale_unit(database, "broken")(session)  # sells, then fails: must leave no trace
        session.add(StockAlert(at=NOW.replace(tzinfo=None), ticket_type_id=_ga(database),
                               event_id="gig", level=1, available=1))
        session.flush()

    writer, release = _held_writer(database)
    try:
        before = writer.submit(_sale_unit(database, "a"))
        failing = writer.submit(in_turn(broken))
        after = writer.submit(_sale_unit(database, "c"))
        release.set()
        assert before.result(10).status == 201
        with pytest.raises(StatementError, match="naive datetimes"):
            failing.result(10)
        assert after.result(10).status == 201
    finally:
        writer.stop()
    assert _counts(database) == (2, 2)
    with database.read() as session:
        assert audit.verify(session).ok
        assert idempotency._find(session, CASHIER.idempotency_scope, "broken") is None
    _audit_counts_follow_on(database)


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
        bad = writer.submit(in_turn(broken))
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

        second: Future[Any] = writer.submit(in_turn(poison))
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
    """Every audit entry's before-counts of a ticket type are the previous entry's after
    (read here from the rows, and by ``audit.verify``, whose count check must agree)."""
    with db.read() as session:
        entries = session.execute(select(
            AuditEntry.ticket_type_id, AuditEntry.before_capacity, AuditEntry.before_sold,
            AuditEntry.before_held, AuditEntry.after_capacity, AuditEntry.after_sold,
            AuditEntry.after_held).where(AuditEntry.ticket_type_id.is_not(None))
            .order_by(AuditEntry.seq)).all()
        verified = audit.verify(session)
    last: dict[int, tuple[int, int, int]] = {}
    for tt, *counts in entries:
        if tt in last and counts[0] is not None:
            assert tuple(counts[:3]) == last[tt], entries
        if counts[3] is not None:
            last[tt] = tuple(counts[3:])
    assert verified == audit.VerifyResult(True, verified.entries_checked, None), verified


def test_sales_that_do_not_use_their_guards_sent_ahead_leave_no_trace(
        database: Database) -> None:
    """A replay, a short tender and a sale that raised after its guard each had a guard sent
    ahead (PostgreSQL); none of them may keep a ticket, the sales around them stand, and
    the audit's counts follow on from entry to entry."""
    first = _run_batch(database, [_sale_unit(database, "paid")])
    assert first[0].result().status == 201

    def raises_after_the_guard(session: Session) -> Any:
        raise ApiError(ErrorCode.INVALID_REQUEST, "refused after the change")

    class RaisesAfterTheGuard(sales._SaleEffect):
        def __call__(self, session: Session) -> sales.SaleOutcome:
            super().__call__(session)
            return raises_after_the_guard(session)

    body = schemas.SaleCreate.model_validate({
        "lines": [{"ticket_type_id": _ga(database), "quantity": 1}],
        "payment": {"method": "cash", "tendered": 1_000_000}})
    broken = idempotency._unit(
        CASHIER.idempotency_scope, "broken",
        idempotency.request_hash("POST", "/v1/sales", body.model_dump(mode="json")),
        "POST", "/v1/sales", RaisesAfterTheGuard(CASHIER, body, NOW), NOW)
    futures = _run_batch(database, [
        _sale_unit(database, "a"),
        _sale_unit(database, "paid"),  # replay: answered from the key
        _sale_unit(database, "short", tendered=1),  # 422 insufficient_tender, stored
        broken,
        _sale_unit(database, "b"),
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
        database, [_sale_unit(database, f"k{i}") for i in range(4)])] == [201] * 4
    futures = _run_batch(database, [
        _sale_unit(database, "k0"),  # replay
        _sale_unit(database, "last"),
        _sale_unit(database, "too-many"),
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
        _sale_unit(database, "both", lines=[(ga, 2), (vip, 2)]),  # VIP short
        _sale_unit(database, "ga", lines=[(ga, 3)]),
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
    assert _run_batch(database, [_sale_unit(database, "paid")])[0].result().status == 201
    futures = _run_batch(database, [_sale_unit(database, "a"),
                                     _sale_unit(database, "paid"),
                                     _sale_unit(database, "b")])
    assert [f.result().status for f in futures] == [201, 201, 201]
    assert futures[1].result().replayed
    assert _counts(database) == (3, 3)
    _audit_counts_follow_on(database)


# --- hold payments in batches with sales -----------------------------------------------------
# Every Charge at the till pays the basket's hold while the web shop sells the same ticket
# type: payments and sales share batches. A payment runs in turn (nothing of a later sale
# goes ahead of it), so each entry's counts follow on and sale numbers follow the order the
# units ran in.

def _cash_hold(db: Database, key: str, quantity: int, *, now: datetime = NOW) -> str:
    """A 4-hour cash hold of ``quantity`` GA placed at ``now``; its id."""
    body = schemas.HoldCreate.model_validate({
        "kind": "cash", "lines": [{"ticket_type_id": _ga(db), "quantity": quantity}],
        "customer": {"name": "Dana Smith"}})
    placed = holds.create_hold(db, CASHIER, body, key=key, path="/v1/holds", now=now)
    assert placed.status == 201, placed.body
    return str(placed.body["id"])


def _payment_unit(key: str, hold_id: str, *, tendered: int = 1_000_000) -> Unit[Any]:
    """The payment of hold ``hold_id`` in cash (``POST /v1/sales {hold_id}``)."""
    return _unit(key, schemas.SaleCreate.model_validate({
        "hold_id": hold_id, "payment": {"method": "cash", "tendered": tendered}}))


def _ga_counts(db: Database) -> tuple[int, int, int]:
    with db.read() as session:
        row = session.execute(select(TicketType.capacity, TicketType.sold,
                                     TicketType.held)).one()
    return int(row[0]), int(row[1]), int(row[2])


def _numbers_follow_the_order(futures: list[Future[Any]]) -> None:
    """The sale numbers of the confirmed units rise in the order the units were queued."""
    numbers = [f.result().body["number"] for f in futures if f.result().status == 201]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers), numbers


@pytest.mark.parametrize("at", [0, 1, 2], ids=["payment-first", "between", "payment-last"])
def test_a_hold_payment_batched_with_sales_keeps_the_counts_in_order(
        database: Database, at: int) -> None:
    """The issue's night: GA capacity 5, a cash hold of 2, then one batch of two sales and
    the hold's payment (first, between, last). Every entry starts where the one before it
    ended (payment 2 held -> sold), and the numbers follow the order."""
    hold_id = _cash_hold(database, "hold", 2)
    units = [_sale_unit(database, "s1"), _sale_unit(database, "s2")]
    units.insert(at, _payment_unit("pay", hold_id))
    futures = _run_batch(database, units)
    assert [f.result().status for f in futures] == [201, 201, 201]
    assert _ga_counts(database) == (5, 4, 0)
    _audit_counts_follow_on(database)
    _numbers_follow_the_order(futures)
    with database.read() as session:  # the payment's entry: held 2 -> 0, sold +2
        payment = session.execute(select(
            AuditEntry.before_sold, AuditEntry.before_held, AuditEntry.after_sold,
            AuditEntry.after_held).where(AuditEntry.ref_id == futures[at].result().body["id"],
                                         AuditEntry.action == "sale")).one()
    assert payment[1] == 2 and payment[3] == 0 and payment[2] == payment[0] + 2


def test_a_lapsed_hold_expired_inside_a_payment_follows_on(database: Database) -> None:
    """A hold lapsed an hour ago still counts as held until expired; paying another hold of
    the ticket type expires it inside the payment, between sales of the same batch, whose
    guards went ahead (PostgreSQL) before and after it."""
    lapsed = _cash_hold(database, "lapsed", 1, now=NOW - timedelta(hours=5))
    paid = _cash_hold(database, "paid", 1, now=NOW - timedelta(hours=2))  # before it lapsed
    assert _ga_counts(database) == (5, 0, 2)
    futures = _run_batch(database, [
        _sale_unit(database, "s1"), _payment_unit("pay", paid), _sale_unit(database, "s2"),
        _sale_unit(database, "s3")])
    assert [f.result().status for f in futures] == [201, 201, 201, 201]
    assert _ga_counts(database) == (5, 4, 0)
    with database.read() as session:
        expired = session.execute(select(AuditEntry.seq, AuditEntry.before_held,
                                         AuditEntry.after_held)
                                  .where(AuditEntry.action == "expire",
                                         AuditEntry.ref_id == lapsed)).one()
        payment = session.execute(select(AuditEntry.seq).where(
            AuditEntry.ref_id == futures[1].result().body["id"])).scalar_one()
    assert (expired[1], expired[2]) == (2, 1) and expired[0] < payment
    _audit_counts_follow_on(database)
    _numbers_follow_the_order(futures)


@pytest.mark.parametrize("short_sale", [False, True], ids=["guards-ahead", "rerun"])
def test_refusals_among_hold_payments_and_sales_leave_the_counts_in_order(
        database: Database, short_sale: bool) -> None:
    """A payment of a hold already paid (409 hold_not_active) and a payment short of cash
    (422) between payments and sales that go through; with ``short_sale`` also a sale larger
    than what is left (409), which sends the batch back to run each guard in its turn."""
    first = _cash_hold(database, "first", 2)
    assert _run_batch(database, [_payment_unit("pay-first", first)])[0].result().status == 201
    second = _cash_hold(database, "second", 1)
    units = [_payment_unit("pay-first-again", first), _sale_unit(database, "s1"),
             _payment_unit("pay-short", second, tendered=1), _payment_unit("pay-second", second),
             _sale_unit(database, "s2")]
    if short_sale:
        units.insert(3, _sale_unit(database, "too-many", quantity=5))
    futures = _run_batch(database, units)
    statuses = [f.result().status for f in futures]
    expected = [409, 201, 422, *([409] if short_sale else []), 201, 201]
    assert statuses == expected, [f.result().body for f in futures]
    assert futures[0].result().body["error"] == "hold_not_active"
    assert futures[2].result().body["error"] == "insufficient_tender"
    if short_sale:
        assert futures[3].result().body["error"] == "insufficient_inventory"
    assert _ga_counts(database) == (5, 5, 0)
    _audit_counts_follow_on(database)
    _numbers_follow_the_order(futures)
