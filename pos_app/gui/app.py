"""Composition root of the window: build it from a register, or run the whole application."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from pos_app.api.schemas import TicketType
from pos_app.gui.live_inventory import FeedFactory, FeedLike
from pos_app.gui.main_window import MainWindow
from pos_app.gui.ports import RegisterPort
from pos_app.gui.printing import ReceiptPrinter
from pos_app.gui.task_runner import TaskRunner

__all__ = ["STYLESHEET", "apply_style", "create_main_window", "feed_factory_for", "run_app"]

STYLESHEET = Path(__file__).resolve().parents[2] / "resources" / "styles" / "pos.qss"
WINDOW_SIZE = (1280, 800)


def feed_factory_for(register: Any) -> FeedFactory | None:
    """Live inventory for a real ``pos_app.journal.Register`` (server URL, pinned CA and
    session token from the register); ``None`` for a register without a client (a fake)."""
    credentials = getattr(register, "credentials", None)
    config = getattr(register, "config", None)
    if credentials is None or config is None or getattr(config, "ca_file", None) is None:
        return None

    def factory(on_changes: Callable[[int, list[TicketType]], None],
                on_state: Callable[[bool], None], since: int | None) -> FeedLike:
        from pos_app.client import InventoryFeed

        def token() -> str | None:
            return credentials.session_token if register.session is not None else None

        return InventoryFeed(config.server_url, ca_file=config.ca_file, token=token,
                             on_changes=on_changes, on_state=on_state, since=since)

    return factory


def create_main_window(register: RegisterPort, *, runner: TaskRunner | None = None,
                       printer: ReceiptPrinter | None = None,
                       feed_factory: FeedFactory | bool | None = True) -> MainWindow:
    """The POS window for ``register`` (a ``pos_app.journal.Register`` or a fake).

    ``runner`` defaults to a new :class:`TaskRunner` owned by the window; ``printer`` to the
    system's default receipt printer; ``feed_factory`` (live inventory) to
    :func:`feed_factory_for` (``None``/``False``: no live feed, the 15 s re-read only).
    Needs a ``QApplication``.
    """
    runner = runner if runner is not None else TaskRunner()
    factory = feed_factory_for(register) if feed_factory is True else (feed_factory or None)
    window = MainWindow(register, runner, printer if printer is not None else ReceiptPrinter(),
                        feed_factory=factory)
    if runner.parent() is None:
        runner.setParent(window)
    window.resize(*WINDOW_SIZE)
    return window


def apply_style(app: QApplication, stylesheet: Path = STYLESHEET) -> None:
    """Use the POS font and stylesheet (skipped quietly when the file is missing)."""
    font = QFont()
    font.setFamilies(["Inter", "Segoe UI", "Noto Sans", "DejaVu Sans"])
    font.setPointSize(11)
    app.setFont(font)
    if stylesheet.is_file():
        app.setStyleSheet(stylesheet.read_text(encoding="utf-8"))


def run_app(register: RegisterPort) -> int:
    """Show the window for ``register`` and run the event loop; returns the exit code."""
    app = QApplication.instance()
    if app is None:
        app = QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Box Office")
    app.setStyle("Fusion")
    apply_style(app)
    window = create_main_window(register)
    window.show()
    return int(app.exec())
