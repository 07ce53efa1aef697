"""The audit log (manager): ``GET /v1/audit`` (filtered, keyset-paged) and
``GET /v1/audit/verify``."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from pos_app.api.schemas import AuditPage, AuditVerify
from pos_app.server import audit
from pos_app.server.deps import DatabaseDep, DbSession, ManagerPrincipal
from pos_app.server.inputs import QueryTime
from pos_app.server.routes.responses import errors
from pos_app.server.services import audit_query

__all__ = ["router"]

router = APIRouter(prefix="/audit", tags=["audit"])

Id = Annotated[int | None, Query(ge=0, le=2**31 - 1)]


@router.get("", response_model=AuditPage, responses=errors(
    401, 403, 422, s422="invalid_request: a bad filter, or a cursor not given out for this "
                        "order"))
def list_audit(
    _manager: ManagerPrincipal, session: DbSession,
    from_: Annotated[QueryTime | None, Query(alias="from",
                                                 description="entries at or after")] = None,
    to: Annotated[QueryTime | None, Query(description="entries before")] = None,
    terminal_id: Id = None, staff_id: Id = None, shift_id: Id = None,
    action: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    ticket_type_id: Id = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200,
                                   description="text in the reason, reference or action")]
    = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    order: Literal["asc", "desc"] = "asc",
) -> AuditPage:
    """Audit entries matching every filter given, by ``seq`` (``asc``: oldest first,
    ``desc``: newest first), ``limit`` per page; follow ``next_cursor`` (null at the end).
    With ``q`` one page scans a bounded stretch of the log, so it may hold fewer than
    ``limit`` entries while ``next_cursor`` is still set."""
    filters = audit_query.AuditFilters(
        from_=from_, to=to, terminal_id=terminal_id, staff_id=staff_id, shift_id=shift_id,
        action=action, ticket_type_id=ticket_type_id, q=q)
    return audit_query.list_entries(session, filters, limit=limit, cursor=cursor, order=order)


@router.get("/verify", response_model=AuditVerify, responses=errors(401, 403))
def verify(_manager: ManagerPrincipal, database: DatabaseDep) -> AuditVerify:
    """Recompute the whole hash chain under the audit key, check it against the heads
    anchored outside the database and check that the counts follow on: ``ok``, how many
    entries were checked, the ``seq`` of the first bad entry and the ``problem`` there
    (``hash``, ``counts``, ``truncated``, ``rewritten``), and ``old_count_breaks`` from
    before the count check (:func:`pos_app.server.audit.verify`)."""
    # The anchors first, then a session of its own: only committed heads are anchored, so
    # none read now can be ahead of the head this session reads next.
    anchors = audit.Anchors.of(database.chain)
    with database.read() as session:
        result = audit.verify(session, anchors=anchors)
    return AuditVerify.model_validate(result._asdict())
