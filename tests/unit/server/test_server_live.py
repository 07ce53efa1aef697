"""Live inventory (pos_app.server.services.live): committed changes are published after commit
and only then, fanned out to every subscriber, and ``since=`` returns only what changed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from pos_app.server.db import Database
from pos_app.server.db_errors import WriteConflict
from pos_app.server.errors import write_conflict_error
from pos_app.server.models import TicketType
from pos_app.server.routes.inventory import KEEPALIVE, RETRY, EventStreamResponse, _events
from pos_app.server.services import changes
from pos_app.server.services.inventory import inventory_version
from pos_app.server.services.live import Broadcaster, InventoryEvent, load_changes
from pos_app.server.settings import ServerSettings

NOW = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)


@pytest.fixture
def database(seeded: Callable[..., Database]) -> Database:
    return seeded(now=NOW, ticket_types=[{"name": name, "price": 2500, "capacity": 100,
                                          "thresholds": {"low": 5, "critical": 2},
                                          "alert_ladder": []}
                                         for name in ("GA", "VIP", "Balcony")])


def _ids(db: Database) -> dict[str, int]:
    with db.read() as session:
        return {tt.name: tt.id for tt in session.scalars(select(TicketType))}


def _sell_in(session: Session, tt_id: int, quantity: int = 1) -> int:
    """Sell ``quantity`` of ``tt_id`` the way a service does: guard, then changes.record."""
    row = session.execute(
        update(TicketType).where(TicketType.id == tt_id)
        .values(sold=TicketType.sold + quantity, version=TicketType.version + 1)
        .returning(TicketType.capacity, TicketType.sold, TicketType.held, TicketType.event_id)
    ).one()
    after = (int(row[0]), int(row[1]), int(row[2]))
    return changes.record(session, [changes.CountChange(
        ticket_type_id=tt_id, event_id=row[3], action="sale", quantity=quantity,
        before=(after[0], after[1] - quantity, after[2]), after=after)],
        actor=changes.Actor(staff_id=None, terminal_id=None, channel="test"),
        ref_type="sale", ref_id="s", reason=None, now=NOW)


def _sell(db: Database, tt_id: int, quantity: int = 1) -> int:
    with db.write() as session:
        return _sell_in(session, tt_id, quantity)


def test_a_change_is_published_after_its_commit_and_not_before(database: Database) -> None:
    published: list[tuple[int, set[int]]] = []
    database.publisher = lambda version, ids: published.append((version, set(ids)))
    ga = _ids(database)["GA"]
    with database.write() as session:
        version = _sell_in(session, ga)
        session.flush()
        assert published == []  # still inside the transaction
    assert published == [(version, {ga})]


def test_a_rolled_back_change_publishes_nothing_and_stamps_nothing(database: Database) -> None:
    published: list[tuple[int, set[int]]] = []
    database.publisher = lambda version, ids: published.append((version, set(ids)))
    ga = _ids(database)["GA"]
    with database.read() as session:
        before = inventory_version(session)
    with pytest.raises(RuntimeError), database.write() as session:
        _sell_in(session, ga)
        raise RuntimeError("the payment failed")
    assert published == []
    with database.read() as session:
        assert inventory_version(session) == before
        assert session.get(TicketType, ga).changed_version <= before  # type: ignore[union-attr]
    # The next committed change publishes only its own ticket type.
    version = _sell(database, _ids(database)["VIP"])
    assert published == [(version, {_ids(database)["VIP"]})]


def test_since_returns_only_the_ticket_types_changed_after_that_version(
        database: Database) -> None:
    ids = _ids(database)
    with database.read() as session:
        start = inventory_version(session)
    _sell(database, ids["GA"])
    after_ga = _sell(database, ids["VIP"], 2)
    with database.read() as session:
        since_start = load_changes(session, start, now=NOW)
        since_vip = load_changes(session, after_ga, now=NOW)
        everything = load_changes(session, 0, now=NOW)
        from_elsewhere = load_changes(session, after_ga + 50, now=NOW)
    assert [t.name for t in since_start.ticket_types] == ["GA", "VIP"]
    assert since_start.inventory_version == after_ga == start + 2
    assert [t.sold for t in since_start.ticket_types] == [1, 2]
    assert since_vip.ticket_types == [] and since_vip.inventory_version == after_ga
    assert [t.name for t in everything.ticket_types] == ["GA", "VIP", "Balcony"]
    assert len(from_elsewhere.ticket_types) == 3  # a version from another history: reload all


def test_run_write_retries_a_serialization_failure_then_answers_request_in_progress(
        database: Database) -> None:
    class FakeSerializationFailure(Exception):
        sqlstate = "40001"

    attempts: list[int] = []

    def flaky(session: Session) -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise OperationalError("UPDATE ...", {}, FakeSerializationFailure())
        return "done"

    assert database.run_write(flaky, attempts=5) == "done"
    assert len(attempts) == 3

    def always(session: Session) -> str:
        raise OperationalError("UPDATE ...", {}, FakeSerializationFailure())

    with pytest.raises(WriteConflict) as refused:
        database.run_write(always, attempts=2)
    answer = write_conflict_error(refused.value)  # what the app's error handler sends
    assert answer.status == 409 and answer.code == "request_in_progress"
    assert answer.headers == {"Retry-After": "1"}


def test_run_write_does_not_retry_other_errors(database: Database) -> None:
    attempts: list[int] = []

    def broken(session: Session) -> None:
        attempts.append(1)
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        database.run_write(broken)
    assert attempts == [1]


async def _get(queue: asyncio.Queue[InventoryEvent | None]) -> InventoryEvent | None:
    return await asyncio.wait_for(queue.get(), timeout=5)


def test_the_broadcaster_fans_each_committed_change_out_to_every_subscriber(
        database: Database) -> None:
    ids = _ids(database)

    async def scenario() -> list[float]:
        broadcaster = Broadcaster(database, clock=lambda: NOW)
        broadcaster.start(asyncio.get_running_loop())
        database.publisher = broadcaster.notify_committed
        subscribers = [broadcaster.subscribe() for _ in range(3)]
        delays = []
        try:
            for name in ("GA", "VIP", "GA"):
                started = time.perf_counter()
                version = await asyncio.to_thread(_sell, database, ids[name])
                for subscription in subscribers:
                    item = await _get(subscription.queue)
                    assert item is not None and item.inventory_version == version
                    assert f'"name":"{name}"' in item.data
                delays.append(time.perf_counter() - started)

            # A rolled-back change reaches nobody.
            def rolled_back() -> None:
                with pytest.raises(RuntimeError), database.write() as session:
                    _sell_in(session, ids["Balcony"])
                    raise RuntimeError("abandoned")
            await asyncio.to_thread(rolled_back)
            await asyncio.sleep(0.2)
            assert all(s.queue.empty() for s in subscribers)
            broadcaster.unsubscribe(subscribers[0])
            assert broadcaster.subscriber_count == 2
        finally:
            database.publisher = None
            broadcaster.close_streams()
            await asyncio.to_thread(broadcaster.stop)
        assert [await _get(s.queue) for s in subscribers[1:]] == [None, None]  # streams ended
        return delays

    delays = asyncio.run(scenario())
    assert max(delays) < 1.0


def test_the_broadcaster_finds_changes_nobody_announced(database: Database) -> None:
    """Another process's commit (no publisher here) is picked up by the periodic check."""
    ga = _ids(database)["GA"]

    async def scenario() -> None:
        broadcaster = Broadcaster(database, clock=lambda: NOW, poll_interval=0.05)
        broadcaster.start(asyncio.get_running_loop())
        subscription = broadcaster.subscribe()
        try:
            version = await asyncio.to_thread(_sell, database, ga)
            item = await _get(subscription.queue)
            assert item is not None and item.inventory_version == version
        finally:
            await asyncio.to_thread(broadcaster.stop)

    asyncio.run(scenario())


