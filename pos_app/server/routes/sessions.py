"""Staff sessions: sign in at a paired terminal, sign out."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from starlette.concurrency import run_in_threadpool

from pos_app.api.errors import ErrorCode
from pos_app.api.schemas import ErrorBody, SessionCreate, SessionResponse
from pos_app.server.deps import (
    CurrentPrincipal,
    DatabaseDep,
    SettingsDep,
    TerminalDep,
)
from pos_app.server.errors import ApiError
from pos_app.server.routes import pin_checks
from pos_app.server.routes.responses import errors
from pos_app.server.services import identity
from pos_app.server.services.live_streams import Credential, StreamRegistry
from pos_app.server.services.principal_cache import credentials_revoked

__all__ = ["router"]

router = APIRouter(prefix="/sessions", tags=["sessions"])


@router.post("", status_code=201, response_model=SessionResponse,
             responses={**errors(401, 422, s401="unauthorized: the terminal token is not "
                                                "valid, or the username or PIN is wrong"),
                        429: {"model": ErrorBody,
                              "description": "too_many_attempts: too many failed PINs for "
                                             "this username at this terminal, or from this "
                                             "address, within the window (sign-ins and "
                                             "approvals alike); Retry-After gives the "
                                             "seconds until one leaves it",
                              "headers": {"Retry-After": {"schema": {"type": "integer"}}}}})
async def sign_in(request: Request, body: SessionCreate, terminal: TerminalDep,
                  database: DatabaseDep, settings: SettingsDep) -> SessionResponse:
    """Sign in with ``Authorization: Bearer <terminal_token>`` and ``{username, pin}``;
    the session token lasts 12 hours. PINs are throttled (docs/api.md, Approvals and
    throttling): 429 ``too_many_attempts`` per terminal and username or per address, before
    the PIN is looked at; venue-wide, every attempt for a username with recent failures
    waits its turn. Audited as ``login`` / ``login_failed``."""
    attempt = await pin_checks.pin_turn(request, username=body.username,
                                        terminal_id=terminal.id, kind="sign_in")
    return await run_in_threadpool(
        lambda: identity.sign_in(database, terminal, body.username, body.pin,
                                 attempt=attempt, settings=settings,
                                 now=settings.clock.now()))


@router.delete("/current", status_code=204, responses=errors(401, 403))
def sign_out(request: Request, principal: CurrentPrincipal, database: DatabaseDep,
             settings: SettingsDep) -> Response:
    """End the caller's session; its token stops working at once, and its live inventory
    streams end within a second, on every server process of the venue."""
    # This process ends them here; the others' stream checkers find the session signed out
    # (pos_app.server.services.live_streams).
    if principal.session_id is None:
        raise ApiError(ErrorCode.FORBIDDEN, "A channel token has no session to end.")
    with database.write() as session:
        identity.sign_out(session, principal.session_id, now=settings.clock.now())
    credentials_revoked()  # again after the commit: no lookup in between may be cached
    streams: StreamRegistry | None = getattr(request.app.state, "live_streams", None)
    if streams is not None:
        streams.end_threadsafe(Credential("session", principal.session_id))
    return Response(status_code=204)
