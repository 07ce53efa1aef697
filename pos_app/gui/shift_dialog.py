"""Shifts in the window: the opening-float dialog, the blind cash-count dialog, and the
controller that runs both through the register on the :class:`TaskRunner`.

- A box-office cash sale needs an open shift. When the server refuses a Charge with
  ``shift_not_open``, the sell screen asks :class:`ShiftController` for one: it shows
  :class:`OpeningFloatDialog` (type the float, Enter), opens the shift through the journal
  (``register.open_shift``) and reports ``shift_opened``; the sell screen then re-sends the
  sale (a new journal entry: the refused one is final).
- "Close shift" in the header shows :class:`CloseShiftDialog`: a blind count (the expected
  cash is not shown before the count is entered), then the server's expected cash and
  variance.

Every register call runs on the runner; the GUI thread only renders outcomes.
"""

from __future__ import annotations

from typing import Protocol, cast, runtime_checkable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QBoxLayout,
    QDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from pos_app.api.schemas import ErrorBody, Shift
from pos_app.domain.money import InvalidAmount, format_money, parse_major
from pos_app.gui.cash_count import CashCountWidget
from pos_app.gui.task_runner import Task, TaskRunner
from pos_app.gui.widgets import named, restyle

__all__ = [
    "CloseShiftDialog",
    "OpeningFloatDialog",
    "ShiftController",
    "ShiftOutcomeLike",
    "ShiftPort",
]


class ShiftOutcomeLike(Protocol):
    """A journal-settled shift operation (``pos_app.journal.ShiftOutcome``)."""

    @property
    def state(self) -> str: ...

    @property
    def shift(self) -> Shift | None: ...

    @property
    def error(self) -> ErrorBody | None: ...

    @property
    def message(self) -> str: ...


@runtime_checkable
class ShiftPort(Protocol):
    """The register's shift methods (blocking: call them through the runner only)."""

    def current_shift(self) -> Shift | None: ...

    def open_shift(self, opening_float: int) -> ShiftOutcomeLike: ...

    def close_shift(self, shift_id: int, counted_cash: int,
                    note: str | None = None) -> ShiftOutcomeLike: ...


def _state(outcome: ShiftOutcomeLike) -> str:
    return str(getattr(outcome.state, "value", outcome.state))


