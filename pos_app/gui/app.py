"""Composition root of the window: build it from a register, or run the whole application.

Start-up: the first screen is painted before anything it does not need is imported (httpx,
the live feed, reportlab are imported on first use); right after that first paint,
:func:`show_window` imports them on a background thread while the cashier types the PIN, so
neither the start-up nor the GUI thread pays for them later, then freezes the start-up heap out
of the cyclic garbage collector (a full collection of it stalled the GUI thread ~0.1 s).

Start-up probe (benchmarks, ``tests/benchmarks/bench_gui.py``): with the environment variable
``POS_APP_STARTUP_PROBE=1``, :func:`show_window` (so ``pos-app``) prints one line
``startup-probe shown <t>`` (``t``: ``time.time()`` in seconds) on standard output when the
first screen (sign-in, or selling for a restored session) has been painted, then quits the
event loop (exit 0).
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from pos_app.api.schemas import TicketType
from pos_app.gui.core.live_inventory import FeedFactory, FeedLike
from pos_app.gui.core.ports import RegisterPort
from pos_app.gui.core.task_runner import TaskRunner
from pos_app.gui.printing.printer_config import (
    PrinterSettings,
    PrinterSettingsError,
    load_printer_settings,
    printer_settings_path,
)
from pos_app.gui.printing.printing import ReceiptPrinter
from pos_app.gui.shell.idle_lock import lock_after_from_environment
from pos_app.gui.shell.main_window import MainWindow

if TYPE_CHECKING:
    from pos_app.gui.core.ports import HoldDeskPort, ManagerPort
    from pos_app.gui.refunds.shift_receipts import ShiftReceiptsPort

__all__ = ["STARTUP_PROBE_VARIABLE", "STYLESHEET", "apply_style", "configured_printer",
           "create_main_window", "feed_factory_for", "optional_parts", "run_app", "show_window"]

_log = logging.getLogger(__name__)

STARTUP_PROBE_VARIABLE = "POS_APP_STARTUP_PROBE"
#: Imported in the background after the first paint (see the module docstring).
PRELOADED_MODULES = ("pos_app.client._live", "pos_app.receipts")

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


def optional_parts(register: RegisterPort) -> tuple[
        HoldDeskPort | None, ShiftReceiptsPort | None, ManagerPort | None]:
    """The optional parts of the window that ``register`` offers, as ports: its cash holds,
    the shift's sales and the manager's calls (``None`` when it has no such part). A real
    ``pos_app.journal.Register`` offers all three; a fake may offer fewer. The one place that
    asks a register what it can do."""
    holds = cast("HoldDeskPort", register) if hasattr(register, "list_holds") else None
    shifts = cast("ShiftReceiptsPort", register) if hasattr(register, "shift_sales") else None
    manager = cast("ManagerPort", register) if hasattr(register, "manager") else None
    return holds, shifts, manager


def configured_printer(settings_file: Path) -> tuple[ReceiptPrinter, str | None]:
    """A :class:`ReceiptPrinter` with the settings saved in ``settings_file`` (the defaults
    when there is none), and ``None``; or, when the file cannot be read, one with the
    defaults and a sentence saying so. Reads the disk: call it at start-up, before the window
    shows."""
    try:
        return ReceiptPrinter(settings=load_printer_settings(settings_file)), None
    except (PrinterSettingsError, OSError) as error:
        _log.warning("printer settings not read: %s", error)
        return ReceiptPrinter(settings=PrinterSettings()), (
            f"Printer settings not read ({error}) - using the default printer until they "
            f"are saved again")


def create_main_window(register: RegisterPort, *, runner: TaskRunner | None = None,
                       printer: ReceiptPrinter | None = None,
                       feed_factory: FeedFactory | bool | None = True,
                       printer_settings_file: Path | None = None,
                       lock_after: timedelta | None = None) -> MainWindow:
    """The POS window for ``register`` (a ``pos_app.journal.Register`` or a fake).

    ``runner`` defaults to a new :class:`TaskRunner` owned by the window; ``printer`` to one
    configured from ``printer_settings_file`` (default: ``printer.json`` in the terminal's
    home, read here, before the window shows); ``feed_factory`` (live inventory) to
    :func:`feed_factory_for` (``None``/``False``: no live feed, the 15 s re-read only);
    ``lock_after`` (the idle time before the window locks) to ``POS_APP_LOCK_MINUTES``, else
    5 minutes (:func:`~pos_app.gui.shell.idle_lock.lock_after_from_environment`).
    Needs a ``QApplication``.
    """
    runner = runner if runner is not None else TaskRunner()
    factory = feed_factory_for(register) if feed_factory is True else (feed_factory or None)
    settings_file = (printer_settings_file if printer_settings_file is not None
                     else printer_settings_path(register.paths))
    problem = None
    if printer is None:
        printer, problem = configured_printer(settings_file)
    lock_problem = None
    if lock_after is None:
        lock_after, lock_problem = lock_after_from_environment(os.environ)
    holds, shifts, manager = optional_parts(register)
    window = MainWindow(register, runner, printer, feed_factory=factory,
                        printer_settings_file=settings_file, printer_problem=problem,
                        lock_after=lock_after, lock_problem=lock_problem,
                        holds=holds, shifts=shifts, manager=manager)
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
    show_window(window)
    return int(app.exec())


def show_window(window: MainWindow) -> None:
    """Show ``window`` as ``pos-app`` does: once its first screen is painted, import
    :data:`PRELOADED_MODULES` on a background thread and ``gc.freeze()``, or, with
    ``POS_APP_STARTUP_PROBE=1``, print the time and quit (see the module docstring)."""
    probing = os.environ.get(STARTUP_PROBE_VARIABLE) == "1"
    after = _report_and_quit if probing else _start_preloading
    (window.stack.currentWidget() or window).installEventFilter(_FirstPaint(after, window))
    window.show()
    # A till often runs X without a window manager (kiosk): nothing would make the window
    # active, and the sell screen's shortcuts (F1..F12, Ctrl+Enter) need an active window.
    window.activateWindow()


class _FirstPaint(QObject):
    """Calls ``after()`` once, from the event loop's next pass after the watched widget's
    first paint (that paint and its flush complete first)."""

    def __init__(self, after: Callable[[], None], parent: QObject) -> None:
        super().__init__(parent)
        self._after: Callable[[], None] | None = after

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Paint and self._after is not None:
            QTimer.singleShot(0, self._after)
            self._after = None
            watched.removeEventFilter(self)
        return False


def _report_and_quit() -> None:
    print(f"startup-probe shown {time.time():.6f}", flush=True)
    QApplication.quit()


def _start_preloading() -> None:
    def preload() -> None:
        for name in PRELOADED_MODULES:
            # Best effort: a module that fails here fails again, and is reported, where used.
            with contextlib.suppress(Exception):
                importlib.import_module(name)
        # Everything allocated so far (modules, classes, schemas, widgets) lives as long as the
        # process: keep it out of the cyclic collector. A full collection runs on whichever
        # thread allocates, often the GUI thread, and scanning this heap took ~0.1 s there.
        gc.freeze()

    threading.Thread(target=preload, name="pos-preload", daemon=True).start()
