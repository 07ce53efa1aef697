"""What the window needs from the terminal core, as protocols (``pos_app.journal.Register``).

The window depends on these shapes, not on the class, so tests can hand it a fake. Every
method is a blocking network or disk call: the window only ever calls them through the
:class:`~pos_app.gui.task_runner.TaskRunner`, never on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol

from pos_app.api.schemas import (
    Customer,
    ErrorBody,
    EventsResponse,
    Hold,
    Sale,
    SaleLineIn,
    SessionResponse,
)

__all__ = [
    "HoldDeskPort",
    "HoldOutcomeLike",
    "RegisterConfig",
    "RegisterPaths",
    "RegisterPort",
    "SaleOutcomeLike",
]

EntryStateLike = Literal["confirmed", "refused", "unknown"]


class RegisterConfig(Protocol):
    @property
    def terminal_name(self) -> str: ...

    @property
    def server_url(self) -> str: ...


class RegisterPaths(Protocol):
    @property
    def receipts_dir(self) -> Path: ...


class SaleOutcomeLike(Protocol):
    """A journal-settled sale attempt: ``state`` decides what the cashier is shown."""

    @property
    def key(self) -> str: ...

    @property
    def state(self) -> str: ...

    @property
    def sale(self) -> Sale | None: ...

    @property
    def error(self) -> ErrorBody | None: ...

    @property
    def message(self) -> str: ...


class RegisterPort(Protocol):
    """The terminal core's register (see module docstring for threading)."""

    @property
    def session(self) -> SessionResponse | None: ...

    @property
    def config(self) -> RegisterConfig: ...

    @property
    def paths(self) -> RegisterPaths: ...

    def sign_in(self, username: str, pin: str) -> SessionResponse: ...

    def sign_out(self) -> None: ...

    def events(self) -> EventsResponse: ...

    def sell(self, lines: Sequence[SaleLineIn], tendered: int) -> SaleOutcomeLike: ...


class HoldOutcomeLike(Protocol):
    """A journal-settled hold or hold release (``pos_app.journal.HoldOutcome``): ``state``
    ``confirmed`` (``hold`` is the server's hold), ``refused``, ``unknown`` or ``voided``."""

    @property
    def key(self) -> str: ...

    @property
    def state(self) -> str: ...

    @property
    def hold(self) -> Hold | None: ...

    @property
    def error(self) -> ErrorBody | None: ...

    @property
    def message(self) -> str: ...


class HoldDeskPort(Protocol):
    """What the hold desk (``pos_app.gui.hold_desk``) needs from the register: cash holds
    placed, listed, paid and released (see module docstring for threading)."""

    @property
    def session(self) -> SessionResponse | None: ...

    @property
    def config(self) -> RegisterConfig: ...

    @property
    def paths(self) -> RegisterPaths: ...

    def events(self) -> EventsResponse: ...

    def list_holds(self, status: str | None = None, kind: str | None = None,
                   q: str | None = None) -> list[Hold]: ...

    def hold(self, lines: Sequence[SaleLineIn], kind: str = "cash",
             customer: Customer | None = None, *,
             ttl_seconds: int | None = None,
             replaces: str | None = None) -> HoldOutcomeLike: ...

    def release_hold(self, ref: str, reason: str | None = None) -> HoldOutcomeLike: ...

    def pay_hold(self, ref: str, tendered: int) -> SaleOutcomeLike: ...
