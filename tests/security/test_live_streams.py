"""Issue 16, attack 8 (streams): live-inventory streams had no cap, and a stream kept
receiving after its session signed out.

Each test is the attack against the real app served by uvicorn in a thread
(:class:`tests.support.app_server.AppServer`: real streaming, real timing, and the venue's
clock as the server clock):

* a sixth, fifth... stream with one credential: 429 ``too_many_streams`` while it has 4 open,
  and a slot is free again as soon as one closes;
* more streams than the server process serves: 503 ``server_busy``;
* a stream outliving its credential: it now ends within a second of its session signing out
  (also through another server process on the same database), going idle or reaching its
  12 hours on the server clock, or its channel token being revoked; an open stream alone
  does not keep a session alive.
"""

from __future__ import annotations

import dataclasses
import time
import warnings
from collections.abc import Iterator
from datetime import timedelta

import pytest

from pos_app.server.app import create_app
from pos_app.server.db import Database
from pos_app.server.services import channels, live
from pos_app.server.settings import ServerSettings
from tests.security.conftest import CASHIER_PIN, Venue
from tests.support.app_server import AppServer, EventStream

ENDS_WITHIN = 1.0  # seconds: the promise for a revoked, expired or signed-out stream


@pytest.fixture
def server(venue: Venue) -> Iterator[AppServer]:
    with AppServer(create_app(venue.settings, database=venue.db)) as served:
        yield served


def _sign_in(server: AppServer, venue: Venue, till: str, username: str, pin: str) -> str:
    with server.client(venue.tokens[till]) as http:
        answer = http.post("/v1/sessions", json={"username": username, "pin": pin})
    assert answer.status_code == 201, answer.text
    return str(answer.json()["token"])


def _channel_token(venue: Venue, channel: str = "online") -> tuple[int, str]:
    with venue.db.write() as session:
        return channels.create_channel_token(session, channel, now=venue.clock.now())


def _token(kind: str, server: AppServer, venue: Venue) -> str:
    if kind == "channel":
        return _channel_token(venue)[1]
    return _sign_in(server, venue, "till1", "alex", CASHIER_PIN)


@pytest.fixture
def streams() -> Iterator[list[EventStream]]:
    """Every stream a test opens, hung up at its end."""
    opened: list[EventStream] = []
    yield opened
    for stream in opened:
        stream.close()


def _open(streams: list[EventStream], server: AppServer, token: str) -> EventStream:
    stream = EventStream(server, token)
    streams.append(stream)
    return stream


def _ended_within(stream: EventStream, since: float) -> float:
    """Seconds from ``since`` to the end of ``stream`` (waiting a little longer than the
    promise, so a late end is measured rather than missed)."""
    assert stream.ended.wait(ENDS_WITHIN + 2), "the stream was still open"
    assert stream.ended_at is not None
    return stream.ended_at - since


# --- caps ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["session", "channel"])
def test_a_fifth_stream_with_one_credential_is_refused_while_four_are_open(
        server: AppServer, venue: Venue, streams: list[EventStream], kind: str) -> None:
    token = _token(kind, server, venue)
    four = [_open(streams, server, token) for _ in range(4)]
    assert [s.status for s in four] == [200] * 4

    fifth = _open(streams, server, token)

    assert fifth.status == 429
    assert fifth.body["error"] == "too_many_streams" and fifth.body["limit"] == 4
    assert fifth.headers is not None and fifth.headers["Retry-After"] == "5"
    # The cap is the credential's, not the server's: someone else still gets a stream.
    other = _open(streams, server, _sign_in(server, venue, "till2", "sam", "1111"))
    assert other.status == 200

    # Hanging up one of the four frees its slot at once (the server sees the disconnect).
    four[0].close()
    began = time.monotonic()
    while (again := _open(streams, server, token)).status != 200:
        assert again.status == 429 and time.monotonic() - began < 1, again.body
        time.sleep(0.02)
    assert all(s.still_open_after(0) for s in four[1:])


def test_streams_past_the_server_s_cap_are_refused_with_503(
        venue: Venue, streams: list[EventStream]) -> None:
    settings = dataclasses.replace(venue.settings, max_streams=3)
    with AppServer(create_app(settings, database=venue.db)) as server:
        alex = _sign_in(server, venue, "till1", "alex", CASHIER_PIN)
        sam = _sign_in(server, venue, "till2", "sam", "1111")
        assert [_open(streams, server, t).status for t in (alex, alex, sam)] == [200] * 3

        refused = _open(streams, server, _channel_token(venue)[1])  # a fresh credential

        assert refused.status == 503
        assert refused.body["error"] == "server_busy" and refused.body["limit"] == 3
        assert refused.headers is not None and refused.headers["Retry-After"] == "5"
        streams[0].close()
        began = time.monotonic()
        while (again := _open(streams, server, sam)).status != 200:
            assert again.status == 503 and time.monotonic() - began < 1, again.body
            time.sleep(0.02)
        for stream in streams:  # before this server stops
            stream.close()


