"""FastAPI dependencies as named ``Annotated`` aliases.

``DatabaseDep`` (the process's :class:`Database`), ``SettingsDep``, ``DbSession`` (a read
session for the request), ``TerminalDep`` (a paired terminal, by terminal token),
``SellerPrincipal`` (a live staff session *or* a sales channel's token: only for the holds,
sales, events and idempotency-key routes), ``CurrentPrincipal`` (a live staff session, by
session token; a channel token there is 403 ``forbidden``) and ``ManagerPrincipal`` (staff,
at least ``manager``). Missing or bad credentials: 401 ``unauthorized``; a role too low or a
channel token outside holds and sales: 403 ``forbidden``.

Authentication leaves who the caller is on ``request.state`` (``principal``, or
``terminal_id`` for a terminal token) so that the ``denied`` audit entry of a refusal
(:mod:`pos_app.server.denials`, called from the app's ``ApiError`` handler) names the actor.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from functools import partial
from typing import Annotated

import anyio.to_thread
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from pos_app.api.errors import ErrorCode
from pos_app.server.db import Database
from pos_app.server.errors import ApiError, Denial
from pos_app.server.group_commit import in_turn
from pos_app.server.models import Terminal
from pos_app.server.services import identity
from pos_app.server.services.principal import Principal
from pos_app.server.services.principal_cache import PrincipalCache
from pos_app.server.settings import SESSION_SLIDE_STEP, ServerSettings

__all__ = [
    "CurrentPrincipal",
    "DatabaseDep",
    "DbSession",
    "ManagerPrincipal",
    "OptionalPrincipal",
    "SellerPrincipal",
    "SettingsDep",
    "TerminalDep",
    "require_role",
]

log = logging.getLogger("pos_app.server")

_bearer = HTTPBearer(auto_error=False, description="terminal token or session token")


async def get_database(request: Request) -> Database:
    """The :class:`Database` created by :func:`pos_app.server.app.create_app`."""
    database: Database = request.app.state.database
    return database


async def get_settings(request: Request) -> ServerSettings:
    """The app's :class:`ServerSettings`."""
    settings: ServerSettings = request.app.state.settings
    return settings


DatabaseDep = Annotated[Database, Depends(get_database)]
SettingsDep = Annotated[ServerSettings, Depends(get_settings)]
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def read_session(database: DatabaseDep) -> Iterator[Session]:
    """A read session for the request, closed when the response is sent."""
    with database.read() as session:
        yield session


DbSession = Annotated[Session, Depends(read_session)]


def _token(credentials: HTTPAuthorizationCredentials | None) -> str | None:
    return credentials.credentials if credentials is not None else None


def current_terminal(request: Request, database: DatabaseDep,
                     credentials: BearerDep) -> Terminal:
    """The paired terminal named by ``Authorization: Bearer <terminal_token>``."""
    with database.read() as session:
        terminal = identity.authenticate_terminal(session, _token(credentials))
    request.state.terminal_id = terminal.id
    return terminal


def _principal_cache(request: Request) -> PrincipalCache:
    cache: PrincipalCache = request.app.state.principal_cache  # set by create_app
    return cache


async def seller_principal(request: Request, credentials: BearerDep) -> Principal:
    """``Authorization: Bearer <token>``: a live staff session, else a sales channel's
    token (not revoked). A token authenticated within ``settings.auth_cache_ttl`` is taken
    from :class:`PrincipalCache` (on the event loop, no database); otherwise it is looked up
    in a worker thread. A staff session's idle deadline then slides (:func:`_slide`). (The
    database and settings come from ``request.app.state`` rather than as dependencies:
    every request with a token solves this one, and each dependency costs FastAPI's solver
    time on the event loop.)"""
    database: Database = request.app.state.database
    settings: ServerSettings = request.app.state.settings
    token = _token(credentials)
    now = settings.clock.now()
    cache = _principal_cache(request)
    cached = cache.get_until(token, now=now) if token else None
    if cached is not None:
        principal, expires_at = cached
    else:

        def look_up() -> tuple[Principal, datetime | None]:
            with database.read() as session:
                return identity.authenticate_bearer_until(session, token, now=now)

        principal, expires_at = await anyio.to_thread.run_sync(look_up)
        if token:
            cache.put(token, principal, expires_at)
    if token and expires_at is not None:
        await _slide(request, database, settings, token, principal, expires_at, now)
    request.state.principal = principal
    return principal


async def _slide(request: Request, database: Database, settings: ServerSettings, token: str,
                 principal: Principal, expires_at: datetime, now: datetime) -> None:
    """Move a staff session's idle deadline on to ``now + session_idle_timeout`` (capped by
    its ``session_ttl``), but only when that moves it by :data:`SESSION_SLIDE_STEP` or more:
    at most one database write per session per minute (group-committed with the sales of
    that moment), and none while another request of this process is sliding it."""
    if principal.session_id is None or principal.session_created_at is None:
        return
    deadline = identity.idle_deadline(now, created_at=principal.session_created_at,
                                      settings=settings)
    if deadline - expires_at < SESSION_SLIDE_STEP:
        return
    sliding: set[int] = request.app.state.sliding_sessions
    if principal.session_id in sliding:
        return
    sliding.add(principal.session_id)
    try:
        await database.write_async(in_turn(partial(
            identity.slide_session, session_id=principal.session_id, deadline=deadline,
            now=now)))
    except Exception:  # the request itself stands; the next one slides it again
        log.warning("could not move the idle deadline of session %d", principal.session_id,
                    exc_info=True)
    else:
        # Remembered with the new deadline even when another process moved it first.
        _principal_cache(request).put(token, principal, deadline)
    finally:
        sliding.discard(principal.session_id)


async def optional_principal(request: Request, credentials: BearerDep) -> Principal | None:
    """The caller of :func:`seller_principal` when it sends a valid token; None without a
    token or with one that is not valid (not refused, so not audited: for routes that answer
    anyone and only tell a signed-in caller more)."""
    if _token(credentials) is None:
        return None
    try:
        return await seller_principal(request, credentials)
    except ApiError:
        return None


async def current_principal(
        principal: Annotated[Principal, Depends(seller_principal)]) -> Principal:
    """The staff session named by ``Authorization: Bearer <session token>``; a channel
    token is refused with 403 ``forbidden``."""
    if principal.is_channel:
        raise ApiError(ErrorCode.FORBIDDEN,
                       "A channel token may only hold and sell tickets.",
                       denial=Denial("a channel token may only hold and sell",
                                     channel=principal.channel))
    return principal


TerminalDep = Annotated[Terminal, Depends(current_terminal)]
SellerPrincipal = Annotated[Principal, Depends(seller_principal)]
OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]
CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_role(role: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency: the current principal, refused with 403 ``forbidden`` below ``role``."""

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.has_role(role):
            raise ApiError(ErrorCode.FORBIDDEN, f"This needs the {role} role.",
                           denial=Denial(f"needs the {role} role"))
        return principal

    return dependency


ManagerPrincipal = Annotated[Principal, Depends(require_role("manager"))]
