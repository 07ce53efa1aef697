"""The manager's live inventory dashboard (issue 6): every ticket type of every event with
its counts, channel split and stock level (:mod:`pos_app.gui.manager.dashboard.dashboard_model`),
the stock alerts as levels are crossed (:mod:`pos_app.gui.manager.dashboard.dashboard_alerts`) and
sales over time per channel (:mod:`pos_app.gui.manager.dashboard.sales_chart`).

Every read runs on the :class:`~pos_app.gui.core.task_runner.TaskRunner`, each kind coalesced (one
in flight, one more queued): the events and counts (``register.events()``), the sales
reports of all events (``register.manager.sales_report``: the channel split and the chart)
and the alerts (``register.manager.alerts(since=)``). Counts follow the window's
:class:`~pos_app.gui.core.live_inventory.LiveInventory` when it is running and connected; without
it they are re-read every ``poll_interval_ms`` (5 s). Reports are re-read every
``report_interval_ms`` (10 s) and a second after a live change; alerts every
``alerts_interval_ms`` (3 s) and after each live change. The timers run between
:meth:`Dashboard.start` and :meth:`Dashboard.stop` (the page being shown).

When neither the live feed nor the reads have brought counts for 30 s, the rows say their
counts are not current, as the sell screen does (:mod:`pos_app.gui.core.freshness`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pos_app.api.schemas import EventsResponse, SalesReport, TicketType
from pos_app.gui.core.failures import FailureWords, failure_sentence
from pos_app.gui.core.freshness import CountsFreshness
from pos_app.gui.core.live_inventory import LiveInventory
from pos_app.gui.core.ports import ManagerDeskLike, ManagerPort
from pos_app.gui.core.styles import style_sheet
from pos_app.gui.core.tables import configure_row_table
from pos_app.gui.core.task_runner import Task, TaskRunner
from pos_app.gui.core.widgets import named, restyle
from pos_app.gui.manager.dashboard.dashboard_alerts import AlertsModel, AlertsPanel, names_of
from pos_app.gui.manager.dashboard.dashboard_model import (
    ROW_ROLE,
    DashboardModel,
    DashboardProxy,
    LevelDelegate,
)
from pos_app.gui.manager.dashboard.dashboard_security import (
    SecurityAlertsModel,
    SecurityAlertsPanel,
)
from pos_app.gui.manager.dashboard.sales_chart import SalesChart

__all__ = ["READ_FAILED", "Dashboard", "read_reports"]

_STYLE = style_sheet("dashboard")

#: px per column but the event's (which takes the rest): numbers fit "Online avail." in bold
COLUMN_WIDTHS = {DashboardModel.TYPE: 170, DashboardModel.CAPACITY: 84,
                 DashboardModel.PUBLIC_LIMIT: 100, DashboardModel.SOLD: 64,
                 DashboardModel.HELD: 64, DashboardModel.AVAILABLE: 88,
                 DashboardModel.ONLINE_AVAILABLE: 108, DashboardModel.BOX_OFFICE_SOLD: 96,
                 DashboardModel.ONLINE_SOLD: 76, DashboardModel.LEVEL: 150}

#: what one report read returns: the reports, and the sentence of the first failure (or "")
Reports = tuple[list[SalesReport], str]


READ_FAILED = FailureWords(
    session_ended="Your session has ended: sign in again.",
    forbidden="Only a manager can see the dashboard: sign in as a manager.",
    unreachable="Cannot reach the server; showing the last counts read.",
    other=lambda exc: f"The server's answer could not be read ({type(exc).__name__}).",
)
"""What the manager is told when a read raised (never a traceback)."""


def read_reports(manager: ManagerDeskLike, event_ids: Sequence[str]) -> Reports:
    """The sales report of each event in ``event_ids`` (blocks on the network: call it on the
    runner). An event that failed is left out and the first failure said, so one bad event
    does not hide the others' split."""
    reports: list[SalesReport] = []
    problem = ""
    for event_id in event_ids:
        try:
            reports.append(manager.sales_report(event_id))
        except Exception as exc:  # said to the manager; the other events still count
            problem = problem or failure_sentence(exc, READ_FAILED)
    return reports, problem


