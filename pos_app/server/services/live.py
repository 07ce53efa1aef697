"""Live inventory: publish committed changes to SSE subscribers (``DESIGN.md``, "Live
inventory"; ``shared/API.md``, ``GET /v1/inventory`` and ``/v1/inventory/stream``).

How a change travels::

    write transaction (any thread)                       process-wide
      changes.record -> bump_counters (version v)
                     -> changed_ticket_types(session) |= ids
      before_commit: UPDATE ticket_types SET changed_version = v WHERE id IN ids
                     PostgreSQL: pg_notify('pos_inventory', 'v')   (delivered only on commit)
      COMMIT
      after_commit:  Database.publisher(v, ids) --> Broadcaster.notify_committed
                                                       (a rollback publishes nothing)
    PostgresListener thread (one LISTEN connection per process)
      NOTIFY 'v' from any process -------------------> Broadcaster.notify_committed
    Broadcaster publisher thread
      reads every ticket type with changed_version > last published version (fresh rows,
      lapsed holds not counted as held) -> loop.call_soon_threadsafe(fan out)
    event loop: one asyncio.Queue per SSE subscriber

Why reading "changed since the last published version" is exact: on SQLite writers are
serial; on PostgreSQL versions are taken under the audit chain's advisory lock
(:func:`pos_app.server.audit.lock_chain`, held to commit), so they are handed out in commit
order and a reader that sees version ``v`` also sees every version below ``v``. Several
notifications therefore coalesce into one read, duplicates cost nothing, and a missed
notification is caught up by the next one or by the periodic check every ``poll_interval``
(which also picks up changes made by another process on SQLite, e.g. an admin import).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from types import FrameType
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from pos_app.api import schemas
from pos_app.server import sql
from pos_app.server.models import Event, TicketType
from pos_app.server.services.changes import changed_ticket_types
from pos_app.server.services.inventory import (
    bump_counters,
    bumped_version,
    inventory_version,
    lapsed_held,
    ticket_type_out,
)
from pos_app.server.services.live_streams import StreamRegistry
from pos_app.server.tx_state import state

if TYPE_CHECKING:
    from pos_app.server.db import Database
    from pos_app.server.settings import ServerSettings

__all__ = ["NOTIFY_CHANNEL", "Broadcaster", "InventoryChanges", "InventoryEvent",
           "LiveInventory", "PostgresListener", "Subscription", "install_session_hooks",
           "load_changes"]

log = logging.getLogger("pos_app.server.live")

NOTIFY_CHANNEL = "pos_inventory"
"""PostgreSQL ``LISTEN``/``NOTIFY`` channel; the payload is the committed inventory version."""
_NOTIFY = sql.Statement("SELECT 1", postgresql=f"SELECT pg_notify('{NOTIFY_CHANNEL}', :payload)")


class InventoryChanges(schemas.Response):
    """``GET /v1/inventory?since=`` and the data of each SSE ``inventory`` event: the
    ``inventory_version`` these counts are as of, and every ticket type changed since."""

    inventory_version: int
    ticket_types: list[schemas.TicketType]


# --- in the write transaction ----------------------------------------------------------------

def install_session_hooks(factory: sessionmaker[Session],
                          publish: Callable[[int, Collection[int]], None]) -> None:
    """Register the live-inventory hooks on a write session factory: stamp and ``NOTIFY``
    before commit, ``publish(version, ids)`` after commit. Given to
    :class:`~pos_app.server.db.Database` as one of its ``write_hooks`` by whoever opens a
    database to serve or administer it (:func:`pos_app.server.app.create_app`, the runner,
    :func:`pos_app.server.admin.open_database`). What they read is the transaction's state
    (:mod:`pos_app.server.tx_state`): a rolled-back savepoint or transaction leaves nothing
    to stamp or publish there."""

    def after_commit(session: Session) -> None:
        if session.in_nested_transaction():
            return
        committed = state(session).committing
        if committed is not None:
            publish(*committed)

    event.listen(factory, "after_flush", _note_new_ticket_types)
    event.listen(factory, "before_commit", _stamp)
    event.listen(factory, "after_commit", after_commit)


def _note_new_ticket_types(session: Session, _context: Any) -> None:
    """A ticket type created in this transaction (catalog import) is a change too."""
    new_ids = [obj.id for obj in session.new if isinstance(obj, TicketType) and obj.id]
    if new_ids:
        changed_ticket_types(session).update(new_ids)


def _stamp(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.flush()
    ids = changed_ticket_types(session)
    if not ids:
        return
    version = bumped_version(session)
    if version is None:  # changed counts without changes.record: still a new version
        version = bump_counters(session)
    placeholders, params = sql.in_list("id", sorted(ids))
    # Deferred (results unused): on PostgreSQL both go with COMMIT's round trip's queue.
    sql.defer(session, sql.Statement(
        f"UPDATE ticket_types SET changed_version = :version WHERE id IN ({placeholders})"),
        {"version": version, **params})
    if sql.dialect(session) == "postgresql":
        sql.defer(session, _NOTIFY, {"payload": str(version)})
    state(session).committing = (version, frozenset(ids))


# --- reading changes ---------------------------------------------------------------------------

def load_changes(session: Session, since: int, *, now: datetime,
                 everything_when_ahead: bool = True) -> InventoryChanges:
    """Every ticket type whose last committed change is newer than inventory version
    ``since`` (by id), with counts as of now (``now``: the server clock; holds lapsed by then
    are not held), and the inventory version they are as of.

    A ``since`` above the current version comes from another history (a restored database):
    then every ticket type is returned, unless ``everything_when_ahead=False``.
    """
    version = inventory_version(session)
    if since == version or (since > version and not everything_when_ahead):
        return InventoryChanges(inventory_version=version, ticket_types=[])
    query = (select(TicketType, Event.currency).join(Event, Event.id == TicketType.event_id)
             .order_by(TicketType.id))
    if since < version:
        query = query.where(TicketType.changed_version > since)
    rows = session.execute(query).all()
    lapsed = lapsed_held(session, [tt.id for tt, _ in rows], now=now)
    # Rows read after the version may be newer still (PostgreSQL, READ COMMITTED): versions
    # commit in order, so every version up to the newest row seen is complete here.
    version = max([version, *(tt.changed_version for tt, _ in rows)])
    return InventoryChanges(inventory_version=version, ticket_types=[
        ticket_type_out(tt, currency, lapsed=lapsed.get(tt.id, 0)) for tt, currency in rows])


# --- fan-out -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class InventoryEvent:
    """One published change: ``data`` is the JSON of :class:`InventoryChanges`."""

    inventory_version: int
    data: str

    def encode(self) -> bytes:
        """The SSE message: ``id:`` the version, ``event: inventory``, one ``data:`` line."""
        return (f"id: {self.inventory_version}\nevent: inventory\n"
                f"data: {self.data}\n\n").encode()

    @classmethod
    def of(cls, changes: InventoryChanges) -> InventoryEvent:
        return cls(changes.inventory_version, changes.model_dump_json())


class Subscription:
    """One subscriber's queue of :class:`InventoryEvent` (None: the stream must end, because
    the server stops, the subscriber fell too far behind (it resumes with Last-Event-ID) or
    its credential is no longer good)."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[InventoryEvent | None] = asyncio.Queue()


