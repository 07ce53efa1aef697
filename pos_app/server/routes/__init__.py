"""HTTP routes, one router per resource, all under ``/v1``."""

from __future__ import annotations

from fastapi import APIRouter

from pos_app.server.routes import (
    alerts,
    audit,
    events,
    health,
    holds,
    idempotency_keys,
    inventory,
    refunds,
    reports,
    sales,
    sessions,
    shifts,
    terminals,
    ticket_types,
    webhooks,
)

__all__ = ["api_router"]

api_router = APIRouter(prefix="/v1")
for _module in (health, terminals, sessions, events, inventory, ticket_types, holds, sales,
                refunds, shifts, alerts, audit, idempotency_keys, webhooks, reports):
    api_router.include_router(_module.router)
