"""Stock alerts posted to webhooks (issue 6), against a real HTTP receiver on a loopback
port: signed bodies a receiver can verify, retries with backoff on an injected clock, no
retry after a 4xx, order per webhook, the delivery log, and a restarted dispatcher that
resumes from its cursor. The crossings come from real capacity changes."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from pos_app.api import schemas
from pos_app.domain.clock import FixedClock
from pos_app.server.db import Database
from pos_app.server.errors import ApiError
from pos_app.server.models import TicketType, Webhook, WebhookDelivery
from pos_app.server.services import capacity, webhooks
from pos_app.server.services.principal import Principal
from pos_app.server.services.webhook_dispatcher import WebhookDispatcher
from pos_app.server.services.webhook_http import Reply, RetryPolicy, post
from tests.support.live_server import free_port
from tests.support.webhook_receiver import Answer, Received, WebhookReceiver, webhook_receiver

NOW = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
MANAGER = Principal(session_id=2, staff_id=2, username="mia", display_name="Mia",
                    role="manager", terminal_id=1, terminal_name="till")
GA = {"name": "GA", "price": 2500, "capacity": 10, "public_limit": 10,
      "thresholds": {"low": 4, "critical": 2}, "alert_ladder": [8, 6, 4, 2, 0]}


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as started:
        yield started


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def database(seeded: Callable[..., Database]) -> Database:
    return seeded(now=NOW, ticket_types=[GA])


@pytest.fixture
def any_database(seeded: Callable[..., Database], dialect_url: str | None) -> Database:
    """The same catalog on SQLite and on PostgreSQL."""
    return seeded(now=NOW, ticket_types=[GA], url=dialect_url)


def _ga(database: Database) -> TicketType:
    with database.read() as session:
        return session.scalars(select(TicketType).where(TicketType.name == "GA")).one()


def _cross(database: Database, times: int = 1) -> None:
    """Cut GA's capacity by 2, ``times`` times: each cut crosses the next rung down."""
    ga = _ga(database)
    for _ in range(times):
        done = capacity.change_capacity(
            database, MANAGER, ga.id, schemas.CapacityChange(delta=-2, reason="fire marshal"),
            key=f"cut-{datetime.now().timestamp()}-{id(object())}",
            path=f"/v1/ticket-types/{ga.id}/capacity", now=NOW)
        assert done.status == 200, done.body


def _add(database: Database, url: str) -> schemas.WebhookCreated:
    with database.write() as session:
        # The receivers of these tests listen on 127.0.0.1: a private target, allowed here.
        return webhooks.create_webhook(session, url, now=NOW, allow_private=True)


def _dispatcher(database: Database, clock: FixedClock, **options: Any) -> WebhookDispatcher:
    return WebhookDispatcher(database, clock=clock, timeout=options.pop("timeout", 2.0),
                             rng=lambda: 0.0, allow_private_targets=True, **options)


def _tick(dispatcher: WebhookDispatcher) -> int:
    return asyncio.run(dispatcher.run_once())


def _log(database: Database, webhook_id: int) -> list[tuple[int, int, int | None, str]]:
    """``(alert_seq, attempt, status_code, outcome)`` of each attempt, oldest first."""
    with database.read() as session:
        rows = session.scalars(select(WebhookDelivery)
                               .where(WebhookDelivery.webhook_id == webhook_id)
                               .order_by(WebhookDelivery.id))
        return [(d.alert_seq, d.attempt, d.status_code, d.outcome) for d in rows]


def _webhook(database: Database, webhook_id: int) -> Webhook:
    with database.read() as session:
        row = session.get(Webhook, webhook_id)
        assert row is not None
        return row


def _verify_as_a_receiver(secret: str, request: Received) -> None:
    """What a venue's receiver does with the documented scheme, without our code."""
    timestamp = request.headers["x-pos-timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + request.body,
                        hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["x-pos-signature"], f"sha256={expected}")


def _seqs(receiver: WebhookReceiver) -> list[int]:
    return [int(r.json()["seq"]) for r in receiver.requests()]


