"""The live inventory table of the manager's dashboard (issue 6): every ticket type of every
event, one row each, with its counts, its sales by channel and its stock level.

:class:`DashboardModel` holds the rows; :class:`DashboardProxy` sorts them by
:data:`SORT_ROLE`, whose value for the stock level column is :func:`attention_key` (sold
out, then critical, then low, then by the share of capacity left, ascending), so sorting
that column ascending is the "needs attention" order, the default. The stock level is shown
in the sell screen's colours (:data:`pos_app.gui.sell.event_list.LEVEL_COLOURS`, the words of
:data:`pos_app.gui.sell.ticket_tiles.LEVEL_TEXT`) by :class:`LevelDelegate`; while the counts are
stale (:meth:`DashboardModel.set_stale`) the level gives way to "Not current" and the
numbers are greyed, as on the tiles (:mod:`pos_app.gui.core.freshness`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import ClassVar

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from pos_app.api.schemas import Event, SalesReport, TicketType
from pos_app.domain.inventory import StockLevel
from pos_app.gui.core.freshness import STALE_BADGE_COLOUR, STALE_NUMBER_COLOUR, STALE_TEXT
from pos_app.gui.core.stock_styles import LEVEL_COLOURS, LEVEL_TEXT
from pos_app.gui.core.tables import RowsTableModel

__all__ = [
    "LEVEL_RANK",
    "ROW_ROLE",
    "SORT_ROLE",
    "DashboardModel",
    "DashboardProxy",
    "DashboardRow",
    "LevelDelegate",
    "attention_key",
    "readable_text_colour",
]

_Index = QModelIndex | QPersistentModelIndex

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
"""A number or casefolded string per cell that sorts the column the way a manager expects."""
ROW_ROLE = Qt.ItemDataRole.UserRole + 2
"""The row's :class:`DashboardRow`."""

LEVEL_RANK = {StockLevel.SOLD_OUT: 0, StockLevel.CRITICAL: 1, StockLevel.LOW: 2,
              StockLevel.IN_STOCK: 3}
BOX_OFFICE = "box_office"
_DARK_TEXT = QColor("#0f172a")
_LIGHT_TEXT = QColor("#ffffff")


def attention_key(ticket_type: TicketType) -> float:
    """How soon a manager should look at ``ticket_type``, smallest first: the stock level's
    rank (sold out 0, critical 1, low 2, in stock 3) plus the share of capacity still
    available (0..1, below 1), e.g. ``1.08`` for critical with 8 % left."""
    level = StockLevel(ticket_type.stock_level)
    share = ticket_type.available / ticket_type.capacity if ticket_type.capacity > 0 else 0.0
    return LEVEL_RANK[level] + min(max(share, 0.0), 0.999)


def readable_text_colour(background: QColor) -> QColor:
    """Dark or white text, whichever contrasts more with ``background`` (WCAG luminance)."""

    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    luminance = (0.2126 * channel(background.redF()) + 0.7152 * channel(background.greenF())
                 + 0.0722 * channel(background.blueF()))
    dark = (luminance + 0.05) / (0.0137 + 0.05)  # #0f172a's luminance is about 0.0137
    light = 1.05 / (luminance + 0.05)
    return _DARK_TEXT if dark >= light else _LIGHT_TEXT


@dataclass(frozen=True, slots=True)
class DashboardRow:
    """One ticket type: its event's id and name, the server's counts, and its net tickets
    by channel (``None`` until the sales report has been read)."""

    event_id: str
    event_name: str
    ticket_type: TicketType
    by_channel: Mapping[str, int] | None = None

    @property
    def box_office_sold(self) -> int | None:
        return None if self.by_channel is None else self.by_channel.get(BOX_OFFICE, 0)

    @property
    def online_sold(self) -> int | None:
        """Net tickets of every channel but the box office (the online shop and any other
        channel token)."""
        if self.by_channel is None:
            return None
        return sum(n for channel, n in self.by_channel.items() if channel != BOX_OFFICE)


