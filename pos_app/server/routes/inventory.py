"""Live inventory routes of ``/v1`` (``shared/API.md``, Inventory):

* ``GET /v1/inventory?since=<version>``: the ticket types changed since an inventory version;
* ``GET /v1/inventory/stream``: Server-Sent Events, one ``inventory`` event per committed
  change (``id:`` the version), ``Last-Event-ID`` (or ``?since=``) resumes, a ``: keepalive``
  comment after ``settings.sse_keepalive`` of silence.

Both take the credentials of ``GET /v1/events`` (a staff session or a channel token). A
stream is admitted and watched by :class:`~pos_app.server.services.live_streams.StreamRegistry`:
at most ``settings.max_streams_per_credential`` (4) per credential (429
``too_many_streams``) and ``settings.max_streams`` (500) per process (503 ``server_busy``),
and it ends within about ``settings.stream_check_interval`` (0.5 s) of its credential
signing out, expiring or being revoked.
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
from pos_app.server.services.live import (
    InventoryChanges,
    InventoryEvent,
    Subscription,
    load_changes,
)
from pos_app.server.services.live_streams import StreamRegistry
from pos_app.server.settings import ServerSettings

__all__ = ["EventStreamResponse", "router"]

log = logging.getLogger("pos_app.server.live")

router = APIRouter(prefix="/inventory", tags=["inventory"])

KEEPALIVE = b": keepalive\n\n"
RETRY = b"retry: 2000\n\n"  # reconnect after 2 s (EventSource's own default is ~3 s)


class EventStreamResponse(StreamingResponse):
    """``text/event-stream`` that always watches for the client's disconnect, whatever ASGI
    spec version the server announces, and then cancels the stream at once (its
    ``finally`` blocks run), so an idle stream never outlives its connection.

    ``on_close`` (if given) runs once the response is over, however it ended (also when the
    body never started): it frees the stream's slot (:meth:`StreamRegistry.close`)."""

    media_type = "text/event-stream"

    def __init__(self, content: AsyncIterator[bytes], status_code: int = 200, *,
                 headers: dict[str, str] | None = None,
                 on_close: Callable[[], None] | None = None) -> None:
        super().__init__(content, status_code, headers=headers)
        self._on_close = on_close

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            async with anyio.create_task_group() as group:

                async def stream() -> None:
                    await self.stream_response(send)
                    group.cancel_scope.cancel()

                group.start_soon(stream)
                await self.listen_for_disconnect(receive)
                group.cancel_scope.cancel()
        finally:
            if self._on_close is not None:
                self._on_close()


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


async def _events(subscription: Subscription, close: Callable[[], None], database: Database,
                  settings: ServerSettings, resume_from: int | None) -> AsyncIterator[bytes]:
    """The stream's bytes: ``retry:``, the changes missed since ``resume_from`` (if given),
    then each event of ``subscription`` (made before the missed changes are read, so nothing
    committed meanwhile is lost) and keepalives, until it gets None; ``close`` runs at the
    end (frees the stream's slot)."""
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
        close()


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
    429: {**_json_error("too_many_streams: the credential (a session token or a channel "
                        "token) has 4 streams open already; `limit` and `retry_after` "
                        "(seconds) in the body"),
          "headers": {"Retry-After": {"schema": {"type": "integer"}}}},
    503: {**_json_error("server_busy: this server process has as many streams open as it "
                        "serves (500 by default); `limit` and `retry_after` in the body"),
          "headers": {"Retry-After": {"schema": {"type": "integer"}}}},
}


@router.get("/stream", response_class=EventStreamResponse, responses=_STREAM_DOC,
            dependencies=[Depends(_known_query("since"))])
async def stream(request: Request, principal: SellerPrincipal, database: DatabaseDep,
                 settings: SettingsDep,
                 last_event_id: str | None = Header(default=None, alias="Last-Event-ID"),
                 since: int | None = Query(default=None, ge=0, description=(
                     "Resume after this inventory version (as Last-Event-ID, which wins; "
                     "for clients that cannot set headers)."))) -> EventStreamResponse:
    """Server-Sent Events of committed inventory changes. With ``Last-Event-ID`` (or
    ``since``) every ticket type changed after that version is sent first, as one event.

    At most 4 streams at once per credential (a session token, a channel token; 429
    ``too_many_streams``) and a cap per server process (500 by default; 503
    ``server_busy``), both with ``Retry-After``. The stream ends (the response completes)
    within a second of its session signing out or expiring or its channel token being
    revoked, and when the server stops."""
    streams: StreamRegistry | None = getattr(request.app.state, "live_streams", None)
    if streams is None:
        raise ApiError(ErrorCode.NOT_FOUND, "Live inventory is not running on this server.")
    resume_from = _resume_version(last_event_id, since)
    subscription = streams.open(principal)  # from here, counted until the response is over
    close = partial(streams.close, subscription)
    return EventStreamResponse(
        _events(subscription, close, database, settings, resume_from),
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}, on_close=close)
