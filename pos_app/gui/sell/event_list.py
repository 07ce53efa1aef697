"""The list of events on sale: name, start in the venue's own time zone, venue, and an
availability bar per ticket type.

:class:`EventListModel` holds the events (a ``QAbstractListModel``); :class:`EventList` is the
view with a delegate painting each event as a card. The bar has one segment per ticket type,
filled to the share still available (``available / capacity``) in the stock level's colour
(the tiles' colours: green in stock, amber low, red critical, grey sold out); it follows the
live counts, since the screen replaces the model's events as they change. While the counts
are stale (:mod:`pos_app.gui.core.freshness`) the bars are greyed and say "Not current", as the
tiles do.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_datetime
from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from pos_app.api.schemas import Event, TicketType
from pos_app.domain.inventory import StockLevel
from pos_app.gui.core.freshness import STALE_BADGE_COLOUR, STALE_NUMBER_COLOUR, STALE_TEXT
from pos_app.gui.core.stock_styles import LEVEL_COLOURS
from pos_app.gui.core.widgets import two_lines

__all__ = ["STALE_ROLE", "EventList", "EventListModel", "availability_text",
           "event_when"]

_Index = QModelIndex | QPersistentModelIndex

WHEN_ROLE = Qt.ItemDataRole.UserRole + 1
VENUE_ROLE = Qt.ItemDataRole.UserRole + 2
EVENT_ROLE = Qt.ItemDataRole.UserRole + 3
AVAILABILITY_ROLE = Qt.ItemDataRole.UserRole + 4
STALE_ROLE = Qt.ItemDataRole.UserRole + 5
"""``True`` while the counts shown are stale (:meth:`EventListModel.set_stale`)."""

BAR_HEIGHT = 6


def availability_text(ticket_types: list[TicketType]) -> str:
    """What the bar shows, in words (screen readers, tooltips): ``"GA 8 of 10 left, VIP sold
    out"``."""
    parts = []
    for tt in ticket_types:
        if tt.available <= 0:
            parts.append(f"{tt.name} sold out")
        else:
            parts.append(f"{tt.name} {tt.available} of {tt.capacity} left")
    return ", ".join(parts)


def event_when(starts_at: datetime, timezone: str, locale: str = "en_US") -> str:
    """Start of an event in its venue's zone, e.g. ``Sat, Mar 14, 2026 · 7:30 PM CDT``."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = starts_at.astimezone(zone)
    return (f"{format_datetime(local, 'EEE, MMM d, y', locale=locale)} · "
            f"{format_datetime(local, 'h:mm a', locale=locale)} {local.tzname()}")


class EventListModel(QAbstractListModel):
    """Events in the order the server lists them."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._events: list[Event] = []
        self._stale = False

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._events)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._events):
            return None
        event = self._events[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return event.name
        if role == WHEN_ROLE:
            return event_when(event.starts_at, event.timezone)
        if role == VENUE_ROLE:
            return event.venue
        stale = ", counts not current" if self._stale else ""
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return (f"{event.name}, {event_when(event.starts_at, event.timezone)}, "
                    f"{event.venue}. {availability_text(event.ticket_types)}{stale}")
        if role in (AVAILABILITY_ROLE, Qt.ItemDataRole.ToolTipRole):
            return (event.ticket_types if role == AVAILABILITY_ROLE
                    else availability_text(event.ticket_types) + stale)
        if role == EVENT_ROLE:
            return event
        if role == STALE_ROLE:
            return self._stale
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemNeverHasChildren)

    @property
    def events(self) -> tuple[Event, ...]:
        return tuple(self._events)

    def set_events(self, events: list[Event]) -> None:
        """Replace the events, updating rows in place when the list of ids is unchanged."""
        if [e.id for e in events] == [e.id for e in self._events]:
            self._events = list(events)
            if events:
                self.dataChanged.emit(self.index(0), self.index(len(events) - 1))
            return
        self.beginResetModel()
        self._events = list(events)
        self.endResetModel()

    @property
    def stale(self) -> bool:
        return self._stale

    def set_stale(self, stale: bool) -> None:
        """Show the counts as stale (older than 30 s) or current again."""
        if stale == self._stale:
            return
        self._stale = stale
        if self._events:
            self.dataChanged.emit(self.index(0), self.index(len(self._events) - 1))

    def row_of(self, event_id: str) -> int | None:
        for row, event in enumerate(self._events):
            if event.id == event_id:
                return row
        return None

    def event_at(self, row: int) -> Event:
        return self._events[row]


def _resized(font: QFont, factor: float) -> QFont:
    """A copy of ``font`` scaled by ``factor`` (stylesheets size fonts in pixels or points)."""
    scaled = QFont(font)
    if font.pixelSize() > 0:
        scaled.setPixelSize(max(9, round(font.pixelSize() * factor)))
    elif font.pointSizeF() > 0:
        scaled.setPointSizeF(max(7.0, font.pointSizeF() * factor))
    return scaled


def _name_font(base: QFont) -> QFont:
    font = _resized(base, 1.1)
    font.setBold(True)
    return font


