""":class:`ManagerDesk`: the manager's side of the register (capacity, ticket type edits,
stock alerts, the audit log, shift lists and summaries).

Capacity changes go through the journal like sales (``shared/DESIGN.md``): the entry and its
idempotency key are committed ``pending`` before the request is sent, so a lost answer is
settled by reconciliation and never applied twice. Journal operations and their bodies:

- ``capacity_change``: ``{ticket_type_id, delta, reason}``; reference ``ticket type N``.
- ``capacity_bulk``: ``{changes: [{ticket_type_id, delta}], reason}``; reference
  ``N ticket types``.
- ``ticket_type_edit``: ``{ticket_type_id, public_limit?, thresholds?, alert_ladder?,
  price?, reason?}`` (the ``PATCH`` body plus the id); reference ``ticket type N``.

Reads (alerts, audit pages, shifts) are not journaled; they raise the :mod:`pos_app.client`
error tree. Every method blocks on the network: the window calls them on its task runner
only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Literal, Protocol

from pos_app.api.errors import ErrorCode
from pos_app.api.schemas import (
    AlertsResponse,
    AuditPage,
    AuditVerify,
    ErrorBody,
    SalesReport,
    SecurityAlertsResponse,
    SessionResponse,
    Shift,
    ShiftList,
    TicketType,
    TicketTypePatch,
    TicketTypesResponse,
)
from pos_app.client import InventoryClient, NotSignedIn, TerminalConfig
from pos_app.journal._operations import run_operation
from pos_app.journal._store import EntryState, Journal

if TYPE_CHECKING:
    from pos_app.client._manager import AuditQuery

__all__ = ["CAPACITY_OPERATIONS", "CapacityOutcome", "ManagerDesk", "capacity_message"]

CAPACITY_OPERATIONS = ("capacity_change", "capacity_bulk", "ticket_type_edit")


@dataclass(frozen=True, slots=True)
class CapacityOutcome:
    """How a capacity change or ticket type edit ended, as settled in the journal.

    Attributes:
        key: the journal entry's idempotency key.
        state: ``confirmed``, ``refused`` (``error`` says why; ``offline`` = never sent),
            ``unknown`` or ``voided``.
        ticket_types: the changed ticket types with their new counts when confirmed, else
            empty.
        error: the server's error body or a local ``offline`` / ``outcome_unknown`` one.
        message: one sentence for the manager.
    """

    key: str
    state: EntryState
    ticket_types: tuple[TicketType, ...]
    error: ErrorBody | None
    message: str


def capacity_message(ticket_types: Sequence[TicketType]) -> str:
    """The manager's sentence for a confirmed change, e.g. ``"Capacity of GA is now 520."``
    or ``"Capacity changed for 3 ticket types."``."""
    if len(ticket_types) == 1:
        return f"Capacity of {ticket_types[0].name} is now {ticket_types[0].capacity}."
    return f"Capacity changed for {len(ticket_types)} ticket types."


def _refusal_sentence(error: ErrorBody, fallback: str) -> str:
    if error.error == ErrorCode.CAPACITY_BELOW_COMMITTED:
        return ("Capacity cannot go below the tickets already sold and held - reduce by "
                "less.")
    if error.error == ErrorCode.FORBIDDEN:
        return "Only a manager can change capacity."
    return fallback


class RegisterLike(Protocol):
    """What the manager's calls need of the register (:class:`~pos_app.journal.Register`):
    its client and journal, the terminal's configuration and the signed-in session."""

    client: InventoryClient
    journal: Journal

    @property
    def config(self) -> TerminalConfig: ...

    @property
    def session(self) -> SessionResponse | None: ...


