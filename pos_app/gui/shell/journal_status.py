"""Unresolved journal entries (``pending`` / ``unknown``): a status-bar count and a list,
and the way to the whole journal (:class:`pos_app.gui.shell.journal_view.JournalView`).

The entries are read with ``register.journal.entries(state=...)`` on the TaskRunner; a
register without a journal (a fake) shows nothing.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pos_app.gui.core.ports import state_name
from pos_app.gui.core.task_runner import TaskRunner
from pos_app.gui.core.widgets import named

if TYPE_CHECKING:
    from pos_app.gui.shell.journal_view import JournalView

__all__ = ["JournalStatus", "UnresolvedDialog", "UnresolvedModel", "read_unresolved"]

_Index = QModelIndex | QPersistentModelIndex
UNRESOLVED_STATES = ("pending", "unknown")


def read_unresolved(register: Any) -> list[Any]:
    """The register's ``pending`` and ``unknown`` journal entries, newest first (worker)."""
    journal = getattr(register, "journal", None)
    if journal is None:
        return []
    entries: list[Any] = []
    for state in UNRESOLVED_STATES:
        entries.extend(journal.entries(state=state))
    return sorted(entries, key=lambda e: e.created_at, reverse=True)


class UnresolvedModel(QAbstractTableModel):
    """Columns: when (local time), operation, state, reference/error, key."""

    HEADERS = ("When", "Operation", "State", "Detail", "Key")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._entries: list[Any] = []

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._entries)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        entry = self._entries[index.row()]
        column = index.column()
        if column == 0:
            return entry.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
        if column == 1:
            return str(entry.operation)
        if column == 2:
            return state_name(entry)
        if column == 3:
            return str(entry.reference or entry.error_code or "")
        return str(entry.key)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if (role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal
                and 0 <= section < len(self.HEADERS)):
            return self.HEADERS[section]
        return None

    def set_entries(self, entries: list[Any]) -> None:
        self.beginResetModel()
        self._entries = list(entries)
        self.endResetModel()


class UnresolvedDialog(QDialog):
    """A plain list of the unresolved entries."""

    def __init__(self, model: UnresolvedModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("unresolvedDialog")
        self.setWindowTitle("Unresolved sales")
        self.resize(760, 360)
        self.table = QTableView()
        self.table.setModel(model)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().hide()
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Requests whose outcome is not settled yet. Retry or Abandon "
                                "them from the sell screen, or ask a manager."))
        layout.addWidget(self.table, 1)
        layout.addWidget(buttons)


class JournalStatus(QWidget):
    """Status-bar item: "N unresolved", a button opening :class:`UnresolvedDialog` and
    "Whole journal…" opening :class:`~pos_app.gui.shell.journal_view.JournalView` (it reads only
    the local journal, so it opens with the server down too).

    Signals:
        count_changed(int): a fresh read found this many unresolved entries.
        reconciled(): a reconciliation round with the server ended (whatever its result).
    """

    count_changed = Signal(int)
    reconciled = Signal()

    def __init__(self, register: Any, runner: TaskRunner, parent: QWidget | None = None
                 ) -> None:
        super().__init__(parent)
        self._register = register
        self._runner = runner
        self._reading = False
        self._reconciling = False
        self.count = 0
        self.model = UnresolvedModel(self)
        self.label = named(QLabel(), "statusUnresolved")
        self.button = named(QPushButton("Show"), "statusButton")
        self.button.setAccessibleName("Show unresolved sales")
        self.button.clicked.connect(self.on_button_clicked)
        self.journal_button = named(QPushButton("Whole journal…"), "statusButton")
        self.journal_button.setAccessibleName("Show this terminal's whole journal")
        self.journal_button.clicked.connect(self.on_journal_button_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.button)
        layout.addWidget(self.journal_button)
        self.dialog: UnresolvedDialog | None = None
        self.journal_view: JournalView | None = None
        self._show(0)
        self.setVisible(getattr(register, "journal", None) is not None)

    def reconcile(self, *, at_startup: bool = False) -> None:
        """Settle unresolved entries with the server on the journal's writer thread, then
        re-read the count: keys are only looked up, stale ones voided, nothing is re-sent
        (``Register.reconcile``). Needs a signed-in register; otherwise only re-reads.
        ``at_startup``: pending entries were left by a crash of an earlier run."""
        reconcile = getattr(self._register, "reconcile", None)
        if (reconcile is None or self._reconciling
                or getattr(self._register, "session", None) is None):
            self.refresh()
            return
        self._reconciling = True
        task = self._runner.write(functools.partial(reconcile, at_startup=at_startup))
        task.finished.connect(self.on_reconcile_task_done)
        task.failed.connect(self.on_reconcile_task_done)

    def on_reconcile_task_done(self, _result: object) -> None:
        # Offline or refused: the entries stay as they were and the next round tries again.
        self._reconciling = False
        self.reconciled.emit()
        self.refresh()

    def refresh(self) -> None:
        """Re-read the unresolved entries on a worker."""
        if self._reading or getattr(self._register, "journal", None) is None:
            return
        self._reading = True
        task = self._runner.read(read_unresolved, self._register)
        task.finished.connect(self.on_read_task_finished)
        task.failed.connect(self.on_read_task_failed)

    def on_read_task_finished(self, entries: list[Any]) -> None:
        self._reading = False
        self.model.set_entries(entries)
        self._show(len(entries))
        self.count_changed.emit(len(entries))

    def on_read_task_failed(self, exc: BaseException) -> None:
        self._reading = False
        self.label.setText(f"Journal unreadable: {exc}")

    def _show(self, count: int) -> None:
        self.count = count
        self.label.setText(f"{count} unresolved" if count else "No unresolved sales")
        self.label.setProperty("warning", bool(count))
        self.label.style().unpolish(self.label)
        self.label.style().polish(self.label)
        self.button.setEnabled(bool(count))

    def on_button_clicked(self) -> None:
        if self.dialog is None:
            self.dialog = UnresolvedDialog(self.model, self)
        self.dialog.show()
        self.dialog.raise_()

    def on_journal_button_clicked(self) -> None:
        if self.journal_view is None:
            from pos_app.gui.shell.journal_view import JournalView

            self.journal_view = JournalView(self._register, self._runner, self.window())
        else:
            self.journal_view.load()
        self.journal_view.show()
        self.journal_view.raise_()
