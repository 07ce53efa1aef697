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

How a request runs (two short transactions, so "in progress" is observable):

1. Look the key up (a read). Same request already answered: :class:`Outcome` with
   ``replayed=True`` (send ``Idempotent-Replayed: true``, i.e. ``result.headers``). Another
   body: 422 ``idempotency_key_reused``. Voided: 409 ``idempotency_key_voided``. Still
   running: 409 ``request_in_progress`` with ``Retry-After``.
2. Claim: insert ``(scope, key, request hash, in_progress)`` and commit at once. On
   PostgreSQL a unique violation means another request claimed it first: the key is read
   again and answered as in step 1 (never a 500).
3. The effect's transaction: lock the claim (``SELECT ... FOR UPDATE``; SQLite's
   ``BEGIN IMMEDIATE`` already serialises writers), check it is still ours, run ``effect``
   and mark the key ``completed`` with the response in the SAME transaction, so the outcome
   and the effect commit together (``API.md``: "the key and the effect commit in one
   transaction").
4. The effect raised (an :class:`ApiError` such as 422 ``invalid_request``, or any 5xx or
   unexpected error): its transaction rolled back and the claim is deleted in a short
   transaction, so nothing is stored and a retry with the same key can execute.

A crash between steps 2 and 3 leaves an ``in_progress`` row whose effect never committed.
A claim older than :data:`ABANDONED_AFTER` (60 s) counts as abandoned: the same request may
claim it again (and :func:`void_key` may void it). The slow original, should it ever reach
step 3, finds the claim is no longer its own (the claim's ``created_at`` is its token) and
answers ``request_in_progress`` without executing, so the effect still runs at most once.

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
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

import anyio.to_thread
from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pos_app.api.errors import ErrorCode
from pos_app.server.db import Database
from pos_app.server.errors import ApiError
from pos_app.server.models import IdempotencyKey
from pos_app.server.services.principal import Principal
from pos_app.server.settings import ServerSettings

__all__ = [
    "ABANDONED_AFTER",
    "MIN_RETENTION",
    "PURGE_INTERVAL",
    "REPLAY_HEADER",
    "KeyState",
    "Outcome",
    "Response",
    "check_key",
    "lookup_key",
    "purge_expired",
    "request_hash",
    "run_idempotent",
    "run_purger",
    "start_purger",
    "stop_purger",
    "void_key",
]

log = logging.getLogger(__name__)

ABANDONED_AFTER = timedelta(seconds=60)
"""An ``in_progress`` claim older than this was left by a crash and may be claimed again."""

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


def _in_progress(row: IdempotencyKey, now: datetime) -> ApiError:
    left = (row.created_at + ABANDONED_AFTER - now).total_seconds()
    retry = max(1, min(5, math.ceil(left)))
    return ApiError(ErrorCode.REQUEST_IN_PROGRESS,
                    "The first request with this Idempotency-Key is still running; "
                    "look the key up or try again shortly.",
                    headers={"Retry-After": str(retry)})


def _abandoned(row: IdempotencyKey, now: datetime) -> bool:
    return row.status == "in_progress" and row.created_at + ABANDONED_AFTER <= now


def _answer(row: IdempotencyKey, digest: str, now: datetime) -> Outcome | None:
    """The answer a request with ``digest`` gets from the existing ``row``; None when the row
    is an abandoned claim of this same request (the caller may claim it again)."""
    if row.status == "voided":
        raise ApiError(ErrorCode.IDEMPOTENCY_KEY_VOIDED,
                       "This request was voided and will never be executed.")
    if row.request_hash != digest:
        raise ApiError(ErrorCode.IDEMPOTENCY_KEY_REUSED,
                       "This Idempotency-Key was already used for a different request.")
    if row.status == "completed" and row.response_status is not None:
        return Outcome(status=row.response_status, body=dict(row.response_body or {}),
                       replayed=True)
    if _abandoned(row, now):
        return None
    raise _in_progress(row, now)


def _select(scope: str, key: str) -> Any:
    return (select(IdempotencyKey)
            .where(IdempotencyKey.scope == scope, IdempotencyKey.key == key)
            .execution_options(populate_existing=True))


@dataclass(frozen=True)
class _Claim:
    id: int
    token: datetime  # created_at of the claim: changes when an abandoned claim is re-claimed


def _claim(db: Database, scope: str, key: str, method: str, path: str, digest: str,
           now: datetime) -> _Claim | Outcome:
    """Step 2: a committed ``in_progress`` claim, or the answer for an existing key."""
    with db.read() as session:
        row = session.scalars(_select(scope, key)).first()
        answer = _answer(row, digest, now) if row is not None else None
        if answer is not None:
            return answer
    with db.write() as session:
        row = session.scalars(_select(scope, key)).first()
        if row is None:
            row = IdempotencyKey(scope=scope, key=key, method=method.upper(), path=path,
                                 request_hash=digest, status="in_progress", created_at=now)
            try:
                with session.begin_nested():
                    session.add(row)
                    session.flush()
            except IntegrityError:
                # PostgreSQL: another transaction claimed the key and has committed by now.
                row = session.scalars(_select(scope, key)).first()
                if row is None:
                    raise
            else:
                return _Claim(row.id, now)
        answer = _answer(row, digest, now)
        if answer is not None:
            return answer
        # An abandoned claim of this same request: take it over (compare-and-set).
        taken = session.execute(
            update(IdempotencyKey)
            .where(IdempotencyKey.id == row.id, IdempotencyKey.status == "in_progress",
                   IdempotencyKey.created_at == row.created_at)
            .values(created_at=now)
            .execution_options(synchronize_session=False))
        if getattr(taken, "rowcount", 0) == 1:
            return _Claim(row.id, now)
        row = session.scalars(_select(scope, key)).first()
        if row is None:  # deleted meanwhile by a failed run: let the caller retry
            raise _in_progress_now(now)
        answer = _answer(row, digest, now)
        if answer is None:
            raise _in_progress(row, now)
        return answer


def _in_progress_now(now: datetime) -> ApiError:
    return ApiError(ErrorCode.REQUEST_IN_PROGRESS,
                    "The first request with this Idempotency-Key is still running.",
                    headers={"Retry-After": "1"})


def _release(db: Database, claim: _Claim) -> None:
    """Step 4: delete our claim (only if it is still ours) so a retry can execute."""
    with db.write() as session:
        session.execute(delete(IdempotencyKey).where(
            IdempotencyKey.id == claim.id, IdempotencyKey.status == "in_progress",
            IdempotencyKey.created_at == claim.token))


def run_idempotent(db: Database, principal: Principal, key: str, *, method: str, path: str,
                   body: Any, effect: Callable[[Session], Response],
                   now: datetime) -> Outcome:
    """Run ``effect`` at most once for ``key`` in the caller's scope; see the module notes.

    Args:
        db: the database; ``effect`` gets a session of one :meth:`Database.write`.
        principal: the caller; its ``idempotency_scope`` scopes the key.
        key: the validated ``Idempotency-Key`` (:func:`check_key`).
        method, path: the request's method and path (``"POST"``, ``"/v1/sales"``).
        body: the validated body as JSON data (``model.model_dump(mode="json")``).
        effect: does the work in the given session and returns the response to store and
            send (201 or a business refusal); raises :class:`ApiError` for a refusal that
            must not be stored (e.g. 422 ``invalid_request``, 404).
        now: the server clock's time.

    Returns:
        The :class:`Outcome`; ``replayed=True`` (send ``outcome.headers``) for a stored one.

    Raises:
        ApiError: 422 ``idempotency_key_reused``, 409 ``idempotency_key_voided``, 409
            ``request_in_progress`` (with ``Retry-After``), or whatever ``effect`` raised.
    """
    scope = principal.idempotency_scope
    digest = request_hash(method, path, body)
    claimed = _claim(db, scope, key, method, path, digest, now)
    if isinstance(claimed, Outcome):
        return claimed
    try:
        with db.write() as session:
            mine = session.scalars(
                select(IdempotencyKey)
                .where(IdempotencyKey.id == claimed.id)
                .with_for_update()
                .execution_options(populate_existing=True)).first()
            if mine is None or mine.status != "in_progress" or mine.created_at != claimed.token:
                # Our claim was taken over (abandoned after ABANDONED_AFTER) or voided.
                raise _in_progress_now(now)
            result = effect(session)
            outcome = Outcome(status=result.status, body=dict(result.body))
            mine.status = "completed"
            mine.response_status = outcome.status
            mine.response_body = outcome.body
            mine.completed_at = now
            session.flush()
    except BaseException:
        try:
            _release(db, claimed)
        except Exception:  # the claim counts as abandoned after ABANDONED_AFTER anyway
            log.exception("could not release idempotency claim %s", claimed.id)
        raise
    return outcome


def lookup_key(db: Database, principal: Principal, key: str) -> KeyState | None:
    """The caller's key ``key`` (``GET /v1/idempotency-keys/{key}``); None when never seen."""
    with db.read() as session:
        row = session.scalars(_select(principal.idempotency_scope, key)).first()
        return _state(row) if row is not None else None


def _state(row: IdempotencyKey) -> KeyState:
    if row.status == "completed" and row.response_status is not None:
        return KeyState("completed", Outcome(row.response_status,
                                             dict(row.response_body or {})))
    if row.status == "voided":
        return KeyState("voided")
    return KeyState("in_progress")


def void_key(db: Database, principal: Principal, key: str, *, now: datetime) -> KeyState:
    """Settle the caller's key so that it can never execute late
    (``POST /v1/idempotency-keys/{key}/void``).

    Returns the key's state: a completed key unchanged (with its response); a key never seen
    (or an abandoned ``in_progress`` claim, older than :data:`ABANDONED_AFTER`, whose effect
    never committed) recorded as ``voided``; a voided key as it is.

    Raises:
        ApiError: 409 ``request_in_progress`` while the request runs.
    """
    scope = principal.idempotency_scope
    with db.read() as session:  # answered without the writer lock when nothing changes
        row = session.scalars(_select(scope, key)).first()
        if row is not None and row.status != "in_progress":
            return _state(row)
        if row is not None and not _abandoned(row, now):
            raise _in_progress(row, now)
    with db.write() as session:
        row = session.scalars(_select(scope, key)).first()
        if row is None:
            row = IdempotencyKey(scope=scope, key=key, method="", path="", request_hash="",
                                 status="voided", created_at=now, completed_at=now)
            try:
                with session.begin_nested():
                    session.add(row)
                    session.flush()
            except IntegrityError:
                row = session.scalars(_select(scope, key)).first()
                if row is None:
                    raise
            else:
                return KeyState("voided")
        if row.status == "in_progress":
            if not _abandoned(row, now):
                raise _in_progress(row, now)
            voided = session.execute(
                update(IdempotencyKey)
                .where(IdempotencyKey.id == row.id, IdempotencyKey.status == "in_progress",
                       IdempotencyKey.created_at == row.created_at)
                .values(status="voided", completed_at=now)
                .execution_options(synchronize_session=False))
            if getattr(voided, "rowcount", 0) == 1:
                return KeyState("voided")
            row = session.scalars(_select(scope, key)).first()
            if row is None or row.status == "in_progress":
                raise _in_progress_now(now)
        return _state(row)


def purge_expired(db: Database, *, now: datetime, ttl: timedelta) -> int:
    """Delete the keys created before ``now - ttl`` (``ttl`` is at least 24 hours, as
    ``API.md`` keeps keys); returns how many were deleted.

    Completed and voided keys go; so do ``in_progress`` claims that old (abandoned long ago
    by a crash: their effect never committed, see the module notes)."""
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
