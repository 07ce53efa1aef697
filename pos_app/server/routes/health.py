"""``GET /v1/health``: liveness and the database kind, no authentication."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text

import pos_app
from pos_app.api.schemas import Health
from pos_app.server.deps import DbSession, SettingsDep

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
def health(session: DbSession, settings: SettingsDep) -> Health:
    """Server status: ``database`` is ``sqlite`` or ``postgresql``; ``server_time`` is the
    server clock (UTC), which decides every expiry."""
    session.execute(text("SELECT 1"))
    return Health(status="ok", version=pos_app.__version__,
                  database=session.get_bind().dialect.name, server_time=settings.clock.now())
