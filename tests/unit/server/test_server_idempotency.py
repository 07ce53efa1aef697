"""Idempotency keys (``API.md``, Conventions) through :func:`idempotency.run_idempotent`,
against in-process SQLite (and PostgreSQL where the machine has it): one effect per key,
replays, reuse, in-progress, void, lookup, abandoned claims and retention."""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pos_app.server.db import Database
from pos_app.server.errors import ApiError
from pos_app.server.models import TicketType
from pos_app.server.services import idempotency
from pos_app.server.services.idempotency import Outcome
from pos_app.server.services.principal import Principal

NOW = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
PATH = "/v1/things"
GIG_TYPES = [{"name": "GA", "price": 2500, "capacity": 1000}]


@pytest.fixture
def database(seeded: Callable[..., Database]) -> Database:
    return seeded(now=NOW, ticket_types=GIG_TYPES)


@pytest.fixture
def any_database(dialect_url: str | None, seeded: Callable[..., Database]) -> Database:
    return seeded(now=NOW, ticket_types=GIG_TYPES, url=dialect_url)


def _principal(terminal_id: int = 1) -> Principal:
    return Principal(session_id=1, staff_id=1, username="sam", display_name="Sam",
                     role="cashier", terminal_id=terminal_id, terminal_name="till")


@dataclass
class Effect:
    """An effect with a visible result: sells ``quantity`` GA tickets (no guard needed);
    ``delay`` seconds of work inside the transaction force overlapping requests."""

    delay: float = 0.0
    calls: int = 0
    entered: threading.Event = field(default_factory=threading.Event)

    def __call__(self, session: Session) -> Outcome:
        self.calls += 1
        self.entered.set()
        if self.delay:
            time.sleep(self.delay)
        session.execute(update(TicketType).values(sold=TicketType.sold + 1))
        sold = session.scalars(select(TicketType.sold)).one()
        return Outcome(201, {"sold": sold, "call": self.calls})


def _run(db: Database, key: str, effect: Callable[[Session], Outcome], *,
         body: dict[str, Any] | None = None, now: datetime = NOW,
         principal: Principal | None = None) -> Outcome:
    return idempotency.run_idempotent(db, principal or _principal(), key, method="POST",
                                      path=PATH, body=body or {"quantity": 1}, effect=effect,
                                      now=now)


def _sold(db: Database) -> int:
    with db.read() as session:
        return session.scalars(select(TicketType.sold)).one()


def _refusal(call: Callable[[], object]) -> ApiError:
    with pytest.raises(ApiError) as refused:
        call()
    return refused.value


def test_the_same_key_a_hundred_times_in_a_row_has_one_effect_and_one_answer(
        any_database: Database) -> None:
    effect = Effect()
    outcomes = [_run(any_database, "k1", effect) for _ in range(100)]
    assert effect.calls == 1
    assert _sold(any_database) == 1
    assert outcomes[0] == Outcome(201, {"sold": 1, "call": 1})
    assert all(o.replayed and (o.status, o.body) == (201, outcomes[0].body)
               for o in outcomes[1:])
    assert outcomes[1].headers == {"Idempotent-Replayed": "true"}


def test_32_concurrent_requests_with_one_key_have_exactly_one_effect(
        any_database: Database) -> None:
    """16 requests start together; 16 more while the first one's effect is running."""
    effect = Effect(delay=0.5)
    start = threading.Barrier(16)

    def request(n: int) -> Outcome | ApiError:
        if n < 16:
            start.wait()
        else:
            assert effect.entered.wait(10)
        try:
            return _run(any_database, "storm", effect)
        except ApiError as exc:
            return exc

    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(request, range(32)))
    assert effect.calls == 1
    assert _sold(any_database) == 1
    firsts = [r for r in results if isinstance(r, Outcome) and not r.replayed]
    assert len(firsts) == 1
    for result in results:
        if isinstance(result, ApiError):
            assert (result.status, result.code) == (409, "request_in_progress")
            assert int(result.headers["Retry-After"]) >= 1
        else:
            assert (result.status, result.body) == (201, firsts[0].body)
    assert any(isinstance(r, ApiError) for r in results), "no request overlapped the first"


def test_a_reused_key_with_another_body_is_refused_and_changes_nothing(
        database: Database) -> None:
    effect = Effect()
    _run(database, "k", effect, body={"quantity": 1})
    refused = _refusal(lambda: _run(database, "k", effect, body={"quantity": 2}))
    assert (refused.status, refused.code) == (422, "idempotency_key_reused")
    assert (effect.calls, _sold(database)) == (1, 1)


def test_a_key_is_scoped_to_the_callers_terminal(database: Database) -> None:
    effect = Effect()
    _run(database, "k", effect, principal=_principal(1))
    other = _run(database, "k", effect, principal=_principal(2))
    assert not other.replayed
    assert effect.calls == 2
    assert idempotency.lookup_key(database, _principal(3), "k") is None