class Broadcaster:
    """The process's fan-out of committed inventory changes to its SSE subscribers.

    :meth:`notify_committed` may be called from any thread; a publisher thread reads the
    changed ticket types and hands each event to the event loop with
    ``loop.call_soon_threadsafe``. :meth:`subscribe`/:meth:`unsubscribe` run on the loop.

    Args:
        database: where to read changes.
        clock: the server clock (lapsed holds are not held).
        poll_interval: seconds between checks for changes nobody announced.
        queue_limit: events a subscriber may fall behind before its stream is ended.
    """

    def __init__(self, database: Database, *, clock: Callable[[], datetime],
                 poll_interval: float = 2.0, queue_limit: int = 1000) -> None:
        self._database = database
        self._clock = clock
        self._poll_interval = poll_interval
        self._queue_limit = queue_limit
        self._cond = threading.Condition()
        self._wanted = 0
        self._last = 0
        self._force = False
        self._stopping = False
        self._subscribers: set[Subscription] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._has_baseline = False

    @property
    def last_version(self) -> int:
        """The newest inventory version published (or current at start)."""
        return self._last

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Read the current version and start the publisher thread; events go to ``loop``."""
        self._loop = loop
        self._baseline()
        self._thread = threading.Thread(target=self._run, name="pos-live-publisher",
                                        daemon=True)
        self._thread.start()

    def _baseline(self) -> bool:
        """Start from the current version; False (try again later) when the database cannot
        be read yet (e.g. not migrated)."""
        try:
            with self._database.read() as session:
                version = inventory_version(session)
        except Exception as exc:
            log.warning("live inventory cannot read the inventory version yet (%s)", exc)
            self._has_baseline = False
            return False
        with self._cond:
            self._last = self._wanted = max(self._last, version)
        self._has_baseline = True
        return True

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the publisher thread (blocking, up to ``timeout`` seconds)."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def notify_committed(self, version: int, ticket_type_ids: Collection[int] = ()) -> None:
        """Inventory ``version`` committed (``ticket_type_ids`` changed); any thread, returns
        at once. Versions already published are ignored."""
        with self._cond:
            if version > self._wanted:
                self._wanted = version
                self._cond.notify_all()

    def request_catch_up(self) -> None:
        """Look for unpublished changes now (e.g. after the LISTEN connection reconnected)."""
        with self._cond:
            self._force = True
            self._cond.notify_all()

    def subscribe(self) -> Subscription:
        """A new subscriber: receives every event published from now on (loop thread)."""
        subscription = Subscription()
        self._subscribers.add(subscription)
        return subscription

    def unsubscribe(self, subscription: Subscription) -> None:
        """Forget ``subscription`` (loop thread); harmless when already gone."""
        self._subscribers.discard(subscription)

    def end(self, subscription: Subscription) -> None:
        """End ``subscription``'s stream (loop thread): it is forgotten, its queued events
        are discarded and its stream ends after what it is sending (e.g. its credential was
        revoked, :mod:`pos_app.server.services.live_streams`)."""
        self._drop(subscription)

    def close_streams(self) -> None:
        """End every subscriber's stream (loop thread), e.g. when the server stops."""
        for subscription in list(self._subscribers):
            self._drop(subscription)

    def close_streams_threadsafe(self) -> None:
        """:meth:`close_streams` from any thread (or a signal handler)."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self.close_streams)

    def _drop(self, subscription: Subscription) -> None:
        self._subscribers.discard(subscription)
        while not subscription.queue.empty():
            subscription.queue.get_nowait()
        subscription.queue.put_nowait(None)

    def _fan_out(self, item: InventoryEvent) -> None:
        for subscription in list(self._subscribers):
            if subscription.queue.qsize() >= self._queue_limit:
                log.warning("an inventory subscriber fell %d events behind; ending its stream",
                            self._queue_limit)
                self._drop(subscription)
            else:
                subscription.queue.put_nowait(item)

    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stopping or self._force
                                    or self._wanted > self._last, timeout=self._poll_interval)
                if self._stopping:
                    return
                target, self._force = self._wanted, False
            try:
                self._catch_up(target)
            except Exception:
                log.exception("reading inventory changes failed; retrying")
                with self._cond:
                    self._cond.wait_for(lambda: self._stopping, timeout=1.0)

    def _catch_up(self, target: int) -> None:
        if not self._has_baseline and not self._baseline():
            return
        if not self._subscribers:
            # Nobody to tell: skip reading the rows. A subscriber that connects later starts
            # from now, or resumes from the database with Last-Event-ID.
            with self._cond:
                self._last = max(self._last, target)
                if self._wanted <= target:
                    self._wanted = self._last
            return
        with self._database.read() as session:
            changes = load_changes(session, self._last, now=self._clock(),
                                   everything_when_ahead=False)
        if changes.ticket_types and changes.inventory_version > self._last:
            item = InventoryEvent.of(changes)
            loop = self._loop
            if loop is not None and not loop.is_closed():
                with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                    loop.call_soon_threadsafe(self._fan_out, item)
        with self._cond:
            self._last = max(self._last, changes.inventory_version)
            if self._wanted <= target:  # nothing announced meanwhile: nothing more to find
                self._wanted = self._last


# --- several processes: PostgreSQL LISTEN ------------------------------------------------------

class PostgresListener:
    """One ``LISTEN pos_inventory`` connection (psycopg 3, autocommit) in a thread: every
    notification's version goes to ``on_version``; after each (re)connect ``on_connected``
    runs, so changes made while not listening are caught up. Reconnects with backoff."""

    def __init__(self, url: str, *, on_version: Callable[[int], None],
                 on_connected: Callable[[], None]) -> None:
        self._conninfo = make_url(url).set(drivername="postgresql").render_as_string(
            hide_password=False)
        self._on_version = on_version
        self._on_connected = on_connected
        self._stop = threading.Event()
        self.listening = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="pos-live-listener", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop listening (blocking, at most about ``timeout`` seconds)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        import psycopg

        backoff = 0.2
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True, connect_timeout=5,
                                     keepalives=1, keepalives_idle=10, keepalives_interval=5,
                                     keepalives_count=3) as conn:
                    conn.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    self.listening.set()
                    self._on_connected()
                    backoff = 0.2
                    while not self._stop.is_set():
                        for notify in conn.notifies(timeout=0.5):
                            self._deliver(notify.payload)
            except psycopg.Error as exc:
                self.listening.clear()
                if self._stop.is_set():
                    return
                log.warning("LISTEN %s failed (%s); reconnecting in %.1f s", NOTIFY_CHANNEL,
                            exc, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 5.0)
        self.listening.clear()

    def _deliver(self, payload: str) -> None:
        try:
            self._on_version(int(payload))
        except ValueError:
            self._on_connected()  # not a version: look for changes anyway


# --- the app's live inventory ------------------------------------------------------------------

class LiveInventory:
    """What the app's lifespan starts and stops: the :class:`Broadcaster` (as
    ``database.publisher``), the :class:`~pos_app.server.services.live_streams.StreamRegistry`
    admitting the streams and ending those whose credential went bad, on PostgreSQL a
    :class:`PostgresListener`, and, when running in the main thread under uvicorn, a hook on
    SIGINT/SIGTERM that ends the SSE streams at once so a graceful shutdown is not held up by
    them (uvicorn waits for open responses)."""

    def __init__(self, database: Database, settings: ServerSettings, *,
                 poll_interval: float = 2.0) -> None:
        self.database = database
        self.settings = settings
        self.broadcaster = Broadcaster(database, clock=settings.clock.now,
                                       poll_interval=poll_interval)
        self.streams = StreamRegistry(self.broadcaster, database, settings)
        self.listener: PostgresListener | None = None
        self._saved_handlers: dict[int, Any] = {}

    def start(self) -> None:
        """Start on the running event loop (call from the lifespan)."""
        self.broadcaster.start(asyncio.get_running_loop())
        self.streams.start()
        self.database.publisher = self.broadcaster.notify_committed
        if self.database.dialect == "postgresql":
            self.listener = PostgresListener(
                self.database.url, on_version=self.broadcaster.notify_committed,
                on_connected=self.broadcaster.request_catch_up)
            self.listener.start()
        self._chain_exit_signals()

    async def stop(self) -> None:
        """End the streams, stop the checker, the listener and the publisher thread."""
        self._restore_signals()
        if self.database.publisher == self.broadcaster.notify_committed:
            self.database.publisher = None
        self.broadcaster.close_streams()
        await self.streams.stop()
        listener, self.listener = self.listener, None
        await asyncio.to_thread(self._stop_threads, listener)

    def _stop_threads(self, listener: PostgresListener | None) -> None:
        if listener is not None:
            listener.stop()
        self.broadcaster.stop()

    def _chain_exit_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous = signal.getsignal(sig)
            if not callable(previous):
                continue

            def handler(signum: int, frame: FrameType | None,
                        previous: Callable[[int, FrameType | None], Any] = previous) -> None:
                self.broadcaster.close_streams_threadsafe()
                previous(signum, frame)

            signal.signal(sig, handler)
            self._saved_handlers[sig] = previous

    def _restore_signals(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig, previous in self._saved_handlers.items():
            signal.signal(sig, previous)
        self._saved_handlers.clear()
