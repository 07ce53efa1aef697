"""The desktop POS window (PySide6).

Only this package imports Qt. The window talks to the terminal core through a register
(``pos_app.journal.Register``, or any object of the :class:`~pos_app.gui.ports.RegisterPort`
shape) and never on the GUI thread: every call goes through one
:class:`~pos_app.gui.task_runner.TaskRunner`.
"""

from __future__ import annotations

from pos_app.gui.app import create_main_window, run_app
from pos_app.gui.main_window import MainWindow
from pos_app.gui.printing import ReceiptPrinter
from pos_app.gui.task_runner import Task, TaskRunner

__all__ = ["MainWindow", "ReceiptPrinter", "Task", "TaskRunner", "create_main_window", "run_app"]