# --- a stream ends with its credential -----------------------------------------------------------

def test_a_stream_ends_within_a_second_of_its_session_signing_out(
        server: AppServer, venue: Venue, dialect: str, streams: list[EventStream]) -> None:
    alex = _sign_in(server, venue, "till1", "alex", CASHIER_PIN)
    watched, bystander = (_open(streams, server, alex),
                          _open(streams, server, _sign_in(server, venue, "till2", "sam", "1111")))
    assert (watched.status, bystander.status) == (200, 200)

    with server.client(alex) as http:
        assert http.delete("/v1/sessions/current").status_code == 204
    signed_out = time.monotonic()

    assert _ended_within(watched, signed_out) < ENDS_WITHIN
    assert bystander.still_open_after(0)
    assert _open(streams, server, alex).status == 401  # and it cannot open another


def test_a_stream_ends_when_its_session_signs_out_through_another_server_process(
        server: AppServer, venue: Venue, dialect: str, streams: list[EventStream]) -> None:
    """The sign-out goes to a second app with its own connections to the same database, as
    another ``--workers`` process or host would: only the stream checker can see it."""
    alex = _sign_in(server, venue, "till1", "alex", CASHIER_PIN)
    watched = _open(streams, server, alex)
    bystander = _open(streams, server, _sign_in(server, venue, "till2", "sam", "1111"))
    other_db = Database(venue.db.url, chain=venue.db.chain,
                        write_hooks=[live.install_session_hooks])
    with warnings.catch_warnings():  # Starlette's TestClient asks for "httpx2"; not ours
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    try:
        with TestClient(create_app(venue.settings, database=other_db),
                        base_url="https://testserver") as other:
            answer = other.delete("/v1/sessions/current",
                                  headers={"Authorization": f"Bearer {alex}"})
            signed_out = time.monotonic()
        assert answer.status_code == 204

        assert _ended_within(watched, signed_out) < ENDS_WITHIN
        assert bystander.still_open_after(0)
    finally:
        other_db.dispose()


def test_a_stream_alone_does_not_keep_its_session_from_going_idle(
        server: AppServer, venue: Venue, dialect: str, streams: list[EventStream]) -> None:
    alex = _sign_in(server, venue, "till1", "alex", CASHIER_PIN)
    watched = _open(streams, server, alex)
    venue.clock.advance(timedelta(minutes=29))  # nobody at the till; only the stream is open
    assert watched.still_open_after(0.7)  # a check or more later: not yet idle

    venue.clock.advance(timedelta(minutes=1, seconds=1))  # 30 min since the last request
    idle = time.monotonic()

    assert _ended_within(watched, idle) < ENDS_WITHIN
    assert _open(streams, server, alex).status == 401


def test_a_stream_ends_at_its_session_s_12_hours_however_busy_the_till(
        server: AppServer, venue: Venue, streams: list[EventStream]) -> None:
    alex = _sign_in(server, venue, "till1", "alex", CASHIER_PIN)
    watched = _open(streams, server, alex)
    with server.client(alex) as http:
        for _ in range(12 * 4 - 1):  # a request every 15 minutes keeps it from going idle
            venue.clock.advance(timedelta(minutes=15))
            assert http.get("/v1/events").status_code == 200
    assert watched.still_open_after(0.7)  # 11 h 45 min in, in use: the stream stays

    venue.clock.advance(timedelta(minutes=15))  # 12 h after sign-in: over, used or not
    over = time.monotonic()

    assert _ended_within(watched, over) < ENDS_WITHIN


def test_a_stream_ends_within_a_second_of_its_channel_token_being_revoked(
        server: AppServer, venue: Venue, dialect: str, streams: list[EventStream]) -> None:
    token_id, token = _channel_token(venue)
    watched = _open(streams, server, token)
    bystander = _open(streams, server, _channel_token(venue, "kiosk")[1])
    assert (watched.status, bystander.status) == (200, 200)

    with venue.db.write() as session:  # as `pos-app` admin would, on the database
        assert channels.revoke_channel_token(session, token_id, now=venue.clock.now())
    revoked = time.monotonic()

    assert _ended_within(watched, revoked) < ENDS_WITHIN
    assert bystander.still_open_after(0)


def test_the_defaults_are_four_streams_a_credential_and_500_a_process() -> None:
    settings = ServerSettings(database_url="sqlite://")
    assert (settings.max_streams_per_credential, settings.max_streams) == (4, 500)
    assert settings.stream_check_interval <= timedelta(seconds=0.5)
