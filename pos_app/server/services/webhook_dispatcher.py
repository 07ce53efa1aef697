"""Posting stock alerts to webhooks: durable, at least once, in order for each webhook.

The outbox is the ``stock_alerts`` table itself. Each active webhook keeps a cursor
(``webhooks.cursor_seq``, the newest alert it is done with); its next alert is the lowest
``seq`` above it. Alerts commit in ``seq`` order (every writer holds one lock, SQLite's
writer lock or PostgreSQL's audit chain lock, from before its alert's ``seq`` is drawn
until its commit), so an alert never appears behind a cursor that has passed it.

Every ``settings.webhook_interval`` (1 s) the dispatcher, a task of the server's event loop
(:func:`start_dispatcher`), reads the active webhooks that have an alert after their cursor
and are not backing off (one small read; none: nothing else happens), then posts each
webhook's alerts in worker threads, webhooks side by side (at most :data:`PARALLEL`), one
webhook's alerts one after another, up to :data:`BATCH_LIMIT` attempts a tick. Each
attempt's outcome is stored in one write transaction with its delivery log row:

* a 2xx answer: ``delivered``; the cursor moves on and the next alert goes at once;
* no answer (connection refused or reset, TLS failure, past ``webhook_timeout``), or 408,
  429 or 5xx: ``retrying``; the same alert is tried again after a backoff, and the
  webhook's later alerts wait behind it. The n-th retry waits ``webhook_retry_base *
  2**(n-1)`` (1 s, 2 s, 4 s ...) plus up to 25 % jitter, never more than
  ``webhook_retry_cap`` (5 min), then keeps retrying at the cap; a ``Retry-After`` of some
  seconds lengthens the wait up to the cap. Once the alert is ``webhook_retry_window``
  (24 h) old, a failed attempt is recorded ``failed`` instead and the cursor moves on: a
  day-old "10 left" is no longer worth holding the next alerts back for;
* any other status (1xx, 3xx: redirects are not followed, other 4xx): ``failed`` at once,
  no retry (the receiver refused it; sending it again would not change that); the cursor
  moves on.

The backoff is stored (``attempts``, ``next_attempt_at``), so it survives a restart. An
attempt whose answer came but whose record did not commit (the process died in between)
is sent again after the restart with the same ``X-POS-Delivery``: at least once, and never
more than the one alert in flight per webhook twice. Records update the webhook only if
its cursor and attempts are still those the attempt started from, so two dispatchers can
never move one cursor twice.

With several server processes on PostgreSQL (``--workers N``) only the process holding the
session-level advisory lock :data:`DISPATCH_LOCK` sends (:class:`Leadership`); when it
exits its connection closes, the lock is freed, and another process takes over within an
interval. SQLite runs one process.

Each attempt is one POST in a worker thread, off the request path
(:mod:`pos_app.server.services.webhook_http`). The webhook's secret is opened (it is
sealed under ``webhook.key``: :mod:`pos_app.server.sealing`) just before the attempt is
signed; a secret that does not open (the wrong key, an edited row) is logged once and that
webhook is not posted to, nothing recorded, until the server starts with the right key.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import anyio
import anyio.to_thread
from sqlalchemy import Connection, exists, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

import pos_app
from pos_app.domain.clock import Clock
from pos_app.server.db import Database
from pos_app.server.models import StockAlert, Webhook, WebhookDelivery
from pos_app.server.sealing import SealError
from pos_app.server.services import webhooks
from pos_app.server.services.webhook_http import (
    Outcome,
    Reply,
    RetryPolicy,
    Sender,
    classify,
    post,
)
from pos_app.server.settings import ServerSettings

__all__ = [
    "BATCH_LIMIT",
    "DISPATCH_LOCK",
    "PARALLEL",
    "Leadership",
    "RunningDispatcher",
    "WebhookDispatcher",
    "start_dispatcher",
    "stop_dispatcher",
]

log = logging.getLogger("pos_app.server.webhooks")

DISPATCH_LOCK = 0x706F_7302
"""PostgreSQL advisory lock key (bigint) held by the one sending process; next to the audit
chain's ``0x706F7301``."""

BATCH_LIMIT = 100
"""Most attempts for one webhook in one tick (a backlog drains at up to 100 a second)."""

