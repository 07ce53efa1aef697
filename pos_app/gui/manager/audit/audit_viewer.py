"""The manager's audit log viewer: filter the log, read it newest (or oldest) first as it
scrolls, see every field of an entry, check the hash chain, export what is shown.

Everything the server is asked runs on the :class:`~pos_app.gui.core.task_runner.TaskRunner`:
the events (ticket type names and the ticket type filter), the pages
(:class:`~pos_app.gui.manager.audit.audit_model.AuditTableModel`), the chain check
(``register.manager.verify_audit``) and the exports
(:class:`~pos_app.gui.manager.audit.audit_export_job.AuditExportJob`). A cashier, a lost connection
or an ended session is told in a sentence where the entries would be.

Keyboard: F5 reads the list again, Ctrl+F goes to the search box, Up/Down move through the
entries (the detail follows), Ctrl+E exports CSV, Ctrl+P exports PDF.
"""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pos_app.api.schemas import AuditVerify, EventsResponse
from pos_app.domain.clock import utc_now
from pos_app.gui.core.failures import failure_sentence
from pos_app.gui.core.ports import ManagerPort
from pos_app.gui.core.styles import style_sheet
from pos_app.gui.core.tables import configure_row_table
from pos_app.gui.core.task_runner import Task, TaskRunner
from pos_app.gui.core.widgets import announce, named, restyle
from pos_app.gui.manager.audit.audit_detail import (
    DETAIL_STYLE,
    READ_FAILED,
    VERIFY_FAILED,
    AuditDetailPane,
    chain_status,
    list_sentences,
)
from pos_app.gui.manager.audit.audit_export_bar import EXPORT_BAR_STYLE, AuditExportBar
from pos_app.gui.manager.audit.audit_export_job import EXPORT_CAP, AuditExportJob, ExportKind
from pos_app.gui.manager.audit.audit_filters import FILTER_STYLE, AuditFilterBar, zone_name
from pos_app.gui.manager.audit.audit_model import AuditTableModel
from pos_app.gui.manager.audit.audit_text import Order

__all__ = ["CHAIN_CHECKING", "AuditViewer"]

CHAIN_CHECKING = "Checking the chain…"
_STYLE = style_sheet("audit_viewer") + FILTER_STYLE + DETAIL_STYLE + EXPORT_BAR_STYLE


def _zone(timezone: tzinfo | str | None) -> tzinfo | None:
    return ZoneInfo(timezone) if isinstance(timezone, str) else timezone


