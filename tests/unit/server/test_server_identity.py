"""Identity against an in-process SQLite database and app: sign-in throttling with its audit
entries, session expiry, and channel tokens (holds and sales only)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from pos_app.domain.clock import FixedClock
from pos_app.server import admin
from pos_app.server.app import create_app
from pos_app.server.db import Database
from pos_app.server.errors import ApiError
from pos_app.server.models import AuditEntry, ChannelToken, LoginAttempt, Terminal
from pos_app.server.security import hash_token
from pos_app.server.services import channels, identity, pin_attempts
from pos_app.server.settings import ServerSettings

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

NOW = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)

# Starlette's TestClient asks for "httpx2"; its deprecation of plain httpx is not ours to fix.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Using `httpx` with `starlette.testclient` is deprecated")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def database(seeded: Callable[..., Database]) -> Database:
    return seeded(now=NOW, staff=[("sam", "cashier", "1111", "Sam"),
                                  ("max", "manager", "2222", "Max")])


@pytest.fixture
def terminal_token(database: Database) -> str:
    with database.write() as session:
        code = identity.create_terminal(session, "till", now=NOW,
                                        ttl=timedelta(minutes=10)).pairing_code
        return identity.pair_terminal(session, code, now=NOW).terminal_token


@pytest.fixture
def client(database: Database, clock: FixedClock) -> Iterator[TestClient]:
    from fastapi.testclient import TestClient

    settings = ServerSettings(database_url=database.url, clock=clock,
                              sweeper_interval=timedelta(0), pin_free_failures=1000)
    with TestClient(create_app(settings, database=database),
                    base_url="https://testserver") as test_client:
        yield test_client


def _terminal(database: Database) -> Terminal:
    with database.read() as session:
        return session.scalars(select(Terminal).where(Terminal.name == "till")).one()


# The venue-wide delay (tests/security, test_server_pin_attempts.py) is off here: these tests
# are about the limit per terminal and username.
SETTINGS = ServerSettings(database_url="sqlite://", pin_free_failures=1000)


def _sign_in(database: Database, pin: str, now: datetime, username: str = "sam") -> None:
    terminal = _terminal(database)
    attempt = pin_attempts.reserve(database, SETTINGS, username=username,
                                   terminal_id=terminal.id, client="10.0.0.7",
                                   kind="sign_in", now=now)
    identity.sign_in(database, terminal, username, pin, attempt=attempt, settings=SETTINGS,
                     now=now)


def _refusal(database: Database, pin: str, now: datetime, username: str = "sam") -> ApiError:
    with pytest.raises(ApiError) as refused:
        _sign_in(database, pin, now, username)
    return refused.value


def _actions(database: Database) -> list[tuple[str, int | None, str | None]]:
    with database.read() as session:
        return [(e.action, e.staff_id, e.reason)
                for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]


@pytest.mark.usefixtures("terminal_token")
def test_five_failures_lock_the_username_even_for_the_right_pin_until_the_window_passes(
        database: Database) -> None:
    for minute in range(5):
        refused = _refusal(database, "9999", NOW + timedelta(minutes=minute))
        assert (refused.status, refused.code) == (401, "unauthorized")
    at = NOW + timedelta(minutes=4)
    locked = _refusal(database, "1111", at)
    assert (locked.status, locked.code) == (429, "too_many_attempts")
    assert locked.headers["Retry-After"] == str(6 * 60)  # the first failure leaves at 10:00
    almost = NOW + timedelta(minutes=10) - timedelta(seconds=1)
    assert _refusal(database, "1111", almost).headers["Retry-After"] == "1"
    _sign_in(database, "1111", NOW + timedelta(minutes=10))  # 4 failures left in the window
    with database.read() as session:
        attempts = session.scalars(select(LoginAttempt).order_by(LoginAttempt.id)).all()
    assert [a.success for a in attempts] == [False] * 5 + [True]  # refusals are not counted


@pytest.mark.usefixtures("terminal_token")
def test_throttling_is_per_username(database: Database) -> None:
    for _ in range(5):
        _refusal(database, "9999", NOW)
    assert _refusal(database, "1111", NOW).code == "too_many_attempts"
    _sign_in(database, "2222", NOW, username="max")


@pytest.mark.usefixtures("terminal_token")
def test_sign_ins_are_audited_without_the_pin(database: Database) -> None:
    _refusal(database, "9999", NOW)
    _refusal(database, "1111", NOW, username="nobody")
    _sign_in(database, "1111", NOW)
    assert _actions(database) == [("login_failed", 1, "wrong PIN for 'sam'"),
                                  ("login_failed", None, "unknown username 'nobody'"),
                                  ("login", 1, None)]


def test_too_many_attempts_over_http_has_retry_after(client: TestClient, terminal_token: str,
                                                     clock: FixedClock) -> None:
    auth = {"Authorization": f"Bearer {terminal_token}"}
    for _ in range(5):
        assert client.post("/v1/sessions", json={"username": "sam", "pin": "0000"},
                           headers=auth).status_code == 401
    locked = client.post("/v1/sessions", json={"username": "sam", "pin": "1111"}, headers=auth)
    assert (locked.status_code, locked.json()["error"]) == (429, "too_many_attempts")
    assert locked.headers["Retry-After"] == "600"
    clock.advance(timedelta(minutes=10))
    assert client.post("/v1/sessions", json={"username": "sam", "pin": "1111"},
                       headers=auth).status_code == 201


def test_an_expired_or_signed_out_session_says_so(client: TestClient, terminal_token: str,
                                                  clock: FixedClock) -> None:
    def session_token() -> str:
        signed_in = client.post("/v1/sessions", json={"username": "sam", "pin": "1111"},
                                headers={"Authorization": f"Bearer {terminal_token}"})
        return str(signed_in.json()["token"])

    expiring, signed_out = session_token(), session_token()
    client.delete("/v1/sessions/current", headers={"Authorization": f"Bearer {signed_out}"})
    clock.advance(timedelta(hours=12))
    for token in (expiring, signed_out):
        answer = client.get("/v1/events", headers={"Authorization": f"Bearer {token}"})
        assert (answer.status_code, answer.json()["error"]) == (401, "unauthorized")
        assert answer.json()["message"] == identity.SESSION_EXPIRED
    unknown = client.get("/v1/events", headers={"Authorization": "Bearer nonsense"})
    assert unknown.json()["message"] != identity.SESSION_EXPIRED


def test_a_channel_token_is_stored_only_as_its_hash(database: Database) -> None:
    token_id, token = admin.add_channel_token(database.url, "online", "Web shop")
    with database.read() as session:
        row = session.get(ChannelToken, token_id)
    assert row is not None
    assert (row.channel, row.name, row.token_hash) == ("online", "Web shop", hash_token(token))
    assert len(token) >= 43
    with pytest.raises(ValueError, match="channel"):
        admin.add_channel_token(database.url, "box_office")


def test_a_channel_token_acts_as_its_channel(database: Database) -> None:
    with database.write() as session:
        token_id, token = channels.create_channel_token(session, "online", name="Web shop",
                                                        now=NOW)
    with database.read() as session:
        principal = identity.authenticate_bearer(session, token, now=NOW)
    assert (principal.kind, principal.channel, principal.channel_token_id) == (
        "channel", "online", token_id)
    assert (principal.username, principal.display_name, principal.role) == (
        "channel:Web shop", "Web shop", "channel")
    assert (principal.staff_id, principal.terminal_id, principal.session_id) == (None,) * 3
    assert principal.idempotency_scope == f"channel:{token_id}"
    assert not principal.has_role("cashier")


def test_a_channel_token_may_hold_and_sell_but_nothing_else(client: TestClient,
                                                            database: Database) -> None:
    with database.write() as session:
        token_id, token = channels.create_channel_token(session, "online", now=NOW)
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get("/v1/events", headers=auth).status_code == 200
    assert client.get("/v1/idempotency-keys/k", headers=auth).status_code == 404
    assert client.post("/v1/idempotency-keys/k/void", headers=auth).status_code == 200
    for method, path, body in [
            ("POST", "/v1/shifts", {"opening_float": 0}),
            ("POST", "/v1/ticket-types/1/capacity", {"delta": 1, "reason": "x"}),
            ("GET", "/v1/audit", None),
            ("DELETE", "/v1/sessions/current", None)]:
        answer = client.request(method, path, json=body,
                                headers={**auth, "Idempotency-Key": "k2"})
        assert (answer.status_code, answer.json()["error"]) == (403, "forbidden"), path
    with database.write() as session:
        channels.revoke_channel_token(session, token_id, now=NOW)
    assert client.get("/v1/events", headers=auth).status_code == 401
