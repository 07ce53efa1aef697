"""The manager's calls of :class:`~pos_app.client.InventoryClient`: capacity, ticket type
edits, stock alerts, the audit log and shift lists (``shared/API.md``, "Inventory", "Shifts"
and "Audit log").

A mixin, so the client keeps one transport: every method here sends through the client's
``_send`` / ``_post_keyed`` and parses with ``_parse``, raising the same error tree
(``Forbidden`` for a cashier, ``InvalidRequest`` for a bad body, ``ServerUnreachable``,
``OutcomeUnknown``, ``InvalidResponse``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import urlencode

from pydantic import BaseModel

from pos_app.api.schemas import (
    AlertsResponse,
    AuditPage,
    AuditVerify,
    BulkCapacityChange,
    CapacityChange,
    SalesReport,
    SecurityAlertsResponse,
    ShiftList,
    TicketType,
    TicketTypePatch,
    TicketTypesResponse,
)

if TYPE_CHECKING:
    import httpx

__all__ = ["VERIFY_TIMEOUT", "AuditQuery", "ManagerCalls", "query_string"]

_M = TypeVar("_M", bound=BaseModel)

VERIFY_TIMEOUT = 600.0
"""Seconds the chain check may take on the server (a long log takes minutes on a small box);
the client's usual 10 s would give up on any log past ~500,000 entries."""

#: The audit filters ``GET /v1/audit`` takes, by query name (values as given to
#: :meth:`ManagerCalls.list_audit`).
AuditQuery = Mapping[str, "str | int | datetime | None"]


def query_string(params: Mapping[str, str | int | datetime | None]) -> str:
    """``params`` as a URL query: ``None`` left out, datetimes as RFC 3339.

    Raises ``ValueError`` for a naive datetime (it has no single meaning, and the server
    would refuse it)."""
    out: dict[str, str] = {}
    for name, value in params.items():
        if value is None:
            continue
        if isinstance(value, datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"{name} must be timezone-aware, got {value!r}")
            out[name] = value.isoformat()
        else:
            out[name] = str(value)
    return urlencode(out)