class DashboardModel(RowsTableModel[DashboardRow]):
    """Ticket types of all events with live counts (a flat, read-only table)."""

    (EVENT, TYPE, CAPACITY, PUBLIC_LIMIT, SOLD, HELD, AVAILABLE, ONLINE_AVAILABLE,
     BOX_OFFICE_SOLD, ONLINE_SOLD, LEVEL) = range(11)
    COLUMNS = ("Event", "Ticket type", "Capacity", "Public limit", "Sold", "Held",
               "Available", "Online avail.", "Box office", "Online", "Stock level")
    _TIPS: ClassVar[dict[int, str]] = {
        CAPACITY: "Tickets that exist for this type (box office and online)",
        PUBLIC_LIMIT: "Most the online channel may sell; the door sells the rest",
        SOLD: "Sold, net of refunds", HELD: "Held in baskets and cash holds",
        AVAILABLE: "Left for the box office: capacity - sold - held",
        ONLINE_AVAILABLE: "Left for the online channel under its public limit",
        BOX_OFFICE_SOLD: "Sold at the box office, net of refunds",
        ONLINE_SOLD: "Sold online (every channel but the box office), net of refunds",
        LEVEL: "Sorted ascending: what needs attention first",
    }

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[DashboardRow] = []
        self._stale = False

    def rows(self) -> Sequence[DashboardRow]:
        return self._rows

    @property
    def stale(self) -> bool:
        return self._stale

    def set_stale(self, stale: bool) -> None:
        """Show the counts as stale (older than 30 s) or current again."""
        if stale != self._stale:
            self._stale = stale
            self._changed(0, len(self._rows) - 1)

    def alignment(self, column: int) -> int:
        if column in (self.EVENT, self.TYPE, self.LEVEL):
            return super().alignment(column)
        return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if (role == Qt.ItemDataRole.ToolTipRole and orientation == Qt.Orientation.Horizontal
                and section in self._TIPS):
            return self._TIPS[section]
        return super().headerData(section, orientation, role)

    # --- data ---------------------------------------------------------------------------

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        row = self.row_at(index)
        if row is None or not 0 <= index.column() < len(self.COLUMNS):
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(row, column)
        if role == SORT_ROLE:
            return self._sort_value(row, column)
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self.alignment(column)
        if role == Qt.ItemDataRole.BackgroundRole and column == self.LEVEL:
            return self._level_colour(row)
        if role == Qt.ItemDataRole.ForegroundRole and column == self.LEVEL:
            return readable_text_colour(self._level_colour(row))
        if (role == Qt.ItemDataRole.ForegroundRole and self._stale
                and column not in (self.EVENT, self.TYPE)):
            return QColor(STALE_NUMBER_COLOUR)
        if role == Qt.ItemDataRole.ToolTipRole and column in (self.BOX_OFFICE_SOLD,
                                                              self.ONLINE_SOLD):
            return self._split_tip(row)
        if role == Qt.ItemDataRole.ToolTipRole and column in (self.EVENT, self.TYPE):
            return f"{row.ticket_type.name} · {row.event_name}"
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return (f"{self.COLUMNS[column]}: {self._text(row, column)}"
                    + (", counts not current" if self._stale else ""))
        return None

    def _level_colour(self, row: DashboardRow) -> QColor:
        if self._stale:
            return QColor(STALE_BADGE_COLOUR)
        return QColor(LEVEL_COLOURS[StockLevel(row.ticket_type.stock_level)])

    def _numbers(self, row: DashboardRow) -> tuple[int | None, ...]:
        tt = row.ticket_type
        return (tt.capacity, tt.public_limit, tt.sold, tt.held, tt.available,
                tt.public_available, row.box_office_sold, row.online_sold)

    def _text(self, row: DashboardRow, column: int) -> str:
        if column == self.EVENT:
            return row.event_name
        if column == self.TYPE:
            return row.ticket_type.name
        if column == self.LEVEL:
            if self._stale:
                return STALE_TEXT
            return LEVEL_TEXT[StockLevel(row.ticket_type.stock_level)]
        value = self._numbers(row)[column - self.CAPACITY]
        if value is None:
            return "–" if column == self.PUBLIC_LIMIT else "…"
        return f"{value:,}"

    def _sort_value(self, row: DashboardRow, column: int) -> object:
        if column == self.EVENT:
            return row.event_name.casefold()
        if column == self.TYPE:
            return row.ticket_type.name.casefold()
        if column == self.LEVEL:
            return attention_key(row.ticket_type)
        value = self._numbers(row)[column - self.CAPACITY]
        if column == self.PUBLIC_LIMIT and value is None:
            return row.ticket_type.capacity  # no limit: online may sell all of it
        return -1 if value is None else value

    @staticmethod
    def _split_tip(row: DashboardRow) -> str:
        if row.by_channel is None:
            return "Reading the sales report…"
        return ", ".join(f"{channel.replace('_', ' ')}: {n}"
                         for channel, n in row.by_channel.items())

    # --- updates ------------------------------------------------------------------------

    def row_of(self, ticket_type_id: int) -> int | None:
        """The row of ticket type ``ticket_type_id``, or ``None``."""
        for number, row in enumerate(self._rows):
            if row.ticket_type.id == ticket_type_id:
                return number
        return None

    def set_events(self, events: Iterable[Event]) -> None:
        """Show every ticket type of ``events`` (in their order), keeping the channel split
        already read; rows are updated in place when the set of ticket types is unchanged."""
        old = {row.ticket_type.id: row for row in self._rows}
        rows = [DashboardRow(event.id, event.name, tt,
                             old[tt.id].by_channel if tt.id in old else None)
                for event in events for tt in event.ticket_types]
        if [r.ticket_type.id for r in rows] == [r.ticket_type.id for r in self._rows]:
            self._rows = rows
            self._changed(0, len(rows) - 1)
            return
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def apply_ticket_types(self, ticket_types: Iterable[TicketType]) -> list[int]:
        """Replace the counts of the ticket types shown (a live change); returns the ids of
        ticket types that are not shown (a new one: read the events again)."""
        unknown = []
        for tt in ticket_types:
            number = self.row_of(tt.id)
            if number is None:
                unknown.append(tt.id)
                continue
            current = self._rows[number].ticket_type
            if tt.version < current.version:
                continue  # an older copy than what is shown (a slow read arrived late)
            self._rows[number] = replace(self._rows[number], ticket_type=tt)
            self._changed(number, number)
        return unknown

    def set_reports(self, reports: Iterable[SalesReport]) -> None:
        """Show each report's channel split on its ticket types' rows."""
        for report in reports:
            for split in report.ticket_types:
                number = self.row_of(split.ticket_type_id)
                if number is not None:
                    self._rows[number] = replace(self._rows[number],
                                                 by_channel=dict(split.by_channel))
                    self._changed(number, number, self.BOX_OFFICE_SOLD, self.ONLINE_SOLD)

    def _changed(self, first: int, last: int, left: int = 0, right: int | None = None) -> None:
        if last < first:
            return
        right = len(self.COLUMNS) - 1 if right is None else right
        self.dataChanged.emit(self.index(first, left), self.index(last, right))


