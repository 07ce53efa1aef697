"""The dashboard's stock alerts (issue 6): each downward crossing of a rung of a ticket
type's alert ladder (e.g. GA 25/15/10/5/2/0), newest on top, in words a manager reads at a
glance: ``"20:41  GA (Jazz night) down to 5 left (rung 5)"``, or ``"... SOLD OUT"`` when the
crossing left none. Each line carries the stock level's colour of the sell screen.

:class:`AlertsModel` holds the alerts (a ``QAbstractListModel``); :class:`AlertsPanel` is the
title with a count badge over the list. Reading them (``register.manager.alerts``) is the
dashboard's job (:mod:`pos_app.gui.manager.dashboard.dashboard`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import tzinfo

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSize,
    Qt,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QLabel,
    QListView,
    QVBoxLayout,
    QWidget,
)

from pos_app.api.schemas import Event, StockAlertOut, TicketType
from pos_app.domain.inventory import StockLevel, Thresholds, stock_level
from pos_app.gui.core.stock_styles import LEVEL_COLOURS
from pos_app.gui.core.widgets import named

__all__ = ["MAX_ALERTS", "AlertNames", "AlertsModel", "AlertsPanel", "alert_level",
           "alert_text", "names_of"]

_Index = QModelIndex | QPersistentModelIndex

MAX_ALERTS = 200
"""Alerts kept in the list; older ones drop off the bottom."""
SEQ_ROLE = Qt.ItemDataRole.UserRole + 1

#: ticket type id -> (ticket type, its event's name)
AlertNames = Mapping[int, tuple[TicketType, str]]


def names_of(events: Iterable[Event]) -> dict[int, tuple[TicketType, str]]:
    """The :data:`AlertNames` of ``events``."""
    return {tt.id: (tt, event.name) for event in events for tt in event.ticket_types}


def alert_level(alert: StockAlertOut, ticket_type: TicketType | None) -> StockLevel:
    """The stock level the crossing left the ticket type at, under its thresholds (sold out
    at 0; without the ticket type, ``low`` for anything above 0)."""
    if alert.available <= 0:
        return StockLevel.SOLD_OUT
    if ticket_type is None:
        return StockLevel.LOW
    thresholds = ticket_type.thresholds
    return stock_level(alert.available, Thresholds(low=max(thresholds.low, thresholds.critical),
                                                   critical=max(thresholds.critical, 0)))


def alert_text(crossings: Sequence[StockAlertOut], names: AlertNames,
               zone: tzinfo | None = None) -> str:
    """The line of one change's rung ``crossings`` (one ticket type, one moment; a sale of
    several tickets may cross several rungs at once): ``"20:41  GA (Jazz night) down to 5
    left (rung 5)"``, ``"... down to 4 left (rungs 10 and 5)"`` or ``"... SOLD OUT"`` when
    none is left. The time is in ``zone`` (default: this computer's); the ticket type is
    ``"Ticket type 12"`` when ``names`` does not know it."""
    first = crossings[0]
    when = first.at.astimezone(zone).strftime("%H:%M")
    named_type = names.get(first.ticket_type_id)
    what = (f"{named_type[0].name} ({named_type[1]})" if named_type is not None
            else f"Ticket type {first.ticket_type_id}")
    left = min(a.available for a in crossings)
    if left <= 0:
        return f"{when}  {what} SOLD OUT"
    levels = sorted({a.level for a in crossings}, reverse=True)
    rungs = (f"rung {levels[0]}" if len(levels) == 1 else
             "rungs " + ", ".join(map(str, levels[:-1])) + f" and {levels[-1]}")
    return f"{when}  {what} down to {left} left ({rungs})"


def _same_change(a: StockAlertOut, b: StockAlertOut) -> bool:
    return (a.ticket_type_id, a.at, a.available) == (b.ticket_type_id, b.at, b.available)


class AlertsModel(QAbstractListModel):
    """Stock alerts, newest first, one line per change (the rungs one sale crossed together
    share a line), at most :data:`MAX_ALERTS` alerts. ``DecorationRole`` is the stock
    level's colour; ``ToolTipRole`` the full date and time."""

    def __init__(self, parent: QObject | None = None, *, zone: tzinfo | None = None) -> None:
        super().__init__(parent)
        self._alerts: list[StockAlertOut] = []  # newest first
        self._lines: list[list[StockAlertOut]] = []
        self._names: dict[int, tuple[TicketType, str]] = {}
        self._zone = zone

    @property
    def last_seq(self) -> int | None:
        """The newest alert's ``seq`` (ask for those after it), or ``None`` before any."""
        return self._alerts[0].seq if self._alerts else None

    @property
    def alerts(self) -> tuple[StockAlertOut, ...]:
        """The alerts kept, newest first."""
        return tuple(self._alerts)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._lines)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._lines):
            return None
        line = self._lines[index.row()]
        newest = line[0]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return alert_text(line, self._names, self._zone)
        if role == Qt.ItemDataRole.DecorationRole:
            named_type = self._names.get(newest.ticket_type_id)
            level = alert_level(newest, named_type[0] if named_type else None)
            return QColor(LEVEL_COLOURS[level])
        if role == Qt.ItemDataRole.ToolTipRole:
            return (f"{newest.at.astimezone(self._zone):%a %d %b %Y %H:%M:%S} · "
                    f"{newest.available} left")
        if role == SEQ_ROLE:
            return newest.seq
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemNeverHasChildren)

    def set_names(self, names: AlertNames) -> None:
        """Name ticket types and events in the lines (after the events were read)."""
        self._names = dict(names)
        if self._lines:
            self.dataChanged.emit(self.index(0), self.index(len(self._lines) - 1))

    def add(self, alerts: Iterable[StockAlertOut]) -> list[StockAlertOut]:
        """Add alerts not kept yet (any order); returns those added, oldest first."""
        known = {a.seq for a in self._alerts}
        fresh = sorted((a for a in alerts if a.seq not in known), key=lambda a: a.seq)
        if not fresh:
            return []
        merged = sorted([*self._alerts, *fresh], key=lambda a: a.seq, reverse=True)
        lines: list[list[StockAlertOut]] = []
        for alert in merged[:MAX_ALERTS]:
            if lines and _same_change(lines[-1][-1], alert):
                lines[-1].append(alert)
            else:
                lines.append([alert])
        self.beginResetModel()
        self._alerts = merged[:MAX_ALERTS]
        self._lines = lines
        self.endResetModel()
        return fresh


