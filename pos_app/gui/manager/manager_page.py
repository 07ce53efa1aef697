"""The manager's page: the live dashboard, the audit log and the shifts, as tabs, with the
capacity and refund tools in its top bar.

Each tab's widget is built the first time the tab is shown (the POS starts no slower for
them, and a cashier who never opens the page never pays for the chart library). The
dashboard's timers run only while its tab is on screen.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol, cast

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from pos_app.api.schemas import Event, TicketType
from pos_app.gui.core.ports import ManagerPort
from pos_app.gui.core.task_runner import TaskRunner
from pos_app.gui.core.widgets import named

if TYPE_CHECKING:
    from pos_app.gui.core.live_inventory import LiveInventory
    from pos_app.gui.printing.printing import ReceiptPrinter
    from pos_app.gui.refunds.refund_work import RefundPort

__all__ = ["ManagerPage", "Startable"]

TABS = ("Dashboard", "Audit log", "Shifts")


class Startable(Protocol):
    """A tab with timers: started when shown, stopped when hidden."""

    def start(self) -> None: ...

    def stop(self) -> None: ...


class ManagerPage(QWidget):
    """Tabs "Dashboard" (Ctrl+1), "Audit log" (Ctrl+2) and "Shifts" (Ctrl+3), and the buttons
    "Capacity…" (the ticket type selected on the dashboard), "Bulk capacity…" and
    "Refund…". ``zone`` is the venue's IANA time zone for times shown.

    Signals:
        back_requested(): "Back to selling" (Ctrl+L or Esc) was pressed.
        inventory_changed(): a capacity change or refund was confirmed (counts moved).
    """

    back_requested = Signal()
    inventory_changed = Signal()

    def __init__(self, register: ManagerPort, runner: TaskRunner, printer: ReceiptPrinter,
                 parent: QWidget | None = None, *, live: LiveInventory | None = None,
                 zone: str | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("managerPage")
        self._register = register
        self._runner = runner
        self._printer = printer
        self._live = live
        self._zone = zone
        self._built: dict[int, QWidget] = {}
        self._running: Startable | None = None
        self.dialog: QWidget | None = None
        self.report_job: QObject | None = None

        self.back_button = named(QPushButton("← Back to selling  ·  Ctrl+L"), "secondaryButton")
        self.back_button.setAccessibleName("Back to selling")
        self.capacity_button = named(QPushButton("Capacity…"), "secondaryButton")
        self.capacity_button.setAccessibleName(
            "Change the capacity, public limit or thresholds of the ticket type selected on "
            "the dashboard")
        self.bulk_button = named(QPushButton("Bulk capacity…"), "secondaryButton")
        self.bulk_button.setAccessibleName("Change the capacity of several ticket types at once")
        self.refund_button = named(QPushButton("Refund…"), "secondaryButton")
        self.refund_button.setAccessibleName("Refund a sale or some of its tickets")
        self.message_label = named(QLabel(), "managerMessage")
        self.message_label.setWordWrap(True)
        self.tabs = named(QTabWidget(), "managerTabs")
        self.tabs.setAccessibleName("Manager tools")
        self.tabs.setDocumentMode(True)
        for title in TABS:
            holder = QWidget()
            QVBoxLayout(holder).setContentsMargins(0, 0, 0, 0)
            self.tabs.addTab(holder, title)

        top = QHBoxLayout()
        top.setContentsMargins(20, 12, 20, 0)
        top.addWidget(self.back_button)
        top.addStretch(1)
        top.addWidget(self.capacity_button)
        top.addWidget(self.bulk_button)
        top.addWidget(self.refund_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.message_label)
        body = QVBoxLayout()
        body.setContentsMargins(20, 8, 20, 12)
        body.addWidget(self.tabs, 1)
        layout.addLayout(body, 1)
        self.message_label.hide()

        self.back_button.clicked.connect(self.back_requested)
        self.capacity_button.clicked.connect(self.open_capacity)
        self.bulk_button.clicked.connect(self.open_bulk_capacity)
        self.refund_button.clicked.connect(self.open_refund)
        self.tabs.currentChanged.connect(self.on_tabs_current_changed)
        for keys, slot in (("Ctrl+L", self.back_requested.emit),
                           ("Esc", self.back_requested.emit),
                           ("Ctrl+1", lambda: self.tabs.setCurrentIndex(0)),
                           ("Ctrl+2", lambda: self.tabs.setCurrentIndex(1)),
                           ("Ctrl+3", lambda: self.tabs.setCurrentIndex(2))):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)

    # --- tabs ---------------------------------------------------------------------------------

    def tab(self, index: int) -> QWidget:
        """The widget of tab ``index`` (0 dashboard, 1 audit log, 2 shifts), built on first
        use."""
        built = self._built.get(index)
        if built is not None:
            return built
        factories: dict[int, Callable[[], QWidget]] = {
            0: self._make_dashboard, 1: self._make_audit_viewer, 2: self._make_shifts}
        widget = factories[index]()
        holder = self.tabs.widget(index)
        layout = holder.layout() if holder is not None else None
        assert layout is not None
        layout.addWidget(widget)
        self._built[index] = widget
        return widget

    def _make_dashboard(self) -> QWidget:
        from pos_app.gui.manager.dashboard.dashboard import Dashboard

        return Dashboard(self._register, self._runner, live=self._live)

    def _make_audit_viewer(self) -> QWidget:
        from pos_app.gui.manager.audit.audit_viewer import AuditViewer

        return AuditViewer(self._register, self._runner, timezone=self._zone)

    def _make_shifts(self) -> QWidget:
        from pos_app.gui.shifts.shifts_tab import ShiftsTab

        shifts = ShiftsTab(self._register, self._runner, zone=self._zone)
        shifts.report_requested.connect(self.on_shifts_report_requested)
        return shifts

    def on_tabs_current_changed(self, index: int) -> None:
        if not self.isVisible():
            return
        self._show_tab(index)

    def _show_tab(self, index: int) -> None:
        widget = self.tab(index)
        startable = (cast(Startable, widget)
                     if hasattr(widget, "start") and hasattr(widget, "stop") else None)
        if self._running is not None and self._running is not startable:
            self._running.stop()
            self._running = None
        if startable is not None:
            self._running = startable
            startable.start()
        elif hasattr(widget, "refresh"):
            widget.refresh()

    def enter(self, zone: str | None = None) -> None:
        """The page is being shown: build and start the current tab."""
        if zone is not None:
            self._zone = zone
        self._show_tab(self.tabs.currentIndex())
        self.tabs.currentWidget().setFocus(Qt.FocusReason.OtherFocusReason)

    def leave(self) -> None:
        """The page is being hidden: stop the running tab's timers."""
        if self._running is not None:
            self._running.stop()
            self._running = None

    def say(self, text: str) -> None:
        """Show ``text`` above the tabs (the last tool's result)."""
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))

    # --- tools --------------------------------------------------------------------------------

    def _with_events(self, then: Callable[[list[Event]], None]) -> None:
        """Read the events on the runner (the register answers from its copy when the server
        says nothing changed), then call ``then(events)``; a failed read is said."""
        task = self._runner.read(self._register.events)
        task.finished.connect(lambda response: then(list(response.events)))
        task.failed.connect(lambda exc: self.say(f"Could not read the events: {exc}"))

    def selected_ticket_type(self) -> TicketType | None:
        """The ticket type selected on the dashboard, or ``None``."""
        dashboard = self._built.get(0)
        pick = getattr(dashboard, "selected_ticket_type", None)
        chosen = pick() if callable(pick) else None
        return chosen if isinstance(chosen, TicketType) else None

    def open_capacity(self) -> None:
        """The capacity dialog for the dashboard's selected ticket type (its counts fresh)."""
        chosen = self.selected_ticket_type()
        if chosen is None:
            self.say("Select a ticket type on the dashboard first, then press Capacity….")
            return

        def show(events: list[Event]) -> None:
            from pos_app.gui.manager.capacity.capacity_dialog import CapacityDialog

            for event in events:
                for ticket_type in event.ticket_types:
                    if ticket_type.id == chosen.id:
                        self._open(CapacityDialog(self._register, self._runner, ticket_type,
                                                  event, self))
                        return
            self.say("That ticket type is no longer on sale.")

        self._with_events(show)

    def open_bulk_capacity(self) -> None:
        """The bulk capacity dialog over every event's ticket types (counts fresh)."""

        def show(events: list[Event]) -> None:
            from pos_app.gui.manager.capacity.bulk_capacity_dialog import BulkCapacityDialog

            self._open(BulkCapacityDialog(self._register, self._runner, events, self))

        self._with_events(show)

    def open_refund(self) -> None:
        """The refund dialog (sale number first)."""
        from pos_app.gui.refunds.refund_dialog import RefundDialog

        self._open(RefundDialog(cast("RefundPort", self._register), self._runner,
                                self._printer, parent=self))

    def _open(self, dialog: QWidget) -> None:
        self.dialog = dialog
        changed = getattr(dialog, "ticket_types_changed", None) or getattr(
            dialog, "refund_confirmed", None)
        if changed is not None:
            changed.connect(self.on_dialog_changed)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.destroyed.connect(self._forget_dialog)
        open_ = getattr(dialog, "open", dialog.show)
        open_()

    def _forget_dialog(self, *_args: object) -> None:
        self.dialog = None

    def on_dialog_changed(self, *_args: object) -> None:
        self.inventory_changed.emit()
        widget = self._built.get(0)
        refresh = getattr(widget, "refresh", None)
        if callable(refresh):
            refresh()

    def on_shifts_report_requested(self, shift_id: int, _is_open: bool) -> None:
        from pos_app.gui.shifts.shift_report import open_shift_report

        # By id, open or closed: an open shift of another terminal gets its X-report too.
        self.report_job = open_shift_report(self, self._register, self._runner,
                                            self._printer, shift_id, timezone=self._zone)