def test_a_crossing_is_posted_signed_with_the_fields_a_venue_needs(
        any_database: Database, receiver: WebhookReceiver, clock: FixedClock) -> None:
    _cross(any_database)  # raised before the webhook existed: never sent to it
    hook = _add(any_database, receiver.url)
    _cross(any_database)

    assert _tick(_dispatcher(any_database, clock)) == 1

    [request] = receiver.requests()
    _verify_as_a_receiver(hook.secret, request)
    assert request.path == "/hooks/stock"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["x-pos-event"] == "stock_alert"
    assert request.headers["x-pos-timestamp"] == str(int(NOW.timestamp()))
    assert request.headers["x-pos-delivery-attempt"] == "1"
    ga = _ga(any_database)
    body = request.json()
    assert body == {
        "type": "stock_alert", "seq": hook.last_seq + 1, "at": "2026-03-01T18:00:00Z",
        "event": {"id": "gig", "name": "Gig", "venue": "Hall",
                  "starts_at": "2026-03-15T00:30:00Z"},  # 19:30 daylight time in Chicago
        "ticket_type": {"id": ga.id, "name": "GA"},
        "level": 6, "available": 6, "capacity": 6, "sold": 0, "held": 0,
        "text": "Gig, GA: 6 of 6 left (alert level 6)"}
    assert _log(any_database, hook.id) == [(hook.last_seq + 1, 1, 200, "delivered")]
    with any_database.read() as session:
        logged = session.scalars(select(WebhookDelivery)).one()
    assert logged.delivery_id == request.headers["x-pos-delivery"]
    assert _webhook(any_database, hook.id).cursor_seq == hook.last_seq + 1
    assert _tick(_dispatcher(any_database, clock)) == 0  # nothing left


def test_the_signature_helper_refuses_tampering_and_stale_timestamps() -> None:
    body = b'{"type":"stock_alert"}'
    signature = webhooks.sign("whsec_k", 1_772_388_000, body)
    check = dict(timestamp="1772388000", signature=signature, now=1_772_388_000 + 299)
    assert webhooks.verify_signature("whsec_k", body, **check)  # type: ignore[arg-type]
    assert not webhooks.verify_signature("whsec_k", body + b" ", **check)  # type: ignore[arg-type]
    assert not webhooks.verify_signature("whsec_x", body, **check)  # type: ignore[arg-type]
    assert not webhooks.verify_signature("whsec_k", body, timestamp="1772388000",
                                         signature=signature, now=1_772_388_000 + 301)
    assert not webhooks.verify_signature("whsec_k", body, timestamp=None,
                                         signature=signature, now=1_772_388_000)


def test_a_500_is_retried_with_backoff_and_later_alerts_wait_behind_it(
        database: Database, receiver: WebhookReceiver, clock: FixedClock) -> None:
    hook = _add(database, receiver.url)
    _cross(database, times=2)
    first, second = hook.last_seq + 1, hook.last_seq + 2
    receiver.script([500, Answer(503)])
    dispatcher = _dispatcher(database, clock)

    assert _tick(dispatcher) == 1  # 500: the second alert is not sent past the first
    state = _webhook(database, hook.id)
    assert (state.cursor_seq, state.attempts, state.next_attempt_at) == (
        hook.last_seq, 1, NOW + timedelta(seconds=1))
    assert _tick(dispatcher) == 0  # backing off
    clock.advance(timedelta(seconds=1))
    assert _tick(dispatcher) == 1  # 503, now twice as long
    assert _webhook(database, hook.id).next_attempt_at == clock.now() + timedelta(seconds=2)
    clock.advance(timedelta(seconds=1))
    assert _tick(dispatcher) == 0
    clock.advance(timedelta(seconds=1))
    assert _tick(dispatcher) == 2  # delivered, then the next alert at once

    assert _seqs(receiver) == [first, first, first, second]
    requests = receiver.requests()
    assert len({r.headers["x-pos-delivery"] for r in requests[:3]}) == 1
    assert [r.headers["x-pos-delivery-attempt"] for r in requests] == ["1", "2", "3", "1"]
    for request in requests:
        _verify_as_a_receiver(hook.secret, request)
    assert _log(database, hook.id) == [(first, 1, 500, "retrying"), (first, 2, 503, "retrying"),
                                       (first, 3, 200, "delivered"),
                                       (second, 1, 200, "delivered")]
    state = _webhook(database, hook.id)
    assert (state.cursor_seq, state.attempts, state.next_attempt_at) == (second, 0, None)


def test_backoff_doubles_with_jitter_to_the_cap_and_honours_retry_after() -> None:
    policy = RetryPolicy(base=timedelta(seconds=1), cap=timedelta(minutes=5))
    none, most = (lambda: 0.0), (lambda: 0.999)
    assert [policy.delay(n, rng=none).total_seconds() for n in range(1, 11)] == [
        1, 2, 4, 8, 16, 32, 64, 128, 256, 300]
    assert policy.delay(50, rng=none) == timedelta(minutes=5)  # and stays at the cap
    assert 2.49 < policy.delay(2, rng=most).total_seconds() < 2.5  # at most 25 % more
    assert policy.delay(9, rng=most) == timedelta(minutes=5)  # jitter never passes the cap
    assert policy.delay(1, rng=none, retry_after=30) == timedelta(seconds=30)
    assert policy.delay(1, rng=none, retry_after=3600) == timedelta(minutes=5)


