"""HTTP routes, one router per resource, all under ``/v1``."""

from __future__ import annotations

from fastapi import APIRouter

from pos_app.server.routes import events, health, sales, sessions, terminals

__all__ = ["api_router"]

api_router = APIRouter(prefix="/v1")
api_router.include_router(health.router)
api_router.include_router(terminals.router)
api_router.include_router(sessions.router)
api_router.include_router(events.router)
api_router.include_router(sales.router)