def test_a_request_while_the_first_still_runs_is_told_to_retry(database: Database) -> None:
    inside, release = threading.Event(), threading.Event()

    def slow(session: Session) -> Outcome:
        inside.set()
        release.wait(10)
        return Effect()(session)

    with ThreadPoolExecutor(1) as pool:
        first = pool.submit(_run, database, "k", slow)
        assert inside.wait(10)
        refused = _refusal(lambda: _run(database, "k", Effect()))
        assert (refused.status, refused.code) == (409, "request_in_progress")
        assert "Retry-After" in refused.headers
        state = idempotency.lookup_key(database, _principal(), "k")
        assert state == idempotency.KeyState("in_progress")
        void = _refusal(lambda: idempotency.void_key(database, _principal(), "k", now=NOW))
        assert void.code == "request_in_progress"
        release.set()
        assert first.result(10).status == 201
    assert _run(database, "k", Effect()).replayed


def test_a_refusal_that_is_not_stored_frees_the_key(database: Database) -> None:
    def invalid(_session: Session) -> Outcome:
        raise ApiError(idempotency.ErrorCode.INVALID_REQUEST, "bad line")

    def crash(session: Session) -> Outcome:
        Effect()(session)  # rolled back with the transaction
        raise RuntimeError("database went away")

    assert _refusal(lambda: _run(database, "k", invalid)).code == "invalid_request"
    with pytest.raises(RuntimeError):
        _run(database, "k", crash)
    assert idempotency.lookup_key(database, _principal(), "k") is None
    assert _sold(database) == 0
    assert not _run(database, "k", Effect()).replayed
    assert _sold(database) == 1


def test_a_business_refusal_is_stored_and_replayed(database: Database) -> None:
    calls = itertools.count(1)

    def refuse(_session: Session) -> Outcome:
        return Outcome(409, {"error": "insufficient_inventory", "n": next(calls)})

    first = _run(database, "k", refuse)
    again = _run(database, "k", refuse)
    assert (again.status, again.body, again.replayed) == (409, first.body, True)


def test_voiding_an_unseen_key_refuses_every_later_request_with_it(database: Database) -> None:
    state = idempotency.void_key(database, _principal(), "lost", now=NOW)
    assert state.as_json() == {"status": "voided", "response": None}
    effect = Effect()
    refused = _refusal(lambda: _run(database, "lost", effect))
    assert (refused.status, refused.code) == (409, "idempotency_key_voided")
    assert (effect.calls, _sold(database)) == (0, 0)
    assert idempotency.void_key(database, _principal(), "lost", now=NOW).status == "voided"
    assert idempotency.lookup_key(database, _principal(), "lost") == state


def test_voiding_a_completed_key_returns_it_unchanged(database: Database) -> None:
    first = _run(database, "done", Effect())
    state = idempotency.void_key(database, _principal(), "done", now=NOW)
    assert state.as_json() == {"status": "completed",
                               "response": {"status": 201, "body": first.body}}
    assert idempotency.lookup_key(database, _principal(), "done") == state
    assert _run(database, "done", Effect()).replayed


def test_looking_up_an_unknown_key_finds_nothing(database: Database) -> None:
    assert idempotency.lookup_key(database, _principal(), "never") is None


def test_a_request_that_fails_mid_effect_stores_nothing_so_a_retry_executes(
        database: Database) -> None:
    def crashing(session: Session) -> Outcome:
        Effect()(session)  # the effect's writes happen, then the request dies
        raise RuntimeError("server died mid-request")

    with pytest.raises(RuntimeError):
        _run(database, "crashed", crashing)
    assert idempotency.lookup_key(database, _principal(), "crashed") is None
    assert _sold(database) == 0  # rolled back with the transaction
    effect = Effect()
    assert not _run(database, "crashed", effect).replayed
    assert _run(database, "crashed", effect).replayed
    assert (effect.calls, _sold(database)) == (1, 1)


def test_keys_are_purged_after_their_retention(database: Database) -> None:
    _run(database, "old", Effect(), now=NOW)
    idempotency.void_key(database, _principal(), "old-void", now=NOW)
    _run(database, "new", Effect(), now=NOW + timedelta(hours=20))
    day = timedelta(hours=24)
    assert idempotency.purge_expired(database, now=NOW + day, ttl=day) == 0
    assert idempotency.purge_expired(database, now=NOW + day + timedelta(seconds=1),
                                     ttl=timedelta(hours=1)) == 2
    assert idempotency.lookup_key(database, _principal(), "old") is None
    assert idempotency.lookup_key(database, _principal(), "new") is not None
