"""Finding a customer's cash hold on the hold desk (:mod:`pos_app.gui.holds.hold_desk`): the status
filter chips, the search box, reading the holds they ask for on a worker, the table the holds
show in, and the selected hold in the detail panel, its countdown ticking every second.

The server is asked as the cashier types, once typing pauses for ``SEARCH_DELAY_MS``; the
table's filter proxy narrows the rows already shown at once meanwhile. One read runs at a
time: a read asked for while one runs is sent when it answers, and an answer for a filter or
search that changed meanwhile is dropped for a fresh read.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
)

from pos_app.api.schemas import Event, Hold
from pos_app.domain.clock import utc_now
from pos_app.gui.core.ports import HoldDeskPort
from pos_app.gui.core.styles import style_sheet
from pos_app.gui.core.tables import configure_row_table
from pos_app.gui.core.task_runner import Task, TaskRunner
from pos_app.gui.core.widgets import named
from pos_app.gui.holds.hold_detail import HoldDetailPanel
from pos_app.gui.holds.holds_model import HoldsFilterProxy, HoldsTableModel, status_label

__all__ = ["FILTERS", "FINDER_STYLE", "SEARCH_DELAY_MS", "HoldFinder", "count_sentence",
           "default_clock", "read_holds"]

FILTERS: tuple[tuple[str | None, str], ...] = (
    ("active", "Active"), ("converted", "Converted"), ("released", "Released"),
    ("expired", "Expired"), (None, "All"))
"""The filter buttons: the server's ``status`` value (``None``: every status) and label."""
SEARCH_DELAY_MS = 250
FINDER_STYLE = style_sheet("hold_finder")
"""Stylesheet rules for the finder's widgets (the desk sets them with its own)."""


def default_clock(register: object) -> Callable[[], datetime]:
    """The local UTC clock, moved by ``register.server_time_offset`` (a ``timedelta``,
    server minus local) when the register knows it."""

    def now() -> datetime:
        offset = getattr(register, "server_time_offset", None)
        return utc_now() + (offset if isinstance(offset, timedelta) else timedelta(0))

    return now


def read_holds(register: HoldDeskPort, status: str | None, q: str,
               known_events: frozenset[str]) -> tuple[list[Hold], dict[str, Event]]:
    """Worker: the cash holds for the desk's filter and search, and the events (for their
    time zones) when a hold's event is not known yet (not in ``known_events``, event ids).

    Raises what ``register.list_holds`` and ``register.events`` raise (client errors)."""
    holds = register.list_holds(status, "cash", q or None)
    events: dict[str, Event] = {}
    if any(hold.event_id not in known_events for hold in holds):
        events = {event.id: event for event in register.events().events}
    return holds, events


def count_sentence(count: int, status: str | None, search_text: str) -> str:
    """What a read found, for screen readers: "3 active holds matching “K7Q”."."""
    label = "" if status is None else f"{status_label(status).lower()} "
    found = f"{count} {label}hold{'s' if count != 1 else ''}"
    if search_text:
        found += f" matching “{search_text}”"
    return found + "."


