"""The manager's capacity dialog for one ticket type: add or remove seats with a reason, or
edit the public (online) limit, the low / critical thresholds and the alert levels.

Apply shows a before -> after confirmation computed here with the domain's rules
(:mod:`pos_app.gui.manager.capacity.capacity_preview`); Confirm sends the change through the
register's journal (``register.manager.change_capacity`` / ``update_ticket_type``) on the runner's
journal thread, and the dialog then shows the server's new counts or its refusal. Obvious
mistakes are caught before anything is sent: no change, a blank reason, fewer seats than
are already sold and held.

Keyboard: Ctrl+Tab / Ctrl+Shift+Tab switch the tabs, Enter reviews then confirms, Esc goes
back from the confirmation, then closes.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QStackedWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from pos_app.api.schemas import Event, TicketType
from pos_app.gui.core.failures import failure_sentence
from pos_app.gui.core.form_style import FORM_STYLE, say
from pos_app.gui.core.ports import CapacityOutcomeLike, ManagerPort
from pos_app.gui.core.task_runner import Task, TaskRunner
from pos_app.gui.core.widgets import named
from pos_app.gui.manager.capacity.capacity_figures import (
    BeforeAfterGrid,
    FiguresCard,
    capacity_rows,
    edit_rows,
)
from pos_app.gui.manager.capacity.capacity_preview import counts_after, counts_of, refusal_sentence
from pos_app.gui.manager.capacity.capacity_tabs import (
    InputProblem,
    LimitsTab,
    PendingChange,
    SeatsTab,
)

__all__ = ["CapacityDialog"]

_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class CapacityDialog(QDialog):
    """Change ``ticket_type`` (of ``event``): seats on the first tab, online limit and alerts
    on the second (see the module docstring).

    ``ticket_type`` holds the latest figures (the server's after a change), ``ticket_event``
    the event; :attr:`seats_tab` and :attr:`limits_tab` the fields.

    Signals:
        ticket_types_changed(list): the server confirmed a change; the changed
            ``TicketType`` list with the new counts.
    """

    ticket_types_changed = Signal(list)

    def __init__(self, register: ManagerPort, runner: TaskRunner, ticket_type: TicketType,
                 event: Event, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("capacityDialog")
        self.setWindowTitle(f"Capacity - {ticket_type.name}")
        self.setModal(True)
        self.setStyleSheet(FORM_STYLE)
        self._register = register
        self._runner = runner
        self.ticket_type = ticket_type
        self.ticket_event = event
        self._task: Task | None = None
        self._pending: PendingChange | None = None

        self.title_label = named(QLabel(ticket_type.name), "sectionTitle")
        subtitle = named(QLabel(f"{event.name} · {event.venue}"), "sectionSubtitle")
        self.figures = FiguresCard()
        self.tabs = QTabWidget()
        self.tabs.setAccessibleName("What to change")
        self.seats_tab = SeatsTab()
        self.limits_tab = LimitsTab()
        self.tabs.addTab(self.seats_tab, "Add / Remove seats")
        self.tabs.addTab(self.limits_tab, "Online limit && alerts")
        self.hint_label = named(QLabel(), "hintLabel")
        self.hint_label.setWordWrap(True)
        self.hint_label.setAccessibleName("Message")
        self.close_button = named(QPushButton("Close"), "secondaryButton")
        self.close_button.setAccessibleName("Close the capacity dialog")
        self.apply_button = named(QPushButton("Apply…"), "primaryButton")
        self.apply_button.setAccessibleName("Review the change before confirming it")
        self.apply_button.setMinimumWidth(160)
        edit_buttons = QHBoxLayout()
        edit_buttons.addStretch(1)
        edit_buttons.addWidget(self.close_button)
        edit_buttons.addWidget(self.apply_button)
        edit_page = QWidget()
        edit_layout = QVBoxLayout(edit_page)
        edit_layout.setContentsMargins(0, 0, 0, 0)
        edit_layout.addWidget(self.tabs, 1)
        edit_layout.addLayout(edit_buttons)

        self.confirm_title = named(QLabel(), "panelTitle")
        self.confirm_title.setWordWrap(True)
        self.confirm_reason = named(QLabel(), "sectionSubtitle")
        self.confirm_reason.setWordWrap(True)
        self.before_after = BeforeAfterGrid()
        self.back_button = named(QPushButton("Back"), "secondaryButton")
        self.back_button.setAccessibleName("Back to the change")
        self.confirm_button = named(QPushButton("Confirm"), "primaryButton")
        self.confirm_button.setAccessibleName("Confirm and send the change")
        self.confirm_button.setMinimumWidth(160)
        confirm_buttons = QHBoxLayout()
        confirm_buttons.addStretch(1)
        confirm_buttons.addWidget(self.back_button)
        confirm_buttons.addWidget(self.confirm_button)
        confirm_page = QWidget()
        confirm_layout = QVBoxLayout(confirm_page)
        confirm_layout.setContentsMargins(0, 0, 0, 0)
        confirm_layout.addWidget(self.confirm_title)
        confirm_layout.addWidget(self.confirm_reason)
        confirm_layout.addWidget(self.before_after)
        confirm_layout.addStretch(1)
        confirm_layout.addLayout(confirm_buttons)

        self.pages = QStackedWidget()
        self.pages.addWidget(edit_page)
        self.pages.addWidget(confirm_page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 22)
        layout.setSpacing(12)
        layout.addWidget(self.title_label)
        layout.addWidget(subtitle)
        layout.addWidget(self.figures)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.hint_label)
        for button in (self.close_button, self.apply_button, self.back_button,
                       self.confirm_button):
            button.setAutoDefault(False)  # Enter is handled once, in keyPressEvent
        self.setMinimumSize(720, 640)

        self.close_button.clicked.connect(self.reject)
        self.apply_button.clicked.connect(self.review)
        self.back_button.clicked.connect(self.back)
        self.confirm_button.clicked.connect(self.confirm)
        for tab in (self.seats_tab, self.limits_tab):
            for edit in tab.findChildren(QLineEdit):
                edit.textEdited.connect(self.on_field_edited)
            for spin in tab.findChildren(QSpinBox):
                spin.valueChanged.connect(self.on_field_edited)
        self._show_ticket_type(ticket_type)
        self.seats_tab.delta_spin.setFocus(Qt.FocusReason.OtherFocusReason)

    def on_field_edited(self, _value: object) -> None:
        if self.hint_label.property("warning"):
            say(self.hint_label, "")  # the problem is being fixed

    def _show_ticket_type(self, tt: TicketType) -> None:
        """Show ``tt``'s figures and reset both tabs to them."""
        self.ticket_type = tt
        self.figures.show_ticket_type(tt)
        self.seats_tab.set_ticket_type(tt)
        self.limits_tab.set_ticket_type(tt)

    # --- review, confirm ----------------------------------------------------------------------

    def review(self) -> None:
        """Check the current tab's change (a sentence and nothing sent when wrong), then show
        its before -> after with Confirm / Back."""
        if self._task is not None:
            return
        tab = self.seats_tab if self.tabs.currentIndex() == 0 else self.limits_tab
        try:
            pending = tab.change()
        except InputProblem as problem:
            say(self.hint_label, str(problem), warning=True)
            problem.focus.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self._pending = pending
        tt = self.ticket_type
        if pending.patch is None:
            verb = "Add" if pending.delta > 0 else "Remove"
            self.confirm_title.setText(f"{verb} {abs(pending.delta)} seats "
                                       f"{'to' if pending.delta > 0 else 'from'} {tt.name}?")
            rows = capacity_rows(counts_of(tt), counts_after(tt, delta=pending.delta))
        else:
            patch = pending.patch
            after = counts_after(
                tt, public_limit=(patch.public_limit if "public_limit" in patch.model_fields_set
                                  else tt.public_limit),
                low=patch.thresholds.low if patch.thresholds else None,
                critical=patch.thresholds.critical if patch.thresholds else None)
            ladder = patch.alert_ladder if patch.alert_ladder is not None else tt.alert_ladder
            self.confirm_title.setText(f"Save the online limit and alerts of {tt.name}?")
            rows = edit_rows(counts_of(tt), after, tt.alert_ladder, ladder)
        self.confirm_reason.setText(f"Reason: {pending.reason}" if pending.reason else
                                    "No reason given.")
        self.before_after.set_rows(rows)
        self.pages.setCurrentIndex(1)
        say(self.hint_label, "Check the figures, then press Confirm (Enter) or Back (Esc).")
        self.confirm_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def back(self) -> None:
        """Back from the confirmation to the change (nothing sent)."""
        if self._task is not None:
            return
        self._pending = None
        self.pages.setCurrentIndex(0)
        say(self.hint_label, "")
        self.apply_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def confirm(self) -> None:
        """Send the change being confirmed on the journal thread."""
        pending = self._pending
        if pending is None or self._task is not None:
            return
        manager = self._register.manager
        if pending.patch is None:
            self._task = self._runner.write(manager.change_capacity, self.ticket_type.id,
                                            pending.delta, pending.reason)
        else:
            self._task = self._runner.write(manager.update_ticket_type, self.ticket_type.id,
                                            pending.patch)
        self._task.finished.connect(self.on_task_finished)
        self._task.failed.connect(self.on_task_failed)
        self._set_busy(True)
        say(self.hint_label, "Sending the change…")

    def on_task_finished(self, outcome: CapacityOutcomeLike) -> None:
        self._task = None
        self._set_busy(False)
        if outcome.state == "confirmed" and outcome.ticket_types:
            changed = list(outcome.ticket_types)
            fresh = next((tt for tt in changed if tt.id == self.ticket_type.id), changed[0])
            self._pending = None
            self.pages.setCurrentIndex(0)
            self._show_ticket_type(fresh)
            self.seats_tab.reason_edit.clear()
            self.limits_tab.reason_edit.clear()
            say(self.hint_label, f"{outcome.message} Available now: {fresh.available} at the "
                f"box office, {fresh.public_available} online.", ok=True)
            self.ticket_types_changed.emit(changed)
            return
        say(self.hint_label, refusal_sentence(outcome.state, outcome.message, outcome.error),
            warning=True)

    def on_task_failed(self, exc: BaseException) -> None:
        self._task = None
        self._set_busy(False)
        say(self.hint_label, failure_sentence(exc), warning=True)

    def _set_busy(self, busy: bool) -> None:
        for button in (self.confirm_button, self.back_button, self.close_button):
            button.setEnabled(not busy)
        self.confirm_button.setText("Sending…" if busy else "Confirm")

    # --- keys ---------------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in _ENTER:
            focused = self.focusWidget()
            if isinstance(focused, QPushButton):
                focused.click()
            elif self.pages.currentIndex() == 1:
                self.confirm()
            else:
                self.review()
            event.accept()
            return
        super().keyPressEvent(event)

    def reject(self) -> None:
        if self._task is not None:
            return  # never while the register is working
        if self.pages.currentIndex() == 1:
            self.back()
            return
        super().reject()