class _EventDelegate(QStyledItemDelegate):
    """Paints an event as a bold name over a line of date and venue."""

    def sizeHint(self, option: QStyleOptionViewItem, index: _Index) -> QSize:
        width = option.rect.width() or self.parent().viewport().width()  # type: ignore[union-attr]
        lines = two_lines(QFontMetrics(_name_font(option.font)), str(index.data()),
                            max(1, width - 40))
        extra = (len(lines) - 1) * (QFontMetrics(_name_font(option.font)).height() + 4)
        return QSize(width, 92 + BAR_HEIGHT + 8 + extra)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: _Index) -> None:
        painter.save()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        rect = option.rect.adjusted(6, 4, -6, -4)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor("#1d4ed8") if selected else QColor("#ffffff"))
        painter.drawRoundedRect(rect, 10, 10)
        text = rect.adjusted(14, 10, -14, -10)
        painter.setFont(_name_font(option.font))
        painter.setPen(QColor("#ffffff") if selected else QColor("#111827"))
        line = painter.fontMetrics().height()
        top = text.top()
        for name in two_lines(painter.fontMetrics(), str(index.data()), text.width()):
            painter.drawText(QRect(text.left(), top, text.width(), line),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, name)
            top += line
        small = _resized(option.font, 0.9)
        painter.setFont(small)
        painter.setPen(QColor("#dbeafe") if selected else QColor("#4b5563"))
        metrics = painter.fontMetrics()
        top += 4
        for value in (index.data(WHEN_ROLE), index.data(VENUE_ROLE)):
            painter.drawText(
                QRect(text.left(), top, text.width(), metrics.height()),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                metrics.elidedText(str(value), Qt.TextElideMode.ElideRight, text.width()))
            top += metrics.height() + 2
        types = index.data(AVAILABILITY_ROLE) or []
        bar = QRect(text.left(), top + 4, text.width(), BAR_HEIGHT)
        stale = bool(index.data(STALE_ROLE))
        if types and stale:
            bar = _paint_stale_badge(painter, bar)
        if types:
            _paint_bar(painter, bar, types, selected, stale=stale)
        painter.restore()


def _paint_stale_badge(painter: QPainter, bar: QRect) -> QRect:
    """The tiles' "Not current" badge at the right end of the bar's line (slate: it reads on
    the white card and the selected blue one alike); returns what is left for the bar."""
    font = QFont(painter.font())
    font.setBold(True)
    painter.setFont(font)
    metrics = painter.fontMetrics()
    width = metrics.horizontalAdvance(STALE_TEXT) + 12
    height = metrics.height() + 2
    badge = QRect(bar.right() - width + 1, bar.center().y() - height // 2, width, height)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(STALE_BADGE_COLOUR))
    painter.drawRoundedRect(badge, height / 2, height / 2)
    painter.setPen(QColor("#ffffff"))
    painter.drawText(badge, int(Qt.AlignmentFlag.AlignCenter), STALE_TEXT)
    return bar.adjusted(0, 0, -(width + 8), 0)


def _paint_bar(painter: QPainter, area: QRect, ticket_types: list[TicketType],
               selected: bool, *, stale: bool = False) -> None:
    """One segment per ticket type across ``area``: a track, filled to the share available
    (in the stock level's colour, or grey while the counts are ``stale``)."""
    gap = 4
    count = len(ticket_types)
    width = max(1, (area.width() - gap * (count - 1)) // count)
    track = QColor("#3b82f6") if selected else QColor("#e5e7eb")
    painter.setPen(Qt.PenStyle.NoPen)
    for position, tt in enumerate(ticket_types):
        left = area.left() + position * (width + gap)
        segment = QRect(left, area.top(), width, area.height())
        painter.setBrush(track)
        painter.drawRoundedRect(segment, 3, 3)
        share = max(0.0, min(1.0, tt.available / tt.capacity)) if tt.capacity > 0 else 0.0
        filled = round(width * share)
        if filled > 0:
            colour = QColor(LEVEL_COLOURS.get(StockLevel(tt.stock_level), "#94a3b8"))
            if stale:
                colour = QColor(STALE_NUMBER_COLOUR)
            elif selected and StockLevel(tt.stock_level) is StockLevel.IN_STOCK:
                colour = QColor("#bbf7d0")  # green on the selected blue card is hard to see
            painter.setBrush(colour)
            painter.drawRoundedRect(QRect(left, area.top(), max(filled, 4), area.height()),
                                    3, 3)


class EventList(QListView):
    """Events on sale; selecting one shows its ticket types.

    Signals:
        event_selected(object): the cashier selected this ``Event``.
    """

    event_selected = Signal(object)

    def __init__(self, model: EventListModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("eventList")
        self.setAccessibleName("Events")
        self.setModel(model)
        self.setItemDelegate(_EventDelegate(self))
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setUniformItemSizes(True)
        self.setSpacing(0)
        self._model = model
        self.selectionModel().currentRowChanged.connect(self.on_selection_current_row_changed)

    def select_event(self, event_id: str) -> bool:
        """Select the event ``event_id``; returns ``False`` when it is not listed."""
        row = self._model.row_of(event_id)
        if row is None:
            return False
        self.setCurrentIndex(self._model.index(row))
        return True

    def on_selection_current_row_changed(self, current: QModelIndex,
                                         _previous: QModelIndex) -> None:
        if current.isValid():
            self.event_selected.emit(self._model.event_at(current.row()))