class HoldFinder(QObject):
    """The desk's heading with Refresh, search box, filter chips and table (in
    :attr:`column`, for the desk to place), the selected hold's :attr:`detail` panel, the
    table's ``model`` (``clock``: aware UTC ``datetime`` deciding when a hold reads expired)
    and filter ``proxy``, and the reads behind them (module docstring). ``events`` (by id)
    is the desk's dict of known events: the reads add the events they fetch to it. The
    models, the chips' group and the timers are ``parent``'s (the desk's); the widgets
    become its children through :attr:`column` and :attr:`detail`.

    Signals:
        read_finished(object): ``(list[Hold], dict[str, Event])``: the holds for the filter
            and search in force, and the events this read fetched.
        read_failed(object): reading the holds raised this exception.
        filter_chosen(object): a filter chip was pressed (its status; ``None``: all).
    """

    read_finished = Signal(object)
    read_failed = Signal(object)
    filter_chosen = Signal(object)

    def __init__(self, register: HoldDeskPort, runner: TaskRunner,
                 clock: Callable[[], datetime], events: dict[str, Event],
                 parent: QObject | None = None, *, refresh_interval_ms: int = 30_000) -> None:
        super().__init__(parent)
        self._register = register
        self._runner = runner
        self._events = events
        self.model = HoldsTableModel(clock, parent)
        self.proxy = HoldsFilterProxy(parent)
        self.proxy.setSourceModel(self.model)
        self._task: Task | None = None
        self._query: tuple[str | None, str] | None = None
        self.status: str | None = "active"

        title = named(QLabel("Cash holds"), "sectionTitle")
        subtitle = named(QLabel("Find the customer's hold by code, name or phone, then take "
                                "payment or release it."), "sectionSubtitle")
        self.refresh_button = named(QPushButton("Refresh  F5"), "secondaryButton")
        self.refresh_button.setAccessibleName("Refresh the holds")
        self.search_edit = named(QLineEdit(), "holdSearch")
        self.search_edit.setPlaceholderText("Search code, customer name or phone")
        self.search_edit.setAccessibleName("Search holds by code, customer name or phone")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setMaxLength(120)
        self.filter_group = QButtonGroup(parent)
        self.filter_group.setExclusive(True)
        self.filter_buttons: dict[str | None, QPushButton] = {}
        filters = QHBoxLayout()
        filters.setSpacing(8)
        for number, (status, label) in enumerate(FILTERS, start=1):
            button = named(QPushButton(label), "filterChip")
            button.setCheckable(True)
            button.setChecked(status == self.status)
            button.setAccessibleName(f"Show {label.lower()} holds")
            button.setToolTip(f"Ctrl+{number}")
            button.clicked.connect(lambda _c=False, s=status: self.filter_chosen.emit(s))
            self.filter_group.addButton(button)
            self.filter_buttons[status] = button
            filters.addWidget(button)

        self.table = named(QTableView(), "holdsTable")
        self.table.setAccessibleName("Cash holds")
        self.table.setModel(self.proxy)
        configure_row_table(self.table, row_height=48)
        self.table.setWordWrap(False)
        self.table.setTabKeyNavigation(False)
        header = self.table.horizontalHeader()
        header.setMinimumSectionSize(72)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(HoldsTableModel.TICKETS, QHeaderView.ResizeMode.Stretch)
        self.detail = HoldDetailPanel()
        self.detail.setFixedWidth(380)

        heading = QVBoxLayout()
        heading.setSpacing(2)
        heading.addWidget(title)
        heading.addWidget(subtitle)
        top = QHBoxLayout()
        top.addLayout(heading, 1)
        top.addWidget(self.refresh_button, 0, Qt.AlignmentFlag.AlignBottom)
        search_row = QHBoxLayout()
        search_row.setSpacing(16)
        search_row.addWidget(self.search_edit, 1)
        search_row.addLayout(filters)
        self.column = QVBoxLayout()
        self.column.setContentsMargins(0, 0, 0, 0)
        self.column.setSpacing(14)
        self.column.addLayout(top)
        self.column.addLayout(search_row)
        self.column.addWidget(self.table, 1)

        self.search_edit.textEdited.connect(self.on_search_edit_text_edited)
        self.search_edit.textChanged.connect(self.on_search_edit_text_changed)
        self.table.selectionModel().currentRowChanged.connect(self.on_table_current_changed)
        # The desk connects the search timer (its read after typing pauses is announced) and
        # runs the other two while it is shown: quiet periodic reads, and the countdowns.
        self.search_timer = QTimer(parent)
        self.search_timer.setSingleShot(True)
        self.search_timer.setInterval(SEARCH_DELAY_MS)
        self.refresh_timer = QTimer(parent)
        self.refresh_timer.setInterval(refresh_interval_ms)
        self.refresh_timer.timeout.connect(self.read)
        self.tick_timer = QTimer(parent)
        self.tick_timer.setInterval(1_000)
        self.tick_timer.timeout.connect(self.on_tick_timer_timeout)

    @property
    def search_text(self) -> str:
        """The search box's text without surrounding spaces."""
        return self.search_edit.text().strip()

    def on_search_edit_text_edited(self, _text: str) -> None:
        self.search_timer.start()

    def on_search_edit_text_changed(self, text: str) -> None:
        self.proxy.set_search(text)
        if not text:
            self.search_timer.start()  # the clear button: show everything again

    def set_status(self, status: str | None) -> None:
        """Filter on ``status`` from the next read, its chip checked."""
        self.status = status
        button = self.filter_buttons.get(status)
        if button is not None and not button.isChecked():
            button.setChecked(True)

    # --- reading ------------------------------------------------------------------------------

    def read(self) -> None:
        """Read the holds for the filter and search in force on a worker; answers with
        ``read_finished`` or ``read_failed`` (module docstring: one read at a time)."""
        self.search_timer.stop()
        query = (self.status, self.search_text)
        if self._task is not None:
            self._query = None  # stale: ask again when it answers
            return
        self._query = query
        self._task = self._runner.read(read_holds, self._register, query[0], query[1],
                                       frozenset(self._events))
        self._task.finished.connect(self.on_read_task_finished)
        self._task.failed.connect(self.on_read_task_failed)

    def on_read_task_finished(self, result: tuple[list[Hold], dict[str, Event]]) -> None:
        asked, self._task = self._query, None
        if asked != (self.status, self.search_text):
            self.read()  # the filter or search changed meanwhile
            return
        self._events.update(result[1])
        self.read_finished.emit(result)

    def on_read_task_failed(self, exc: BaseException) -> None:
        self._task = None
        self.read_failed.emit(exc)

    # --- selection and countdown --------------------------------------------------------------

    def selected_hold(self) -> Hold | None:
        """The hold on the table's current row, or ``None``."""
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        return self.model.hold_at(self.proxy.mapToSource(index).row())

    def select_row(self, row: int) -> None:
        """Make the table's ``row`` (a proxy row) current, selected and scrolled to."""
        index = self.proxy.index(row, 0)
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index)

    def show_holds(self, holds: list[Hold], events: dict[str, Event]) -> None:
        """Show ``holds`` in the table (``events``: newly known events, by id, for their time
        zones), the hold selected before still selected when it is among them."""
        chosen = self.selected_hold()
        self.model.set_holds(holds, {e.id: e.timezone for e in events.values()})
        self.reselect(chosen.id if chosen is not None else None)

    def reselect(self, hold_id: str | None) -> None:
        """After new rows: select ``hold_id``'s row again; when it is not shown, the first
        row (if any), and show the selected hold in :attr:`detail`."""
        row = self.model.row_of(hold_id) if hold_id is not None else None
        if row is not None:
            proxy_row = self.proxy.mapFromSource(self.model.index(row, 0)).row()
            if proxy_row >= 0:
                self.select_row(proxy_row)
                return
        if self.proxy.rowCount() > 0:
            self.select_row(0)
        self.show_selected()

    def on_table_current_changed(self, _current: QModelIndex, _previous: QModelIndex) -> None:
        self.show_selected()

    def on_tick_timer_timeout(self) -> None:
        self.model.tick()
        self.show_selected()

    def show_selected(self) -> None:
        """Show the selected hold (with its countdown, status and zone) in :attr:`detail`."""
        hold = self.selected_hold()
        if hold is None:
            self.detail.show_hold(None, "", None, self.model.now())
            return
        self.detail.show_hold(hold, self.model.status_of(hold), self.model.zone_of(hold),
                              self.model.now())
