"""Sales: ``POST /v1/sales`` (idempotent, one transaction) and ``GET /v1/sales/{ref}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse

from pos_app.api.schemas import Sale, SaleCreate, SalesPage
from pos_app.server.db import Database
from pos_app.server.deps import DbSession, SellerPrincipal
from pos_app.server.inputs import QueryTime
from pos_app.server.routes.responses import errors
from pos_app.server.services import idempotency, sales, sales_query
from pos_app.server.settings import ServerSettings

__all__ = ["router"]

router = APIRouter(prefix="/sales", tags=["sales"])

_POST_ERRORS = errors(
    401, 403, 404, 409, 422,
    s403="forbidden: the hold belongs to another channel, or (a manager) it is another "
         "terminal's checkout hold, paid only there; not stored",
    s404="not_found: the hold_id names no hold the caller can see (a cashier does not see "
         "another terminal's checkout hold); not stored",
    s409="insufficient_inventory (with lines), idempotency_key_voided, request_in_progress",
    s422="invalid_request: schema error, missing or malformed Idempotency-Key, unknown "
         "ticket type id, lines of several events, non-cash payment (never stored); "
         "insufficient_tender (stored and replayed); idempotency_key_reused",
)


@router.post("", status_code=201, response_model=Sale, responses=_POST_ERRORS)
async def create_sale(request: Request, body: SaleCreate, principal: SellerPrincipal,
                      idempotency_key: str | None = Header(default=None,
                                                           alias="Idempotency-Key"),
                      ) -> JSONResponse:
    """Sell ``lines`` for cash in one transaction. Requires ``Idempotency-Key``: a repeat
    with the same key and body answers the stored outcome with ``Idempotent-Replayed: true``.
    Stored outcomes: 201, 409 ``insufficient_inventory``, 422 ``insufficient_tender``."""
    # The busiest route: the database and settings come from the app's state, not as
    # dependencies (each costs FastAPI's solver time on the event loop).
    database: Database = request.app.state.database
    settings: ServerSettings = request.app.state.settings
    key = idempotency.check_key(idempotency_key)
    # Group-committed on the writer thread: the event loop waits without blocking.
    outcome = await sales.create_sale_async(database, principal, body, key=key,
                                            path="/v1/sales", now=settings.clock.now())
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    if outcome.status == 201 and not outcome.replayed:
        headers["Location"] = f"/v1/sales/{outcome.body['id']}"
    return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)


@router.get("", response_model=SalesPage, responses=errors(
    401, 422, s422="invalid_request: a bad filter or cursor"))
def list_sales(
    principal: SellerPrincipal, session: DbSession,
    shift_id: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None,
    from_: Annotated[QueryTime | None, Query(alias="from",
                                                 description="created at or after")] = None,
    to: Annotated[QueryTime | None, Query(description="created before")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> SalesPage:
    """Sales by ascending number, ``limit`` per page; follow ``next_cursor`` (null at the
    end). A channel token lists only its own sales, a cashier only its own terminal's (a
    ``shift_id`` of another terminal gives an empty page); a manager every sale."""
    return sales_query.list_sales(session, principal, shift_id=shift_id, from_=from_, to=to,
                                  limit=limit, cursor=cursor)


@router.get("/{ref}", response_model=Sale, responses=errors(
    401, 404, s404="not_found: no such sale, or one the caller may not read (the same "
                   "answer): a channel token reads only its own sales; a cashier another "
                   "terminal's sale only by its id or a ticket code, never by number"))
def get_sale(ref: str, principal: SellerPrincipal, session: DbSession) -> Sale:
    """A sale by id (32 hex characters), by a ticket code on it (26 characters) or by its
    sequential number, within the caller's scope (docs/api.md, Scopes)."""
    return sales.get_sale(session, principal, ref)
