"""A read-only table whose first column carries a check box per row: the ticket types picked
for a bulk capacity change (:mod:`pos_app.gui.manager.capacity.capacity_models`) and the tickets
picked for a refund (:mod:`pos_app.gui.refunds.refund_tickets`).

Checks are kept by row key (:meth:`CheckableRowsModel.key`), so they survive new counts
for the same rows. A row that :meth:`~CheckableRowsModel.checkable` refuses (a ticket already
refunded) shows no check box and is never checked.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Sequence
from typing import Any, TypeVar

from PySide6.QtCore import (
    QAbstractProxyModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QTableView, QWidget

from pos_app.gui.core.tables import RowsTableModel

__all__ = ["CheckTableView", "CheckableRowsModel"]

R = TypeVar("R")
_Index = QModelIndex | QPersistentModelIndex


class CheckableRowsModel(RowsTableModel[R]):
    """Rows of ``R`` with a check box in column 0 (subclasses give :attr:`COLUMNS`,
    :meth:`key`, :meth:`cell` and optionally :meth:`checkable`).

    Signals:
        checks_changed(): a row was checked or unchecked (by the user or :meth:`set_checked`).
    """

    checks_changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[R] = []
        self._checked: set[Hashable] = set()

    def rows(self) -> Sequence[R]:
        return self._rows

    def key(self, row: R) -> Hashable:
        """What identifies ``row`` across reloads (subclasses)."""
        raise NotImplementedError

    def cell(self, row: R, column: int, role: int) -> Any:
        """``row``'s value in ``column`` for ``role`` (subclasses), ``None`` for none."""
        raise NotImplementedError

    def checkable(self, row: R) -> bool:
        """Whether ``row`` may be checked (every row by default)."""
        return True

    def set_rows(self, rows: Iterable[R]) -> None:
        """Show ``rows``; checks of rows still present (and checkable) are kept."""
        self.beginResetModel()
        self._rows = list(rows)
        present = {self.key(row) for row in self._rows if self.checkable(row)}
        self._checked &= present
        self.endResetModel()
        self.checks_changed.emit()

    def checked_rows(self) -> list[R]:
        """The checked rows, in table order."""
        return [row for row in self._rows if self.key(row) in self._checked]

    def is_checked(self, row: R) -> bool:
        return self.key(row) in self._checked

    def set_checked(self, rows: Iterable[R], checked: bool) -> None:
        """Check (or uncheck) ``rows``; rows that are not checkable are left alone."""
        keys = {self.key(row) for row in rows if self.checkable(row)}
        before = set(self._checked)
        if checked:
            self._checked |= keys
        else:
            self._checked -= keys
        if self._checked != before and self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1, 0),
                                  [Qt.ItemDataRole.CheckStateRole])
            self.checks_changed.emit()

    def toggle(self, row: R) -> None:
        """Flip ``row``'s check (nothing for a row that is not checkable)."""
        self.set_checked([row], not self.is_checked(row))

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index)
        if row is None:
            return None
        if role == Qt.ItemDataRole.CheckStateRole and index.column() == 0:
            if not self.checkable(row):
                return None
            return (Qt.CheckState.Checked if self.is_checked(row)
                    else Qt.CheckState.Unchecked)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self.alignment(index.column())
        return self.cell(row, index.column(), role)

    def setData(self, index: _Index, value: Any,
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        row = self.row_at(index)
        if (row is None or index.column() != 0 or role != Qt.ItemDataRole.CheckStateRole
                or not self.checkable(row)):
            return False
        state = value if isinstance(value, Qt.CheckState) else Qt.CheckState(int(value))
        self.set_checked([row], state == Qt.CheckState.Checked)
        return True

    def flags(self, index: _Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        row = self.row_at(index)
        if row is not None and index.column() == 0 and self.checkable(row):
            flags |= Qt.ItemFlag.ItemIsUserCheckable
        return flags


class CheckTableView(QTableView):
    """A table view of a :class:`CheckableRowsModel` (possibly behind proxy models) where
    Space flips the current row's check, whichever column has the focus."""

    def __init__(self, model: CheckableRowsModel[Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.checkable_model = model

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() != Qt.Key.Key_Space:
            super().keyPressEvent(event)
            return
        source, model = self.currentIndex(), self.model()
        while isinstance(model, QAbstractProxyModel):
            source, model = model.mapToSource(source), model.sourceModel()
        row = self.checkable_model.row_at(source) if model is self.checkable_model else None
        if row is not None:
            self.checkable_model.toggle(row)
        event.accept()
