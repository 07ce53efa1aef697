"""Idempotency keys (``API.md``, Conventions): claim a key, store the outcome, replay it.

A key is scoped to the caller (``terminal:7``). The request hash is SHA-256 over
``METHOD + " " + path + "\\n" + canonical JSON of the validated body`` (sorted keys, no spaces).
The key row is inserted in the same transaction as the effect, so key and effect commit
together; a schema error or a 5xx rolls the transaction back and leaves no key behind.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from pos_app.api.errors import ErrorCode
from pos_app.server.errors import ApiError
from pos_app.server.models import IdempotencyKey

__all__ = ["Replay", "check_key", "claim", "complete", "request_hash"]

_KEY = re.compile(r"^[\x20-\x7e]{1,255}$")


@dataclass(frozen=True)
class Replay:
    """A stored outcome to send again with ``Idempotent-Replayed: true``."""

    status: int
    body: dict[str, Any]


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


def _outcome(row: IdempotencyKey, digest: str) -> Replay:
    if row.request_hash != digest:
        raise ApiError(ErrorCode.IDEMPOTENCY_KEY_REUSED,
                       "This Idempotency-Key was already used for a different request.")
    if row.status == "voided":
        raise ApiError(ErrorCode.IDEMPOTENCY_KEY_VOIDED,
                       "This request was voided and will never be executed.")
    if row.status != "completed" or row.response_status is None or row.response_body is None:
        raise ApiError(ErrorCode.REQUEST_IN_PROGRESS,
                       "The first request with this Idempotency-Key is still running.",
                       headers={"Retry-After": "1"})
    return Replay(status=row.response_status, body=dict(row.response_body))


def claim(session: Session, *, scope: str, key: str, method: str, path: str, digest: str,
          now: datetime) -> IdempotencyKey | Replay:
    """Claim ``key`` for this request in the caller's transaction.

    Returns the new ``in_progress`` row to :func:`complete` later, or a :class:`Replay` of
    the stored outcome when the key was already used for the same request.

    Raises:
        ApiError: ``idempotency_key_reused`` (422) for the same key with another request,
            ``idempotency_key_voided`` (409), ``request_in_progress`` (409, Retry-After).
    """
    lookup = select(IdempotencyKey).where(IdempotencyKey.scope == scope,
                                          IdempotencyKey.key == key)
    existing = session.scalars(lookup).first()
    if existing is not None:
        return _outcome(existing, digest)
    row = IdempotencyKey(scope=scope, key=key, method=method.upper(), path=path,
                         request_hash=digest, status="in_progress", created_at=now)
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError:
        # PostgreSQL: another transaction claimed it concurrently and has committed by now.
        existing = session.scalars(lookup.execution_options(populate_existing=True)).first()
        if existing is None:
            raise
        return _outcome(existing, digest)
    return row


def complete(session: Session, row: IdempotencyKey, status: int, body: dict[str, Any]) -> None:
    """Store the outcome (``status`` and JSON ``body``) with the key; it commits with the
    caller's transaction."""
    row.status = "completed"
    row.response_status = status
    row.response_body = body
    session.flush()