def test_a_stream_resumes_sends_keepalives_and_ends_when_the_client_disconnects(
        database: Database) -> None:
    ids = _ids(database)
    settings = ServerSettings(database_url=database.url, sse_keepalive=timedelta(seconds=0.1))

    async def scenario() -> None:
        broadcaster = Broadcaster(database, clock=lambda: NOW)
        broadcaster.start(asyncio.get_running_loop())
        database.publisher = broadcaster.notify_committed
        resume_from = await asyncio.to_thread(_sell, database, ids["GA"])
        missed = await asyncio.to_thread(_sell, database, ids["VIP"])
        subscription = broadcaster.subscribe()
        close = partial(broadcaster.unsubscribe, subscription)
        response = EventStreamResponse(
            _events(subscription, close, database, settings, resume_from), on_close=close)
        sent: list[dict[str, Any]] = []
        disconnected = asyncio.Event()
        body = asyncio.Event()

        async def receive() -> dict[str, Any]:
            await disconnected.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)
            if KEEPALIVE in message.get("body", b""):
                body.set()

        task = asyncio.create_task(response({"type": "http", "asgi": {"spec_version": "2.4"}},
                                            receive, send))
        try:
            await asyncio.wait_for(body.wait(), timeout=5)
            assert broadcaster.subscriber_count == 1
            chunks = [m["body"] for m in sent if m["type"] == "http.response.body"]
            assert chunks[0] == RETRY
            assert chunks[1].startswith(f"id: {missed}\nevent: inventory\ndata: ".encode())
            assert b'"name":"VIP"' in chunks[1] and b'"name":"GA"' not in chunks[1]
            assert KEEPALIVE in chunks[2:]
            disconnected.set()
            await asyncio.wait_for(task, timeout=5)
            assert broadcaster.subscriber_count == 0  # nothing left behind
        finally:
            database.publisher = None
            await asyncio.to_thread(broadcaster.stop)

    asyncio.run(scenario())