class _Coalesced(QObject):
    """One kind of read: at most one in flight; asking meanwhile runs it once more after."""

    def __init__(self, runner: TaskRunner, start: Callable[[], Task | None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._start = start
        self.task: Task | None = None
        self._again = False

    def run(self) -> None:
        if self.task is not None:
            self._again = True
            return
        self.task = self._start()
        if self.task is not None:
            self.task.finished.connect(self._settled)
            self.task.failed.connect(self._settled)

    def _settled(self, _value: object) -> None:
        self.task = None
        if self._again:
            self._again = False
            self.run()


class Dashboard(QWidget):
    """Counts table (top), sales chart (bottom left), stock alerts (bottom right), and a
    last-updated line.

    Signals:
        counts_changed(): the table shows new counts (a read or a live change).
        reports_loaded(object): these ``list[SalesReport]`` were applied (split, chart).
        alerts_added(object): these new ``StockAlertOut`` were listed, oldest first.
        security_alerts_added(object): these new ``SecurityAlertOut`` (bursts of failed
            PINs) were listed, oldest first.
        read_failed(str): a read failed; the sentence is also on the last-updated line.
    """

    counts_changed = Signal()
    reports_loaded = Signal(object)
    alerts_added = Signal(object)
    security_alerts_added = Signal(object)
    read_failed = Signal(str)

    def __init__(self, register: ManagerPort, runner: TaskRunner,
                 parent: QWidget | None = None, *, live: LiveInventory | None = None,
                 poll_interval_ms: int = 5_000, report_interval_ms: int = 10_000,
                 alerts_interval_ms: int = 3_000) -> None:
        super().__init__(parent)
        self.setObjectName("dashboard")
        self.setStyleSheet(_STYLE)
        self._register = register
        self._runner = runner
        self.live = live
        self.running = False
        self.reports: dict[str, SalesReport] = {}
        self._event_ids: list[str] = []
        self._poll_seconds = max(1, poll_interval_ms // 1000)

        self.model = DashboardModel(self)
        self.proxy = DashboardProxy(self)
        self.proxy.setSourceModel(self.model)
        self.table = named(QTableView(), "dashboardTable")
        self.table.setModel(self.proxy)
        self.table.setAccessibleName("Ticket types, what needs attention first")
        configure_row_table(self.table, row_height=40)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # keeps "... - Dallas"
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(DashboardModel.LEVEL, Qt.SortOrder.AscendingOrder)
        self.table.setItemDelegateForColumn(DashboardModel.LEVEL, LevelDelegate(self.table))
        header = self.table.horizontalHeader()
        header.setMinimumSectionSize(56)
        for column, width in COLUMN_WIDTHS.items():
            header.resizeSection(column, width)
        header.setSectionResizeMode(DashboardModel.EVENT, QHeaderView.ResizeMode.Stretch)
        self.alerts_model = AlertsModel(self)
        self.alerts = AlertsPanel(self.alerts_model)
        self.alerts.setFixedWidth(400)
        self.security_model = SecurityAlertsModel(self)
        self.security = SecurityAlertsPanel(self.security_model)
        self.chart = SalesChart()
        self.updated_label = named(QLabel("Reading the counts…"), "dashboardUpdated")
        self._build_layout()
        self._updated_at = ""
        self.freshness = CountsFreshness(lambda: self.live_ok, self)
        self.freshness.stale_changed.connect(self.on_freshness_stale_changed)

        self._counts = _Coalesced(runner, lambda: self._read(
            register.events, self.on_events_read), self)
        self._reports = _Coalesced(runner, self._start_reports, self)
        self._alerts = _Coalesced(runner, lambda: self._read(
            register.manager.alerts, self.on_alerts_read, self.alerts_model.last_seq), self)
        self._security = _Coalesced(runner, lambda: self._read(
            register.manager.security_alerts, self.on_security_alerts_read,
            self.security_model.last_seq), self)
        self.poll_timer = self._timer(poll_interval_ms, self.on_poll_timer_timeout)
        self.report_timer = self._timer(report_interval_ms, self._reports.run)
        self.alerts_timer = self._timer(alerts_interval_ms, self.on_alerts_timer_timeout)
        self._soon = self._timer(1_000, self._reports.run)  # after a live change
        self._soon.setSingleShot(True)
        self.chart.event_selected.connect(self.on_chart_event_selected)
        if live is not None:
            live.inventory_changed.connect(self.on_live_inventory_changed)
            live.connection_changed.connect(self.on_live_connection_changed)
        refresh = QShortcut(QKeySequence("F5"), self)
        refresh.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        refresh.activated.connect(self.refresh)

    def _build_layout(self) -> None:
        def card(*widgets: QWidget, stretch: Sequence[int] = ()) -> QFrame:
            frame = named(QFrame(), "dashboardCard")
            box = QVBoxLayout(frame)
            box.setContentsMargins(14, 12, 14, 12)
            for number, widget in enumerate(widgets):
                box.addWidget(widget, stretch[number] if number < len(stretch) else 0)
            return frame

        title = named(QLabel("Live inventory"), "sectionTitle")
        head = QHBoxLayout()
        head.addWidget(title)
        head.addStretch(1)
        head.addWidget(self.updated_label)
        table_card = card(self.table)
        table_card.layout().setContentsMargins(0, 0, 0, 0)  # type: ignore[union-attr]
        bottom = QHBoxLayout()
        bottom.setSpacing(12)
        bottom.addWidget(card(self.chart), 1)
        bottom.addWidget(card(self.alerts))
        body = QVBoxLayout()
        body.setSpacing(12)
        body.addWidget(table_card, 5)
        body.addLayout(bottom, 4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(10)
        layout.addLayout(head)
        layout.addWidget(self.security)
        layout.addLayout(body, 1)

    def _timer(self, interval_ms: int, slot: Callable[[], None]) -> QTimer:
        timer = QTimer(self)
        timer.setInterval(interval_ms)
        timer.timeout.connect(slot)
        return timer

    def _read(self, fn: Callable[..., Any], done: Callable[[Any], None], *args: Any) -> Task:
        task = self._runner.read(fn, *args)
        task.finished.connect(done)
        task.failed.connect(self.on_read_failed)
        return task

    # --- start / stop -------------------------------------------------------------------

    def start(self) -> None:
        """The page is shown: read everything now, then keep it current on the timers."""
        self.running = True
        for timer in (self.poll_timer, self.report_timer, self.alerts_timer):
            timer.start()
        self.freshness.start()
        self.refresh()

    def stop(self) -> None:
        """The page is hidden: no more reads (one in flight still lands)."""
        self.running = False
        for timer in (self.poll_timer, self.report_timer, self.alerts_timer, self._soon):
            timer.stop()
        self.freshness.stop()

    def refresh(self) -> None:
        """Read the counts, then the reports, and the alerts, now (e.g. after a change)."""
        self._counts.run()
        self.on_alerts_timer_timeout()

    @property
    def live_ok(self) -> bool:
        """Whether the live feed is running and connected (then the counts are not polled)."""
        return self.live is not None and self.live.running and self.live.connected is True

    def selected_ticket_type(self) -> TicketType | None:
        """The ticket type of the selected row, with its latest counts, or ``None``."""
        rows = self.table.selectionModel().selectedRows()
        row = rows[0].data(ROW_ROLE) if rows else None
        return getattr(row, "ticket_type", None)

    # --- reads --------------------------------------------------------------------------

    def on_poll_timer_timeout(self) -> None:
        if not self.live_ok:
            self._counts.run()

    def _start_reports(self) -> Task | None:
        if not self._event_ids:
            return None
        picked = self.chart.current_event_id()
        ids = sorted(self._event_ids, key=lambda e: e != picked)  # the chart's first
        return self._read(read_reports, self.on_reports_read, self._register.manager, ids)

    def on_events_read(self, response: EventsResponse) -> None:
        self._event_ids = [event.id for event in response.events]
        self.model.set_events(response.events)
        self.freshness.mark_fresh()
        self.alerts_model.set_names(names_of(response.events))
        self.chart.set_events(list(response.events))
        self._say_updated()
        self.counts_changed.emit()
        self._reports.run()

    def on_reports_read(self, result: Reports) -> None:
        reports, problem = result
        self.reports.update({r.event_id: r for r in reports})
        self.model.set_reports(reports)
        picked = self.reports.get(self.chart.current_event_id() or "")
        if picked is not None:
            self.chart.set_report(picked)
        if problem:
            self._say_failed(problem)
        self.reports_loaded.emit(reports)

    def on_alerts_timer_timeout(self) -> None:
        self._alerts.run()
        self._security.run()

    def on_security_alerts_read(self, response: Any) -> None:
        fresh = self.security_model.add(response.alerts)
        if fresh:
            self.security_alerts_added.emit(fresh)

    def on_alerts_read(self, response: Any) -> None:
        fresh = self.alerts_model.add(response.alerts)
        if fresh:
            self.alerts_added.emit(fresh)

    def on_read_failed(self, exc: object) -> None:
        sentence = (failure_sentence(exc, READ_FAILED) if isinstance(exc, BaseException)
                    else "The read failed.")
        self._say_failed(sentence)

    def on_chart_event_selected(self, event_id: str) -> None:
        report = self.reports.get(event_id)
        if report is not None:
            self.chart.set_report(report)
        if self.running:
            self._reports.run()

    # --- live ---------------------------------------------------------------------------

    def on_live_inventory_changed(self, _version: object, ticket_types: object) -> None:
        changed = list(ticket_types) if isinstance(ticket_types, list) else []
        self.freshness.mark_fresh()
        if not changed:
            return  # a poll found the counts current
        unknown = self.model.apply_ticket_types(changed)
        self._say_updated()
        self.counts_changed.emit()
        if not self.running:
            return
        if unknown:
            self._counts.run()  # a ticket type we do not show yet: a new event
        self._alerts.run()
        if not self._soon.isActive():
            self._soon.start()

    def on_live_connection_changed(self, connected: bool) -> None:
        self._say_updated()
        if connected and self.running:
            self.refresh()

    def on_freshness_stale_changed(self, stale: bool) -> None:
        self.model.set_stale(stale)
        if stale:
            self.updated_label.setText(f"Updated {self._updated_at} · counts not current")
            self.updated_label.setProperty("warning", True)
            restyle(self.updated_label)

    # --- the last-updated line ----------------------------------------------------------

    def _say_updated(self) -> None:
        how = "live" if self.live_ok else f"checked every {self._poll_seconds} s"
        self._updated_at = f"{datetime.now():%H:%M:%S}"
        self.updated_label.setText(f"Updated {self._updated_at} · {how}")
        self.updated_label.setProperty("warning", False)
        restyle(self.updated_label)

    def _say_failed(self, sentence: str) -> None:
        self.updated_label.setText(f"{datetime.now():%H:%M:%S} · {sentence}")
        self.updated_label.setProperty("warning", True)
        restyle(self.updated_label)
        self.read_failed.emit(sentence)
