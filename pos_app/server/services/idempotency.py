"""Idempotency keys (``API.md``, Conventions): claim a key, run the effect once, replay it.

Use :func:`run_idempotent` for every ``POST`` that changes inventory, money, shifts or
capacity::

    def effect(session: Session) -> SaleOutcome:          # anything with .status and .body
        ...                                                # the effect, in ONE transaction
        return SaleOutcome(201, sale_json)                 # stored and replayed
        # raise ApiError(INVALID_REQUEST, ...)             # NOT stored; the key is freed

    result = idempotency.run_idempotent(
        db, principal, key, method="POST", path="/v1/sales",
        body=body.model_dump(mode="json"), effect=effect, now=settings.clock.now())
    return JSONResponse(result.body, status_code=result.status, headers=result.headers)

How a request runs (ONE write transaction: the key and the effect commit together):

1. Look the key up (a read, no writer lock). Same request already answered: :class:`Outcome`
   with ``replayed=True`` (send ``Idempotent-Replayed: true``, i.e. ``result.headers``).
   Another body: 422 ``idempotency_key_reused``. Voided: 409 ``idempotency_key_voided``.
2. Mark the key in flight. In this process: a registry of running keys (SQLite servers are
   one process; ``--workers`` needs PostgreSQL). On PostgreSQL also, inside the transaction,
   ``pg_try_advisory_xact_lock`` on a 64-bit hash of scope and key, which every server
   process sees. A second request with the key while the first runs gets 409
   ``request_in_progress`` with ``Retry-After`` at once and never executes.
3. In the write transaction: read the key again (it may have completed meanwhile), run
   ``effect`` and insert the key ``completed`` with the response; commit.
4. ``effect`` raised (an :class:`ApiError` such as 422 ``invalid_request``, or any 5xx or
   unexpected error): the transaction rolls back, nothing is stored, and a retry with the
   same key can execute.

Nothing is left behind by a crash: an uncommitted transaction stores nothing, the registry
dies with the process and PostgreSQL releases transaction-scoped advisory locks itself. So
"in progress" is never a stored state, only a live one.

A key is scoped to the caller (:attr:`Principal.idempotency_scope`: ``terminal:7`` or
``channel:3``). The request hash is SHA-256 over ``METHOD + " " + path + "\\n" +`` canonical
JSON of the validated body (sorted keys, no spaces). Completed and voided keys are deleted by
:func:`purge_expired` once older than ``ServerSettings.idempotency_ttl`` (>= 24 hours).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import re
import threading
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, NamedTuple, Protocol

import anyio.to_thread
from sqlalchemy import delete
from sqlalchemy.orm import Session

from pos_app.api.errors import ErrorCode
from pos_app.server import sql
from pos_app.server.db import Database
from pos_app.server.errors import ApiError
from pos_app.server.group_commit import RunsInTurn, SendsGuardsAhead, Unit
from pos_app.server.models import IdempotencyKey
from pos_app.server.services.principal import Principal
from pos_app.server.settings import ServerSettings

__all__ = [
    "MIN_RETENTION",
    "PURGE_INTERVAL",
    "REPLAY_HEADER",
    "EffectAhead",
    "GuardedEffect",
    "KeyState",
    "Outcome",
    "Response",
    "check_key",
    "lookup_key",
    "purge_expired",
    "request_hash",
    "run_idempotent",
    "run_idempotent_async",
    "run_purger",
    "start_purger",
    "stop_purger",
    "void_key",
]

log = logging.getLogger(__name__)

PURGE_INTERVAL = timedelta(hours=1)
"""How often the server deletes keys past their retention (:func:`start_purger`)."""

MIN_RETENTION = timedelta(hours=24)
"""Keys are kept at least this long (``API.md``), whatever the configured TTL."""

REPLAY_HEADER = "Idempotent-Replayed"

_KEY = re.compile(r"^[\x20-\x7e]{1,255}$")


class Response(Protocol):
    """What an effect returns: the HTTP ``status`` and JSON ``body`` to store and send."""

    @property
    def status(self) -> int: ...

    @property
    def body(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class Outcome:
    """What to answer: ``status`` and JSON ``body``; ``replayed`` when it came from the key."""

    status: int
    body: dict[str, Any]
    replayed: bool = False

    @property
    def headers(self) -> dict[str, str]:
        """``{"Idempotent-Replayed": "true"}`` for a replay, else empty."""
        return {REPLAY_HEADER: "true"} if self.replayed else {}


@dataclass(frozen=True)
class KeyState:
    """A key as ``GET /v1/idempotency-keys/{key}`` shows it; ``response`` only when
    ``completed``."""

    status: Literal["completed", "in_progress", "voided"]
    response: Outcome | None = field(default=None)

    def as_json(self) -> dict[str, Any]:
        """``{status, response: {status, body} | null}``."""
        response = (None if self.response is None
                    else {"status": self.response.status, "body": self.response.body})
        return {"status": self.status, "response": response}


def check_key(key: str | None) -> str:
    """The ``Idempotency-Key`` header value, validated (1-255 printable ASCII characters).

    Raises:
        ApiError: 422 ``invalid_request`` when missing or malformed.
    """
    if key is None:
        raise ApiError(ErrorCode.INVALID_REQUEST,
                       "This request needs an Idempotency-Key header.")
    if not _KEY.match(key):
        raise ApiError(ErrorCode.INVALID_REQUEST,
                       "The Idempotency-Key header must be 1 to 255 printable ASCII characters.")
    return key


def request_hash(method: str, path: str, body: Any) -> str:
    """SHA-256 hex identifying a request: method, path and the canonical JSON of ``body``."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{method.upper()} {path}\n{canonical}".encode()).hexdigest()


