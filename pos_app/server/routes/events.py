"""``GET /v1/events``: the catalog with live counts, cacheable by inventory version."""

from __future__ import annotations

from fastapi import APIRouter, Header, Response
from fastapi.responses import JSONResponse

from pos_app.api.schemas import EventsResponse
from pos_app.server.deps import DbSession, SellerPrincipal, SettingsDep
from pos_app.server.routes.responses import errors
from pos_app.server.services import inventory

__all__ = ["router"]

router = APIRouter(prefix="/events", tags=["inventory"])


def _matches(if_none_match: str | None, etag: str) -> bool:
    if not if_none_match:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


@router.get("", response_model=EventsResponse,
            responses={304: {"description": "Not modified: If-None-Match matched the ETag"},
                       **errors(401)})
def list_events(_principal: SellerPrincipal, session: DbSession, settings: SettingsDep,
                if_none_match: str | None = Header(default=None)) -> Response:
    """Every event with its ticket types. A terminal polling with ``If-None-Match`` gets 304
    until something changes: the ``ETag`` is the inventory version plus the tickets of holds
    that lapsed since (a lapse changes the counts before the sweeper writes anything)."""
    now = settings.clock.now()
    version = inventory.inventory_version(session)
    lapsed = sum(inventory.lapsed_held(session, None, now=now).values())
    etag = f'"inv-{version}-{lapsed}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    if _matches(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    body = inventory.list_events(session, now=now)
    return JSONResponse(body.model_dump(mode="json"), headers=headers)
