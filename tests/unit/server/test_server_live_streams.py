"""Live-inventory stream admission and revocation (pos_app.server.services.live_streams):
which credentials the checker finds still good, and that it costs nothing while no stream is
open. The attacks themselves, over HTTP, are in ``tests/security/test_live_streams.py``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from pos_app.domain.clock import FixedClock
from pos_app.server.db import Database
from pos_app.server.errors import ApiError
from pos_app.server.models import ChannelToken, Staff, StaffSession, Terminal
from pos_app.server.services import channels, identity
from pos_app.server.services.live import Broadcaster
from pos_app.server.services.live_streams import Credential, StreamRegistry, live_credentials
from pos_app.server.settings import ServerSettings

NOW = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)


@pytest.fixture
def database(seeded: Callable[..., Database], dialect_url: str | None) -> Database:
    return seeded(now=NOW, url=dialect_url,
                  staff=[("alex", "cashier", "1234", "Alex"), ("bo", "cashier", "5678", "Bo")],
                  terminals=["till1", "till2"])


def _session(session: Session, staff_id: int, terminal_id: int, *,
             expires_at: datetime = NOW + timedelta(minutes=30),
             revoked_at: datetime | None = None) -> Credential:
    row = StaffSession(token_hash=f"{staff_id}-{terminal_id}-{expires_at}-{revoked_at}",
                       staff_id=staff_id, terminal_id=terminal_id, created_at=NOW,
                       expires_at=expires_at, revoked_at=revoked_at)
    session.add(row)
    session.flush()
    return Credential("session", row.id)


def _channel(session: Session, *, revoked: bool = False) -> Credential:
    token_id, _ = channels.create_channel_token(session, "online", now=NOW)
    if revoked:
        channels.revoke_channel_token(session, token_id, now=NOW)
    return Credential("channel", token_id)


def test_only_live_sessions_and_unrevoked_channel_tokens_are_good(database: Database) -> None:
    with database.write() as session:
        for terminal in session.scalars(select(Terminal)):
            terminal.token_hash = f"paired-{terminal.id}"
        alex, bo = (session.scalars(select(Staff).where(Staff.username == name)).one().id
                    for name in ("alex", "bo"))
        till1, till2 = (session.scalars(select(Terminal).where(Terminal.name == name)).one().id
                        for name in ("till1", "till2"))
        live = _session(session, alex, till1)
        signed_out = _session(session, alex, till1, revoked_at=NOW - timedelta(seconds=1))
        idle = _session(session, alex, till1, expires_at=NOW)  # its deadline is now: over
        left = _session(session, bo, till1)
        unpaired = _session(session, alex, till2)
        channel, revoked = _channel(session), _channel(session, revoked=True)
        session.get_one(Staff, bo).active = False
        session.get_one(Terminal, till2).token_hash = None
    everything = {live, signed_out, idle, left, unpaired, channel, revoked,
                  Credential("session", 999), Credential("channel", 999)}

    with database.read() as session:
        assert live_credentials(session, everything, now=NOW) == {live, channel}
        assert live_credentials(session, [live, idle], now=NOW) == {live}
        assert live_credentials(session, [channel, revoked], now=NOW) == {channel}
        assert live_credentials(session, [], now=NOW) == set()
        # The same session a second before its deadline is still good.
        assert idle in live_credentials(session, [idle], now=NOW - timedelta(seconds=1))


def test_the_checker_reads_nothing_while_no_stream_is_open_and_ends_revoked_streams(
        database: Database) -> None:
    queries: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "channel_tokens" in statement or "sessions" in statement:
            queries.append(statement)

    with database.write() as session:
        token_id, _ = channels.create_channel_token(session, "online", now=NOW)
        principal = identity.channel_principal(session.get_one(ChannelToken, token_id))
    settings = ServerSettings(database_url=database.url, clock=FixedClock(NOW),
                              stream_check_interval=timedelta(milliseconds=10),
                              max_streams_per_credential=1)

    async def scenario() -> None:
        registry = StreamRegistry(Broadcaster(database, clock=lambda: NOW), database, settings)
        registry.start()
        try:
            await asyncio.sleep(0.2)  # some twenty intervals with no stream open
            assert queries == []
            subscription = registry.open(principal)
            with pytest.raises(ApiError) as refused:
                registry.open(principal)
            assert (refused.value.status, refused.value.code) == (429, "too_many_streams")
            await asyncio.sleep(0.1)
            assert queries and subscription.queue.empty()  # checked, still good
            await asyncio.to_thread(_revoke, database, token_id)
            assert await asyncio.wait_for(subscription.queue.get(), timeout=2) is None
            assert registry.open_count == 0  # its slot is free at once
            registry.open(principal)
        finally:
            await registry.stop()

    engine = database.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        asyncio.run(scenario())
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _revoke(database: Database, token_id: int) -> None:
    with database.write() as session:
        channels.revoke_channel_token(session, token_id, now=NOW)
