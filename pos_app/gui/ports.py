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
    "OutcomeLike",
    "RegisterBase",
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

    def sell(self, lines: Sequence[SaleLineIn], tendered: int) -> SaleOutcomeLike: ...


class HoldDeskPort(RegisterBase, Protocol):
    """What the hold desk (``pos_app.gui.hold_desk``) needs from the register: cash holds
    placed, listed, paid and released (see module docstring for threading)."""

    def list_holds(self, status: str | None = None, kind: str | None = None,
                   q: str | None = None) -> list[Hold]: ...

    def hold(self, lines: Sequence[SaleLineIn], kind: str = "cash",
             customer: Customer | None = None, *,
             ttl_seconds: int | None = None,
             replaces: str | None = None) -> HoldOutcomeLike: ...

    def release_hold(self, ref: str, reason: str | None = None) -> HoldOutcomeLike: ...

    def pay_hold(self, ref: str, tendered: int) -> SaleOutcomeLike: ...
