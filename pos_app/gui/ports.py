"""What the window needs from the terminal core, as protocols (``pos_app.journal.Register``).

The window depends on these shapes, not on the class, so tests can hand it a fake. Every
method is a blocking network or disk call: the window only ever calls them through the
:class:`~pos_app.gui.task_runner.TaskRunner`, never on the GUI thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal, Protocol

from pos_app.api.schemas import ErrorBody, EventsResponse, Sale, SaleLineIn, SessionResponse

__all__ = ["RegisterConfig", "RegisterPaths", "RegisterPort", "SaleOutcomeLike"]

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
