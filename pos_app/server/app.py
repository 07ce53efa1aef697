"""The composition root: :func:`create_app` builds the FastAPI app for given settings.

Every error answers ``{"error": code, "message": sentence, ...}``: schema problems (bad JSON,
unknown or missing fields, wrong types) are 422 ``invalid_request``; unknown routes 404
``not_found``; a wrong method 405 ``invalid_request``; an unexpected failure 500
``internal_error`` (never caused by input).

Every 401 ``unauthorized`` / 403 ``forbidden`` is audited as ``denied`` by the ``ApiError``
handler (:mod:`pos_app.server.denials`), after the refusal, in its own transaction. A
:class:`~pos_app.server.db_errors.WriteConflict` from the database (a unit of work kept
failing with a serialization failure or deadlock) is answered as its ``ApiError``
(:func:`pos_app.server.errors.write_conflict_error`): 409 ``request_in_progress`` with
``Retry-After: 1``.

The app also composes the database it opens: its write sessions get the live inventory's
hooks (:func:`pos_app.server.services.live.install_session_hooks`), which
:mod:`pos_app.server.db` does not know about.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

import pos_app
from pos_app.api.errors import ErrorCode
from pos_app.server import denials
from pos_app.server.db import Database
from pos_app.server.db_errors import WriteConflict
from pos_app.server.errors import ApiError, write_conflict_error
from pos_app.server.http_limits import BodyLimit
from pos_app.server.inputs import CleanUrl
from pos_app.server.routes import include_routes
from pos_app.server.services import (
    anchoring,
    expiry,
    idempotency,
    live,
    pin_attempts,
    webhook_dispatcher,
)
from pos_app.server.services.principal_cache import PrincipalCache
from pos_app.server.settings import ServerSettings

__all__ = ["create_app"]

log = logging.getLogger("pos_app.server")


def _describe(errors: list[Any]) -> str:
    parts = []
    for err in errors[:3]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "body"
        parts.append(f"{loc}: {err.get('msg', 'invalid')}")
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return "The request is not valid: " + "; ".join(parts) + more + "."


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    details = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")),
                "type": str(e.get("type", ""))} for e in errors]
    return JSONResponse(status_code=422, content={
        "error": ErrorCode.INVALID_REQUEST.value, "message": _describe(errors),
        "details": details})


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    if denials.is_denial(exc):
        state = request.app.state
        await run_in_threadpool(denials.record_denial, request, exc, state.database,
                                state.settings, state.denial_throttle)
    return JSONResponse(status_code=exc.status, content=exc.body(), headers=exc.headers)


async def _write_conflict(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, WriteConflict)
    return await _api_error(request, write_conflict_error(exc))


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route serves at this path (Starlette's 405 names only the first
    route's methods when several routes share a path, e.g. GET and POST /v1/holds)."""
    scope = {"type": "http", "path": request.url.path, "method": ""}
    methods: set[str] = set()
    for route in request.app.router.routes:
        match, _ = route.matches(scope)
        if match is not Match.NONE:
            methods.update(getattr(route, "methods", None) or ())
    return sorted(methods)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        body = {"error": ErrorCode.NOT_FOUND.value,
                "message": f"There is nothing at {request.url.path}."}
    elif exc.status_code == 405:
        allowed = _allowed_methods(request)
        headers["Allow"] = ", ".join(allowed)
        body = {"error": ErrorCode.INVALID_REQUEST.value,
                "message": f"{request.method} is not allowed on {request.url.path}; "
                           f"use {' or '.join(allowed)}."}
    elif exc.status_code == 401:
        body = {"error": ErrorCode.UNAUTHORIZED.value, "message": str(exc.detail)}
    elif exc.status_code == 403:
        body = {"error": ErrorCode.FORBIDDEN.value, "message": str(exc.detail)}
    elif exc.status_code < 500:
        # e.g. Starlette's 400 for a body that is not JSON: the contract answers every
        # invalid request with 422 invalid_request.
        return JSONResponse(status_code=422, headers=headers, content={
            "error": ErrorCode.INVALID_REQUEST.value,
            "message": f"The request is not valid: {exc.detail}."})
    else:
        body = {"error": "internal_error", "message": str(exc.detail)}
    return JSONResponse(status_code=exc.status_code, content=body, headers=headers)


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unexpected server error", exc_info=exc)
    return JSONResponse(status_code=500, content={
        "error": "internal_error", "message": "The server failed; nothing was changed."})


def create_app(settings: ServerSettings, *, database: Database | None = None) -> FastAPI:
    """A FastAPI app serving ``/v1`` on ``settings.database_url`` (and ``/docs``, ``/redoc``
    and ``/openapi.json`` when ``settings.docs``).

    ``database`` may be given to share one :class:`Database` (the runner, tests), opened with
    ``write_hooks=[live.install_session_hooks]``; otherwise one is created so and disposed
    with the app. The database must already be migrated
    (:func:`pos_app.server.migrate.upgrade`).
    """
    owned = database is None
    db = database or Database(settings.database_url,
                              busy_timeout_ms=settings.sqlite_busy_timeout_ms,
                              retry_attempts=settings.db_retry_attempts,
                              batch_limit=settings.write_batch_limit,
                              write_hooks=[live.install_session_hooks])

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        live_inventory = live.LiveInventory(db, settings)  # publishes committed changes
        live_inventory.start()
        _app.state.broadcaster = live_inventory.broadcaster
        _app.state.live_streams = live_inventory.streams  # admits streams, ends revoked ones
        sweeper = expiry.start_sweeper(db, settings)  # marks lapsed holds expired
        purger = idempotency.start_purger(db, settings)  # drops keys past their 24 h
        pin_purger = pin_attempts.start_purger(db, settings)  # drops PIN attempts past use
        # posts stock alerts to the webhooks (one process of several: an advisory lock)
        dispatcher = webhook_dispatcher.start_dispatcher(db, settings)
        anchorer = anchoring.start_anchoring(db, settings)  # the chain's head, every minute
        try:
            yield
        finally:
            await anchoring.stop_anchoring(anchorer, db, settings)
            await webhook_dispatcher.stop_dispatcher(dispatcher)
            await pin_attempts.stop_purger(pin_purger)
            await idempotency.stop_purger(purger)
            await expiry.stop_sweeper(sweeper)
            await live_inventory.stop()
        if owned:
            db.dispose()

    # The interactive pages and the live document map every route and schema for anyone who
    # can reach the port: served only when asked (--docs, --demo). The document itself is
    # published in the repository (docs/openapi.json, app.openapi() works either way).
    app = FastAPI(
        title="Box-office central inventory API", version=pos_app.__version__,
        description="The contract between sales channels and the central inventory "
                    "(docs/api.md). Errors are {error, message, ...}.",
        lifespan=lifespan,
        docs_url="/docs" if settings.docs else None,
        redoc_url="/redoc" if settings.docs else None,
        openapi_url="/openapi.json" if settings.docs else None,
    )
    app.state.settings = settings
    app.state.database = db
    app.state.denial_throttle = denials.DenialThrottle()
    app.state.principal_cache = PrincipalCache(settings.auth_cache_ttl)
    app.state.sliding_sessions = set()  # staff session ids whose idle deadline is being moved
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(WriteConflict, _write_conflict)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    include_routes(app)
    app.add_middleware(CleanUrl)  # NUL / bidi controls in a path or query: 422, not a 500
    app.add_middleware(BodyLimit)  # outermost: a body over 1 MiB is refused before it is read
    return app
