"""Pay-ins, pay-outs and drops during a shift (issue 6: "records pay-ins, pay-outs and drops
with a reason"): a dialog that records one cash movement through the register's journal on the
runner, and says what the server recorded.

- **Pay in**: cash put into the drawer (more change from the safe).
- **Pay out**: cash taken out to pay for something (a courier, supplies), with a reason.
- **Drop**: cash taken out to the safe, so the drawer never holds too much.

The reason is required. The server adds movements into the shift's expected cash; the
dialog never computes it.

"X-report" (Alt+X; shown when the window has a printer) prints the open shift's report so
far (:mod:`pos_app.gui.shifts.shift_report`) and says where it went; it never shows the expected
cash, which the server computes only at the close.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, cast

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pos_app.domain.money import InvalidAmount, format_money, parse_major
from pos_app.gui.core.ports import state_name
from pos_app.gui.core.task_runner import Task, TaskRunner
from pos_app.gui.core.widgets import named, restyle

if TYPE_CHECKING:
    from pos_app.gui.printing.printing import ReceiptPrinter
    from pos_app.gui.shifts.shift_report import ShiftReportPort

__all__ = ["KINDS", "CashMovementDialog", "CashMovementPort"]

KINDS = (("pay_in", "Pay in", "Cash put into the drawer"),
         ("pay_out", "Pay out", "Cash taken out to pay for something"),
         ("drop", "Drop", "Cash taken to the safe"))
"""``(kind, button text, accessible description)`` in the order shown."""


class CashMovementPort(Protocol):
    """The register call the dialog makes (``pos_app.journal.Register.cash_movement``)."""

    def cash_movement(self, shift_id: int, kind: str, amount: int,
                      reason: str) -> object: ...


class CashMovementDialog(QDialog):
    """Record one cash movement on shift ``shift_id`` (see the module docstring).

    Alt+I / Alt+O / Alt+D pick the kind, Enter records, Esc closes. With a ``printer`` (and
    a register that can read shifts), Alt+X prints the X-report.

    Signals:
        recorded(object): the journal settled the movement ``confirmed`` (``ShiftOutcome``).
    """

    recorded = Signal(object)

    def __init__(self, register: CashMovementPort, runner: TaskRunner, shift_id: int,
                 currency: str, parent: QWidget | None = None, *, kind: str = "pay_in",
                 printer: ReceiptPrinter | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cashMovementDialog")
        self.setWindowTitle("Cash movement")
        self.setModal(True)
        self._register = register
        self._runner = runner
        self.shift_id = shift_id
        self.currency = currency
        self._task: Task | None = None
        self._printer = printer
        title = named(QLabel(f"Cash movement · shift {shift_id}"), "panelTitle")
        self.kind_buttons: dict[str, QPushButton] = {}
        self.kind_group = QButtonGroup(self)
        kinds = QHBoxLayout()
        for value, text, description in KINDS:
            button = named(QPushButton(f"&{text}" if value != "pay_out" else "Pay &out"),
                           "choiceButton")
            button.setCheckable(True)
            button.setAccessibleName(text)
            button.setAccessibleDescription(description)
            button.setToolTip(description)
            self.kind_group.addButton(button)
            self.kind_buttons[value] = button
            kinds.addWidget(button)
        self.kind_buttons.get(kind, self.kind_buttons["pay_in"]).setChecked(True)
        self.amount_edit = named(QLineEdit(), "tenderedEdit")
        self.amount_edit.setPlaceholderText("0.00")
        self.amount_edit.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.amount_edit.setAccessibleName("Amount")
        self.reason_edit = QLineEdit()
        self.reason_edit.setAccessibleName("Reason")
        self.reason_edit.setPlaceholderText("Required, e.g. change from the safe, courier")
        self.reason_edit.setMaxLength(500)
        form = QGridLayout()
        amount_caption = named(QLabel("Amount"), "fieldCaption")
        amount_caption.setBuddy(self.amount_edit)
        reason_caption = named(QLabel("Reason"), "fieldCaption")
        reason_caption.setBuddy(self.reason_edit)
        form.addWidget(amount_caption, 0, 0)
        form.addWidget(self.amount_edit, 0, 1)
        form.addWidget(reason_caption, 1, 0)
        form.addWidget(self.reason_edit, 1, 1)
        self.hint_label = named(QLabel(), "hintLabel")
        self.hint_label.setWordWrap(True)
        self.hint_label.setAccessibleName("Message")
        self.record_button = named(QPushButton("Record"), "primaryButton")
        self.record_button.setAccessibleName("Record the cash movement")
        self.record_button.setDefault(True)
        self.cancel_button = named(QPushButton("Close"), "secondaryButton")
        self.cancel_button.setAccessibleName("Close")
        self.report_button = named(QPushButton("&X-report"), "secondaryButton")
        self.report_button.setAccessibleName("Print the X-report")
        self.report_button.setToolTip("The shift so far, saved as a PDF and printed")
        self.report_button.setVisible(printer is not None)
        self.report_button.clicked.connect(self.on_report_button_clicked)
        buttons = QHBoxLayout()
        buttons.addWidget(self.report_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.record_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addLayout(kinds)
        layout.addLayout(form)
        layout.addWidget(self.hint_label)
        layout.addLayout(buttons)
        self.setMinimumWidth(480)
        self.record_button.clicked.connect(self.submit)
        self.cancel_button.clicked.connect(self.reject)
        self.amount_edit.returnPressed.connect(self.submit)
        self.reason_edit.returnPressed.connect(self.submit)

    @property
    def kind(self) -> str:
        """The chosen kind: ``pay_in``, ``pay_out`` or ``drop``."""
        return next(value for value, button in self.kind_buttons.items() if button.isChecked())

    def submit(self) -> None:
        """Check the input (a clear message when wrong, nothing sent), then record it on the
        journal thread."""
        if self._task is not None:
            return
        try:
            amount = parse_major(self.amount_edit.text(), self.currency)
        except InvalidAmount as exc:
            self._say(str(exc), warning=True, focus=self.amount_edit)
            return
        if amount <= 0:
            self._say("Enter an amount above zero.", warning=True, focus=self.amount_edit)
            return
        reason = self.reason_edit.text().strip()
        if not reason:
            self._say("Say why the cash moves: the manager reads it at cash-up.",
                      warning=True, focus=self.reason_edit)
            return
        self._set_busy(True)
        self._say("Recording…")
        self._task = self._runner.write(self._register.cash_movement, self.shift_id,
                                        self.kind, amount, reason)
        self._task.finished.connect(self.on_task_finished)
        self._task.failed.connect(self.on_task_failed)

    def on_task_finished(self, outcome: object) -> None:
        self._task = None
        self._set_busy(False)
        state = state_name(outcome)
        if state == "confirmed":
            text = dict((k, t) for k, t, _ in KINDS)[self.kind]
            amount = parse_major(self.amount_edit.text(), self.currency)
            self._say(f"{text} of {format_money(amount, self.currency)} recorded.")
            self.recorded.emit(outcome)
            self.amount_edit.clear()
            self.reason_edit.clear()
            self.amount_edit.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self._say(str(getattr(outcome, "message", "")) or "Not recorded.", warning=True)

    def on_task_failed(self, exc: BaseException) -> None:
        self._task = None
        self._set_busy(False)
        self._say(f"Not recorded: {exc}", warning=True)

    def on_report_button_clicked(self) -> None:
        """Make and print the X-report on the runner; the hint line says where it went."""
        from pos_app.gui.shifts.shift_report import open_shift_report, supports_shift_report

        if self._printer is None or not supports_shift_report(self._register):
            return
        self.report_button.setEnabled(False)
        self._say("Making the X-report…")
        job = open_shift_report(self, cast("ShiftReportPort", self._register), self._runner,
                                self._printer, self.shift_id, notify=False)
        job.delivered.connect(self.on_report_delivered)
        job.failed.connect(self.on_report_failed)

    def on_report_delivered(self, result: object) -> None:
        self.report_button.setEnabled(True)
        self._say(str(getattr(result, "sentence", "")))

    def on_report_failed(self, text: str) -> None:
        self.report_button.setEnabled(True)
        self._say(text, warning=True)

    def _set_busy(self, busy: bool) -> None:
        for widget in (self.amount_edit, self.reason_edit):
            widget.setReadOnly(busy)
        self.record_button.setEnabled(not busy)
        self.cancel_button.setEnabled(not busy)

    def _say(self, text: str, *, warning: bool = False, focus: QWidget | None = None) -> None:
        self.hint_label.setProperty("warning", warning)
        restyle(self.hint_label)
        self.hint_label.setText(text)
        if focus is not None:
            focus.setFocus(Qt.FocusReason.OtherFocusReason)

    def reject(self) -> None:
        if self._task is None:  # never while the register is working
            super().reject()
