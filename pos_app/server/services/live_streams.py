"""Who may hold a live-inventory stream open, and for how long (issue 16; ``docs/api.md``,
Inventory and Conventions, Limits).

``GET /v1/inventory/stream`` stays open for hours; without limits one credential could open
streams until the server has no connection left for the tills, and a stream kept receiving
after its session signed out. :class:`StreamRegistry` holds every open stream of this
process with the credential that opened it:

* **Admission** (:meth:`StreamRegistry.open`, on the event loop): at most
  ``settings.max_streams_per_credential`` (4) streams per credential, a staff session (its
  token) or a channel token, else 429 ``too_many_streams``; at most ``settings.max_streams``
  (500) in this process, else 503 ``server_busy``; both with ``Retry-After``
  (:data:`RETRY_AFTER_SECONDS`). A stream's slot is free again the moment it ends. Counts
  are this process's: with ``serve --workers N`` a credential may hold 4 streams on each
  (counting across processes would need shared state that outlives a crashed process).
* **Revocation**: one checker task per process, every ``settings.stream_check_interval``
  (0.5 s) while any stream is open (it sleeps on an event while none is), reads in a worker
  thread, with one query, which of the open streams' distinct credentials are still good
  (:func:`live_credentials`) and ends the streams of the others as the broadcaster ends a
  subscriber that fell behind (``None`` in its queue: the response ends). A sign-out in any
  process sharing the database, an expiry on the server clock (idle deadline or the session's
  12 hours) or a revoked channel token therefore ends the streams within about one interval
  and one query; a sign-out in this process ends its streams at once
  (:meth:`StreamRegistry.end_threadsafe`, called by the sign-out route).

The checker only reads: an open stream is not use of a staff session and never moves its idle
deadline (only requests do, :func:`pos_app.server.deps.seller_principal`), so a till left
alone with its inventory stream open still signs out after ``session_idle_timeout``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING, Literal

import anyio.to_thread
from sqlalchemy import Select, String, literal_column, select, union_all
from sqlalchemy.orm import Session

from pos_app.api.errors import ErrorCode
from pos_app.server.errors import ApiError
from pos_app.server.models import ChannelToken, Staff, StaffSession, Terminal
from pos_app.server.services.principal import Principal

if TYPE_CHECKING:
    from pos_app.server.db import Database
    from pos_app.server.services.live import Broadcaster, Subscription
    from pos_app.server.settings import ServerSettings

__all__ = ["RETRY_AFTER_SECONDS", "Credential", "StreamRegistry", "live_credentials"]

log = logging.getLogger("pos_app.server.live")

RETRY_AFTER_SECONDS = 5
"""``Retry-After`` of a refused stream (429 or 503): a slot frees only when a stream ends,
which the server cannot foresee; a client retries no sooner than this."""


@dataclass(frozen=True)
class Credential:
    """What a stream is counted against and checked by: a staff session (``kind="session"``,
    ``id`` the session's id, i.e. one session token) or a channel token (``kind="channel"``,
    ``id`` the token's id)."""

    kind: Literal["session", "channel"]
    id: int

    @classmethod
    def of(cls, principal: Principal) -> Credential:
        """The credential ``principal`` authenticated with.

        Raises:
            ValueError: a principal with neither a session nor a channel token (none is
                made by authentication).
        """
        if principal.kind == "channel" and principal.channel_token_id is not None:
            return cls("channel", principal.channel_token_id)
        if principal.kind == "staff" and principal.session_id is not None:
            return cls("session", principal.session_id)
        raise ValueError("a principal without a session or channel token")


def live_credentials(session: Session, credentials: Collection[Credential], *,
                     now: datetime) -> set[Credential]:
    """Those of ``credentials`` still good at ``now`` (the server clock), read in one query:
    a staff session not signed out, its ``expires_at`` (the idle deadline, never past its
    ``session_ttl``) after ``now``, its staff member active and its terminal still paired, as
    :func:`pos_app.server.services.identity.authenticate_bearer` requires; a channel token
    not revoked. Unknown ids are not good."""
    session_ids = sorted({c.id for c in credentials if c.kind == "session"})
    channel_ids = sorted({c.id for c in credentials if c.kind == "channel"})
    parts: list[Select[str, int]] = []
    if session_ids:
        parts.append(
            select(literal_column("'session'", String), StaffSession.id)
            .join(Staff, Staff.id == StaffSession.staff_id)
            .join(Terminal, Terminal.id == StaffSession.terminal_id)
            .where(StaffSession.id.in_(session_ids), StaffSession.revoked_at.is_(None),
                   StaffSession.expires_at > now, Staff.active.is_(True),
                   Terminal.token_hash.is_not(None)))
    if channel_ids:
        parts.append(
            select(literal_column("'channel'", String), ChannelToken.id)
            .where(ChannelToken.id.in_(channel_ids), ChannelToken.revoked_at.is_(None)))
    if not parts:
        return set()
    query = parts[0] if len(parts) == 1 else union_all(*parts)
    good: set[Credential] = set()
    for kind, credential_id in session.execute(query):
        good.add(Credential("session" if kind == "session" else "channel", int(credential_id)))
    return good


class StreamRegistry:
    """This process's open live-inventory streams, each with its :class:`Credential`.

    :meth:`open`, :meth:`close`, :meth:`end` and :meth:`check` run on the event loop;
    :meth:`end_threadsafe` from any thread. :meth:`start` / :meth:`stop` run the checker
    (with :class:`pos_app.server.services.live.LiveInventory`).

    Args:
        broadcaster: whose subscriptions the streams are.
        database: where credentials are checked.
        settings: ``max_streams_per_credential``, ``max_streams``, ``stream_check_interval``
            and the server ``clock``.
    """

    def __init__(self, broadcaster: Broadcaster, database: Database,
                 settings: ServerSettings) -> None:
        self._broadcaster = broadcaster
        self._database = database
        self._settings = settings
        self._open: dict[Subscription, Credential] = {}
        self._by_credential: dict[Credential, set[Subscription]] = {}
        self._streams_open = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self._failing = False

    @property
    def open_count(self) -> int:
        """Streams open in this process."""
        return len(self._open)

    def open_for(self, credential: Credential) -> int:
        """Streams open in this process with ``credential``."""
        return len(self._by_credential.get(credential, ()))

    # --- admission -------------------------------------------------------------------------

    def open(self, principal: Principal) -> Subscription:
        """Admit a stream for ``principal``: its subscription to the broadcaster, counted
        against its credential until :meth:`close` (or :meth:`end`).

        Raises:
            ApiError: 429 ``too_many_streams`` when the credential has
                ``max_streams_per_credential`` streams open already; 503 ``server_busy``
                when this process has ``max_streams`` open. Both with ``Retry-After:``
                :data:`RETRY_AFTER_SECONDS` and ``retry_after`` and ``limit`` in the body.
        """
        credential = Credential.of(principal)
        per_credential = self._settings.max_streams_per_credential
        if self.open_for(credential) >= per_credential:
            raise _refused(ErrorCode.TOO_MANY_STREAMS, per_credential,
                           f"These credentials have {per_credential} live inventory streams "
                           "open already, the most allowed; close one first.")
        most = self._settings.max_streams
        if len(self._open) >= most:
            log.warning("refused a live inventory stream: %d are open, the most allowed", most)
            raise _refused(ErrorCode.SERVER_BUSY, most,
                           "The server has as many live inventory streams open as it serves; "
                           "try again later, or poll GET /v1/inventory?since= meanwhile.")
        subscription = self._broadcaster.subscribe()
        self._open[subscription] = credential
        self._by_credential.setdefault(credential, set()).add(subscription)
        self._streams_open.set()
        return subscription

    def close(self, subscription: Subscription) -> None:
        """The stream of ``subscription`` ended: free its slot at once. Harmless when already
        closed or ended."""
        self._broadcaster.unsubscribe(subscription)
        credential = self._open.pop(subscription, None)
        if credential is None:
            return
        mine = self._by_credential.get(credential)
        if mine is not None:
            mine.discard(subscription)
            if not mine:
                del self._by_credential[credential]

    # --- revocation --------------------------------------------------------------------------

    def end(self, credential: Credential) -> int:
        """End every open stream of ``credential`` (its response ends after what it is
        sending) and free their slots; returns how many."""
        ended = list(self._by_credential.get(credential, ()))
        for subscription in ended:
            self.close(subscription)
            self._broadcaster.end(subscription)
        return len(ended)

    def end_threadsafe(self, credential: Credential) -> None:
        """:meth:`end` from any thread (e.g. a sign-out route run in the thread pool); does
        nothing when the checker is not running."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self.end, credential)

    async def check(self) -> int:
        """Check the credentials of every open stream now (one query, in a worker thread)
        and end the streams of those no longer good; returns how many streams ended."""
        credentials = frozenset(self._by_credential)
        if not credentials:
            return 0
        now = self._settings.clock.now()
        good = await anyio.to_thread.run_sync(partial(self._read, credentials, now))
        return sum(self.end(credential) for credential in credentials - good)

    def _read(self, credentials: frozenset[Credential], now: datetime) -> set[Credential]:
        with self._database.read() as session:
            return live_credentials(session, credentials, now=now)

    # --- the checker -----------------------------------------------------------------------

    def start(self) -> None:
        """Start the checker on the running event loop."""
        self._loop = asyncio.get_running_loop()
        self._task = self._loop.create_task(self._run(), name="pos-live-stream-checker")

    async def stop(self) -> None:
        """Stop the checker (a check in progress is abandoned; its thread finishes alone)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._loop = None

    async def _run(self) -> None:
        interval = max(self._settings.stream_check_interval.total_seconds(), 0.01)
        while True:
            if not self._open:
                self._streams_open.clear()
                await self._streams_open.wait()  # nothing to check: no query, no wake-up
            await asyncio.sleep(interval)
            try:
                await self.check()
            except Exception as exc:  # the database is away: keep the streams, try again
                if not self._failing:
                    log.warning("checking the live inventory streams' credentials failed "
                                "(%s); retrying every %.1f s", exc, interval)
                self._failing = True
            else:
                if self._failing:
                    log.info("checking the live inventory streams' credentials works again")
                self._failing = False


def _refused(code: ErrorCode, limit: int, message: str) -> ApiError:
    return ApiError(code, message, headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                    retry_after=RETRY_AFTER_SECONDS, limit=limit)
