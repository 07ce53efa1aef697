"""Terminals: ``POST /v1/terminals`` (manager) and ``POST /v1/terminals/pair`` (no auth)."""

from __future__ import annotations

from fastapi import APIRouter

from pos_app.api.schemas import PairRequest, PairResponse, TerminalCreate, TerminalCreated
from pos_app.server.deps import DatabaseDep, ManagerPrincipal, SettingsDep
from pos_app.server.routes.responses import errors
from pos_app.server.services import identity

__all__ = ["router"]

router = APIRouter(prefix="/terminals", tags=["terminals"])


@router.post("", status_code=201, response_model=TerminalCreated,
             responses=errors(401, 403, 422))
def create_terminal(body: TerminalCreate, _manager: ManagerPrincipal, database: DatabaseDep,
                    settings: SettingsDep) -> TerminalCreated:
    """Create a terminal and a single-use pairing code valid for 10 minutes."""
    with database.write() as session:
        return identity.create_terminal(session, body.name, now=settings.clock.now(),
                                        ttl=settings.pairing_code_ttl)


@router.post("/pair", status_code=201, response_model=PairResponse,
             responses=errors(401, 422, s401="unauthorized: the pairing code is unknown, "
                                             "already used or expired"))
def pair(body: PairRequest, database: DatabaseDep, settings: SettingsDep) -> PairResponse:
    """Exchange a pairing code (single use) for the terminal token, shown only this once."""
    with database.write() as session:
        return identity.pair_terminal(session, body.pairing_code, now=settings.clock.now())
