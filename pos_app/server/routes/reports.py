"""Reports for managers: ``GET /v1/reports/sales`` (issue 6, the live inventory dashboard)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from pos_app.api import schemas
from pos_app.server.deps import DbSession, ManagerPrincipal, SettingsDep
from pos_app.server.inputs import QueryTime
from pos_app.server.routes.responses import errors
from pos_app.server.services import sales_report

__all__ = ["router"]

router = APIRouter(prefix="/reports", tags=["reports"])


@router.get("/sales", response_model=schemas.SalesReport, responses=errors(
    401, 403, 404, 422, s404="not_found: no such event",
    s422=f"invalid_request: a bad parameter, from after to, or more than "
         f"{schemas.MAX_REPORT_POINTS} buckets"))
def sales(
    _manager: ManagerPrincipal, session: DbSession, settings: SettingsDep,
    event_id: Annotated[str, Query(min_length=1, max_length=64)],
    bucket: Annotated[int | None, Query(
        ge=1, le=schemas.MAX_REPORT_BUCKET_SECONDS,
        description="bucket width in seconds; default: the smallest of 1 min, 5 min, 15 "
                    "min, 30 min, 1 h, 3 h, 6 h, 12 h, 1 d, 2 d, 7 d, 14 d, 30 d, 91 d, 366 "
                    "d that spans the window in at most 500 buckets")] = None,
    from_: Annotated[QueryTime | None, Query(
        alias="from", description="sales and refunds at or after; default: the first "
                                  "sale of the event")] = None,
    to: Annotated[QueryTime | None, Query(description="before; default: now")] = None,
) -> schemas.SalesReport:
    """An event's sales, net of refunds, by channel: per ticket type, and per bucket over
    time (each channel's non-empty buckets, oldest first)."""
    return sales_report.sales_report(session, event_id, bucket=bucket, start=from_, end=to,
                                     now=settings.clock.now())