def test_a_4xx_fails_at_once_and_the_next_alert_goes(
        database: Database, receiver: WebhookReceiver, clock: FixedClock) -> None:
    hook = _add(database, receiver.url)
    _cross(database, times=2)
    receiver.script([410])

    assert _tick(_dispatcher(database, clock)) == 2

    first, second = hook.last_seq + 1, hook.last_seq + 2
    assert _seqs(receiver) == [first, second]
    assert _log(database, hook.id) == [(first, 1, 410, "failed"), (second, 1, 200, "delivered")]
    clock.advance(timedelta(hours=1))
    assert _tick(_dispatcher(database, clock)) == 0  # never sent again


def test_429_timeouts_and_refused_connections_are_retried(
        database: Database, receiver: WebhookReceiver, clock: FixedClock) -> None:
    hook = _add(database, receiver.url)
    refused = _add(database, f"http://127.0.0.1:{free_port()}/nobody-listens")
    _cross(database)
    receiver.script([Answer(429, retry_after="7"), Answer(200, delay=0.6)])
    dispatcher = _dispatcher(database, clock, timeout=0.3)

    assert _tick(dispatcher) == 2  # one attempt to each webhook
    assert _webhook(database, hook.id).next_attempt_at == NOW + timedelta(seconds=7)
    with database.read() as session:
        [refusal] = session.scalars(select(WebhookDelivery)
                                    .where(WebhookDelivery.webhook_id == refused.id))
    assert (refusal.status_code, refusal.outcome) == (None, "retrying")
    assert refusal.error is not None and "Connection" in refusal.error

    clock.advance(timedelta(seconds=7))
    assert _tick(dispatcher) == 2  # the receiver answers too late this time
    with database.read() as session:
        timed_out = session.scalars(select(WebhookDelivery)
                                    .where(WebhookDelivery.webhook_id == hook.id)
                                    .order_by(WebhookDelivery.id.desc())).first()
    assert timed_out is not None
    assert (timed_out.attempt, timed_out.status_code, timed_out.outcome) == (2, None, "retrying")
    assert timed_out.error == "no answer within 0.3 s"
    assert timed_out.duration_ms >= 300
    assert len(receiver.requests()) == 2


def test_an_alert_past_the_retry_window_is_given_up_and_the_next_one_goes(
        database: Database, receiver: WebhookReceiver, clock: FixedClock) -> None:
    hook = _add(database, receiver.url)
    _cross(database)
    receiver.script([500, 500])
    dispatcher = _dispatcher(database, clock, policy=RetryPolicy(window=timedelta(hours=1)))
    assert _tick(dispatcher) == 1
    clock.advance(timedelta(hours=1))
    _cross(database)
    assert _tick(dispatcher) == 2  # the stale one fails for good; the fresh one is delivered
    first = hook.last_seq + 1
    assert _log(database, hook.id) == [(first, 1, 500, "retrying"), (first, 2, 500, "failed"),
                                       (first + 1, 1, 200, "delivered")]


def test_a_restarted_dispatcher_resumes_from_its_cursor_and_resends_only_what_was_in_flight(
        any_database: Database, receiver: WebhookReceiver, clock: FixedClock) -> None:
    hook = _add(any_database, receiver.url)
    _cross(any_database, times=3)
    base = hook.last_seq

    def send_then_die(url: str, body: bytes, headers: Any, timeout: float) -> Reply:
        reply = post(url, body, headers, timeout, allow_private=True)
        if json.loads(body)["seq"] == base + 2:
            raise RuntimeError("power cut after the receiver answered")
        return reply

    dying = _dispatcher(any_database, clock, sender=send_then_die)
    _tick(dying)
    assert _seqs(receiver) == [base + 1, base + 2]  # the second went out, unrecorded
    assert _log(any_database, hook.id) == [(base + 1, 1, 200, "delivered")]
    dying.close()  # the process is gone: on PostgreSQL its dispatcher lock goes with it
    _cross(any_database)

    restarted = Database(any_database.url)  # a new process: nothing kept in memory
    try:
        assert _tick(_dispatcher(restarted, clock)) == 3
    finally:
        restarted.dispose()

    requests = receiver.requests()
    assert _seqs(receiver) == [base + 1, base + 2, base + 2, base + 3, base + 4]
    assert requests[1].headers["x-pos-delivery"] == requests[2].headers["x-pos-delivery"]
    assert [(seq, outcome) for seq, _, _, outcome in _log(any_database, hook.id)] == [
        (base + n, "delivered") for n in (1, 2, 3, 4)]
    assert _webhook(any_database, hook.id).cursor_seq == base + 4


