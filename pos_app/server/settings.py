"""The server's configuration as one typed object."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from pos_app.domain.clock import Clock, SystemClock
from pos_app.files import private_dir

__all__ = ["SESSION_SLIDE_STEP", "SQLITE_FILENAME", "ServerSettings", "database_url_for"]

SQLITE_FILENAME = "pos.sqlite3"

SESSION_SLIDE_STEP = timedelta(minutes=1)
"""A session's idle deadline is written again only when it would move by at least this
much: at most one database write per session per minute, however busy the till."""


def database_url_for(database: str) -> str:
    """SQLAlchemy URL for ``database``: an absolute folder path (SQLite file
    ``DIR/pos.sqlite3``, the folder made owner-only: :func:`pos_app.files.private_dir`) or
    already a SQLAlchemy URL.

    Raises:
        ValueError: a relative folder path.
    """
    if "://" in database:
        return database
    folder = Path(database)
    if not folder.is_absolute():
        raise ValueError(f"the data folder must be an absolute path, not {database!r}")
    private_dir(folder)  # PIN hashes, secrets, customers: owner-only, also when it existed
    return f"sqlite:///{folder / SQLITE_FILENAME}"


@dataclass(frozen=True)
class ServerSettings:
    """Everything the app needs to run.

    Attributes:
        database_url: SQLAlchemy URL (``sqlite:///...`` or ``postgresql+psycopg://...``).
        session_ttl: longest lifetime of a staff session token (12 hours), however much it
            is used.
        session_idle_timeout: a staff session unused this long (30 minutes) is refused
            like an expired one; each authenticated request slides it, writing the new
            deadline at most once a minute per session (:data:`SESSION_SLIDE_STEP`,
            :mod:`pos_app.server.services.session_idle`).
        pairing_code_ttl: lifetime of a terminal pairing code (10 minutes).
        idempotency_ttl: how long idempotency keys are kept at least (24 hours).
        clock: the source of "now" for every expiry decision (inject a FixedClock in tests).
        sqlite_busy_timeout_ms: how long SQLite waits for another process's write lock.
        checkout_hold_ttl: default and longest life of a ``checkout`` hold (15 minutes).
        cash_hold_ttl: default and longest life of a ``cash`` hold (4 hours).
        sweeper_interval: how often lapsed holds are marked ``expired`` (30 s); correctness
            never waits for it.
        login_max_failures / login_window: PIN throttling per terminal (sign-ins and
            managers' approvals alike, :mod:`pos_app.server.services.pin_attempts`): after
            5 failed PINs for one username from one terminal within 10 minutes, that terminal
            gets 429 ``too_many_attempts`` for that username until the oldest leaves the
            window; other terminals are not refused.
        login_address_max_failures: the same per client address, whatever the username
            (20 failures in ``login_window``).
        pin_free_failures / pin_delay_base / pin_delay_cap / pin_delay_window: the
            venue-wide delay per username, which never refuses: with ``f`` failed PINs for a
            username within ``pin_delay_window`` (1 hour), the next PIN for it is evaluated no
            sooner than ``pin_delay_base * 2 ** (f - pin_free_failures)`` (at most
            ``pin_delay_cap``) after the previous one; none while ``f < pin_free_failures``.
            Defaults 2, 1 minute, 6 minutes: about 10 evaluated guesses per username per hour
            across the venue (13 in an attack's first hour).
        pin_alert_failures / pin_alert_window: a ``security_alert`` audit entry when one
            username's failed PINs reach 5 within 15 minutes, venue-wide (the delay spaces
            them: the 5th failure comes about 7 minutes after the first).
        sleep: how the server waits out the venue-wide delay (``asyncio.sleep``; tests give
            one that moves their clock).
        currency: the venue's ISO 4217 currency, for shift floats and cash-up.
        variance_threshold: a cash-up variance beyond this (minor units, either way) needs a
            manager's PIN and a note.
        db_retry_attempts: how often a PostgreSQL serialization failure or deadlock is
            retried before answering 409 ``request_in_progress``.
        sse_keepalive: interval of the comment line that keeps an SSE stream open (15 s).
        auth_cache_ttl: how long a bearer token, once authenticated, is trusted without a
            database lookup (1 s; zero looks every request up). Sign-out in this process
            takes effect at once, a revocation elsewhere within this time
            (:mod:`pos_app.server.services.principal_cache`).
        write_batch_limit: most writes committed together by the group-commit writer
            (:class:`pos_app.server.db.Database`); 1 commits each on its own.
        webhook_interval: how often the webhook dispatcher looks for stock alerts to post
            (1 s; zero switches it off). With no active webhook a look is one small read.
        webhook_timeout: how long a webhook receiver may take to connect and to answer each
            read (5 s); past it the attempt counts as a timeout and is retried.
        webhook_retry_base / webhook_retry_cap: the first retry waits ``webhook_retry_base``
            (1 s), each next one twice as long, never more than ``webhook_retry_cap``
            (5 minutes), plus up to 25 % jitter within the cap.
        webhook_retry_window: an alert is retried until it is this old (24 hours, counted
            from the crossing), then recorded ``failed`` and the webhook moves on
            (:mod:`pos_app.server.services.webhook_dispatcher`).
        allow_private_webhooks: post to webhooks whose host is or resolves to a loopback,
            private, link-local, multicast, unspecified or reserved address (False: such an
            attempt is refused and logged only as "refused: private address";
            ``pos-app serve --allow-private-webhooks``).
        docs: serve the interactive ``/docs`` and ``/redoc`` and the live ``/openapi.json``
            (``pos-app serve --docs``, on with ``--demo``); off, they answer 404.
        anchor_interval: how often the audit chain's head is anchored in the data folder's
            secrets when it moved (1 minute; also at every shift close:
            :mod:`pos_app.server.services.anchoring`).
        max_streams_per_credential: most live-inventory streams (``GET
            /v1/inventory/stream``) one credential (a staff session's token, a channel
            token) may hold open at once in this process (4); the next is refused 429
            ``too_many_streams`` until one of them ends
            (:mod:`pos_app.server.services.live_streams`).
        max_streams: most live-inventory streams this server process holds open at once
            (500; each is also one of the process's connections,
            :data:`pos_app.server.http_limits.MAX_CONNECTIONS`); the next is refused 503
            ``server_busy``.
        stream_check_interval: how often the open streams' credentials are checked again
            (0.5 s, one query for all of them, none while no stream is open): a stream ends
            within about this long of its session signing out (in any process), expiring or
            its channel token being revoked.
    """

    database_url: str
    session_ttl: timedelta = timedelta(hours=12)
    pairing_code_ttl: timedelta = timedelta(minutes=10)
    idempotency_ttl: timedelta = timedelta(hours=24)
    clock: Clock = field(default_factory=SystemClock)
    sqlite_busy_timeout_ms: int = 15_000
    checkout_hold_ttl: timedelta = timedelta(minutes=15)
    cash_hold_ttl: timedelta = timedelta(hours=4)
    sweeper_interval: timedelta = timedelta(seconds=30)
    login_max_failures: int = 5
    login_window: timedelta = timedelta(minutes=10)
    login_address_max_failures: int = 20
    pin_free_failures: int = 2
    pin_delay_base: timedelta = timedelta(minutes=1)
    pin_delay_cap: timedelta = timedelta(minutes=6)
    pin_delay_window: timedelta = timedelta(hours=1)
    pin_alert_failures: int = 5
    pin_alert_window: timedelta = timedelta(minutes=15)
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    currency: str = "USD"
    variance_threshold: int = 500
    db_retry_attempts: int = 5
    sse_keepalive: timedelta = timedelta(seconds=15)
    auth_cache_ttl: timedelta = timedelta(seconds=1)
    write_batch_limit: int = 64
    webhook_interval: timedelta = timedelta(seconds=1)
    webhook_timeout: timedelta = timedelta(seconds=5)
    webhook_retry_base: timedelta = timedelta(seconds=1)
    webhook_retry_cap: timedelta = timedelta(minutes=5)
    webhook_retry_window: timedelta = timedelta(hours=24)
    allow_private_webhooks: bool = False
    docs: bool = False
    session_idle_timeout: timedelta = timedelta(minutes=30)
    anchor_interval: timedelta = timedelta(minutes=1)
    max_streams_per_credential: int = 4
    max_streams: int = 500
    stream_check_interval: timedelta = timedelta(milliseconds=500)
