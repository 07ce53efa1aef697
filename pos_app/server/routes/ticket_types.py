"""Capacity and ticket type settings (manager): ``POST /v1/ticket-types/{id}/capacity``,
``POST /v1/capacity/bulk`` and ``PATCH /v1/ticket-types/{id}`` (idempotent, one transaction
each)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Path
from fastapi.responses import JSONResponse

from pos_app.api.schemas import (
    BulkCapacityChange,
    CapacityChange,
    TicketType,
    TicketTypePatch,
    TicketTypesResponse,
)
from pos_app.server.deps import DatabaseDep, ManagerPrincipal, SettingsDep
from pos_app.server.routes.responses import errors
from pos_app.server.services import capacity, idempotency

__all__ = ["router"]

router = APIRouter(tags=["inventory"])

TicketTypeId = Annotated[int, Path(ge=1, le=2**31 - 1, description="the ticket type's id")]
IdempotencyKeyHeader = Annotated[str | None, Header(alias="Idempotency-Key")]

_403 = "forbidden: not a manager (or a channel token)"
_409 = ("capacity_below_committed (with ticket_types: [{ticket_type_id, name, delta, "
        "capacity, sold, held}]; stored and replayed), idempotency_key_voided, "
        "request_in_progress")
_422 = ("invalid_request: schema error, missing or malformed Idempotency-Key (never "
        "stored); idempotency_key_reused")


def _answer(outcome: capacity.CapacityOutcome) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)


@router.post("/ticket-types/{ticket_type_id}/capacity", response_model=TicketType,
             responses=errors(401, 403, 404, 409, 422, s403=_403,
                              s404="not_found: no such ticket type (not stored)",
                              s409=_409 + "; the body also carries the failing ticket "
                                          "type's ticket_type_id, capacity, sold and held",
                              s422=_422))
def change_capacity(ticket_type_id: TicketTypeId, body: CapacityChange,
                    manager: ManagerPrincipal, database: DatabaseDep, settings: SettingsDep,
                    idempotency_key: IdempotencyKeyHeader = None) -> JSONResponse:
    """Add ``delta`` (non-zero; negative to remove places) to the capacity, with a reason.
    A decrease below ``sold + held`` (unexpired holds) is refused with
    ``capacity_below_committed`` and changes nothing. Requires ``Idempotency-Key``."""
    key = idempotency.check_key(idempotency_key)
    return _answer(capacity.change_capacity(
        database, manager, ticket_type_id, body, key=key,
        path=f"/v1/ticket-types/{ticket_type_id}/capacity", now=settings.clock.now()))


@router.post("/capacity/bulk", response_model=TicketTypesResponse,
             responses=errors(401, 403, 409, 422, s403=_403, s409=_409,
                              s422=_422 + "; unknown ticket type ids (with ticket_type_ids; "
                                          "never stored)"))
def bulk_capacity(body: BulkCapacityChange, manager: ManagerPrincipal, database: DatabaseDep,
                  settings: SettingsDep,
                  idempotency_key: IdempotencyKeyHeader = None) -> JSONResponse:
    """Change the capacity of several ticket types (any events) all or nothing: one change
    that would fall below its committed tickets refuses the whole request, naming every
    such ticket type. Answers the changed ticket types by id. Requires
    ``Idempotency-Key``."""
    key = idempotency.check_key(idempotency_key)
    return _answer(capacity.bulk_change(database, manager, body, key=key,
                                        path="/v1/capacity/bulk", now=settings.clock.now()))


@router.patch("/ticket-types/{ticket_type_id}", response_model=TicketType,
              responses=errors(401, 403, 404, 409, 422, s403=_403,
                               s404="not_found: no such ticket type (not stored)",
                               s409="idempotency_key_voided, request_in_progress",
                               s422=_422 + "; thresholds with critical > low, an alert "
                                           "ladder not strictly descending, no field given"))
def patch_ticket_type(ticket_type_id: TicketTypeId, body: TicketTypePatch,
                      manager: ManagerPrincipal, database: DatabaseDep, settings: SettingsDep,
                      idempotency_key: IdempotencyKeyHeader = None) -> JSONResponse:
    """Change ``public_limit`` (null: no limit, online sells the whole capacity),
    ``thresholds``, ``alert_ladder`` or ``price`` (future sales only). Each changed field is
    audited (``public_limit_change``, ``threshold_change``, ``alert_ladder_change``,
    ``price_change``, with ``old -> new`` and the optional ``reason``) and announced as an
    inventory change. Requires ``Idempotency-Key``, like every change of capacity
    settings."""
    key = idempotency.check_key(idempotency_key)
    return _answer(capacity.patch_ticket_type(
        database, manager, ticket_type_id, body, key=key,
        path=f"/v1/ticket-types/{ticket_type_id}", now=settings.clock.now()))
