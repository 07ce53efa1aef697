"""Shifts (cash-up): ``POST /v1/shifts``, ``POST /v1/shifts/{id}/cash-movements``,
``POST /v1/shifts/{id}/close`` (idempotent, one transaction each), ``GET /v1/shifts`` and
``GET /v1/shifts/{id}`` (``shared/API.md``, Shifts)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from pos_app.api.schemas import (
    CashMovement,
    CashMovementCreate,
    Shift,
    ShiftClose,
    ShiftList,
    ShiftOpen,
)
from pos_app.server.deps import CurrentPrincipal, DatabaseDep, DbSession, SettingsDep
from pos_app.server.routes import pin_checks
from pos_app.server.routes.responses import errors
from pos_app.server.services import idempotency, shifts

__all__ = ["router"]

router = APIRouter(prefix="/shifts", tags=["shifts"])

IdempotencyKeyHeader = Annotated[str | None, Header(alias="Idempotency-Key")]
ShiftId = Annotated[int, Path(ge=1, le=2**31 - 1, description="the shift's id")]

_CHANGE_ERRORS = errors(
    401, 403, 404, 409, 422,
    s403="forbidden: a channel token, or a cashier acting on another terminal's shift",
    s404="not_found: no such shift (not stored)",
    s409="shift_not_open (the shift is closed; stored and replayed), "
         "idempotency_key_voided, request_in_progress",
    s422="invalid_request: schema error, missing or malformed Idempotency-Key (never "
         "stored); idempotency_key_reused",
)


def _answer(outcome: shifts.ShiftOutcome, location: str | None = None) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    if location is not None and outcome.status == 201 and not outcome.replayed:
        headers["Location"] = location
    return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)


@router.post("", status_code=201, response_model=Shift, responses=errors(
    401, 403, 409, 422,
    s403="forbidden: a channel token (shifts are kept by staff at a terminal)",
    s409="shift_already_open (with shift_id; stored and replayed), idempotency_key_voided, "
         "request_in_progress",
    s422="invalid_request: schema error, missing or malformed Idempotency-Key (never "
         "stored); idempotency_key_reused"))
def open_shift(body: ShiftOpen, principal: CurrentPrincipal, database: DatabaseDep,
               settings: SettingsDep, idempotency_key: IdempotencyKeyHeader = None,
               ) -> JSONResponse:
    """Open a shift at the caller's terminal with ``opening_float`` minor units of the venue's
    currency. One open shift per terminal. Requires ``Idempotency-Key``."""
    key = idempotency.check_key(idempotency_key)
    outcome = shifts.open_shift(database, principal, body, key=key, path="/v1/shifts",
                                currency=settings.currency, now=settings.clock.now())
    return _answer(outcome, f"/v1/shifts/{outcome.body.get('id')}")


@router.post("/{shift_id}/cash-movements", status_code=201, response_model=CashMovement,
             responses=_CHANGE_ERRORS)
def add_cash_movement(shift_id: ShiftId, body: CashMovementCreate, principal: CurrentPrincipal,
                      database: DatabaseDep, settings: SettingsDep,
                      idempotency_key: IdempotencyKeyHeader = None) -> JSONResponse:
    """A ``pay_in``, ``pay_out`` or ``drop`` (to the safe) of ``amount`` > 0 minor units on
    an open shift, with a reason. Requires ``Idempotency-Key``."""
    key = idempotency.check_key(idempotency_key)
    outcome = shifts.add_cash_movement(database, principal, shift_id, body, key=key,
                                       path=f"/v1/shifts/{shift_id}/cash-movements",
                                       now=settings.clock.now())
    return _answer(outcome)


@router.post("/{shift_id}/close", response_model=Shift, responses=errors(
    401, 403, 404, 409, 422, 429,
    s403="forbidden: a channel token, a cashier acting on another terminal's shift. "
         "approval_refused: the manager's username and PIN do not approve it (unknown or "
         "inactive user, wrong PIN, not a manager: one answer; never stored)",
    s404="not_found: no such shift (not stored; answered before any PIN is looked at)",
    s429="too_many_attempts (Retry-After): too many failed PINs for this username at this "
         "terminal, or from this address",
    s409="variance_needs_approval (the count is off by more than the threshold and the "
         "request has no manager approval or no note; not stored, nothing changed, no "
         "amount in the body), shift_not_open (the shift is closed; stored and replayed), "
         "idempotency_key_voided, request_in_progress",
    s422="invalid_request: schema error, missing or malformed Idempotency-Key (never "
         "stored); idempotency_key_reused"))
async def close_shift(request: Request, shift_id: ShiftId, body: ShiftClose,
                      principal: CurrentPrincipal, database: DatabaseDep,
                      settings: SettingsDep,
                      idempotency_key: IdempotencyKeyHeader = None) -> JSONResponse:
    """Close an open shift with the cash counted in the drawer; answers the shift with
    ``expected_cash`` (float + cash sales - cash refunds + pay-ins - pay-outs - drops),
    ``counted_cash`` and ``variance`` (counted - expected). Requires ``Idempotency-Key``.

    A count off by more than the server's variance threshold (either way) needs a manager:
    a manager closing approves themselves, anyone else sends ``manager: {username, pin}``;
    and a non-blank ``note``. The shift is found and the caller authorised before the PIN
    is looked at; the PIN is throttled like a sign-in (docs/api.md, Approvals and
    throttling). The manager's PIN is not part of the request's identity and is never
    stored."""
    key = idempotency.check_key(idempotency_key)
    approving = await run_in_threadpool(shifts.authorize_close, database, principal,
                                        shift_id, body.manager)
    if body.manager is not None:
        approving = await pin_checks.manager_approval(request, principal, body.manager,
                                                      purpose="cash-up variance")
    approver = approving
    outcome = await run_in_threadpool(
        lambda: shifts.close_shift(database, principal, shift_id, body, approving=approver,
                                   key=key, path=f"/v1/shifts/{shift_id}/close",
                                   now=settings.clock.now(),
                                   variance_threshold=settings.variance_threshold))
    return _answer(outcome)


@router.get("", response_model=ShiftList, responses=errors(
    401, 403, 422, s403="forbidden: a cashier asking for another terminal's shifts"))
def list_shifts(
    principal: CurrentPrincipal, session: DbSession, settings: SettingsDep,
    terminal_id: Annotated[str | None, Query(
        description="a terminal id, or 'me' for the caller's terminal; cashiers see only "
                    "their own (the default for them), managers every terminal")] = None,
    status: Literal["open", "closed"] | None = None,
    opened_from: Annotated[datetime | None, Query(
        alias="from", description="opened at or after (RFC 3339)")] = None,
    opened_to: Annotated[datetime | None, Query(
        alias="to", description="opened before (RFC 3339)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> ShiftList:
    """Shifts newest first, each with its totals; page on with ``next_cursor``."""
    return shifts.list_shifts(session, principal, terminal_id=terminal_id, status=status,
                              opened_from=opened_from, opened_to=opened_to, limit=limit,
                              cursor=cursor, now=settings.clock.now())


@router.get("/{shift_id}", response_model=Shift, responses=errors(
    401, 403, 404, s403="forbidden: a cashier asking for another terminal's shift"))
def get_shift(shift_id: ShiftId, principal: CurrentPrincipal, session: DbSession,
              settings: SettingsDep) -> Shift:
    """A shift with totals by ticket type, cash sales and refunds (count and amount), holds
    placed / converted / released / expired, cash movements, and (once closed) expected
    cash, counted cash and variance."""
    return shifts.get_shift(session, principal, shift_id, settings.clock.now())
