"""Table models of the bulk capacity dialog
(:mod:`pos_app.gui.manager.capacity.bulk_capacity_dialog`): every ticket type of every event,
checkable (:class:`TicketTypeChoiceModel`), and the before -> after of the checked ones for one
change (:class:`BulkPreviewModel`)."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, NamedTuple

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from pos_app.api.schemas import Event, TicketType
from pos_app.gui.core.checkable_model import CheckableRowsModel
from pos_app.gui.core.tables import RowsTableModel
from pos_app.gui.manager.capacity.capacity_preview import STOCK_WORDS, counts_after

__all__ = ["BulkPreviewModel", "Choice", "TicketTypeChoiceModel"]

_Index = QModelIndex | QPersistentModelIndex
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
_WARNING = QColor("#b91c1c")
_CHANGED = QColor("#1d4ed8")


class Choice(NamedTuple):
    """One ticket type (``ticket_type``) of ``event``."""

    event: Event
    ticket_type: TicketType


class TicketTypeChoiceModel(CheckableRowsModel[Choice]):
    """Every ticket type of the events given to :meth:`set_events`, in event order, with a
    check box each (column 0). ``Qt.UserRole`` gives the row's :class:`Choice`."""

    EVENT, TYPE, CAPACITY, COMMITTED, AVAILABLE = range(5)
    COLUMNS = ("Event", "Ticket type", "Capacity", "Sold + held", "Available")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)

    def key(self, row: Choice) -> Hashable:
        return row.ticket_type.id

    def alignment(self, column: int) -> int:
        return _RIGHT if column >= self.CAPACITY else _LEFT

    def set_events(self, events: Sequence[Event]) -> None:
        """Show the ticket types of ``events`` (checks of those still listed are kept)."""
        self.set_rows(Choice(event, tt) for event in events for tt in event.ticket_types)

    def update_ticket_types(self, changed: Sequence[TicketType]) -> None:
        """New counts for the ticket types in ``changed`` (others as they were)."""
        fresh = {tt.id: tt for tt in changed}
        self.set_rows(Choice(row.event, fresh.get(row.ticket_type.id, row.ticket_type))
                      for row in self.rows())

    def cell(self, row: Choice, column: int, role: int) -> Any:
        tt = row.ticket_type
        if role == Qt.ItemDataRole.UserRole:
            return row
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return (row.event.name, tt.name, str(tt.capacity), str(tt.sold + tt.held),
                    str(tt.available))[column]
        if role == Qt.ItemDataRole.ToolTipRole and column == self.EVENT:
            return f"{row.event.name} · {row.event.venue}"
        return None


class BulkPreviewModel(RowsTableModel[Choice]):
    """The checked ticket types before and after adding ``delta`` to each capacity; a line
    that would go below its sold and held tickets is red (:meth:`impossible`)."""

    COLUMNS = ("Event", "Ticket type", "Capacity", "Available", "Stock level")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Choice] = []
        self.delta = 0

    def rows(self) -> Sequence[Choice]:
        return self._rows

    def alignment(self, column: int) -> int:
        return _RIGHT if column in (2, 3) else _LEFT

    def set_change(self, rows: Sequence[Choice], delta: int) -> None:
        """Preview ``delta`` seats on each of ``rows``."""
        self.beginResetModel()
        self._rows = list(rows)
        self.delta = delta
        self.endResetModel()

    def impossible(self) -> list[Choice]:
        """The lines whose capacity would go below their sold and held tickets."""
        return [row for row in self._rows
                if row.ticket_type.capacity + self.delta
                < row.ticket_type.sold + row.ticket_type.held]

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        row = self.row_at(index)
        if row is None:
            return None
        column = index.column()
        tt = row.ticket_type
        after = counts_after(tt, delta=self.delta)
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return (row.event.name, tt.name, f"{tt.capacity} → {after.capacity}",
                    f"{tt.available} → {after.available}",
                    f"{STOCK_WORDS[tt.stock_level]} → {STOCK_WORDS[after.stock_level]}"
                    )[column]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self.alignment(column)
        if role == Qt.ItemDataRole.ForegroundRole and column >= 2:
            if after.capacity < after.committed:
                return QBrush(_WARNING)
            return QBrush(_CHANGED)
        if role == Qt.ItemDataRole.ToolTipRole and after.capacity < after.committed:
            return (f"{tt.sold} sold and {tt.held} held: the capacity cannot go below "
                    f"{after.committed}.")
        return None
