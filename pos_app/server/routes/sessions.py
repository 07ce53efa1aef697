"""Staff sessions: sign in at a paired terminal, sign out."""

from __future__ import annotations

from fastapi import APIRouter, Response

from pos_app.api.errors import ErrorCode
from pos_app.api.schemas import SessionCreate, SessionResponse
from pos_app.server.deps import CurrentPrincipal, DatabaseDep, SettingsDep, TerminalDep
from pos_app.server.errors import ApiError
from pos_app.server.routes.responses import errors
from pos_app.server.services import identity

__all__ = ["router"]

router = APIRouter(prefix="/sessions", tags=["sessions"])


@router.post("", status_code=201, response_model=SessionResponse,
             responses=errors(401, 422, s401="unauthorized: the terminal token is not valid, "
                                             "or the username or PIN is wrong"))
def sign_in(body: SessionCreate, terminal: TerminalDep, database: DatabaseDep,
            settings: SettingsDep) -> SessionResponse:
    """Sign in with ``Authorization: Bearer <terminal_token>`` and ``{username, pin}``;
    the session token lasts 12 hours."""
    return identity.sign_in(database, terminal, body.username, body.pin,
                            now=settings.clock.now(), ttl=settings.session_ttl)


@router.delete("/current", status_code=204, responses=errors(401))
def sign_out(principal: CurrentPrincipal, database: DatabaseDep,
             settings: SettingsDep) -> Response:
    """End the caller's session; its token stops working at once."""
    if principal.session_id is None:
        raise ApiError(ErrorCode.FORBIDDEN, "A channel token has no session to end.")
    with database.write() as session:
        identity.sign_out(session, principal.session_id, now=settings.clock.now())
    return Response(status_code=204)