class AuditViewer(QWidget):
    """The audit log of the server ``register`` is paired with (a manager must be signed
    in). Call :meth:`start` (done when first shown) to read the events, the first page and
    check the chain. ``timezone``: the venue's zone (IANA name or ``tzinfo``) times are shown
    and typed in; the computer's local zone by default. ``page_size``: entries per request.

    Signals:
        entries_loaded(int): a page arrived with this many entries.
        load_failed(object): a page could not be read (the sentence is shown).
        chain_checked(object): the server's ``AuditVerify``.
        chain_check_failed(object): the check could not run (this exception); said in the
            status line.
        export_finished(object): the ``Path`` written.
        export_failed(object): the export raised this exception (a sentence is shown).
        export_cancelled(): the export was cancelled.
    """

    entries_loaded = Signal(int)
    load_failed = Signal(object)
    chain_checked = Signal(object)
    chain_check_failed = Signal(object)
    export_finished = Signal(object)
    export_failed = Signal(object)
    export_cancelled = Signal()

    def __init__(self, register: ManagerPort, runner: TaskRunner,
                 parent: QWidget | None = None, *, timezone: tzinfo | str | None = None,
                 page_size: int = 100) -> None:
        super().__init__(parent)
        self.setObjectName("auditViewer")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(_STYLE)
        self._register = register
        self._runner = runner
        self._zone = _zone(timezone)
        self._started = False
        self._verify_task: Task | None = None
        self.chain: AuditVerify | None = None
        self.model = AuditTableModel(register.manager, runner, self, page_size=page_size,
                                     timezone=self._zone)

        title = named(QLabel("Audit log"), "sectionTitle")
        self.subtitle = named(QLabel(f"Every change to tickets, shifts and sign-ins. Times in "
                                     f"{zone_name(self._zone)}."), "sectionSubtitle")
        self.chain_label = named(QLabel(CHAIN_CHECKING), "chainStatus")
        self.chain_label.setAccessibleName("Hash chain status")
        self.verify_button = named(QPushButton("Verify again"), "secondaryButton")
        self.verify_button.setAccessibleName("Check the hash chain again")
        self.filter_bar = AuditFilterBar(self, timezone=self._zone)

        self.table = named(QTableView(), "auditTable")
        self.table.setModel(self.model)
        self.table.setAccessibleName("Audit entries")
        configure_row_table(self.table, row_height=34)
        self.table.setWordWrap(False)
        self.table.setTabKeyNavigation(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((70, 158, 150, 120, 44, 214, 120, 84, 60)):
            header.resizeSection(column, width)
        header.setStretchLastSection(True)
        header.setSortIndicatorShown(True)
        header.setSectionsClickable(True)
        header.setSortIndicator(AuditTableModel.SEQ, Qt.SortOrder.DescendingOrder)
        self.placeholder = named(QLabel(), "auditPlaceholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setAccessibleName("Audit list status")
        self.retry_button = named(QPushButton("Retry"), "secondaryButton")
        self.retry_button.setAccessibleName("Ask the server again")
        self.retry_button.hide()
        self.pages = QStackedWidget()
        self.pages.addWidget(self.table)
        self.pages.addWidget(self.placeholder)
        self.detail = AuditDetailPane()
        # The detail scrolls inside its share: on the manager's page the list keeps the room.
        detail_scroll = named(QScrollArea(), "auditDetailScroll")
        detail_scroll.setWidget(self.detail)
        detail_scroll.setWidgetResizable(True)
        detail_scroll.setFrameShape(QFrame.Shape.NoFrame)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.pages)
        splitter.addWidget(detail_scroll)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([420, 170])
        splitter.setChildrenCollapsible(False)

        self.status_label = named(QLabel(), "auditStatus")
        self.status_label.setAccessibleName("Audit list summary")
        self.exports = AuditExportBar(self._make_export_job, self._suggested_path, self)
        self.csv_button = self.exports.csv_button
        self.pdf_button = self.exports.pdf_button

        top = QHBoxLayout()
        heading = QVBoxLayout()
        heading.setSpacing(2)
        heading.addWidget(title)
        heading.addWidget(self.subtitle)
        top.addLayout(heading, 1)
        top.addWidget(self.chain_label, 0, Qt.AlignmentFlag.AlignVCenter)
        top.addWidget(self.verify_button, 0, Qt.AlignmentFlag.AlignVCenter)
        bottom = QHBoxLayout()
        bottom.setSpacing(10)
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(self.retry_button)
        bottom.addWidget(self.exports)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 18, 24, 16)
        layout.setSpacing(12)
        layout.addLayout(top)
        layout.addWidget(self.filter_bar)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)

        self.filter_bar.filters_changed.connect(self.on_filter_bar_filters_changed)
        header.sortIndicatorChanged.connect(self.on_header_sort_indicator_changed)
        self.verify_button.clicked.connect(self.verify)
        self.retry_button.clicked.connect(self.on_retry_button_clicked)
        self.exports.said.connect(self.on_exports_said)
        self.exports.finished.connect(self.export_finished)
        self.exports.failed.connect(self.export_failed)
        self.exports.cancelled.connect(self.export_cancelled)
        self.model.page_loaded.connect(self.on_model_page_loaded)
        self.model.loading_changed.connect(self.on_model_loading_changed)
        self.model.fetch_failed.connect(self.on_model_fetch_failed)
        self.model.modelReset.connect(self.on_model_reset)
        self.table.selectionModel().currentRowChanged.connect(self.on_table_current_changed)
        for keys, slot in (("F5", self.reload), ("Ctrl+F", self.focus_search),
                           ("Ctrl+E", lambda: self.exports.choose("csv")),
                           ("Ctrl+P", lambda: self.exports.choose("pdf"))):
            QShortcut(QKeySequence(keys), self, activated=slot)  # type: ignore[call-overload]
        self._show_list_state()

    # --- starting and reading -------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.start()

    def start(self) -> None:
        """Read the events (names, the ticket type list), the first page and check the
        chain; only the first call does anything."""
        if self._started:
            return
        self._started = True
        session = self._register.session
        if session is not None:
            staff = session.staff
            self.model.set_names(staff={staff.id: staff.display_name})
            self.filter_bar.set_staff_names({staff.display_name: staff.id,
                                             staff.username: staff.id})
        task = self._runner.read(self._register.events)
        task.finished.connect(self.on_events_task_finished)
        self.reload()
        self.verify()

    def reload(self) -> None:
        """Ask for the filtered entries again, from the first page."""
        problem = self.filter_bar.problem()
        self.filter_bar.problem_label.setText(problem or "")
        self.filter_bar.problem_label.setVisible(problem is not None)
        if problem is not None:
            return  # the list stays as it was; the sentence says why
        self.model.set_query(self.filter_bar.filters(), self.filter_bar.order)
        self._show_list_state()

    def set_filters(self, **filters: object) -> None:
        """Set filters by their query names as a manager would (tests, benchmarks), then read
        at once: ``action``, ``ticket_type_id``, ``terminal_id``, ``staff_id``,
        ``shift_id``, ``q``, ``from`` / ``to`` (aware datetimes); others are cleared."""
        from pos_app.gui.manager.audit.audit_filters import set_bar_filters

        set_bar_filters(self.filter_bar, filters)
        self.reload()

    def focus_search(self) -> None:
        self.filter_bar.search_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.filter_bar.search_edit.selectAll()

    def on_events_task_finished(self, events: EventsResponse) -> None:
        names: dict[int, str] = {}
        choices: list[tuple[int, str]] = []
        for event in events.events:
            for tt in event.ticket_types:
                names[tt.id] = tt.name
                choices.append((tt.id, f"{event.name} · {tt.name}"))
        self.model.set_names(ticket_types=names)
        self.filter_bar.set_ticket_types(choices)

    def on_filter_bar_filters_changed(self) -> None:
        order = self.filter_bar.order
        header = self.table.horizontalHeader()
        header.blockSignals(True)
        header.setSortIndicator(AuditTableModel.SEQ, Qt.SortOrder.DescendingOrder
                                if order == "desc" else Qt.SortOrder.AscendingOrder)
        header.blockSignals(False)
        self.reload()

    def on_header_sort_indicator_changed(self, section: int, order: Qt.SortOrder) -> None:
        wanted: Order = "asc" if order == Qt.SortOrder.AscendingOrder else "desc"
        if section not in (AuditTableModel.SEQ, AuditTableModel.TIME):
            wanted = self.model.order  # only # and time sort: the server pages by seq
        header = self.table.horizontalHeader()
        header.blockSignals(True)
        header.setSortIndicator(section if section in (AuditTableModel.SEQ,
                                                       AuditTableModel.TIME)
                                else AuditTableModel.SEQ,
                                Qt.SortOrder.AscendingOrder if wanted == "asc"
                                else Qt.SortOrder.DescendingOrder)
        header.blockSignals(False)
        if wanted != self.filter_bar.order:
            self.filter_bar.set_order(wanted)  # announces, which reloads

    def on_retry_button_clicked(self) -> None:
        if self.model.error is not None:
            self.model.retry()
        else:
            self.reload()
        self._show_list_state()

    def on_model_page_loaded(self, count: int) -> None:
        self._show_list_state()
        self.entries_loaded.emit(count)

    def on_model_loading_changed(self, _loading: bool) -> None:
        self._show_list_state()

    def on_model_reset(self) -> None:
        self.detail.show_entry(None, self.model)

    def on_model_fetch_failed(self, exc: BaseException) -> None:
        self._show_list_state()
        announce(self, failure_sentence(exc, READ_FAILED))
        self.load_failed.emit(exc)

    def on_table_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self.detail.show_entry(self.model.entry(current.row()) if current.isValid() else None,
                               self.model)

    def _show_list_state(self) -> None:
        placeholder, status, failed = list_sentences(self.model)
        if placeholder is None:
            self.pages.setCurrentWidget(self.table)
        else:
            self._placeholder(placeholder, failed=failed)
        self.status_label.setText(status)
        self.status_label.setProperty("failed", failed)
        restyle(self.status_label)
        self.retry_button.setVisible(failed)

    def _placeholder(self, text: str, *, failed: bool = False) -> None:
        self.placeholder.setText(text)
        self.placeholder.setProperty("failed", failed)
        restyle(self.placeholder)
        self.pages.setCurrentWidget(self.placeholder)

    # --- the hash chain -----------------------------------------------------------------------

    @property
    def chain_text(self) -> str:
        """The chain status line as shown (also printed at the top of an export)."""
        return self.chain_label.text()

    def verify(self) -> None:
        """Check the hash chain on the server (on a worker); ignored while a check runs."""
        if self._verify_task is not None:
            return
        self._set_chain(CHAIN_CHECKING, "checking")
        self.verify_button.setEnabled(False)
        self._verify_task = self._runner.read(self._register.manager.verify_audit)
        self._verify_task.finished.connect(self.on_verify_task_finished)
        self._verify_task.failed.connect(self.on_verify_task_failed)

    def on_verify_task_finished(self, result: AuditVerify) -> None:
        self._verify_task = None
        self.verify_button.setEnabled(True)
        self.chain = result
        self._set_chain(*chain_status(result))
        self.model.set_first_bad_seq(result.first_bad_seq, result.problem)
        announce(self, self.chain_text)
        self.on_table_current_changed(self.table.currentIndex(), QModelIndex())
        self.chain_checked.emit(result)

    def on_verify_task_failed(self, exc: BaseException) -> None:
        self._verify_task = None
        self.verify_button.setEnabled(True)
        self._set_chain(failure_sentence(exc, VERIFY_FAILED), "unknown")
        self.chain_check_failed.emit(exc)

    def _set_chain(self, text: str, state: str) -> None:
        self.chain_label.setText(text)
        self.chain_label.setAccessibleDescription(text)
        self.chain_label.setProperty("state", state)
        restyle(self.chain_label)

    # --- exports (AuditExportBar runs them) ------------------------------------------------

    @property
    def export_job(self) -> AuditExportJob | None:
        """The export running now, if any."""
        return self.exports.job

    def export(self, kind: ExportKind, path: Path, *,
               cap: int = EXPORT_CAP) -> AuditExportJob | None:
        """Export every entry matching the current filters (at most ``cap``), in the order
        shown, to ``path`` as ``kind`` (what the Export buttons do after their file dialog);
        returns the running job (``None`` while another export runs)."""
        return self.exports.start(kind, path, cap=cap)

    def cancel_export(self) -> None:
        """Stop the running export at its next page; nothing is written."""
        self.exports.cancel()

    def _make_export_job(self, kind: ExportKind, path: Path, cap: int) -> AuditExportJob:
        return AuditExportJob(
            self._register.manager, self._runner, kind, path, filters=self.model.filters,
            order=self.model.order, filters_text=self.filter_bar.describe(),
            chain_text=self.chain_text, ticket_types=self.model.ticket_type_names,
            staff=self.model.staff_names, timezone=self._zone,
            first_bad_seq=self.model.first_bad_seq, cap=cap, parent=self)

    def _suggested_path(self, kind: ExportKind) -> Path:
        stamp = utc_now().astimezone(self._zone).strftime("%Y%m%d-%H%M")
        return Path.home() / f"audit-log-{stamp}.{kind}"

    def on_exports_said(self, text: str, failed: bool) -> None:
        self.status_label.setText(text)
        self.status_label.setProperty("failed", failed)
        restyle(self.status_label)
