"""Shifts in the window: the controller that runs the opening-float and blind close dialogs
(:mod:`pos_app.gui.shifts.shift_count_dialogs`) and the cash movements
(:mod:`pos_app.gui.shifts.cash_movement`, "Cash", Ctrl+M) through the register on the
:class:`TaskRunner`.

- A box-office cash sale needs an open shift. When the server refuses a Charge with
  ``shift_not_open``, the sell screen asks :class:`ShiftController` for one: it shows
  :class:`OpeningFloatDialog` (type the float, Enter), opens the shift through the journal
  (``register.open_shift``) and reports ``shift_opened``; the sell screen then re-sends the
  sale (a new journal entry: the refused one is final).
- "Close shift" in the header shows :class:`CloseShiftDialog`: a blind count (the expected
  cash is not shown before the count is entered), then the server's expected cash and
  variance. When the server answers ``variance_needs_approval`` (the count is off by more
  than the venue allows; it does not say by how much) the dialog asks for a manager's
  username, PIN and a note, and the same count is sent again with them (a new journal
  entry: the refused one is final). After the close, "Z-report" prints the shift's report
  (:mod:`pos_app.gui.shifts.shift_report`); the Cash dialog has "X-report" while the shift is open.

Every register call runs on the runner; the GUI thread only renders outcomes.
"""

from __future__ import annotations

from typing import Protocol, cast, runtime_checkable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QBoxLayout,
    QDialog,
    QLabel,
    QPushButton,
    QWidget,
)

from pos_app.api.schemas import ErrorBody, ManagerApproval, Shift
from pos_app.gui.core.ports import state_name
from pos_app.gui.core.task_runner import Task, TaskRunner
from pos_app.gui.core.widgets import named
from pos_app.gui.printing.printing import ReceiptPrinter
from pos_app.gui.shifts.shift_count_dialogs import CloseShiftDialog, OpeningFloatDialog
from pos_app.gui.shifts.shift_report import (
    ShiftReportPort,
    open_shift_report,
    supports_shift_report,
)

__all__ = ["ShiftController", "ShiftOutcomeLike", "ShiftPort"]


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

    def close_shift(self, shift_id: int, counted_cash: int, note: str | None = None, *,
                    manager: ManagerApproval | None = None) -> ShiftOutcomeLike: ...


class ShiftController(QObject):
    """The terminal's shift as the window knows it, and the dialogs that change it.

    Disabled (``enabled`` False, controls hidden) when the register has no shift methods.
    Reports print on ``printer`` (default: the window's ``printer``, when it has one).

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

    def __init__(self, register: object, runner: TaskRunner, parent: QWidget, *,
                 printer: ReceiptPrinter | None = None) -> None:
        super().__init__(parent)
        self._widget = parent
        self.printer = printer
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

    def report_printer(self) -> ReceiptPrinter | None:
        """The printer for shift reports: ``printer``, else the window's, else ``None``
        (then no report button is shown)."""
        if self.printer is not None:
            return self.printer
        found = getattr(self._widget.window(), "printer", None)
        return found if isinstance(found, ReceiptPrinter) else None

    def _reports_available(self) -> bool:
        return supports_shift_report(self._register) and self.report_printer() is not None

    def _x_report_allowed(self) -> bool:
        # An X-report's totals give the expected cash away: for a cashier the count stays
        # blind, so mid-shift reports are the manager's.
        session = getattr(self._register, "session", None)
        role = getattr(getattr(session, "staff", None), "role", None)
        return role == "manager" and self._reports_available()

    def open_cash_movement(self) -> None:
        """Pay in, pay out or drop cash on the open shift (:mod:`pos_app.gui.shifts.cash_movement`);
        for a manager its "X-report" prints the shift so far."""
        from pos_app.gui.shifts.cash_movement import CashMovementDialog, CashMovementPort

        if self.shift is None or not hasattr(self._register, "cash_movement"):
            return
        dialog = CashMovementDialog(cast("CashMovementPort", self._register), self._runner,
                                    self.shift.id, self.shift.currency, self._widget,
                                    printer=self.report_printer() if self._x_report_allowed()
                                    else None)
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
        state = state_name(outcome)
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
        dialog.set_report_available(self._reports_available())
        dialog.count_entered.connect(self.on_close_dialog_count_entered)
        dialog.approval_entered.connect(self.on_close_dialog_approval_entered)
        dialog.report_requested.connect(self.on_close_dialog_report_requested)
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

    def on_close_dialog_approval_entered(self, username: str, pin: str, note: str) -> None:
        """Send the same count again with the manager's approval (a new journal entry)."""
        assert self._register is not None
        dialog = self.close_dialog
        if self.shift is None or dialog is None or dialog.counted is None:
            return
        try:
            approval = ManagerApproval(username=username, pin=pin)
        except ValueError:
            dialog.show_approval_error("That is not a username and PIN - check them.")
            return
        task = self._runner.write(self._register.close_shift, self.shift.id, dialog.counted,
                                  note, manager=approval)
        task.finished.connect(self.on_close_task_finished)
        task.failed.connect(self.on_close_task_failed)

    def on_close_task_finished(self, outcome: ShiftOutcomeLike) -> None:
        dialog = self.close_dialog
        if dialog is not None:
            dialog.set_busy(False)
        if state_name(outcome) == "confirmed" and outcome.shift is not None:
            if dialog is not None:
                dialog.show_result(outcome.shift)
            self._set_shift(None)
            self.shift_closed.emit(outcome)
            return
        code = outcome.error.error if outcome.error is not None else None
        if dialog is not None:
            if code == "variance_needs_approval":
                dialog.show_approval(outcome.message)
            elif dialog.showing_approval:
                dialog.show_approval_error(outcome.message)
            else:
                dialog.show_error(outcome.message)
        if code == "shift_not_open":
            self.refresh()

    def on_close_task_failed(self, exc: BaseException) -> None:
        dialog = self.close_dialog
        if dialog is None:
            return
        dialog.set_busy(False)
        if dialog.showing_approval:
            dialog.show_approval_error(f"The shift was not closed: {exc}")
        else:
            dialog.show_error(f"The shift was not closed: {exc}")

    def on_close_dialog_report_requested(self, shift_id: int) -> None:
        """Make and print the closed shift's Z-report; the dialog says where it went."""
        dialog = self.close_dialog
        printer = self.report_printer()
        if dialog is None or printer is None or not supports_shift_report(self._register):
            return
        job = open_shift_report(dialog, cast("ShiftReportPort", self._register), self._runner,
                                printer, shift_id, notify=False)
        job.delivered.connect(dialog.on_report_delivered)
        job.failed.connect(dialog.on_report_failed)

    def on_close_dialog_finished(self, _result: int) -> None:
        self.close_dialog = None
