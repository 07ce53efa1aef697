"""The manager's bulk capacity change: pick several ticket types across events, give one
number of seats (+/-) and one reason, check the before -> after of every picked type, and
confirm. The server applies it all or nothing (``register.manager.bulk_capacity``, through
the journal on the runner's journal thread): on a refusal nothing changed, the sentence says
which ticket type was the problem, and the counts are read again from the server.

Keyboard: type to filter, Down goes to the table, Space checks the current row, Ctrl+A
checks every row shown, Enter reviews then confirms, Esc goes back, then closes.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pos_app.api.schemas import MAX_CAPACITY_DELTA, MAX_REASON_LENGTH, Event, EventsResponse
from pos_app.gui.core.checkable_model import CheckTableView
from pos_app.gui.core.failures import failure_sentence
from pos_app.gui.core.form_style import FORM_STYLE, caption, say, spin_box
from pos_app.gui.core.ports import CapacityOutcomeLike, ManagerPort
from pos_app.gui.core.tables import configure_row_table
from pos_app.gui.core.task_runner import Task, TaskRunner
from pos_app.gui.core.widgets import named
from pos_app.gui.manager.capacity.capacity_models import (
    BulkPreviewModel,
    Choice,
    TicketTypeChoiceModel,
)
from pos_app.gui.manager.capacity.capacity_preview import refusal_sentence

__all__ = ["BulkCapacityDialog"]

_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class BulkCapacityDialog(QDialog):
    """One capacity change for many ticket types of ``events`` (see the module docstring).

    :attr:`model` lists every ticket type (checkable), :attr:`proxy` filters it,
    :attr:`preview` holds the before -> after of the change being confirmed.

    Signals:
        ticket_types_changed(list): the server applied the change; the changed
            ``TicketType`` list with their new counts.
        counts_reloaded(): after a refusal, the counts were read again from the server.
    """

    ticket_types_changed = Signal(list)
    counts_reloaded = Signal()

    def __init__(self, register: ManagerPort, runner: TaskRunner, events: list[Event],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("bulkCapacityDialog")
        self.setWindowTitle("Change capacity of several ticket types")
        self.setModal(True)
        self.setStyleSheet(FORM_STYLE)
        self._register = register
        self._runner = runner
        self._task: Task | None = None
        self._reload: Task | None = None
        self._reason = ""

        self.model = TicketTypeChoiceModel(self)
        self.model.set_events(events)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setFilterKeyColumn(-1)
        self.proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.preview = BulkPreviewModel(self)

        title = named(QLabel("Change capacity of several ticket types"), "sectionTitle")
        self.subtitle_label = named(QLabel(), "sectionSubtitle")
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter by event or ticket type")
        self.filter_edit.setAccessibleName("Filter the ticket types")
        self.filter_edit.setClearButtonEnabled(True)
        self.check_shown_button = named(QPushButton("Check all shown"), "secondaryButton")
        self.check_shown_button.setAccessibleName("Check every ticket type shown")
        self.clear_button = named(QPushButton("Uncheck all"), "secondaryButton")
        self.clear_button.setAccessibleName("Uncheck every ticket type")
        self.table = configure_row_table(CheckTableView(self.model), row_height=40)
        self.table.setModel(self.proxy)
        self.table.setAccessibleName("Ticket types of every event; Space checks one")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.delta_spin = spin_box(-MAX_CAPACITY_DELTA, MAX_CAPACITY_DELTA,
                                   "Seats to add to each checked type; negative removes",
                                   suffix=" seats")
        self.reason_edit = QLineEdit()
        self.reason_edit.setMaxLength(MAX_REASON_LENGTH)
        self.reason_edit.setPlaceholderText("Required, e.g. stage moved")
        self.reason_edit.setAccessibleName("Reason for the change, for every checked type")
        self.close_button = named(QPushButton("Close"), "secondaryButton")
        self.close_button.setAccessibleName("Close the bulk capacity dialog")
        self.review_button = named(QPushButton("Review…"), "primaryButton")
        self.review_button.setAccessibleName("Review the change of every checked type")
        self.review_button.setMinimumWidth(180)

        tools = QHBoxLayout()
        tools.addWidget(self.filter_edit, 1)
        tools.addWidget(self.check_shown_button)
        tools.addWidget(self.clear_button)
        form = QGridLayout()
        form.addWidget(caption("&Seats (+/-)", self.delta_spin), 0, 0)
        form.addWidget(self.delta_spin, 0, 1)
        form.addWidget(caption("&Reason", self.reason_edit), 0, 2)
        form.addWidget(self.reason_edit, 0, 3)
        form.setColumnStretch(3, 1)
        pick_buttons = QHBoxLayout()
        pick_buttons.addStretch(1)
        pick_buttons.addWidget(self.close_button)
        pick_buttons.addWidget(self.review_button)
        pick = QWidget()
        pick_layout = QVBoxLayout(pick)
        pick_layout.setContentsMargins(0, 0, 0, 0)
        pick_layout.addLayout(tools)
        pick_layout.addWidget(self.table, 1)
        pick_layout.addLayout(form)
        pick_layout.addLayout(pick_buttons)

        self.confirm_title = named(QLabel(), "panelTitle")
        self.confirm_title.setWordWrap(True)
        self.confirm_reason = named(QLabel(), "sectionSubtitle")
        self.confirm_reason.setWordWrap(True)
        self.preview_table = configure_row_table(QTableView(), row_height=40)
        self.preview_table.setModel(self.preview)
        self.preview_table.setAccessibleName("Each checked ticket type before and after")
        self.preview_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.preview_table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.Stretch)
        self.back_button = named(QPushButton("Back"), "secondaryButton")
        self.back_button.setAccessibleName("Back to the ticket types")
        self.confirm_button = named(QPushButton("Confirm"), "primaryButton")
        self.confirm_button.setAccessibleName("Confirm and apply the change to every line")
        self.confirm_button.setMinimumWidth(180)
        confirm_buttons = QHBoxLayout()
        confirm_buttons.addStretch(1)
        confirm_buttons.addWidget(self.back_button)
        confirm_buttons.addWidget(self.confirm_button)
        confirm = QWidget()
        confirm_layout = QVBoxLayout(confirm)
        confirm_layout.setContentsMargins(0, 0, 0, 0)
        confirm_layout.addWidget(self.confirm_title)
        confirm_layout.addWidget(self.confirm_reason)
        confirm_layout.addWidget(self.preview_table, 1)
        confirm_layout.addLayout(confirm_buttons)

        self.pages = QStackedWidget()
        self.pages.addWidget(pick)
        self.pages.addWidget(confirm)
        self.hint_label = named(QLabel(), "hintLabel")
        self.hint_label.setWordWrap(True)
        self.hint_label.setAccessibleName("Message")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 22)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addWidget(self.subtitle_label)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.hint_label)
        for button in (self.check_shown_button, self.clear_button, self.close_button,
                       self.review_button, self.back_button, self.confirm_button):
            button.setAutoDefault(False)  # Enter is handled once, in keyPressEvent
        self.setMinimumSize(900, 640)

        self.filter_edit.textChanged.connect(self.proxy.setFilterFixedString)
        self.check_shown_button.clicked.connect(self.check_shown)
        self.clear_button.clicked.connect(self.uncheck_all)
        self.model.checks_changed.connect(self.on_model_checks_changed)
        self.close_button.clicked.connect(self.reject)
        self.review_button.clicked.connect(self.review)
        self.back_button.clicked.connect(self.back)
        self.confirm_button.clicked.connect(self.confirm)
        self.reason_edit.textEdited.connect(self.on_field_edited)
        self.delta_spin.valueChanged.connect(self.on_field_edited)
        check_all = QShortcut(QKeySequence.StandardKey.SelectAll, self.table, self.check_shown)
        check_all.setContext(Qt.ShortcutContext.WidgetShortcut)  # the boxes keep their Ctrl+A
        self.on_model_checks_changed()
        self.filter_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    # --- picking ------------------------------------------------------------------------------

    def check_shown(self) -> None:
        """Check every ticket type the filter shows."""
        shown = [self.proxy.index(row, 0).data(Qt.ItemDataRole.UserRole)
                 for row in range(self.proxy.rowCount())]
        self.model.set_checked([row for row in shown if isinstance(row, Choice)], True)

    def uncheck_all(self) -> None:
        """Uncheck every ticket type (shown or not)."""
        self.model.set_checked(self.model.rows(), False)

    def on_field_edited(self, _value: object) -> None:
        if self.hint_label.property("warning"):
            say(self.hint_label, "")  # the problem is being fixed

    def on_model_checks_changed(self) -> None:
        count = len(self.model.checked_rows())
        events = len({row.event.id for row in self.model.checked_rows()})
        total = self.model.rowCount()
        self.subtitle_label.setText(
            f"{count} of {total} ticket types checked" +
            (f", in {events} event{'s' if events != 1 else ''}." if count else
             ". Check the ticket types to change, then give the seats and one reason."))

    # --- review, confirm ----------------------------------------------------------------------

    def review(self) -> None:
        """Check the change (a sentence and nothing sent when wrong), then show every checked
        type before and after, with Confirm / Back."""
        if self._task is not None:
            return
        rows = self.model.checked_rows()
        delta, reason = self.delta_spin.value(), self.reason_edit.text().strip()
        if not rows:
            self._refuse("Check at least one ticket type (Space in the table).", self.table)
            return
        if delta == 0:
            self._refuse("Enter the seats to add (or, negative, to remove) first.",
                         self.delta_spin)
            return
        if not reason:
            self._refuse("Give a reason: it is kept in the audit log of every line.",
                         self.reason_edit)
            return
        self.preview.set_change(rows, delta)
        short = self.preview.impossible()
        if short:
            names = ", ".join(f"{row.ticket_type.name} ({row.event.name}: "
                              f"{row.ticket_type.sold + row.ticket_type.held} sold and held)"
                              for row in short)
            self._refuse("Capacity cannot go below the tickets already sold and held: "
                         f"{names}. Nothing was sent.", self.delta_spin)
            return
        self._reason = reason
        verb = "Add" if delta > 0 else "Remove"
        self.confirm_title.setText(
            f"{verb} {abs(delta)} seats {'to' if delta > 0 else 'from'} each of "
            f"{len(rows)} ticket type{'s' if len(rows) != 1 else ''}? All or nothing.")
        self.confirm_reason.setText(f"Reason: {reason}")
        self.pages.setCurrentIndex(1)
        say(self.hint_label, "Check every line, then press Confirm (Enter) or Back (Esc).")
        self.confirm_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def _refuse(self, text: str, focus: QWidget) -> None:
        say(self.hint_label, text, warning=True)
        focus.setFocus(Qt.FocusReason.OtherFocusReason)

    def back(self) -> None:
        """Back to picking (nothing sent)."""
        if self._task is not None:
            return
        self.pages.setCurrentIndex(0)
        say(self.hint_label, "")
        self.review_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def confirm(self) -> None:
        """Send the change of every previewed line on the journal thread, all or nothing."""
        if self._task is not None or self.pages.currentIndex() != 1:
            return
        changes = [(row.ticket_type.id, self.preview.delta) for row in self.preview.rows()]
        self._task = self._runner.write(self._register.manager.bulk_capacity, changes,
                                        self._reason)
        self._task.finished.connect(self.on_task_finished)
        self._task.failed.connect(self.on_task_failed)
        self._set_busy(True)
        say(self.hint_label, f"Sending the change of {len(changes)} ticket types…")

    def on_task_finished(self, outcome: CapacityOutcomeLike) -> None:
        self._task = None
        self._set_busy(False)
        if outcome.state == "confirmed":
            changed = list(outcome.ticket_types)
            self.model.update_ticket_types(changed)
            self.delta_spin.setValue(0)
            self.reason_edit.clear()
            self.pages.setCurrentIndex(0)
            say(self.hint_label, f"{outcome.message} New capacities: " + ", ".join(
                f"{tt.name} {tt.capacity}" for tt in changed) + ".", ok=True)
            self.ticket_types_changed.emit(changed)
            return
        say(self.hint_label, refusal_sentence(outcome.state, outcome.message, outcome.error),
            warning=True)
        if outcome.state == "refused":
            self._reload_counts()

    def on_task_failed(self, exc: BaseException) -> None:
        self._task = None
        self._set_busy(False)
        say(self.hint_label, failure_sentence(exc), warning=True)

    def _reload_counts(self) -> None:
        """Read every event's counts again (the change was refused: ours were stale)."""
        if self._reload is not None:
            return
        self._reload = self._runner.read(self._register.events)
        self._reload.finished.connect(self.on_reload_finished)
        self._reload.failed.connect(self.on_reload_failed)

    def on_reload_finished(self, events: EventsResponse) -> None:
        self._reload = None
        self.model.set_events(events.events)
        self.preview.set_change(_fresh(self.preview.rows(), self.model.rows()),
                                self.preview.delta)
        self.pages.setCurrentIndex(0)
        self.hint_label.setText(self.hint_label.text() + " The counts were read again.")
        self.counts_reloaded.emit()

    def on_reload_failed(self, _exc: BaseException) -> None:
        self._reload = None
        self.pages.setCurrentIndex(0)

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
        if event.key() == Qt.Key.Key_Down and self.focusWidget() is self.filter_edit:
            # Down from the filter box goes to the table (the first row shown, if none yet).
            self.table.setFocus(Qt.FocusReason.OtherFocusReason)
            if not self.table.currentIndex().isValid() and self.proxy.rowCount():
                self.table.setCurrentIndex(self.proxy.index(0, 0))
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


def _fresh(rows: Sequence[Choice], current: Sequence[Choice]) -> list[Choice]:
    """``rows`` with the counts of ``current`` (the rows just read again)."""
    by_id = {row.ticket_type.id: row for row in current}
    return [by_id.get(row.ticket_type.id, row) for row in rows]

