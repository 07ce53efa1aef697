"""Checking a PIN from a route: reserve the attempt, wait out the venue-wide delay without
blocking the event loop or the database, then compare (:mod:`pos_app.server.services.
pin_attempts`). Used by sign-in (``sessions``) and by every manager's approval (``refunds``,
``shifts``)."""

from __future__ import annotations

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from pos_app.api import schemas
from pos_app.server.db import Database
from pos_app.server.services import identity, pin_attempts
from pos_app.server.services.principal import Principal
from pos_app.server.settings import ServerSettings

__all__ = ["client_address", "manager_approval", "pin_turn"]


def client_address(request: Request) -> str | None:
    """The caller's address as the server saw it (behind a reverse proxy: the proxy's)."""
    return request.client.host[:64] if request.client is not None else None


async def pin_turn(request: Request, *, username: str, terminal_id: int | None,
                   kind: str) -> pin_attempts.Attempt:
    """Reserve a PIN attempt for ``username`` (429 ``too_many_attempts`` over a limit) and
    return once it is due, having awaited ``settings.sleep`` for the venue-wide delay."""
    database: Database = request.app.state.database
    settings: ServerSettings = request.app.state.settings
    client = client_address(request)
    attempt = await run_in_threadpool(
        lambda: pin_attempts.reserve(database, settings, username=username,
                                     terminal_id=terminal_id, client=client, kind=kind,
                                     now=settings.clock.now()))
    wait = attempt.wait_seconds(settings.clock.now())
    if wait > 0:
        await settings.sleep(wait)
    return attempt


async def manager_approval(request: Request, principal: Principal,
                           approval: schemas.ManagerApproval, *, purpose: str) -> int:
    """The staff id of the manager ``approval`` names (:func:`identity.approving_manager`),
    after :func:`pin_turn`. Call it once the target is found and ``principal`` authorised.

    Raises:
        ApiError: 429 ``too_many_attempts``; 403 ``approval_refused``.
    """
    database: Database = request.app.state.database
    settings: ServerSettings = request.app.state.settings
    attempt = await pin_turn(request, username=approval.username,
                             terminal_id=principal.terminal_id, kind="approval")
    return await run_in_threadpool(
        lambda: identity.approving_manager(database, approval, attempt=attempt,
                                           principal=principal, purpose=purpose,
                                           settings=settings, now=settings.clock.now()))