class DashboardProxy(QSortFilterProxyModel):
    """Sorts :class:`DashboardModel` by :data:`SORT_ROLE`; re-sorts as counts change, so a
    type going critical moves up at once."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)

    def lessThan(self, left: _Index, right: _Index) -> bool:
        a, b = left.data(SORT_ROLE), right.data(SORT_ROLE)
        if a == b:  # ties in a stable order: event, then ticket type
            return bool(left.row() < right.row())
        try:
            return bool(a < b)
        except TypeError:
            return str(a) < str(b)


class LevelDelegate(QStyledItemDelegate):
    """Paints the stock level as a rounded chip in the sell screen's colour (the model's
    background and foreground roles), like the tiles' level badge."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        background = index.data(Qt.ItemDataRole.BackgroundRole)
        if not isinstance(background, QColor):
            super().paint(painter, option, index)
            return
        painter.save()
        if option.state & QStyle.StateFlag.State_Selected:
            painter.fillRect(option.rect, option.palette.highlight())
        text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
        font = QFont(option.font)
        font.setBold(True)
        metrics = QFontMetrics(font)
        rect: QRect = option.rect
        height = min(rect.height() - 12, metrics.height() + 8)
        width = min(rect.width() - 12, metrics.horizontalAdvance(text) + 22)
        chip = QRect(rect.left() + 8, rect.center().y() - height // 2, width, height)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(background)
        painter.drawRoundedRect(chip, height / 2, height / 2)
        foreground = index.data(Qt.ItemDataRole.ForegroundRole)
        painter.setPen(foreground if isinstance(foreground, QColor) else _DARK_TEXT)
        painter.setFont(font)
        painter.drawText(chip, int(Qt.AlignmentFlag.AlignCenter), text)
        painter.restore()