class ManagerDesk:
    """The manager's calls, made through ``register`` (its client, journal and session)."""

    def __init__(self, register: RegisterLike) -> None:
        self._register = register

    def _staff_id(self) -> int:
        session = self._register.session
        if session is None or not self._register.client.has_session:
            raise NotSignedIn("Not signed in - sign in first.")
        return session.staff.id

    # --- capacity (journaled) -------------------------------------------------------------

    def change_capacity(self, ticket_type_id: int, delta: int, reason: str) -> CapacityOutcome:
        """Add ``delta`` (non-zero; negative reduces) to ticket type ``ticket_type_id``'s
        capacity with ``reason``, through the journal (operation ``capacity_change``).

        Raises ``ValueError`` (pydantic) for a zero delta or blank reason, and
        ``NotSignedIn``; nothing is journaled then."""
        from pos_app.api.schemas import CapacityChange

        CapacityChange(delta=delta, reason=reason)  # validate before journaling
        body = {"ticket_type_id": int(ticket_type_id), "delta": int(delta), "reason": reason}
        client = self._register.client
        key, state, result, error, message = run_operation(
            self._register.journal, "capacity_change", body, staff_id=self._staff_id(),
            terminal_id=self._register.config.terminal_id,
            send=lambda k: client.change_capacity(ticket_type_id, delta, reason,
                                                  idempotency_key=k),
            message=lambda t: capacity_message([t]))
        changed = (result,) if result is not None else ()
        if error is not None:
            message = _refusal_sentence(error, message)
        return CapacityOutcome(key, state, changed, error, message)

    def bulk_capacity(self, changes: Sequence[tuple[int, int]],
                      reason: str) -> CapacityOutcome:
        """Apply ``changes`` (``(ticket_type_id, delta)`` pairs, any events) with one
        ``reason``, all or nothing, through the journal (operation ``capacity_bulk``).

        Raises ``ValueError`` (pydantic) for an empty list, a repeated ticket type, a zero
        delta or a blank reason, and ``NotSignedIn``; nothing is journaled then."""
        from pos_app.api.schemas import BulkCapacityChange

        lines = [{"ticket_type_id": int(tid), "delta": int(delta)} for tid, delta in changes]
        BulkCapacityChange.model_validate({"changes": lines, "reason": reason})
        body = {"changes": lines, "reason": reason}
        client = self._register.client

        def send(key: str) -> TicketTypesResponse:
            return client.bulk_capacity(changes, reason, idempotency_key=key)

        key, state, result, error, message = run_operation(
            self._register.journal, "capacity_bulk", body, staff_id=self._staff_id(),
            terminal_id=self._register.config.terminal_id, send=send,
            message=lambda r: capacity_message(r.ticket_types))
        changed = tuple(result.ticket_types) if result is not None else ()
        if error is not None:
            message = _refusal_sentence(error, message)
        return CapacityOutcome(key, state, changed, error, message)

    # --- edits and reads (not journaled) --------------------------------------------------

    def update_ticket_type(self, ticket_type_id: int,
                           patch: TicketTypePatch) -> CapacityOutcome:
        """Change the public limit, thresholds, alert ladder or price of ticket type
        ``ticket_type_id`` (only the fields set in ``patch``), through the journal
        (operation ``ticket_type_edit``). Raises ``NotSignedIn`` (nothing journaled)."""
        body = {"ticket_type_id": int(ticket_type_id),
                **patch.model_dump(mode="json", exclude_unset=True)}
        client = self._register.client
        key, state, result, error, message = run_operation(
            self._register.journal, "ticket_type_edit", body, staff_id=self._staff_id(),
            terminal_id=self._register.config.terminal_id,
            send=lambda k: client.patch_ticket_type(ticket_type_id, patch,
                                                    idempotency_key=k),
            message=lambda t: f"{t.name} saved.")
        changed = (result,) if result is not None else ()
        if error is not None and error.error == ErrorCode.FORBIDDEN:
            message = "Only a manager can edit ticket types."
        return CapacityOutcome(key, state, changed, error, message)

    def alerts(self, since: int | None = None, limit: int = 100) -> AlertsResponse:
        """Stock-alert crossings after ``since`` (a ``seq``), newest last."""
        return self._register.client.list_alerts(since=since, limit=limit)

    def security_alerts(self, since: int | None = None,
                        limit: int = 100) -> SecurityAlertsResponse:
        """Bursts of failed PINs after ``since`` (an audit ``seq``), newest last."""
        return self._register.client.list_security_alerts(since=since, limit=limit)

    def audit_page(self, filters: AuditQuery | None = None, *, limit: int = 100,
                   cursor: str | None = None,
                   order: Literal["asc", "desc"] = "desc") -> AuditPage:
        """One page of the audit log (see ``InventoryClient.list_audit``); newest first by
        default, as a reviewer reads it."""
        return self._register.client.list_audit(filters, limit=limit, cursor=cursor,
                                                order=order)

    def verify_audit(self) -> AuditVerify:
        """The server's check of the whole hash chain (seconds on a long log)."""
        return self._register.client.verify_audit()

    def shifts(self, *, terminal_id: int | Literal["me"] | None = None,
               status: Literal["open", "closed"] | None = None,
               from_: datetime | None = None, to: datetime | None = None,
               limit: int = 100, cursor: str | None = None) -> ShiftList:
        """Shifts newest first with totals (managers: every terminal)."""
        return self._register.client.list_shifts(terminal_id=terminal_id, status=status,
                                                 from_=from_, to=to, limit=limit,
                                                 cursor=cursor)

    def shift(self, shift_id: int) -> Shift:
        """One shift's summary (totals, holds, movements, cash-up when closed)."""
        return self._register.client.get_shift(shift_id)

    def sales_report(self, event_id: str, *, bucket: int | None = None,
                     from_: datetime | None = None,
                     to: datetime | None = None) -> SalesReport:
        """Event ``event_id``'s net sales by channel, per ticket type and over time (see
        ``InventoryClient.sales_report``); the dashboard's channel split and chart."""
        return self._register.client.sales_report(event_id, bucket=bucket, from_=from_, to=to)
