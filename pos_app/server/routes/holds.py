"""Holds (``shared/API.md``, Holds): place, find, release. Converting a hold is
``POST /v1/sales {hold_id, payment}`` (:mod:`pos_app.server.routes.sales`)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Header, Query
from fastapi.responses import JSONResponse

from pos_app.api.schemas import Hold, HoldCreate, HoldList, HoldRelease
from pos_app.server.deps import DatabaseDep, DbSession, SellerPrincipal, SettingsDep
from pos_app.server.routes.responses import errors
from pos_app.server.services import holds, idempotency

__all__ = ["router"]

router = APIRouter(prefix="/holds", tags=["holds"])

_CREATE_ERRORS = errors(
    401, 403, 404, 409, 422,
    s403="forbidden: replaces names another terminal's hold (a cashier)",
    s404="not_found: replaces names no hold the caller can see (a cashier: not another "
         "terminal's checkout hold)",
    s409="insufficient_inventory (with lines: available is what the caller's channel may "
         "buy; with replaces, the old hold stands and hold_id names it), hold_expired / "
         "hold_not_active for the replaced hold (all stored and replayed), "
         "idempotency_key_voided, request_in_progress",
    s422="invalid_request: schema error (a cash hold without customer.name, quantity outside "
         "1..50, 1..20 lines, repeated ticket type), ttl_seconds longer than the kind's "
         "default, unknown ticket type, lines of several events, missing Idempotency-Key "
         "(never stored); idempotency_key_reused",
)
_RELEASE_ERRORS = errors(
    401, 403, 404, 409, 422,
    s403="forbidden: a cashier releasing another terminal's cash hold (managers release "
         "any)",
    s404="not_found: no such hold, or one the caller does not see (a channel token sees "
         "only its own holds, a cashier no other terminal's checkout hold)",
    s409="hold_expired, hold_not_active (with status), both stored and replayed; "
         "idempotency_key_voided, request_in_progress",
    s422="invalid_request (schema, Idempotency-Key); idempotency_key_reused",
)


def _answer(outcome: holds.HoldOutcome, location: str | None = None) -> JSONResponse:
    headers = {idempotency.REPLAY_HEADER: "true"} if outcome.replayed else {}
    if location is not None and outcome.status == 201 and not outcome.replayed:
        headers["Location"] = location
    return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)


@router.post("", status_code=201, response_model=Hold, responses=_CREATE_ERRORS)
def create_hold(body: HoldCreate, principal: SellerPrincipal, database: DatabaseDep,
                settings: SettingsDep,
                idempotency_key: str | None = Header(default=None, alias="Idempotency-Key"),
                ) -> JSONResponse:
    """Hold ``lines`` (one event, all or nothing) for ``ttl_seconds`` (default and maximum:
    checkout 15 minutes, cash 4 hours; server clock). Box office holds against the capacity,
    a channel token against the public limit. With ``replaces`` (a basket that changed), the
    named active hold of the same kind is released in the same transaction; if the new hold
    does not fit, the old one stands. Requires ``Idempotency-Key``."""
    key = idempotency.check_key(idempotency_key)
    outcome = holds.create_hold(database, principal, body, key=key, path="/v1/holds",
                                now=settings.clock.now(),
                                checkout_ttl=settings.checkout_hold_ttl,
                                cash_ttl=settings.cash_hold_ttl)
    location = f"/v1/holds/{outcome.body.get('id')}" if outcome.status == 201 else None
    return _answer(outcome, location)


@router.get("", response_model=HoldList, responses=errors(401, 422))
def list_holds(
    principal: SellerPrincipal, session: DbSession, settings: SettingsDep,
    status: Annotated[Literal["active", "converted", "released", "expired"] | None,
                      Query(description="effective status: a lapsed hold is expired")] = None,
    kind: Literal["checkout", "cash"] | None = None,
    q: Annotated[str | None, Query(max_length=120,
                                   description="part of the code or the customer's name, "
                                               "any case")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> HoldList:
    """Holds, newest first, paged by ``cursor``/``next_cursor``. A manager sees every hold,
    a cashier every cash hold and its own terminal's checkout holds, a channel token only
    its own."""
    return holds.list_holds(session, principal, now=settings.clock.now(), status=status,
                            kind=kind, q=q, limit=limit, cursor=cursor)


@router.get("/{ref}", response_model=Hold, responses=errors(
    401, 404, s404="not_found: no such hold, or one the caller does not see (another "
                   "channel token's; for a cashier, another terminal's checkout hold)"))
def get_hold(ref: str, principal: SellerPrincipal, session: DbSession,
             settings: SettingsDep) -> Hold:
    """A hold by id (32 hex characters) or by its code (any case), if the caller sees it
    (docs/api.md, Scopes)."""
    return holds.get_hold(session, principal, ref, now=settings.clock.now())


@router.post("/{ref}/release", response_model=Hold, responses=_RELEASE_ERRORS)
def release_hold(ref: str, principal: SellerPrincipal, database: DatabaseDep,
                 settings: SettingsDep, body: Annotated[HoldRelease | None, Body()] = None,
                 idempotency_key: str | None = Header(default=None, alias="Idempotency-Key"),
                 ) -> JSONResponse:
    """Give a hold's tickets back (``released``, with the optional ``reason``; the body may
    be omitted). Requires ``Idempotency-Key``."""
    key = idempotency.check_key(idempotency_key)
    outcome = holds.release_hold(database, principal, ref, body or HoldRelease(), key=key,
                                 path=f"/v1/holds/{ref}/release", now=settings.clock.now())
    return _answer(outcome)
