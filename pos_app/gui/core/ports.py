"""What the window needs from the terminal core, as protocols (``pos_app.journal.Register``).

The window depends on these shapes, not on the class, so tests can hand it a fake. Every
method is a blocking network or disk call: the window only ever calls them through the
:class:`~pos_app.gui.core.task_runner.TaskRunner`, never on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Literal, Protocol

from pos_app.api.schemas import (
    AlertsResponse,
    AuditPage,
    AuditVerify,
    Customer,
    ErrorBody,
    EventsResponse,
    Hold,
    Sale,
    SaleLineIn,
    SalesReport,
    SecurityAlertsResponse,
    SessionResponse,
    Shift,
    ShiftList,
    TicketType,
    TicketTypePatch,
)

__all__ = [
    "CapacityOutcomeLike",
    "HoldDeskPort",
    "HoldOutcomeLike",
    "ManagerDeskLike",
    "ManagerPort",
    "OutcomeLike",
    "RegisterBase",
    "RegisterConfig",
    "RegisterPaths",
    "RegisterPort",
    "SaleOutcomeLike",
    "state_name",
]

EntryStateLike = Literal["confirmed", "refused", "unknown"]


def state_name(settled: object) -> str:
    """The journal state of an outcome or journal entry as plain text (``"confirmed"``,
    ``"refused"``, ``"unknown"``, ...): its ``state`` may be an enum (``EntryState``) or
    already a string; ``""`` when it has none."""
    state = getattr(settled, "state", "")
    return str(state.value) if isinstance(state, Enum) else str(state)


class RegisterConfig(Protocol):
    @property
    def terminal_name(self) -> str: ...

    @property
    def server_url(self) -> str: ...


class RegisterPaths(Protocol):
    @property
    def receipts_dir(self) -> Path: ...


class OutcomeLike(Protocol):
    """A journal-settled request: ``key`` (its idempotency key), ``state`` (``confirmed``,
    ``refused``, ``unknown`` or ``voided``: what the cashier is shown), the server's refusal
    and the cashier's sentence."""

    @property
    def key(self) -> str: ...

    @property
    def state(self) -> str: ...

    @property
    def error(self) -> ErrorBody | None: ...

    @property
    def message(self) -> str: ...


class SaleOutcomeLike(OutcomeLike, Protocol):
    """A journal-settled sale attempt (``pos_app.journal.SaleOutcome``)."""

    @property
    def sale(self) -> Sale | None: ...


class HoldOutcomeLike(OutcomeLike, Protocol):
    """A journal-settled hold or hold release (``pos_app.journal.HoldOutcome``); ``hold`` is
    the server's hold when ``confirmed``."""

    @property
    def hold(self) -> Hold | None: ...


class RegisterBase(Protocol):
    """What every screen reads from the register: who is signed in, the terminal, its
    folders, and the events on sale."""

    @property
    def session(self) -> SessionResponse | None: ...

    @property
    def config(self) -> RegisterConfig: ...

    @property
    def paths(self) -> RegisterPaths: ...

    def events(self) -> EventsResponse: ...


class RegisterPort(RegisterBase, Protocol):
    """The terminal core's register (see module docstring for threading)."""

    def sign_in(self, username: str, pin: str) -> SessionResponse: ...

    def sign_out(self) -> None: ...

    def replace_session(self, username: str, pin: str) -> SessionResponse:
        """Sign ``username`` in afresh, then end the session it replaces on the server."""
        ...

    def sell(self, lines: Sequence[SaleLineIn], tendered: int) -> SaleOutcomeLike: ...


class HoldDeskPort(RegisterBase, Protocol):
    """What the hold desk (``pos_app.gui.holds.hold_desk``) needs from the register: cash holds
    placed, listed, paid and released (see module docstring for threading)."""

    def list_holds(self, status: str | None = None, kind: str | None = None,
                   q: str | None = None) -> list[Hold]: ...

    def hold(self, lines: Sequence[SaleLineIn], kind: str = "cash",
             customer: Customer | None = None, *,
             ttl_seconds: int | None = None,
             replaces: str | None = None) -> HoldOutcomeLike: ...

    def release_hold(self, ref: str, reason: str | None = None) -> HoldOutcomeLike: ...

    def pay_hold(self, ref: str, tendered: int) -> SaleOutcomeLike: ...


class CapacityOutcomeLike(OutcomeLike, Protocol):
    """A journal-settled capacity change or ticket type edit
    (``pos_app.journal.CapacityOutcome``); ``ticket_types`` are the changed ones, with their
    new counts, when ``confirmed``."""

    @property
    def ticket_types(self) -> Sequence[TicketType]: ...


class ManagerDeskLike(Protocol):
    """The manager's calls (``pos_app.journal.ManagerDesk``); all block on the network."""

    def change_capacity(self, ticket_type_id: int, delta: int,
                        reason: str) -> CapacityOutcomeLike: ...

    def bulk_capacity(self, changes: Sequence[tuple[int, int]],
                      reason: str) -> CapacityOutcomeLike: ...

    def update_ticket_type(self, ticket_type_id: int,
                           patch: TicketTypePatch) -> CapacityOutcomeLike: ...

    def alerts(self, since: int | None = None, limit: int = 100) -> AlertsResponse: ...

    def security_alerts(self, since: int | None = None,
                        limit: int = 100) -> SecurityAlertsResponse: ...

    def audit_page(self, filters: Mapping[str, str | int | datetime | None] | None = None, *,
                   limit: int = 100, cursor: str | None = None,
                   order: Literal["asc", "desc"] = "desc") -> AuditPage: ...

    def verify_audit(self) -> AuditVerify: ...

    def shifts(self, *, terminal_id: int | Literal["me"] | None = None,
               status: Literal["open", "closed"] | None = None,
               from_: datetime | None = None, to: datetime | None = None,
               limit: int = 100, cursor: str | None = None) -> ShiftList: ...

    def shift(self, shift_id: int) -> Shift: ...

    def sales_report(self, event_id: str, *, bucket: int | None = None,
                     from_: datetime | None = None,
                     to: datetime | None = None) -> SalesReport: ...


class ManagerPort(RegisterBase, Protocol):
    """A register with the manager's desk (``Register.manager``)."""

    @property
    def manager(self) -> ManagerDeskLike: ...
