"""``GET /v1/alerts?since=`` (manager): stock alerts, newest last; ``GET
/v1/alerts/security?since=``: bursts of failed PINs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from pos_app.api.schemas import AlertsResponse, SecurityAlertsResponse
from pos_app.server.deps import DbSession, ManagerPrincipal
from pos_app.server.routes.responses import errors
from pos_app.server.services import audit_query

__all__ = ["router"]

router = APIRouter(tags=["alerts"])


@router.get("/alerts", response_model=AlertsResponse, responses=errors(401, 403, 422))
def list_alerts(_manager: ManagerPrincipal, session: DbSession,
                since: Annotated[int | None, Query(ge=0, le=2**62,
                                                   description="the last seq already seen")]
                = None,
                limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> AlertsResponse:
    """The ``stock_alert`` crossings (a rung of a ticket type's ``alert_ladder`` crossed
    downwards), newest last: those after ``since`` (at most ``limit``; ask again with the
    last ``seq`` for more), or without ``since`` the latest ``limit``."""
    return audit_query.list_alerts(session, since=since, limit=limit)


@router.get("/alerts/security", response_model=SecurityAlertsResponse,
            responses=errors(401, 403, 422))
def list_security_alerts(_manager: ManagerPrincipal, session: DbSession,
                         since: Annotated[int | None, Query(
                             ge=0, le=2**62, description="the last seq already seen")] = None,
                         limit: Annotated[int, Query(ge=1, le=1000)] = 100,
                         ) -> SecurityAlertsResponse:
    """Security alerts, newest last: a burst of failed PINs for one username (sign-ins and
    approvals together: ``pin_alert_failures`` within ``pin_alert_window``, docs/api.md,
    Approvals and throttling). ``seq`` is the ``security_alert`` entry's audit seq: those
    after ``since`` (at most ``limit``), or without ``since`` the latest ``limit``."""
    return audit_query.list_security_alerts(session, since=since, limit=limit)