PARALLEL = 4
"""Most webhooks posted to at the same time (worker threads of the dispatcher's own)."""


class Leadership:
    """Which process sends. SQLite: this one (one process). PostgreSQL: the one holding the
    session-level advisory lock :data:`DISPATCH_LOCK` on a connection of its own (kept out
    of the pool, autocommit); the lock lives as long as that connection. Not thread-safe:
    one dispatcher calls it from one thread at a time."""

    def __init__(self, database: Database) -> None:
        self._database = database
        self._connection: Connection | None = None

    @property
    def held(self) -> bool:
        """True while this process holds the lock (always on SQLite)."""
        return self._database.is_sqlite or self._connection is not None

    def hold(self) -> bool:
        """Keep or try to take the lock without waiting; True when this process may send.
        A held lock is checked to still be alive (its connection may have dropped)."""
        if self._database.is_sqlite:
            return True
        if self._connection is not None:
            try:
                self._connection.exec_driver_sql("SELECT 1")
                return True
            except DBAPIError:
                log.warning("webhook dispatcher lost its lock connection; taking it again")
                self._drop()
        connection = self._database.engine.connect().execution_options(
            isolation_level="AUTOCOMMIT")
        try:
            taken = connection.exec_driver_sql(
                f"SELECT pg_try_advisory_lock({DISPATCH_LOCK})").scalar()
        except BaseException:
            connection.invalidate()
            connection.close()
            raise
        if taken:
            self._connection = connection
            log.info("this process posts the webhooks (dispatcher lock taken)")
            return True
        connection.close()
        return False

    def release(self) -> None:
        """Give the lock up (another process takes over) and close its connection."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.exec_driver_sql(f"SELECT pg_advisory_unlock({DISPATCH_LOCK})")
        except DBAPIError:
            connection.invalidate()  # the lock died with the connection
        finally:
            connection.close()

    def _drop(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.invalidate()
            connection.close()


@dataclass(frozen=True)
class _Target:
    """A webhook due for an attempt, as read at the start of a tick."""

    id: int
    url: str
    sealed_secret: str
    created_at: datetime
    cursor_seq: int
    attempts: int


class WebhookDispatcher:
    """Posts stock alerts to the active webhooks (module docstring for the rules).

    Args:
        database: the server's database.
        clock: the server clock: timestamps, the delivery log, backoff and retry window.
        timeout: seconds a receiver may take to connect and for each read.
        policy: the retry schedule.
        rng: returns a float in [0, 1) for the jitter (inject a constant in tests).
        sender: posts one request (default :func:`post`, refusing non-public targets
            unless ``allow_private_targets``; tests may inject another).
        batch_limit: most attempts per webhook per :meth:`run_once`.
        parallel: most webhooks posted to at once.
        allow_private_targets: post to loopback and private addresses too
            (``--allow-private-webhooks``); otherwise such a target is logged
            ``failed`` with only "refused: private address".
    """

    def __init__(self, database: Database, *, clock: Clock, timeout: float = 5.0,
                 policy: RetryPolicy | None = None,
                 rng: Callable[[], float] = random.random, sender: Sender | None = None,
                 batch_limit: int = BATCH_LIMIT, parallel: int = PARALLEL,
                 allow_private_targets: bool = False) -> None:
        self._database = database
        self._clock = clock
        self._timeout = timeout
        self._policy = policy or RetryPolicy()
        self._rng = rng
        self._sender = sender or functools.partial(post, allow_private=allow_private_targets)
        self._batch_limit = batch_limit
        self._parallel = parallel
        self._stopping = threading.Event()
        self._unopened: set[int] = set()  # webhooks whose secret did not open (logged)
        self.leadership = Leadership(database)

    async def run_once(self) -> int:
        """One tick: post what is due to every webhook; returns the attempts made (0 when
        nothing was due or another process holds the dispatcher lock). A webhook whose
        turn failed unexpectedly is logged and tried again next tick."""
        # A limiter of its own (made in this loop): a slow receiver must not take the
        # threads that serve requests.
        threads = anyio.CapacityLimiter(self._parallel)
        due = await anyio.to_thread.run_sync(self._due, limiter=threads)
        if not due:
            return 0
        if not await anyio.to_thread.run_sync(self.leadership.hold, limiter=threads):
            return 0
        results = await asyncio.gather(
            *(anyio.to_thread.run_sync(self._deliver, target, limiter=threads)
              for target in due), return_exceptions=True)
        made = 0
        for target, result in zip(due, results, strict=True):
            if isinstance(result, BaseException):
                if isinstance(result, asyncio.CancelledError):
                    raise result
                log.error("posting to webhook %d failed", target.id, exc_info=result)
            else:
                made += result
        return made

    async def run(self, *, interval_seconds: float,
                  sleep: Callable[[float], Awaitable[None]] = asyncio.sleep) -> None:
        """:meth:`run_once` now and then every ``interval_seconds`` until cancelled (a
        failed tick is logged and the next one comes as usual)."""
        while not self._stopping.is_set():
            try:
                await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhook dispatch failed; trying again at the next interval")
            await sleep(interval_seconds)

    def stop_soon(self) -> None:
        """Ask running deliveries to stop after the attempt in progress (which is still
        recorded) and :meth:`run` to end."""
        self._stopping.set()

    def close(self) -> None:
        """Release the dispatcher lock (blocking: call from a worker thread in a loop)."""
        self.leadership.release()

    # --- worker threads ---------------------------------------------------------------------

    def _due(self) -> list[_Target]:
        now = self._clock.now()
        with self._database.read() as session:
            rows = session.execute(
                select(Webhook.id, Webhook.url, Webhook.secret, Webhook.created_at,
                       Webhook.cursor_seq, Webhook.attempts)
                .where(Webhook.active.is_(True), Webhook.secret.is_not(None),
                       or_(Webhook.next_attempt_at.is_(None), Webhook.next_attempt_at <= now),
                       exists().where(StockAlert.seq > Webhook.cursor_seq))
                .order_by(Webhook.id)).all()
        return [_Target(int(r[0]), str(r[1]), str(r[2]), r[3], int(r[4]), int(r[5]))
                for r in rows]

    def _deliver(self, target: _Target) -> int:
        """Post ``target``'s alerts in order until one must wait, none is left, the batch
        is full or a stop was asked for; returns the attempts made."""
        cursor, attempts, made = target.cursor_seq, target.attempts, 0
        while made < self._batch_limit and not self._stopping.is_set():
            with self._database.read() as session:
                alert = webhooks.next_alert(session, cursor)
            if alert is None:
                break
            secret = self._open_secret(target)
            if secret is None:
                break
            started = self._clock.now()
            headers = _headers(target, secret, alert, number=attempts + 1, started=started)
            reply = self._sender(target.url, alert.body, headers, self._timeout)
            attempt = _Attempt(target=target, cursor=cursor, attempts=attempts, alert=alert,
                               started=started, reply=reply)
            self._decide(attempt)
            made += 1
            if not self._database.run_write(attempt.record):
                break  # removed meanwhile, or another dispatcher moved the cursor
            if attempt.outcome == "retrying":
                log.info("webhook %d: alert %d attempt %d got %s; retrying at %s", target.id,
                         alert.seq, attempt.number, attempt.reply.status or attempt.reply.error,
                         attempt.next_at)
                break
            if attempt.outcome == "failed":
                log.warning("webhook %d: alert %d failed for good at attempt %d (%s)",
                            target.id, alert.seq, attempt.number,
                            attempt.reply.status or attempt.reply.error)
            cursor, attempts = alert.seq, 0
        return made

    def _open_secret(self, target: _Target) -> str | None:
        """``target``'s signing secret, opened with the database's webhook key; None (logged
        the first time) when it does not open."""
        try:
            return self._database.keys.webhooks.open(target.sealed_secret, str(target.id))
        except SealError as exc:
            if target.id not in self._unopened:
                self._unopened.add(target.id)
                log.error("webhook %d: its secret %s, so nothing is posted to it. Is "
                          "webhook.key (DATA_DIR/secrets) the one this database was sealed "
                          "with? Otherwise add the webhook again", target.id, exc)
            return None

    def _decide(self, attempt: _Attempt) -> None:
        outcome = classify(attempt.reply)
        now = self._clock.now()
        if outcome == "retrying":
            if now - attempt.alert.at >= self._policy.window:
                outcome = "failed"
            else:
                attempt.next_at = now + self._policy.delay(
                    attempt.number, rng=self._rng, retry_after=attempt.reply.retry_after)
        attempt.outcome = outcome


def _headers(target: _Target, secret: str, alert: webhooks.PendingAlert, *, number: int,
             started: datetime) -> dict[str, str]:
    """The request headers of attempt ``number`` of ``alert`` to ``target``, signed with
    its opened ``secret`` at ``started`` (the scheme:
    :mod:`pos_app.server.services.webhooks`)."""
    timestamp = int(started.timestamp())
    return {
        "Content-Type": "application/json",
        "User-Agent": f"pos-app-webhooks/{pos_app.__version__}",
        "X-POS-Event": webhooks.EVENT_STOCK_ALERT,
        "X-POS-Delivery": webhooks.delivery_id(target.id, target.created_at, alert.seq),
        "X-POS-Delivery-Attempt": str(number),
        "X-POS-Timestamp": str(timestamp),
        "X-POS-Signature": webhooks.sign(secret, timestamp, alert.body),
    }


@dataclass
class _Attempt:
    """One POST of one alert to one webhook: the state it started from, the answer, and
    (set by the dispatcher) its outcome and, when retrying, the time of the next try."""

    target: _Target
    cursor: int
    attempts: int
    alert: webhooks.PendingAlert
    started: datetime
    reply: Reply
    outcome: Outcome = "retrying"
    next_at: datetime | None = None

    @property
    def number(self) -> int:
        """1 for the first attempt of this alert to this webhook."""
        return self.attempts + 1

    @property
    def delivery_id(self) -> str:
        return webhooks.delivery_id(self.target.id, self.target.created_at, self.alert.seq)

    def record(self, session: Session) -> bool:
        """Log this attempt and move the webhook on (or back it off), if its cursor and
        attempts are still those this attempt started from; True when they were.
        Retry-safe (:meth:`pos_app.server.db.Database.run_write`)."""
        session.add(WebhookDelivery(
            webhook_id=self.target.id, alert_seq=self.alert.seq, delivery_id=self.delivery_id,
            attempt=self.number, at=self.started, status_code=self.reply.status,
            error=self.reply.error, duration_ms=self.reply.duration_ms, outcome=self.outcome))
        if self.outcome == "retrying":
            values: dict[str, object] = {"attempts": self.number,
                                         "next_attempt_at": self.next_at}
        else:
            values = {"cursor_seq": self.alert.seq, "attempts": 0, "next_attempt_at": None}
        moved = session.execute(
            update(Webhook)
            .where(Webhook.id == self.target.id, Webhook.active.is_(True),
                   Webhook.cursor_seq == self.cursor, Webhook.attempts == self.attempts)
            .values(**values).returning(Webhook.id)
            .execution_options(synchronize_session=False)).first()
        return moved is not None


@dataclass(frozen=True)
class RunningDispatcher:
    """A dispatcher and the event-loop task running it (:func:`start_dispatcher`)."""

    dispatcher: WebhookDispatcher
    task: asyncio.Task[None]


def start_dispatcher(database: Database, settings: ServerSettings) -> RunningDispatcher | None:
    """Start a :class:`WebhookDispatcher` on the running event loop (the app's lifespan),
    every ``settings.webhook_interval``, with the settings' clock, timeout and retry
    schedule; None when the interval is not positive (webhooks switched off)."""
    interval = settings.webhook_interval.total_seconds()
    if interval <= 0:
        return None
    dispatcher = WebhookDispatcher(
        database, clock=settings.clock, timeout=settings.webhook_timeout.total_seconds(),
        policy=RetryPolicy(base=settings.webhook_retry_base, cap=settings.webhook_retry_cap,
                           window=settings.webhook_retry_window),
        allow_private_targets=settings.allow_private_webhooks)
    task = asyncio.get_running_loop().create_task(
        dispatcher.run(interval_seconds=interval), name="pos-webhook-dispatcher")
    return RunningDispatcher(dispatcher, task)


async def stop_dispatcher(running: RunningDispatcher | None) -> None:
    """Stop the dispatcher of :func:`start_dispatcher`: attempts in progress finish and are
    recorded, then the dispatcher lock is released for another process."""
    if running is None:
        return
    running.dispatcher.stop_soon()
    running.task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await running.task
    await anyio.to_thread.run_sync(running.dispatcher.close)
