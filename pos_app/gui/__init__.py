"""The desktop POS window (PySide6).

Only this package imports Qt. The window talks to the terminal core through a register
(``pos_app.journal.Register``, or any object of the :class:`~pos_app.gui.core.ports.RegisterPort`
shape) and never on the GUI thread: every call goes through one
:class:`~pos_app.gui.core.task_runner.TaskRunner`.

The names below are imported on first use, so ``pos_app.gui.launcher`` can open the register
(SQLAlchemy, pydantic, keyring) before Qt is imported: once PySide6 is loaded, its import hook
makes every later module import slower.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pos_app.gui.app import create_main_window, run_app
    from pos_app.gui.core.task_runner import Task, TaskRunner
    from pos_app.gui.printing.printing import ReceiptPrinter
    from pos_app.gui.shell.main_window import MainWindow

__all__ = ["MainWindow", "ReceiptPrinter", "Task", "TaskRunner", "create_main_window", "run_app"]

_LAZY = {"create_main_window": "app", "run_app": "app", "MainWindow": "shell.main_window",
         "ReceiptPrinter": "printing.printing", "Task": "core.task_runner",
         "TaskRunner": "core.task_runner"}


def __getattr__(name: str) -> object:
    """Import the names of ``__all__`` on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
