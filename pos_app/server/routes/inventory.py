"""Live inventory routes of ``/v1`` (``shared/API.md``, Inventory):

* ``GET /v1/inventory?since=<version>``: the ticket types changed since an inventory version;
* ``GET /v1/inventory/stream``: Server-Sent Events, one ``inventory`` event per committed
  change (``id:`` the version), ``Last-Event-ID`` (or ``?since=``) resumes, a ``: keepalive``
  comment after ``settings.sse_keepalive`` of silence.

Both take the credentials of ``GET /v1/events`` (a staff session or a channel token).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from functools import partial
from typing import Any

import anyio
from fastapi import APIRouter, Depends, Header, Query, Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from pos_app.api.errors import ErrorCode
from pos_app.server.db import Database
from pos_app.server.deps import DatabaseDep, DbSession, SellerPrincipal, SettingsDep
from pos_app.server.errors import ApiError
from pos_app.server.routes.responses import errors
from pos_app.server.services.live import Broadcaster, InventoryChanges, InventoryEvent, load_changes
from pos_app.server.settings import ServerSettings

__all__ = ["EventStreamResponse", "router"]

log = logging.getLogger("pos_app.server.live")

router = APIRouter(prefix="/inventory", tags=["inventory"])

KEEPALIVE = b": keepalive\n\n"
RETRY = b"retry: 2000\n\n"  # reconnect after 2 s (EventSource's own default is ~3 s)


class EventStreamResponse(StreamingResponse):
    """``text/event-stream`` that always watches for the client's disconnect, whatever ASGI
    spec version the server announces, and then cancels the stream at once (its
    ``finally`` blocks run), so an idle stream never outlives its connection."""

    media_type = "text/event-stream"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async with anyio.create_task_group() as group:

            async def stream() -> None:
                await self.stream_response(send)
                group.cancel_scope.cancel()

            group.start_soon(stream)
            await self.listen_for_disconnect(receive)
            group.cancel_scope.cancel()


def _known_query(*names: str) -> Callable[[Request], None]:
    """A dependency refusing query parameters other than ``names`` (422 ``invalid_request``),
    as unknown body fields are."""

    def check(request: Request) -> None:
        unknown = sorted(set(request.query_params) - set(names))
        if unknown:
            raise ApiError(ErrorCode.INVALID_REQUEST,
                           f"Unknown query parameter(s): {', '.join(map(repr, unknown))}.")

    return check


def _resume_version(last_event_id: str | None, since: int | None) -> int | None:
    if last_event_id is None or not last_event_id.strip():
        return since
    try:
        version = int(last_event_id.strip())
    except ValueError:
        version = -1
    if version < 0:
        raise ApiError(ErrorCode.INVALID_REQUEST,
                       "Last-Event-ID must be an inventory version sent by this stream.")
    return version


def _load(database: Database, settings: ServerSettings, since: int) -> InventoryChanges:
    with database.read() as session:
        return load_changes(session, since, now=settings.clock.now())


async def _events(broadcaster: Broadcaster, database: Database, settings: ServerSettings,
                  resume_from: int | None) -> AsyncIterator[bytes]:
    subscription = broadcaster.subscribe()  # first, so nothing committed from now is missed
    try:
        yield RETRY
        floor = -1
        if resume_from is not None:
            missed = await anyio.to_thread.run_sync(
                partial(_load, database, settings, resume_from))
            if missed.ticket_types:
                yield InventoryEvent.of(missed).encode()
            floor = missed.inventory_version  # queued events up to here are in `missed`
        keepalive = max(settings.sse_keepalive.total_seconds(), 0.05)
        while True:
            try:
                item = await asyncio.wait_for(subscription.queue.get(), timeout=keepalive)
            except TimeoutError:
                yield KEEPALIVE
                continue
            if item is None:  # server stopping, or this subscriber fell too far behind
                return
            if item.inventory_version > floor:
                yield item.encode()
    finally:
        broadcaster.unsubscribe(subscription)


@router.get("", response_model=InventoryChanges, responses=errors(401, 422),
            dependencies=[Depends(_known_query("since"))])
def changed_since(_principal: SellerPrincipal, session: DbSession, settings: SettingsDep,
                  since: int = Query(default=0, ge=0, description=(
                      "An inventory_version from an earlier answer, event or GET /v1/events; "
                      "0 (default) returns every ticket type. A version newer than the "
                      "server's (another history, e.g. a restored database) returns every "
                      "ticket type too."))) -> InventoryChanges:
    """The ticket types changed after inventory version ``since`` (full TicketType shapes,
    by id) and the ``inventory_version`` they are as of: pass that as the next ``since``."""
    return load_changes(session, since, now=settings.clock.now())


def _json_error(description: str) -> dict[str, Any]:
    return {"description": description, "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}}


_STREAM_DOC: dict[int | str, dict[str, Any]] = {
    200: {"description": "text/event-stream: `id: <inventory_version>`, `event: inventory`, "
                         "`data:` one line of InventoryChanges JSON (as GET /v1/inventory) "
                         "per committed change; "
                         "`: keepalive` comments; `retry: 2000`.",
          "content": {"text/event-stream": {"example": (
              'id: 42\nevent: inventory\ndata: {"inventory_version":42,"ticket_types":'
              '[{"id":7, "...": "TicketType"}]}\n\n: keepalive\n\n')}}},
    401: _json_error("unauthorized: missing, unknown or expired credentials"),
    404: _json_error("not_found: live inventory is not running in this process"),
    422: _json_error("invalid_request: Last-Event-ID is not an inventory version, unknown "
                     "query parameter"),
}


@router.get("/stream", response_class=EventStreamResponse, responses=_STREAM_DOC,
            dependencies=[Depends(_known_query("since"))])
async def stream(request: Request, _principal: SellerPrincipal, database: DatabaseDep,
                 settings: SettingsDep,
                 last_event_id: str | None = Header(default=None, alias="Last-Event-ID"),
                 since: int | None = Query(default=None, ge=0, description=(
                     "Resume after this inventory version (as Last-Event-ID, which wins; "
                     "for clients that cannot set headers)."))) -> EventStreamResponse:
    """Server-Sent Events of committed inventory changes. With ``Last-Event-ID`` (or
    ``since``) every ticket type changed after that version is sent first, as one event."""
    broadcaster: Broadcaster | None = getattr(request.app.state, "broadcaster", None)
    if broadcaster is None:
        raise ApiError(ErrorCode.NOT_FOUND, "Live inventory is not running on this server.")
    resume_from = _resume_version(last_event_id, since)
    return EventStreamResponse(
        _events(broadcaster, database, settings, resume_from),
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