class AlertsPanel(QWidget):
    """"Stock alerts" with a count badge, over the list of :class:`AlertsModel`."""

    def __init__(self, model: AlertsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("alertsPanel")
        self.model = model
        title = named(QLabel("Stock alerts"), "dashboardHeading")
        self.badge = named(QLabel(), "alertBadge")
        self.badge.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.list = named(QListView(), "alertList")
        self.list.setModel(model)
        self.list.setAccessibleName("Stock alerts, newest first")
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.setWordWrap(True)
        self.list.setIconSize(QSize(12, 12))
        self.list.setUniformItemSizes(False)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.empty = named(QLabel("No alerts yet. A line appears here each time a ticket "
                                  "type falls below a rung of its alert ladder."),
                           "alertEmpty")
        self.empty.setWordWrap(True)
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(title)
        head.addWidget(self.badge)
        head.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        layout.addLayout(head)
        layout.addWidget(self.empty)
        layout.addWidget(self.list, 1)
        model.modelReset.connect(self._update_badge)
        self._update_badge()

    def _update_badge(self) -> None:
        count = self.model.rowCount()
        self.badge.setText(str(count) if count < MAX_ALERTS else f"{MAX_ALERTS}+")
        self.badge.setVisible(count > 0)
        self.badge.setAccessibleName(f"{count} stock alerts")
        self.empty.setVisible(count == 0)
        self.list.setVisible(count > 0)
