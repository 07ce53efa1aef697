"""The dashboard's security alerts (issue 16): a burst of failed PINs for one username at
any till, sign-ins and approvals together, as the server raised it (``GET
/v1/alerts/security``). A red strip over the live inventory, hidden while there is none, the
newest first: ``"20:41  5 failed PINs for 'morgan' within 15 minutes (latest: approval
from 10.0.0.2)"``. A manager who sees it knows someone is guessing a PIN at the door.

:class:`SecurityAlertsModel` holds them (a ``QAbstractListModel``);
:class:`SecurityAlertsPanel` shows them. Reading them is the dashboard's job
(:mod:`pos_app.gui.manager.dashboard.dashboard`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import tzinfo

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QLabel, QListView, QVBoxLayout, QWidget

from pos_app.api.schemas import SecurityAlertOut
from pos_app.gui.core.styles import style_sheet
from pos_app.gui.core.widgets import named

__all__ = ["MAX_SECURITY_ALERTS", "SecurityAlertsModel", "SecurityAlertsPanel",
           "security_alert_text"]

_Index = QModelIndex | QPersistentModelIndex

MAX_SECURITY_ALERTS = 50
"""Security alerts kept; older ones drop off the bottom (the audit log keeps them all)."""
VISIBLE_ROWS = 3

STYLE = style_sheet("dashboard_security")


def security_alert_text(alert: SecurityAlertOut, zone: tzinfo | None = None) -> str:
    """One alert's line: the time in ``zone`` (default: this computer's), then the server's
    sentence."""
    return f"{alert.at.astimezone(zone):%H:%M}  {alert.reason}"


class SecurityAlertsModel(QAbstractListModel):
    """Security alerts, newest first, at most :data:`MAX_SECURITY_ALERTS`; ``ToolTipRole``
    is the full date and time."""

    def __init__(self, parent: QObject | None = None, *, zone: tzinfo | None = None) -> None:
        super().__init__(parent)
        self._alerts: list[SecurityAlertOut] = []  # newest first
        self._zone = zone

    @property
    def last_seq(self) -> int | None:
        """The newest alert's audit ``seq`` (ask for those after it), or ``None``."""
        return self._alerts[0].seq if self._alerts else None

    @property
    def alerts(self) -> tuple[SecurityAlertOut, ...]:
        """The alerts kept, newest first."""
        return tuple(self._alerts)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._alerts)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if not index.isValid() or not 0 <= index.row() < len(self._alerts):
            return None
        alert = self._alerts[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return security_alert_text(alert, self._zone)
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{alert.at.astimezone(self._zone):%a %d %b %Y %H:%M:%S}"
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return (Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                | Qt.ItemFlag.ItemNeverHasChildren)

    def add(self, alerts: Iterable[SecurityAlertOut]) -> list[SecurityAlertOut]:
        """Add alerts not kept yet (any order); returns those added, oldest first."""
        known = {a.seq for a in self._alerts}
        fresh = sorted((a for a in alerts if a.seq not in known), key=lambda a: a.seq)
        if not fresh:
            return []
        self.beginResetModel()
        self._alerts = sorted([*self._alerts, *fresh], key=lambda a: a.seq,
                              reverse=True)[:MAX_SECURITY_ALERTS]
        self.endResetModel()
        return fresh


class SecurityAlertsPanel(QWidget):
    """"Security alerts" in red over the list of :class:`SecurityAlertsModel`; hidden while
    the model is empty (call :meth:`update_visibility` after adding, or rely on the model's
    reset)."""

    def __init__(self, model: SecurityAlertsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("securityAlerts")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(STYLE)
        self.model = model
        self.heading = named(QLabel(), "securityHeading")
        self.list = named(QListView(), "securityList")
        self.list.setModel(model)
        self.list.setAccessibleName("Security alerts, newest first")
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.list.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.setSpacing(4)
        layout.addWidget(self.heading)
        layout.addWidget(self.list)
        model.modelReset.connect(self.update_visibility)
        self.update_visibility()

    def update_visibility(self) -> None:
        """Shown with a heading counting the alerts while there are any, else hidden."""
        count = self.model.rowCount()
        self.heading.setText(
            f"Security alert{'s' if count != 1 else ''} ({count}): repeated wrong PINs. "
            "The audit log has each attempt.")
        rows = min(count, VISIBLE_ROWS)
        line = self.list.fontMetrics().height() + 6
        self.list.setFixedHeight(max(rows, 1) * line + 4)
        self.setVisible(count > 0)