def test_each_webhook_gets_every_alert_in_order_whatever_the_others_do(
        database: Database, clock: FixedClock) -> None:
    with webhook_receiver() as healthy, webhook_receiver() as flaky:
        good, bad = _add(database, healthy.url), _add(database, flaky.url)
        _cross(database, times=3)
        flaky.script([500, 500])
        dispatcher = _dispatcher(database, clock)
        for _ in range(4):
            _tick(dispatcher)
            clock.advance(timedelta(seconds=2))
        expected = [good.last_seq + n for n in (1, 2, 3)]
        assert _seqs(healthy) == expected
        assert _seqs(flaky) == [expected[0]] * 3 + expected[1:]
        assert _webhook(database, bad.id).cursor_seq == expected[-1]


def test_a_removed_webhook_gets_nothing_more_and_keeps_its_log(
        database: Database, receiver: WebhookReceiver, clock: FixedClock) -> None:
    hook = _add(database, receiver.url)
    _cross(database)
    _tick(_dispatcher(database, clock))
    with database.write() as session:
        removed = webhooks.remove_webhook(session, hook.id, now=NOW)
        again = webhooks.remove_webhook(session, hook.id, now=NOW + timedelta(hours=1))
    assert (removed.active, removed.removed_at, removed.pending) == (False, NOW, 0)
    assert again.removed_at == NOW  # removing twice changes nothing
    assert _webhook(database, hook.id).secret is None
    _cross(database)
    assert _tick(_dispatcher(database, clock)) == 0
    assert len(receiver.requests()) == 1
    assert len(_log(database, hook.id)) == 1
    with database.write() as session, pytest.raises(ApiError) as unknown:
        webhooks.remove_webhook(session, 999, now=NOW)
    assert (unknown.value.status, unknown.value.code) == (404, "not_found")


@pytest.mark.parametrize("url", [
    "https://hooks.example.com/pos", "https://hooks.example.com:8443/a?venue=1",
    "http://127.0.0.1:9000/hook", "http://localhost/hook", "http://[::1]:8080/x",
])
def test_https_urls_and_loopback_http_urls_are_accepted(url: str) -> None:
    # loopback receivers only with --allow-private-webhooks (tests/security)
    assert webhooks.validate_url(f"  {url} ", allow_private=True) == url


@pytest.mark.parametrize(("url", "why"), [
    ("http://hooks.example.com/pos", "https"),
    ("http://10.0.0.5/hook", "https"),
    ("ftp://example.com/x", "https://"),
    ("https://", "no host"),
    ("https://user:pw@example.com/", "password"),
    ("https://example.com:99999/", "port"),
    ("https://example.com/#frag", "fragment"),
    ("https://exa mple.com/", "spaces"),
    ("https://bücher.example/", "ASCII"),
    ("https://example.com/" + "a" * 2000, "2000"),
    ("", "1 to"),
])
def test_other_urls_are_refused_with_a_reason(url: str, why: str) -> None:
    with pytest.raises(ApiError) as refused:
        webhooks.validate_url(url)
    assert refused.value.code == "invalid_request"
    assert why in refused.value.message


@pytest.mark.parametrize(("url", "shown"), [
    ("https://hooks.slack.com/services/T0/B0/XYZ", "https://hooks.slack.com/..."),
    ("https://example.com:8443/?token=abc", "https://example.com:8443/..."),
    ("https://example.com/", "https://example.com/"),
    ("http://[::1]:8080", "http://[::1]:8080/"),
])
def test_managers_see_urls_without_the_path_that_may_be_a_credential(url: str,
                                                                     shown: str) -> None:
    assert webhooks.redacted_url(url) == shown


def test_a_new_secret_is_long_random_and_only_returned_at_creation(
        database: Database, receiver: WebhookReceiver) -> None:
    one, two = _add(database, receiver.url), _add(database, receiver.url)
    assert one.secret != two.secret
    assert one.secret.startswith("whsec_") and len(one.secret) >= 49
    with database.read() as session:
        listed = webhooks.list_webhooks(session)
    assert one.secret not in listed.model_dump_json()