class ManagerCalls:
    """Manager endpoints, mixed into ``InventoryClient`` (see the module docstring)."""

    if TYPE_CHECKING:
        def _send(self, method: str, path: str, *, json: Any = None,
                  headers: Mapping[str, str] | None = None,
                  timeout: float | None = None) -> httpx.Response: ...

        def _post_keyed(self, path: str, body: Any,
                        idempotency_key: str) -> httpx.Response: ...

        def _session_auth(self) -> dict[str, str]: ...

        @staticmethod
        def _parse(response: httpx.Response, model: type[_M]) -> _M: ...

    def change_capacity(self, ticket_type_id: int, delta: int, reason: str, *,
                        idempotency_key: str) -> TicketType:
        """``POST /v1/ticket-types/{id}/capacity``: add ``delta`` (non-zero; negative
        reduces) with a ``reason``. Raises ``Conflict`` (``capacity_below_committed``),
        ``NotFound``, ``Forbidden``, ``InvalidRequest``; ``ValueError`` (pydantic) for a bad
        body before anything is sent."""
        body = CapacityChange(delta=delta, reason=reason).model_dump(mode="json")
        path = f"/v1/ticket-types/{int(ticket_type_id)}/capacity"
        return self._parse(self._post_keyed(path, body, idempotency_key), TicketType)

    def bulk_capacity(self, changes: Sequence[tuple[int, int]], reason: str, *,
                      idempotency_key: str) -> TicketTypesResponse:
        """``POST /v1/capacity/bulk``: ``changes`` as ``(ticket_type_id, delta)`` pairs with
        one ``reason``, all or nothing. Raises as :meth:`change_capacity`."""
        body = BulkCapacityChange.model_validate(
            {"changes": [{"ticket_type_id": tid, "delta": delta} for tid, delta in changes],
             "reason": reason}).model_dump(mode="json")
        return self._parse(self._post_keyed("/v1/capacity/bulk", body, idempotency_key),
                           TicketTypesResponse)

    def patch_ticket_type(self, ticket_type_id: int, patch: TicketTypePatch, *,
                          idempotency_key: str) -> TicketType:
        """``PATCH /v1/ticket-types/{id}``: public limit, thresholds, alert ladder or price
        (only the fields set in ``patch`` are sent). Raises ``NotFound``, ``Forbidden``,
        ``InvalidRequest``."""
        body = patch.model_dump(mode="json", exclude_unset=True)
        headers = self._session_auth()
        headers["Idempotency-Key"] = idempotency_key
        path = f"/v1/ticket-types/{int(ticket_type_id)}"
        return self._parse(self._send("PATCH", path, json=body, headers=headers), TicketType)

    def list_alerts(self, *, since: int | None = None, limit: int = 100) -> AlertsResponse:
        """``GET /v1/alerts``: stock-alert crossings after ``since`` (a ``seq``), newest
        last; without ``since`` the latest ``limit``."""
        query = query_string({"since": since, "limit": limit})
        return self._parse(self._send("GET", f"/v1/alerts?{query}",
                                      headers=self._session_auth()), AlertsResponse)

    def list_security_alerts(self, *, since: int | None = None,
                             limit: int = 100) -> SecurityAlertsResponse:
        """``GET /v1/alerts/security``: bursts of failed PINs after ``since`` (an audit
        ``seq``), newest last; without ``since`` the latest ``limit``."""
        query = query_string({"since": since, "limit": limit})
        return self._parse(self._send("GET", f"/v1/alerts/security?{query}",
                                      headers=self._session_auth()), SecurityAlertsResponse)

    def list_audit(self, filters: AuditQuery | None = None, *, limit: int = 100,
                   cursor: str | None = None,
                   order: Literal["asc", "desc"] = "asc") -> AuditPage:
        """``GET /v1/audit``: one page of entries matching ``filters`` (query names
        ``from``, ``to``, ``terminal_id``, ``staff_id``, ``shift_id``, ``action``,
        ``ticket_type_id``, ``q``; ``None`` values left out), ordered by ``seq``; follow
        ``next_cursor`` with the same filters and order. Raises ``ValueError`` for a naive
        datetime, ``InvalidRequest`` for a filter the server rejects."""
        query = query_string({**(filters or {}), "limit": limit, "cursor": cursor,
                              "order": order})
        return self._parse(self._send("GET", f"/v1/audit?{query}",
                                      headers=self._session_auth()), AuditPage)

    def verify_audit(self, *, timeout: float = VERIFY_TIMEOUT) -> AuditVerify:
        """``GET /v1/audit/verify``: the whole hash chain recomputed on the server (slow on a
        long log: about 20 s per million entries here; call it off the GUI thread). Waits up
        to ``timeout`` seconds for the answer, not the client's usual limit."""
        return self._parse(self._send("GET", "/v1/audit/verify",
                                      headers=self._session_auth(), timeout=timeout),
                           AuditVerify)

    def list_shifts(self, *, terminal_id: int | Literal["me"] | None = None,
                    status: Literal["open", "closed"] | None = None,
                    from_: datetime | None = None, to: datetime | None = None,
                    limit: int = 100, cursor: str | None = None) -> ShiftList:
        """``GET /v1/shifts``: shifts newest first with their totals (cashiers see their own
        terminal's only); follow ``next_cursor``."""
        query = query_string({"terminal_id": terminal_id, "status": status, "from": from_,
                              "to": to, "limit": limit, "cursor": cursor})
        return self._parse(self._send("GET", f"/v1/shifts?{query}",
                                      headers=self._session_auth()), ShiftList)

    def sales_report(self, event_id: str, *, bucket: int | None = None,
                     from_: datetime | None = None,
                     to: datetime | None = None) -> SalesReport:
        """``GET /v1/reports/sales`` (manager): event ``event_id``'s net sales by channel,
        per ticket type and per ``bucket`` seconds (default: chosen by the server) in
        ``[from_, to)`` (default: its first sale to now). Raises ``Forbidden`` below
        manager, ``NotFound`` for an unknown event, ``InvalidRequest`` for a window of more
        than 500 buckets, ``ValueError`` for a naive datetime."""
        query = query_string({"event_id": event_id, "bucket": bucket, "from": from_,
                              "to": to})
        return self._parse(self._send("GET", f"/v1/reports/sales?{query}",
                                      headers=self._session_auth()), SalesReport)
