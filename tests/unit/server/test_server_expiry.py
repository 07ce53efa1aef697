"""Hold expiry (pos_app.server.services.expiry): lapsed holds are expired inside the writer's
transaction for the ticket types it touches, reads discount them, and the background sweeper
tidies the rest without blocking the event loop."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from pos_app.api import schemas
from pos_app.domain.clock import FixedClock
from pos_app.server import audit
from pos_app.server.app import create_app
from pos_app.server.db import Database
from pos_app.server.models import AuditEntry, Hold, TicketType
from pos_app.server.services import expiry, holds, inventory
from pos_app.server.services.principal import Principal
from pos_app.server.settings import ServerSettings

START = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
SAM = Principal(session_id=1, staff_id=1, username="sam", display_name="Sam", role="cashier",
                terminal_id=1, terminal_name="till")


@pytest.fixture
def database(seeded: Callable[..., Database]) -> Database:
    return seeded(now=START, ticket_types=[{"name": "GA", "price": 2500, "capacity": 10},
                                           {"name": "VIP", "price": 9000, "capacity": 4},
                                           {"name": "Box", "price": 20000, "capacity": 2}],
                  staff=[("sam", "cashier", "1111", "Sam")], terminals=["till"])


def _ids(database: Database) -> dict[str, int]:
    with database.read() as session:
        return {t.name: t.id for t in session.scalars(select(TicketType)).all()}


def _hold(database: Database, lines: dict[int, int], now: datetime,
          ttl_seconds: int = 600) -> str:
    body = schemas.HoldCreate.model_validate({
        "kind": "checkout", "ttl_seconds": ttl_seconds,
        "lines": [{"ticket_type_id": i, "quantity": q} for i, q in lines.items()]})
    outcome = holds.create_hold(database, SAM, body, key=uuid.uuid4().hex, path="/v1/holds",
                                now=now)
    assert outcome.status == 201, outcome.body
    return str(outcome.body["id"])


def _status(database: Database, hold_id: str) -> str:
    with database.read() as session:
        hold = session.get(Hold, hold_id)
        assert hold is not None
        return hold.status


def test_a_writer_expires_only_the_lapsed_holds_on_its_own_ticket_types(
        database: Database) -> None:
    tt = _ids(database)
    on_ga_and_vip = _hold(database, {tt["GA"]: 2, tt["VIP"]: 1}, START)
    on_box = _hold(database, {tt["Box"]: 2}, START)
    later = START + timedelta(minutes=11)
    with database.write() as session:
        assert expiry.expire_lapsed(session, [tt["VIP"]], now=later) == [on_ga_and_vip]
        assert expiry.expire_lapsed(session, [tt["VIP"]], now=later) == []
        assert expiry.expire_lapsed(session, [], now=later) == []
    assert (_status(database, on_ga_and_vip), _status(database, on_box)) == ("expired",
                                                                             "active")
    with database.read() as session:
        held = {t.name: t.held for t in session.scalars(select(TicketType))}
        assert held == {"GA": 0, "VIP": 0, "Box": 2}
        hold = session.get(Hold, on_ga_and_vip)
        assert hold is not None and hold.ended_at == later


def test_a_hold_is_not_lapsed_one_second_before_its_expiry(database: Database) -> None:
    tt = _ids(database)
    hold_id = _hold(database, {tt["GA"]: 3}, START)
    with database.write() as session:
        before = START + timedelta(seconds=599)
        assert expiry.lapsed_held(session, None, now=before) == {}
        assert expiry.expire_lapsed(session, None, now=before) == []
        at = START + timedelta(seconds=600)
        assert expiry.lapsed_held(session, None, now=at) == {tt["GA"]: 3}
        assert expiry.lapsed_held(session, [tt["VIP"]], now=at) == {}
    assert _status(database, hold_id) == "active"


def test_reads_report_a_lapsed_hold_as_available_at_the_instant_it_lapses(
        database: Database) -> None:
    tt = _ids(database)
    _hold(database, {tt["Box"]: 2}, START, ttl_seconds=60)
    with database.read() as session:
        box = {t.name: t for e in inventory.list_events(
            session, now=START + timedelta(seconds=59)).events for t in e.ticket_types}["Box"]
        assert (box.held, box.available, box.stock_level) == (2, 0, "sold_out")
        box = {t.name: t for e in inventory.list_events(
            session, now=START + timedelta(seconds=60)).events for t in e.ticket_types}["Box"]
        assert (box.held, box.available, box.stock_level) == (0, 2, "in_stock")


def test_sweep_expires_every_lapsed_hold_in_one_transaction_and_audits_each(
        database: Database) -> None:
    tt = _ids(database)
    first = _hold(database, {tt["GA"]: 1, tt["Box"]: 1}, START)
    second = _hold(database, {tt["GA"]: 2}, START + timedelta(minutes=1))
    later = START + timedelta(minutes=20)
    assert expiry.sweep(database, now=later) == 2
    assert expiry.sweep(database, now=later) == 0
    with database.read() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == "expire")
                               .order_by(AuditEntry.seq)).all()
        assert [(r.ref_id, r.ticket_type_id, r.before_held, r.after_held) for r in rows] == [
            (first, tt["GA"], 3, 2), (first, tt["Box"], 1, 0), (second, tt["GA"], 2, 0)]
        assert audit.verify(session).ok


def test_the_background_sweeper_runs_off_the_event_loop_and_stops_cleanly(
        database: Database) -> None:
    tt = _ids(database)
    hold_id = _hold(database, {tt["VIP"]: 4}, START)
    clock = FixedClock(START + timedelta(hours=1))
    settings = ServerSettings(database_url=database.url, clock=clock,
                              sweeper_interval=timedelta(milliseconds=20))

    async def scenario() -> int:
        task = expiry.start_sweeper(database, settings)
        assert task is not None
        ticks = 0
        for _ in range(500):  # the loop keeps running while sweeps happen in a thread
            await asyncio.sleep(0.01)
            ticks += 1
            if _status(database, hold_id) == "expired":
                break
        await expiry.stop_sweeper(task)
        assert task.done()
        return ticks

    assert asyncio.run(scenario()) < 500
    assert _status(database, hold_id) == "expired"


def test_the_app_lifespan_starts_and_stops_the_sweeper(database: Database) -> None:
    tt = _ids(database)
    hold_id = _hold(database, {tt["GA"]: 1}, START)
    settings = ServerSettings(database_url=database.url,
                              clock=FixedClock(START + timedelta(hours=1)),
                              sweeper_interval=timedelta(milliseconds=20))
    app = create_app(settings, database=database)

    async def serve() -> None:
        async with app.router.lifespan_context(app):
            for _ in range(500):
                await asyncio.sleep(0.01)
                if _status(database, hold_id) == "expired":
                    break
        tasks = [t for t in asyncio.all_tasks() if t.get_name() == "pos-hold-sweeper"]
        assert tasks == []

    asyncio.run(serve())
    assert _status(database, hold_id) == "expired"


def test_a_sweeper_with_no_interval_is_switched_off(database: Database) -> None:
    settings = ServerSettings(database_url=database.url, sweeper_interval=timedelta(0))

    async def scenario() -> None:
        assert expiry.start_sweeper(database, settings) is None
        await expiry.stop_sweeper(None)

    asyncio.run(scenario())
