"""What the window's tables share: a read-only model of one object per row, the way its views
look and move (whole rows, one at a time, no grid, no editing), and the monospace face of
codes and numbers read aloud at the counter (hold codes, sale numbers).

Used by the basket (:mod:`pos_app.gui.sell.basket_model`), the hold desk
(:mod:`pos_app.gui.holds.holds_model`) and the receipts of the shift
(:mod:`pos_app.gui.refunds.sales_model`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Generic, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QAbstractItemView, QTableView

__all__ = ["RowsTableModel", "code_font", "configure_row_table"]

R = TypeVar("R")
_Index = QModelIndex | QPersistentModelIndex


class RowsTableModel(QAbstractTableModel, Generic[R]):
    """A flat, read-only table whose rows are the objects of :meth:`rows` and whose columns
    are :attr:`COLUMNS`; headers are aligned like their column (:meth:`alignment`).
    Subclasses implement ``data()`` with :meth:`row_at`."""

    COLUMNS: tuple[str, ...] = ()

    def rows(self) -> Sequence[R]:
        """The rows, in order (subclasses)."""
        raise NotImplementedError

    def alignment(self, column: int) -> int:
        """``Qt.AlignmentFlag`` of ``column`` as an int; left by default."""
        return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

    def row_at(self, index: _Index) -> R | None:
        """The object on ``index``'s row, or ``None`` for an invalid index."""
        rows = self.rows()
        if not index.isValid() or not 0 <= index.row() < len(rows):
            return None
        return rows[index.row()]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows())

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return self.COLUMNS[section]
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return self.alignment(section)
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemNeverHasChildren)


def configure_row_table(table: QTableView, *, row_height: int) -> QTableView:
    """Make ``table`` pick whole rows one at a time, never edit, draw no grid, stripe its
    rows ``row_height`` pixels tall (touch-sized) and hide the row numbers; returns it."""
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setShowGrid(False)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setDefaultSectionSize(row_height)
    table.horizontalHeader().setHighlightSections(False)
    return table


def code_font() -> QFont:
    """Bold monospace, for codes and numbers a cashier reads aloud (no 0/O confusion)."""
    font = QFont()
    font.setFamilies(["DejaVu Sans Mono", "Consolas", "Menlo", "monospace"])
    font.setBold(True)
    return font
