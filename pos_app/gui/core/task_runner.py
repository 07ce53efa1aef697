"""The one place slow work runs: worker threads, results delivered back on the GUI thread.

Every network, disk or journal call the window makes goes through :class:`TaskRunner` (after
Anki's task manager). Writes that touch the journal (sign-in, sell, sign-out) run on a
single-thread pool so they are serialised in the order submitted; reads (``events()``,
receipt rendering, printing) run on a small shared pool.

Worker code never touches widgets: the callable runs on a worker, and its return value or
exception is handed to the GUI thread through a queued signal on a :class:`Task`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QCoreApplication,
    QDeadlineTimer,
    QEventLoop,
    QObject,
    QRunnable,
    Qt,
    QThreadPool,
    Signal,
    Slot,
)

__all__ = ["Task", "TaskRunner"]


class Task(QObject):
    """Handle of one submitted callable; lives on the GUI thread.

    Signals:
        finished(object): the callable returned this value (emitted on the GUI thread).
        failed(object): the callable raised this exception (emitted on the GUI thread).
    """

    finished = Signal(object)
    failed = Signal(object)

    # Emitted from the worker; queued to this object's (GUI) thread.
    _returned = Signal(object)
    _raised = Signal(object)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.done = False
        self.job: QRunnable | None = None
        self._returned.connect(self._on_self_returned, Qt.ConnectionType.QueuedConnection)
        self._raised.connect(self._on_self_raised, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def _on_self_returned(self, value: object) -> None:
        self.done = True
        self.finished.emit(value)

    @Slot(object)
    def _on_self_raised(self, exc: object) -> None:
        self.done = True
        self.failed.emit(exc)


class _Job(QRunnable):
    """Runs ``fn(*args)`` on a pool thread and reports through ``task``'s private signals."""

    def __init__(self, task: Task, fn: Callable[..., Any], args: tuple[Any, ...],
                 kwargs: dict[str, Any]) -> None:
        super().__init__()
        # Owned by Python (through ``task``), released on the GUI thread, never deleted by
        # the pool on a worker while Qt or Python still refer to it.
        self.setAutoDelete(False)
        self._task = task
        self._fn = fn
        self._args = args
        self._kwargs = kwargs

    def run(self) -> None:
        fn, args, kwargs = self._fn, self._args, self._kwargs
        self._args, self._kwargs = (), {}
        try:
            result = fn(*args, **kwargs)
        except BaseException as exc:  # delivered to the GUI, never lost in a worker
            self._task._raised.emit(exc)
        else:
            self._task._returned.emit(result)


class TaskRunner(QObject):
    """Runs callables on worker threads and delivers outcomes on the GUI thread.

    Use :meth:`write` for anything that writes the journal (serialised, one at a time, in
    submission order) and :meth:`read` for reads and rendering (up to ``read_threads`` at
    once). Both return a :class:`Task`; connect to its ``finished`` / ``failed`` signals.

    Signals:
        busy_changed(bool): ``True`` when the first task starts, ``False`` when the last
            outstanding task has delivered its outcome.
    """

    busy_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, *, read_threads: int = 4) -> None:
        super().__init__(parent)
        self._writes = QThreadPool(self)
        self._writes.setMaxThreadCount(1)
        self._reads = QThreadPool(self)
        self._reads.setMaxThreadCount(max(1, read_threads))
        self._pending: set[Task] = set()
        self._done: list[Task] = []

    @property
    def busy(self) -> bool:
        """``True`` while any submitted task has not yet delivered its outcome."""
        return bool(self._pending)

    def write(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Task:
        """Run ``fn(*args, **kwargs)`` on the single journal-writing thread."""
        return self._submit(self._writes, fn, args, kwargs)

    def read(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Task:
        """Run ``fn(*args, **kwargs)`` on the read pool (network reads, rendering, printing)."""
        return self._submit(self._reads, fn, args, kwargs)

    def _submit(self, pool: QThreadPool, fn: Callable[..., Any], args: tuple[Any, ...],
                kwargs: dict[str, Any]) -> Task:
        while self._done:
            self._done.pop().deleteLater()
        task = Task(getattr(fn, "__name__", "task"), self)
        # Connected first, so the runner forgets the task before any caller's slot runs
        # (a slot may then check ``busy`` and see the truth).
        task.finished.connect(lambda _v, t=task: self._forget(t))
        task.failed.connect(lambda _e, t=task: self._forget(t))
        was_idle = not self._pending
        self._pending.add(task)
        if was_idle:
            self.busy_changed.emit(True)
        task.job = _Job(task, fn, args, kwargs)
        pool.start(task.job)
        return task

    def _forget(self, task: Task) -> None:
        self._pending.discard(task)
        task.job = None
        # Deleted at the next submission rather than at once: a caller may still be inside
        # this task's signal emission, or hold a reference to it for a moment.
        self._done.append(task)
        if not self._pending:
            self.busy_changed.emit(False)

    def wait_idle(self, timeout_ms: int = 30_000) -> bool:
        """Block until every submitted task has run and delivered its outcome.

        Processes GUI-thread events meanwhile so queued outcomes (and tasks they submit in
        turn) are delivered. Returns ``False`` if ``timeout_ms`` passed first. For tests and
        shutdown only: the GUI thread must not wait during normal operation.
        """
        deadline = QDeadlineTimer(timeout_ms)
        while self._pending:
            if deadline.hasExpired():
                return False
            self._writes.waitForDone(20)
            self._reads.waitForDone(20)
            QCoreApplication.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        # Outcomes are delivered; let the workers finish returning from their jobs too.
        return self._writes.waitForDone(max(0, deadline.remainingTime())) and (
            self._reads.waitForDone(max(0, deadline.remainingTime())))