def _in_progress() -> ApiError:
    return ApiError(ErrorCode.REQUEST_IN_PROGRESS,
                    "The first request with this Idempotency-Key is still running; "
                    "look the key up or try again shortly.",
                    headers={"Retry-After": "1"})


class _StoredKey(NamedTuple):
    """A key's stored row, as much of it as answering needs."""

    status: str
    request_hash: str
    response_status: int | None
    response_body: dict[str, Any] | None


_FIND = sql.Statement(
    "SELECT status, request_hash, response_status, response_body FROM idempotency_keys "
    "WHERE scope = :scope AND \"key\" = :key")
_INSERT = sql.Statement(
    "INSERT INTO idempotency_keys (scope, \"key\", method, path, request_hash, status, "
    "response_status, response_body, created_at, completed_at) VALUES (:scope, :key, "
    ":method, :path, :request_hash, :status, :response_status, :response_body, :at, :at)")


def _find(session: Session, scope: str, key: str) -> _StoredKey | None:
    """The stored key ``key`` of ``scope``, or None (a raw statement: every request with a
    key reads it twice)."""
    row = sql.execute(session, _FIND, {"scope": scope, "key": key}).fetchone()
    if row is None:
        return None
    return _StoredKey(str(row[0]), str(row[1]), row[2], sql.from_db_json(row[3]))


def _store(session: Session, *, scope: str, key: str, method: str, path: str,
           request_hash: str, status: str, response: Outcome | None, now: datetime) -> None:
    # Deferred (sent with the next statement, at the latest before COMMIT): under the key's
    # lock nobody else can have stored it, so its failure would be a bug.
    sql.defer(session, _INSERT, {
        "scope": scope, "key": key, "method": method, "path": path,
        "request_hash": request_hash, "status": status,
        "response_status": response.status if response is not None else None,
        "response_body": sql.db_json(session, response.body) if response is not None else None,
        "at": sql.db_time(session, now)})


def _answer(row: _StoredKey, digest: str) -> Outcome:
    """The answer a request with ``digest`` gets from the stored ``row``."""
    if row.status == "voided":
        raise ApiError(ErrorCode.IDEMPOTENCY_KEY_VOIDED,
                       "This request was voided and will never be executed.")
    if row.request_hash != digest:
        raise ApiError(ErrorCode.IDEMPOTENCY_KEY_REUSED,
                       "This Idempotency-Key was already used for a different request.")
    return Outcome(status=int(row.response_status or 0), body=dict(row.response_body or {}),
                   replayed=True)


