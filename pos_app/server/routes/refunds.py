"""Refunds: ``POST /v1/sales/{id, ticket code or number}/refunds`` (idempotent, one
transaction)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from pos_app.api.schemas import Refund, RefundCreate
from pos_app.server.deps import CurrentPrincipal, DatabaseDep, SettingsDep
from pos_app.server.routes import pin_checks
from pos_app.server.routes.responses import errors
from pos_app.server.services import idempotency, refunds

__all__ = ["router"]

router = APIRouter(tags=["refunds"])

SaleRef = Annotated[str, Path(min_length=1, max_length=32,
                              description=("the sale's id, a ticket code on it, or its sequential "
                                           "number (a cashier reaches another till's sale "
                                           "only by id or ticket code)"))]

_ERRORS = errors(
    401, 403, 404, 409, 422, 429,
    s403="forbidden: a channel token; a cashier without a manager's username and PIN. "
         "approval_refused: the manager's username and PIN do not approve it (unknown or "
         "inactive user, wrong PIN, not a manager: one answer; never stored)",
    s404="not_found: no such sale, or one out of the caller's scope (the same answer: a "
         "cashier names another till's sale by its id or a ticket code, never its number); "
         "not stored; answered before any PIN is looked at",
    s429="too_many_attempts (Retry-After): too many failed PINs for this username at this "
         "terminal, or from this address",
    s409="already_refunded (with ticket_codes: a ticket of the request was refunded "
         "before; stored and replayed), shift_not_open (a cash refund needs an open shift "
         "at the caller's terminal; stored and replayed), idempotency_key_voided, "
         "request_in_progress",
    s422="invalid_request: schema error, missing or malformed Idempotency-Key, or "
         "ticket_codes that do not belong to the sale (with ticket_codes; never stored); "
         "idempotency_key_reused",
)


@router.post("/sales/{ref}/refunds", status_code=201, response_model=Refund,
             responses=_ERRORS)
async def create_refund(request: Request, ref: SaleRef, body: RefundCreate,
                        principal: CurrentPrincipal, database: DatabaseDep,
                        settings: SettingsDep,
                        idempotency_key: str | None = Header(default=None,
                                                             alias="Idempotency-Key"),
                        ) -> JSONResponse:
    """Refund ``ticket_codes`` of the sale (default: every ticket still valid) in one
    transaction: the tickets go back to inventory, the sale becomes ``partially_refunded``
    or ``refunded``, ``amount`` is the sum of the tickets' unit prices, paid back by the
    sale's payment method (cash from the caller's open shift).

    A manager approves their own refund; a cashier must send ``manager: {username, pin}``.
    The sale is found and the caller authorised before the PIN is looked at; the PIN is
    throttled like a sign-in (docs/api.md, Approvals and throttling). Requires
    ``Idempotency-Key`` (the manager's PIN is not part of the request's identity and is
    never stored). Stored outcomes: 201, 409 ``already_refunded``, 409
    ``shift_not_open``."""
    key = idempotency.check_key(idempotency_key)
    approved_by = await run_in_threadpool(refunds.authorize, database, principal, ref,
                                          body.manager)
    if approved_by is None:
        assert body.manager is not None  # authorize answers None only to check its PIN
        approved_by = await pin_checks.manager_approval(request, principal, body.manager,
                                                        purpose="refund")
    approver = approved_by
    outcome = await run_in_threadpool(
        lambda: refunds.create_refund(database, principal, ref, body, approved_by=approver,
                                      key=key, path=f"/v1/sales/{ref}/refunds",
                                      now=settings.clock.now()))
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)
