"""Webhooks (manager, read-only): ``GET /v1/webhooks`` and
``GET /v1/webhooks/{webhook_id}/deliveries`` (the delivery log). An extension of
``shared/API.md`` for issue 6; webhooks are added and removed with ``pos-app admin
add-webhook`` / ``remove-webhook``, so a secret never crosses the API."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from pos_app.api.schemas import MAX_ID, WebhookDeliveryPage, WebhookList
from pos_app.server.deps import DbSession, ManagerPrincipal
from pos_app.server.routes.responses import errors
from pos_app.server.services import webhooks

__all__ = ["router"]

router = APIRouter(prefix="/webhooks", tags=["webhooks"])


@router.get("", response_model=WebhookList, responses=errors(401, 403))
def list_webhooks(_manager: ManagerPrincipal, session: DbSession) -> WebhookList:
    """Every webhook, removed ones included, oldest first, without secrets: its URL (path
    and query cut to ``/...``: they are often the receiver's own credential), the
    newest stock alert it is done with (``last_seq``), how many wait (``pending``) and,
    while an alert is being retried, its failed ``attempts`` and ``next_attempt_at``."""
    return webhooks.list_webhooks(session)


@router.get("/{webhook_id}/deliveries", response_model=WebhookDeliveryPage,
            responses=errors(401, 403, 404, 422, s404="not_found: no such webhook",
                             s422="invalid_request: a bad limit, or a cursor not given out "
                                  "here"))
def list_deliveries(
    _manager: ManagerPrincipal, session: DbSession,
    webhook_id: Annotated[int, Path(ge=1, le=MAX_ID)],
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> WebhookDeliveryPage:
    """The webhook's delivery log, newest attempt first: for each attempt the alert
    ``seq``, the ``X-POS-Delivery`` id, attempt number, time, the receiver's status or the
    error, duration and outcome (``delivered``, ``retrying`` or ``failed``); follow
    ``next_cursor`` (null at the end)."""
    return webhooks.list_deliveries(session, webhook_id, limit=limit, cursor=cursor)