class _InFlight:
    """Keys whose first request is running in this process: ``(scope, key)`` pairs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running: set[tuple[str, str]] = set()

    def enter(self, scope: str, key: str) -> bool:
        with self._lock:
            if (scope, key) in self._running:
                return False
            self._running.add((scope, key))
            return True

    def leave(self, scope: str, key: str) -> None:
        with self._lock:
            self._running.discard((scope, key))

    def running(self, scope: str, key: str) -> bool:
        with self._lock:
            return (scope, key) in self._running


_IN_FLIGHT: weakref.WeakKeyDictionary[Database, _InFlight] = weakref.WeakKeyDictionary()
_IN_FLIGHT_LOCK = threading.Lock()


def _in_flight(db: Database) -> _InFlight:
    with _IN_FLIGHT_LOCK:
        registry = _IN_FLIGHT.get(db)
        if registry is None:
            registry = _IN_FLIGHT[db] = _InFlight()
        return registry


_TRY_KEY_LOCK = sql.Statement(
    "SELECT 1", postgresql="SELECT pg_try_advisory_xact_lock(hashtextextended(:k, 0))")


def _lock_key_everywhere(session: Session, scope: str, key: str) -> bool:
    """On PostgreSQL, try to take the key's transaction-scoped advisory lock (seen by every
    server process; released at commit or rollback, also by a crash). True on SQLite, whose
    server is one process (the in-process registry decides there)."""
    if sql.dialect(session) != "postgresql":
        return True
    return bool(sql.execute(session, _TRY_KEY_LOCK, _lock_params(scope, key)).fetchone()[0])


def _lock_params(scope: str, key: str) -> dict[str, str]:
    return {"k": f"{scope}\n{key}"}


class EffectAhead(ABC):
    """An effect (``effect(session) -> Response``) that sends its first reads ahead of
    itself (:func:`pos_app.server.sql.read_ahead`), so that on PostgreSQL they travel in the
    key's round trip, or, in a group-commit batch, in the batch's first one. Its unit runs
    in turn in a batch (:class:`~pos_app.server.group_commit.RunsInTurn`): nothing of a
    later unit goes ahead of it."""

    @abstractmethod
    def read_ahead(self, session: Session) -> None:
        """Queue the effect's first reads in ``session``'s transaction (reads only, of what
        no unit of a batch changes)."""

    @abstractmethod
    def __call__(self, session: Session) -> Response:
        """The effect itself (see :func:`run_idempotent`)."""


class GuardedEffect(EffectAhead):
    """An :class:`EffectAhead` whose count changes are guards it can also send ahead in a
    group-commit batch (a sale of lines): its unit is a
    :class:`~pos_app.server.group_commit.SendsGuardsAhead`, and these are that kind's
    :meth:`~pos_app.server.group_commit.SendsGuardsAhead.send_ahead` and
    :meth:`~pos_app.server.group_commit.SendsGuardsAhead.settle`. The effect must also work
    when nothing was sent ahead."""

    @abstractmethod
    def send_ahead(self, session: Session) -> None:
        """Queue the guards (after :meth:`read_ahead`; PostgreSQL batches only)."""

    @abstractmethod
    def settle(self, session: Session, *, failed: bool) -> None:
        """After the unit ran in a batch; raises
        :class:`~pos_app.server.group_commit.SpeculationMissed` when guards were sent ahead
        and the effect does not stand on them."""


def run_idempotent(db: Database, principal: Principal, key: str, *, method: str, path: str,
                   body: Any, effect: Callable[[Session], Response],
                   now: datetime) -> Outcome:
    """Run ``effect`` at most once for ``key`` in the caller's scope; see the module notes.

    Args:
        db: the database; ``effect`` gets the session of one :meth:`Database.write`.
        principal: the caller; its ``idempotency_scope`` scopes the key.
        key: the validated ``Idempotency-Key`` (:func:`check_key`).
        method, path: the request's method and path (``"POST"``, ``"/v1/sales"``).
        body: the validated body as JSON data (``model.model_dump(mode="json")``).
        effect: does the work in the given session and returns the response to store and
            send (201 or a business refusal); raises :class:`ApiError` for a refusal that
            must not be stored (e.g. 422 ``invalid_request``, 404). It may run more than
            once (a PostgreSQL write conflict re-runs it in a fresh transaction), so all its
            effects must go through the session. An :class:`EffectAhead` sends its first
            reads ahead, a :class:`GuardedEffect` in a group-commit batch its guards too.
        now: the server clock's time.

    Returns:
        The :class:`Outcome`; ``replayed=True`` (send ``outcome.headers``) for a stored one.

    Raises:
        ApiError: 422 ``idempotency_key_reused``, 409 ``idempotency_key_voided``, 409
            ``request_in_progress`` (with ``Retry-After``), or whatever ``effect`` raised.
    """
    scope = principal.idempotency_scope
    digest = request_hash(method, path, body)
    with db.read() as session:
        row = _find(session, scope, key)
        if row is not None:
            return _answer(row, digest)
    registry = _in_flight(db)
    if not registry.enter(scope, key):
        raise _in_progress()
    try:
        # PostgreSQL serialization failures and deadlocks re-run the whole unit (effects go
        # only through the session), a bounded number of times, then 409.
        return db.run_write(_unit(scope, key, digest, method, path, effect, now))
    finally:
        registry.leave(scope, key)


def _unit(scope: str, key: str, digest: str, method: str, path: str,
          effect: Callable[[Session], Response], now: datetime) -> Unit[Outcome]:
    """The write unit of an idempotent request (:class:`_Keyed`), of the writer's kind that
    ``effect`` is: :class:`~pos_app.server.group_commit.SendsGuardsAhead` for a
    :class:`GuardedEffect`, else :class:`~pos_app.server.group_commit.RunsInTurn`."""
    if isinstance(effect, GuardedEffect):
        return _KeyedGuarded(scope, key, digest, method, path, effect, now)
    return _KeyedInTurn(scope, key, digest, method, path, effect, now)


class _Keyed:
    """The write unit of an idempotent request: lock and read the key, run ``effect``,
    store the outcome with the key (steps 2-3 of the module notes).

    On PostgreSQL the key's lock, the key and an :class:`EffectAhead`'s reads are read ahead
    (:func:`pos_app.server.sql.read_ahead`), in that order, so the key is read only after
    its lock is held: by :meth:`read_ahead`, which a group-commit batch calls for all its
    units before running the first (one round trip for the whole batch's reads), or else
    by the unit itself (one round trip for its own)."""

    def __init__(self, scope: str, key: str, digest: str, method: str, path: str,
                 effect: Callable[[Session], Response], now: datetime) -> None:
        self._scope, self._key, self._digest = scope, key, digest
        self._method, self._path, self._now = method, path, now
        self._effect = effect
        self._read_in: object | None = None  # the transaction read ahead in

    def read_ahead(self, session: Session) -> None:
        """Queue this unit's first reads in ``session``'s transaction (a group-commit batch
        calls this for all its units first)."""
        self._read_in = session.get_transaction()
        sql.read_ahead(session, _TRY_KEY_LOCK, _lock_params(self._scope, self._key))
        sql.read_ahead(session, _FIND, {"scope": self._scope, "key": self._key})
        if isinstance(self._effect, EffectAhead):
            self._effect.read_ahead(session)

    def __call__(self, session: Session) -> Outcome:
        scope, key = self._scope, self._key
        if self._read_in is None or self._read_in is not session.get_transaction():
            self.read_ahead(session)
        if not _lock_key_everywhere(session, scope, key):
            raise _in_progress()
        row = _find(session, scope, key)
        if row is not None:  # completed or voided while we waited for the writer
            return _answer(row, self._digest)
        result = self._effect(session)
        outcome = Outcome(status=result.status, body=dict(result.body))
        _store(session, scope=scope, key=key, method=self._method.upper(), path=self._path,
               request_hash=self._digest, status="completed", response=outcome,
               now=self._now)
        return outcome


class _KeyedInTurn(_Keyed, RunsInTurn[Outcome]):
    """A keyed unit whose effect sends no guards ahead: it runs in turn in a batch."""


class _KeyedGuarded(_Keyed, SendsGuardsAhead[Outcome]):
    """A keyed unit of a :class:`GuardedEffect`: its guards go ahead in a batch."""

    _effect: GuardedEffect

    def send_ahead(self, session: Session) -> None:
        """The effect's guards (:meth:`GuardedEffect.send_ahead`)."""
        self._effect.send_ahead(session)

    def settle(self, session: Session, *, failed: bool) -> None:
        """See :meth:`GuardedEffect.settle`."""
        self._effect.settle(session, failed=failed)


async def run_idempotent_async(db: Database, principal: Principal, key: str, *, method: str,
                               path: str, body: Any, effect: Callable[[Session], Response],
                               now: datetime) -> Outcome:
    """:func:`run_idempotent` for an ``async`` route: the unit is group-committed
    (:meth:`Database.write_async`) with the other requests queued at the same moment, and
    the event loop never blocks. There is no separate read first: the unit reads the key in
    its transaction, so a replay costs one queued unit, not a thread.

    Returns and raises as :func:`run_idempotent`.
    """
    scope = principal.idempotency_scope
    digest = request_hash(method, path, body)
    registry = _in_flight(db)
    if not registry.enter(scope, key):
        raise _in_progress()
    try:
        return await db.write_async(_unit(scope, key, digest, method, path, effect, now))
    finally:
        registry.leave(scope, key)


def lookup_key(db: Database, principal: Principal, key: str) -> KeyState | None:
    """The caller's key ``key`` (``GET /v1/idempotency-keys/{key}``); None when never seen."""
    scope = principal.idempotency_scope
    with db.read() as session:
        row = _find(session, scope, key)
        if row is not None:
            return _state(row)
        if _in_flight(db).running(scope, key) or not _lock_key_everywhere(session, scope, key):
            return KeyState("in_progress")
        return None


def _state(row: _StoredKey) -> KeyState:
    if row.status == "voided":
        return KeyState("voided")
    return KeyState("completed", Outcome(int(row.response_status or 0),
                                         dict(row.response_body or {})))


def void_key(db: Database, principal: Principal, key: str, *, now: datetime) -> KeyState:
    """Settle the caller's key so that it can never execute late
    (``POST /v1/idempotency-keys/{key}/void``).

    Returns the key's state: a completed key unchanged (with its response); a key never seen
    recorded as ``voided``; a voided key as it is.

    Raises:
        ApiError: 409 ``request_in_progress`` while the request runs.
    """
    scope = principal.idempotency_scope
    with db.read() as session:  # answered without the writer lock when nothing changes
        row = _find(session, scope, key)
        if row is not None:
            return _state(row)
    registry = _in_flight(db)
    if registry.running(scope, key):  # answer now, not after the running request's commit
        raise _in_progress()
    with db.write() as session:
        # Holding the writer (and on PostgreSQL the key's lock): a request with this key
        # that starts now waits for us and then finds the key voided.
        if registry.running(scope, key) or not _lock_key_everywhere(session, scope, key):
            raise _in_progress()
        row = _find(session, scope, key)
        if row is not None:
            return _state(row)
        _store(session, scope=scope, key=key, method="", path="", request_hash="",
               status="voided", response=None, now=now)
        return KeyState("voided")


def purge_expired(db: Database, *, now: datetime, ttl: timedelta) -> int:
    """Delete the keys created before ``now - ttl`` (``ttl`` is at least 24 hours, as
    ``API.md`` keeps keys); returns how many were deleted."""
    cutoff = now - max(ttl, MIN_RETENTION)
    with db.write() as session:
        result = session.execute(
            delete(IdempotencyKey)
            .where(IdempotencyKey.created_at < cutoff)
            .execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0)



async def run_purger(db: Database, clock: Callable[[], datetime], *, ttl: timedelta,
                     interval_seconds: float) -> None:
    """Run :func:`purge_expired` now and then every ``interval_seconds`` until cancelled; a
    failed purge is logged and retried at the next interval."""
    while True:
        try:
            purged = await anyio.to_thread.run_sync(
                lambda: purge_expired(db, now=clock(), ttl=ttl))
            if purged:
                log.info("purged %d idempotency keys older than %s", purged, ttl)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("idempotency key purge failed; retrying at the next interval")
        await asyncio.sleep(interval_seconds)


def start_purger(db: Database, settings: ServerSettings) -> asyncio.Task[None]:
    """Start :func:`run_purger` (every :data:`PURGE_INTERVAL`, ``settings.idempotency_ttl``)
    on the running event loop; stop it with :func:`stop_purger`."""
    return asyncio.get_running_loop().create_task(
        run_purger(db, settings.clock.now, ttl=settings.idempotency_ttl,
                   interval_seconds=PURGE_INTERVAL.total_seconds()),
        name="idempotency-key-purger")


async def stop_purger(task: asyncio.Task[None]) -> None:
    """Cancel the purger and wait for it to end."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
