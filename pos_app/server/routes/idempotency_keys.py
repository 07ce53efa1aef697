"""Settle a request whose outcome was lost, without ever executing it late (``API.md``):
``GET /v1/idempotency-keys/{key}`` and ``POST /v1/idempotency-keys/{key}/void``.

Keys are scoped to the caller's terminal (staff session) or channel token, so a key of
another terminal reads as never seen.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from pos_app.api.errors import ErrorCode
from pos_app.server.deps import DatabaseDep, SellerPrincipal, SettingsDep
from pos_app.server.errors import ApiError
from pos_app.server.routes.responses import errors
from pos_app.server.services import idempotency

__all__ = ["IdempotencyKeyState", "StoredResponse", "router"]

router = APIRouter(prefix="/idempotency-keys", tags=["idempotency-keys"])


class StoredResponse(BaseModel):
    """The first response to the request: HTTP status and JSON body."""

    model_config = ConfigDict(extra="forbid")
    status: int
    body: dict[str, Any]


class IdempotencyKeyState(BaseModel):
    """What the server knows of a key: ``completed`` (with its response), ``in_progress``
    or ``voided`` (never executes)."""

    model_config = ConfigDict(extra="forbid")
    status: Literal["completed", "in_progress", "voided"]
    response: StoredResponse | None


def _out(state: idempotency.KeyState) -> IdempotencyKeyState:
    return IdempotencyKeyState.model_validate(state.as_json())


@router.get("/{key:path}", response_model=IdempotencyKeyState,
            responses=errors(401, 403, 404, 422,
                             s404="not_found: the server never saw this key from this caller",
                             s422="invalid_request: the key is not 1-255 printable ASCII"))
def get_key(key: str, principal: SellerPrincipal, database: DatabaseDep) -> IdempotencyKeyState:
    """The state of one of the caller's idempotency keys and, once completed, the stored
    response (status and body) the request got."""
    state = idempotency.lookup_key(database, principal, idempotency.check_key(key))
    if state is None:
        raise ApiError(ErrorCode.NOT_FOUND, "This server never saw that Idempotency-Key.")
    return _out(state)


@router.post("/{key:path}/void", response_model=IdempotencyKeyState,
             responses=errors(401, 403, 404, 409, 422,
                              s404="not_found: the path does not name a key (e.g. empty)",
                              s409="request_in_progress (Retry-After): the request is running",
                              s422="invalid_request: the key is not 1-255 printable ASCII"))
def void_key(key: str, principal: SellerPrincipal, database: DatabaseDep,
             settings: SettingsDep) -> IdempotencyKeyState:
    """Make sure a request with this key never executes late. A completed request is
    returned unchanged (``completed`` with its response); an unseen key is recorded as
    ``voided`` and a later request with it gets 409 ``idempotency_key_voided``. Idempotent
    itself: no ``Idempotency-Key`` header needed."""
    state = idempotency.void_key(database, principal, idempotency.check_key(key),
                                 now=settings.clock.now())
    return _out(state)