class _AmountDialog(QDialog):
    """A small dialog: title, explanation, one amount field (Enter submits), a hint line."""

    def __init__(self, title: str, text: str, field: str, button: str,
                 parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        self.currency = "USD"
        self.title_label = named(QLabel(title), "panelTitle")
        self.text_label = named(QLabel(text), "sectionSubtitle")
        self.text_label.setWordWrap(True)
        self.amount_caption = named(QLabel(field), "fieldCaption")
        self.amount_edit = named(QLineEdit(), "tenderedEdit")
        self.amount_edit.setAccessibleName(field)
        self.amount_edit.setPlaceholderText("0.00")
        self.amount_edit.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.amount_caption.setBuddy(self.amount_edit)
        self.hint_label = named(QLabel(), "hintLabel")
        self.hint_label.setWordWrap(True)
        self.hint_label.setAccessibleName("Message")
        self.submit_button = named(QPushButton(button), "primaryButton")
        self.submit_button.setAccessibleName(button)
        self.submit_button.setDefault(True)
        self.cancel_button = named(QPushButton("Cancel"), "secondaryButton")
        self.cancel_button.setAccessibleName("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        self.submit_button.clicked.connect(self.submit)
        self.amount_edit.returnPressed.connect(self.submit)
        self.buttons = QHBoxLayout()
        self.buttons.addStretch(1)
        self.buttons.addWidget(self.cancel_button)
        self.buttons.addWidget(self.submit_button)
        self.form = QGridLayout()
        self.form.addWidget(self.amount_caption, 0, 0)
        self.form.addWidget(self.amount_edit, 0, 1)
        # The count by denomination goes here once the currency is known (set_currency).
        self.count_slot = QVBoxLayout()
        self.count: CashCountWidget | None = None
        self.setMinimumWidth(460)

    def set_currency(self, currency: str) -> None:
        """Amounts are in ``currency``; its notes and coins can be counted one by one (the
        amount field then shows their total and is not typed into)."""
        self.currency = currency
        if self.count is not None:
            return
        try:
            self.count = CashCountWidget(currency)
        except KeyError:
            return  # cash of this currency is not listed: the total is typed
        self.count_slot.addWidget(self.count)
        self.count.total_changed.connect(self.on_count_total_changed)
        for edit in self.count.count_edits.values():
            edit.returnPressed.connect(self.submit)
        self.setMinimumWidth(640)

    def on_count_total_changed(self, total: int) -> None:
        counted = self.count is not None and bool(self.count.counts())
        self.amount_edit.setReadOnly(counted)
        if counted:
            self.amount_edit.setText(format_money(total, self.currency))

    def amount(self) -> int | None:
        """The typed amount in minor units, or ``None`` (and a hint) when it is not one."""
        try:
            return parse_major(self.amount_edit.text(), self.currency)
        except InvalidAmount as exc:
            self.show_error(str(exc))
            return None

    def submit(self) -> None:  # overridden
        raise NotImplementedError

    def show_error(self, text: str) -> None:
        self.hint_label.setProperty("warning", True)
        restyle(self.hint_label)
        self.hint_label.setText(text)
        self.amount_edit.setFocus(Qt.FocusReason.OtherFocusReason)
        self.amount_edit.selectAll()

    def set_busy(self, busy: bool, text: str = "") -> None:
        """While the register works: inputs read-only, buttons disabled, ``text`` shown."""
        counted = self.count is not None and bool(self.count.counts())
        self.amount_edit.setReadOnly(busy or counted)
        if self.count is not None:
            self.count.set_read_only(busy)
        self.submit_button.setEnabled(not busy)
        self.cancel_button.setEnabled(not busy)
        if busy:
            self.hint_label.setProperty("warning", False)
            restyle(self.hint_label)
            self.hint_label.setText(text)

    def reject(self) -> None:
        if self.cancel_button.isEnabled():  # never while the register is working
            super().reject()


class OpeningFloatDialog(_AmountDialog):
    """Asks for the opening float. Enter (or "Open shift") submits.

    Signals:
        float_entered(int): the float typed, in minor units.
    """

    float_entered = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Open shift",
                         "No shift is open at this terminal. Count the cash in the drawer, "
                         "note by note or as a total; the sale goes through right after.",
                         "Opening float", "Open shift", parent)
        self.setObjectName("openingFloatDialog")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(self.title_label)
        layout.addWidget(self.text_label)
        layout.addLayout(self.count_slot)
        layout.addLayout(self.form)
        layout.addWidget(self.hint_label)
        layout.addLayout(self.buttons)

    def submit(self) -> None:
        amount = self.amount()
        if amount is not None and self.submit_button.isEnabled():
            self.set_busy(True, "Opening the shift…")
            self.float_entered.emit(amount)


class CloseShiftDialog(_AmountDialog):
    """A blind cash count, then the server's verdict. The expected cash is shown only after
    the count was sent and the server closed the shift.

    Signals:
        count_entered(int, str): counted cash in minor units and the note ("" for none).
    """

    count_entered = Signal(int, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Close shift",
                         "Count the cash in the drawer, note by note or as a total. The "
                         "expected amount is shown only after the count.",
                         "Counted cash", "Close shift", parent)
        self.setObjectName("closeShiftDialog")
        self.note_caption = named(QLabel("Note"), "fieldCaption")
        self.note_edit = QLineEdit()
        self.note_edit.setAccessibleName("Note for the manager")
        self.note_edit.setPlaceholderText("Optional, e.g. why the drawer is short")
        self.note_edit.setMaxLength(1000)
        self.note_caption.setBuddy(self.note_edit)
        self.note_edit.returnPressed.connect(self.submit)
        self.form.addWidget(self.note_caption, 1, 0)
        self.form.addWidget(self.note_edit, 1, 1)
        count_page = QWidget()
        count_layout = QVBoxLayout(count_page)
        count_layout.setContentsMargins(0, 0, 0, 0)
        count_layout.addWidget(self.text_label)
        count_layout.addLayout(self.count_slot)
        count_layout.addLayout(self.form)
        count_layout.addWidget(self.hint_label)
        count_layout.addLayout(self.buttons)

        self.expected_label = named(QLabel(), "totalAmount")
        self.expected_label.setAccessibleName("Expected cash")
        self.counted_label = named(QLabel(), "totalAmount")
        self.counted_label.setAccessibleName("Counted cash")
        self.variance_label = named(QLabel(), "totalAmount")
        self.variance_label.setAccessibleName("Variance")
        self.verdict_label = named(QLabel(), "sectionSubtitle")
        self.verdict_label.setAccessibleName("Verdict")
        self.summary_label = named(QLabel(), "fieldCaption")
        self.summary_label.setWordWrap(True)
        self.summary_label.setAccessibleName("Shift totals")
        self.done_button = named(QPushButton("Done"), "primaryButton")
        self.done_button.setAccessibleName("Done")
        self.done_button.clicked.connect(self.accept)
        result_page = QWidget()
        grid = QGridLayout()
        for row, (caption, label) in enumerate((("Expected", self.expected_label),
                                                ("Counted", self.counted_label),
                                                ("Variance", self.variance_label))):
            grid.addWidget(named(QLabel(caption), "totalCaption"), row, 0)
            grid.addWidget(label, row, 1, Qt.AlignmentFlag.AlignRight)
        result_layout = QVBoxLayout(result_page)
        result_layout.setContentsMargins(0, 0, 0, 0)
        result_layout.addLayout(grid)
        result_layout.addWidget(self.verdict_label)
        result_layout.addWidget(self.summary_label)
        done_row = QHBoxLayout()
        done_row.addStretch(1)
        done_row.addWidget(self.done_button)
        result_layout.addLayout(done_row)

        self.pages = QStackedWidget()
        self.pages.addWidget(count_page)
        self.pages.addWidget(result_page)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(self.title_label)
        layout.addWidget(self.pages)

    @property
    def showing_result(self) -> bool:
        return self.pages.currentIndex() == 1

    def set_busy(self, busy: bool, text: str = "") -> None:
        super().set_busy(busy, text)
        self.note_edit.setReadOnly(busy)

    def submit(self) -> None:
        amount = self.amount()
        if amount is not None and self.submit_button.isEnabled():
            self.set_busy(True, "Closing the shift…")
            self.count_entered.emit(amount, self.note_edit.text().strip())

    def show_result(self, shift: Shift) -> None:
        """The closed ``shift`` as the server computed it: expected, counted, variance."""
        money = shift.currency
        expected, counted = shift.expected_cash or 0, shift.counted_cash or 0
        variance = shift.variance or 0
        self.title_label.setText(f"Shift {shift.id} closed")
        self.expected_label.setText(format_money(expected, money))
        self.counted_label.setText(format_money(counted, money))
        sign = "+" if variance > 0 else ""
        self.variance_label.setText(f"{sign}{format_money(variance, money)}")
        colour = "#166534" if variance == 0 else "#b45309" if variance > 0 else "#b91c1c"
        self.variance_label.setStyleSheet(f"color: {colour};")
        self.verdict_label.setText("The drawer balances." if variance == 0 else
                                   f"The drawer is {'over' if variance > 0 else 'short'} by "
                                   f"{format_money(abs(variance), money)}.")
        self.summary_label.setText(
            f"Float {format_money(shift.opening_float, money)} · {shift.sales.count} cash "
            f"sale{'s' if shift.sales.count != 1 else ''} "
            f"{format_money(shift.sales.amount, money)} · refunds "
            f"{format_money(shift.refunds.amount, money)} · pay-ins "
            f"{format_money(shift.pay_ins, money)} · pay-outs "
            f"{format_money(shift.pay_outs, money)} · drops {format_money(shift.drops, money)}")
        self.pages.setCurrentIndex(1)
        self.done_button.setDefault(True)
        self.done_button.setFocus(Qt.FocusReason.OtherFocusReason)


class ShiftController(QObject):
    """The terminal's shift as the window knows it, and the dialogs that change it.

    Disabled (``enabled`` False, controls hidden) when the register has no shift methods.

    Signals:
        shift_changed(object): the open ``Shift``, or ``None`` when none is open.
        shift_opened(object): a shift is open now (the ``ShiftOutcome`` that opened it, or
            that found one already open).
        shift_open_abandoned(str): no shift was opened (the cashier cancelled); the sentence.
        shift_closed(object): the confirmed close (``ShiftOutcome``; ``.shift`` has the
            server's expected cash and variance).
    """

    shift_changed = Signal(object)
    shift_opened = Signal(object)
    shift_open_abandoned = Signal(str)
    shift_closed = Signal(object)

    def __init__(self, register: object, runner: TaskRunner, parent: QWidget) -> None:
        super().__init__(parent)
        self._widget = parent
        self._register = register if isinstance(register, ShiftPort) else None
        self._runner = runner
        self.shift: Shift | None = None
        self.float_dialog: OpeningFloatDialog | None = None
        self.close_dialog: CloseShiftDialog | None = None
        self._check_task: Task | None = None
        self.status_label = named(QLabel(), "headerSubtitle")
        self.status_label.setAccessibleName("Shift status")
        self.status_label.setAlignment(Qt.AlignmentFlag.AlignRight
                                       | Qt.AlignmentFlag.AlignVCenter)
        self.close_button = named(QPushButton("Close shift"), "headerButton")
        self.close_button.setAccessibleName("Close shift")
        self.close_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.close_button.clicked.connect(self.on_close_button_clicked)
        self.cash_button = named(QPushButton("Cash"), "headerButton")
        self.cash_button.setAccessibleName("Pay in, pay out or drop cash")
        self.cash_button.setToolTip("Ctrl+M: pay in, pay out or drop cash, with a reason")
        self.cash_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.cash_button.clicked.connect(self.open_cash_movement)
        self.cash_dialog: QDialog | None = None
        shortcut = QShortcut(QKeySequence("Ctrl+M"), parent)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.open_cash_movement)
        self._show_state()

    @property
    def enabled(self) -> bool:
        return self._register is not None

    def install(self, header: QWidget, *, before: QWidget) -> None:
        """Put the status label and the Close shift button into ``header``'s row, before
        ``before`` (the header's Sign out)."""
        layout = header.layout()
        if not isinstance(layout, QBoxLayout):
            raise TypeError("the header needs a box layout")
        index = max(0, layout.indexOf(before))
        layout.insertWidget(index, self.close_button)
        layout.insertWidget(index, self.cash_button)
        layout.insertWidget(index, self.status_label)

    def _show_state(self) -> None:
        self.status_label.setVisible(self.enabled)
        self.close_button.setVisible(self.enabled)
        self.cash_button.setVisible(self.enabled and hasattr(self._register, "cash_movement"))
        if self.shift is not None:
            self.status_label.setText(f"Shift {self.shift.id} open")
        else:
            self.status_label.setText("No shift open")
        self.close_button.setEnabled(self.shift is not None)
        self.cash_button.setEnabled(self.shift is not None)

    def _set_shift(self, shift: Shift | None) -> None:
        self.shift = shift
        self._show_state()
        self.shift_changed.emit(shift)

    # --- reading ------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Ask the server for this terminal's open shift (on a worker)."""
        if self._register is None or self._check_task is not None:
            return
        self._check_task = self._runner.read(self._register.current_shift)
        self._check_task.finished.connect(self.on_check_task_finished)
        self._check_task.failed.connect(self.on_check_task_failed)

    def on_check_task_finished(self, shift: Shift | None) -> None:
        self._check_task = None
        self._set_shift(shift)

    def on_check_task_failed(self, _exc: BaseException) -> None:
        self._check_task = None  # unknown; the next sale or refresh tells

    def on_sale_confirmed(self, _outcome: object) -> None:
        """A cash sale went through, so a shift is open: learn it if it is not known."""
        if self.shift is None:
            self.refresh()

    def reset(self) -> None:
        """Signed out: forget the shift, close the dialogs."""
        for dialog in (self.float_dialog, self.close_dialog, self.cash_dialog):
            if dialog is not None:
                dialog.done(QDialog.DialogCode.Rejected)
        self.float_dialog = self.close_dialog = self.cash_dialog = None
        self.shift = None
        self._show_state()

    def open_cash_movement(self) -> None:
        """Pay in, pay out or drop cash on the open shift (:mod:`pos_app.gui.cash_movement`)."""
        from pos_app.gui.cash_movement import CashMovementDialog, CashMovementPort

        if self.shift is None or not hasattr(self._register, "cash_movement"):
            return
        dialog = CashMovementDialog(cast("CashMovementPort", self._register), self._runner,
                                    self.shift.id, self.shift.currency, self._widget)
        dialog.finished.connect(dialog.deleteLater)
        self.cash_dialog = dialog
        dialog.open()
        dialog.amount_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    # --- opening ------------------------------------------------------------------------------

    def request_open(self, currency: str) -> bool:
        """Ask the cashier for the opening float and open the shift; ``False`` when shifts
        are not supported. Ends with ``shift_opened`` or ``shift_open_abandoned``."""
        if self._register is None:
            return False
        if self.float_dialog is None:
            dialog = OpeningFloatDialog(self._widget)
            dialog.set_currency(currency)
            dialog.float_entered.connect(self.on_float_dialog_float_entered)
            dialog.rejected.connect(self.on_float_dialog_rejected)
            self.float_dialog = dialog
        self.float_dialog.open()
        self.float_dialog.amount_edit.setFocus(Qt.FocusReason.OtherFocusReason)
        return True

    def on_float_dialog_float_entered(self, amount: int) -> None:
        assert self._register is not None
        task = self._runner.write(self._register.open_shift, amount)
        task.finished.connect(self.on_open_task_finished)
        task.failed.connect(self.on_open_task_failed)

    def on_open_task_finished(self, outcome: ShiftOutcomeLike) -> None:
        dialog = self.float_dialog
        state = _state(outcome)
        already = (state == "refused" and outcome.error is not None
                   and outcome.error.error == "shift_already_open")
        if state == "confirmed" or already:
            self.float_dialog = None
            if dialog is not None:
                dialog.set_busy(False)
                dialog.accept()
            if outcome.shift is not None:
                self._set_shift(outcome.shift)
            else:
                self.refresh()
            self.shift_opened.emit(outcome)
        elif dialog is not None:
            dialog.set_busy(False)
            dialog.show_error(outcome.message)

    def on_open_task_failed(self, exc: BaseException) -> None:
        if self.float_dialog is not None:
            self.float_dialog.set_busy(False)
            self.float_dialog.show_error(f"The shift was not opened: {exc}")

    def on_float_dialog_rejected(self) -> None:
        self.float_dialog = None
        self.shift_open_abandoned.emit("No shift was opened, so nothing was sold. A cash sale "
                                       "needs an open shift.")

    # --- closing ------------------------------------------------------------------------------

    def on_close_button_clicked(self) -> None:
        if self.shift is None or self._register is None:
            return
        dialog = CloseShiftDialog(self._widget)
        dialog.set_currency(self.shift.currency)
        dialog.count_entered.connect(self.on_close_dialog_count_entered)
        dialog.finished.connect(self.on_close_dialog_finished)
        self.close_dialog = dialog
        dialog.open()
        dialog.amount_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def on_close_dialog_count_entered(self, counted: int, note: str) -> None:
        assert self._register is not None
        if self.shift is None:
            return
        task = self._runner.write(self._register.close_shift, self.shift.id, counted,
                                  note or None)
        task.finished.connect(self.on_close_task_finished)
        task.failed.connect(self.on_close_task_failed)

    def on_close_task_finished(self, outcome: ShiftOutcomeLike) -> None:
        dialog = self.close_dialog
        if dialog is not None:
            dialog.set_busy(False)
        if _state(outcome) == "confirmed" and outcome.shift is not None:
            if dialog is not None:
                dialog.show_result(outcome.shift)
            self._set_shift(None)
            self.shift_closed.emit(outcome)
            return
        if dialog is not None:
            dialog.show_error(outcome.message)
        if outcome.error is not None and outcome.error.error == "shift_not_open":
            self.refresh()

    def on_close_task_failed(self, exc: BaseException) -> None:
        if self.close_dialog is not None:
            self.close_dialog.set_busy(False)
            self.close_dialog.show_error(f"The shift was not closed: {exc}")

    def on_close_dialog_finished(self, _result: int) -> None:
        self.close_dialog = None
