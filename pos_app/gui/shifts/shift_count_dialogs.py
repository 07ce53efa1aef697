"""The shift's count dialogs: the opening float and the blind close count, each typed as a
total or counted by denomination (:mod:`pos_app.gui.shifts.cash_count`). The close shows the
server's expected cash and variance only after the count was sent.

When the server refuses the close with ``variance_needs_approval`` (the count is off by more
than its threshold; it never says by how much), the close dialog asks for a manager's
username, PIN and a note, and the same count is sent again with them. After the close, a
"Z-report" button prints the shift's report.

They only collect amounts and show outcomes;
:class:`pos_app.gui.shifts.shift_dialog.ShiftController` runs the register calls.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
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

from pos_app.api.schemas import Shift
from pos_app.domain.money import InvalidAmount, format_money, parse_major
from pos_app.gui.core.widgets import named, restyle
from pos_app.gui.shifts.cash_count import CashCountWidget
from pos_app.gui.shifts.shift_approval import VarianceApprovalPanel

__all__ = ["CloseShiftDialog", "OpeningFloatDialog"]


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
    """A blind cash count, a manager's approval when the server asks for one, then the
    server's verdict. The expected cash is shown only after the server closed the shift.

    Pages: the count, the result (expected / counted / variance and a "Z-report" button),
    and the manager's approval (username, PIN, required note; the count itself is kept).

    Signals:
        count_entered(int, str): counted cash in minor units and the note ("" for none).
        approval_entered(str, str, str): the manager's username, PIN and the note, to send
            with the same count (:attr:`counted`).
        report_requested(int): "Z-report" was pressed for the closed shift of that id.
    """

    count_entered = Signal(int, str)
    approval_entered = Signal(str, str, str)
    report_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Close shift",
                         "Count the cash in the drawer, note by note or as a total. The "
                         "expected amount is shown only after the count.",
                         "Counted cash", "Close shift", parent)
        self.setObjectName("closeShiftDialog")
        self.counted: int | None = None
        self.closed_shift_id: int | None = None
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

        self.pages = QStackedWidget()
        self.pages.addWidget(count_page)
        self.pages.addWidget(self._result_page())
        self.approval = VarianceApprovalPanel()
        self.approval.approval_entered.connect(self.on_approval_approval_entered)
        self.approval.recount_requested.connect(self.on_approval_recount_requested)
        self.approval.cancel_requested.connect(self.reject)
        self.pages.addWidget(self.approval)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 20)
        layout.setSpacing(12)
        layout.addWidget(self.title_label)
        layout.addWidget(self.pages)

    def _result_page(self) -> QWidget:
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
        self.report_label = named(QLabel(), "hintLabel")
        self.report_label.setWordWrap(True)
        self.report_label.setAccessibleName("Report message")
        self.report_button = named(QPushButton("&Z-report"), "secondaryButton")
        self.report_button.setAccessibleName("Print the Z-report")
        self.report_button.setToolTip("Save the shift's Z-report as a PDF and print it")
        self.report_button.setVisible(False)
        self.report_button.clicked.connect(self.on_report_button_clicked)
        self.done_button = named(QPushButton("Done"), "primaryButton")
        self.done_button.setAccessibleName("Done")
        self.done_button.clicked.connect(self.accept)
        page = QWidget()
        grid = QGridLayout()
        for row, (caption, label) in enumerate((("Expected", self.expected_label),
                                                ("Counted", self.counted_label),
                                                ("Variance", self.variance_label))):
            grid.addWidget(named(QLabel(caption), "totalCaption"), row, 0)
            grid.addWidget(label, row, 1, Qt.AlignmentFlag.AlignRight)
        result_layout = QVBoxLayout(page)
        result_layout.setContentsMargins(0, 0, 0, 0)
        result_layout.addLayout(grid)
        result_layout.addWidget(self.verdict_label)
        result_layout.addWidget(self.summary_label)
        result_layout.addWidget(self.report_label)
        done_row = QHBoxLayout()
        done_row.addStretch(1)
        done_row.addWidget(self.report_button)
        done_row.addWidget(self.done_button)
        result_layout.addLayout(done_row)
        return page

    @property
    def showing_result(self) -> bool:
        return self.pages.currentIndex() == 1

    @property
    def showing_approval(self) -> bool:
        return self.pages.currentIndex() == 2

    def set_busy(self, busy: bool, text: str = "") -> None:
        super().set_busy(busy, text)
        self.note_edit.setReadOnly(busy)
        self.approval.set_busy(busy)

    def submit(self) -> None:
        amount = self.amount()
        if amount is not None and self.submit_button.isEnabled():
            self.counted = amount
            self.set_busy(True, "Closing the shift…")
            self.count_entered.emit(amount, self.note_edit.text().strip())

    # --- the manager's approval -----------------------------------------------------------

    def show_approval(self, message: str) -> None:
        """Ask for a manager's approval of the count already sent (:attr:`counted`);
        ``message`` says why, never an amount: the count stays blind."""
        self.set_busy(False)
        self.pages.setCurrentIndex(2)
        self.title_label.setText("Manager approval needed")
        self.submit_button.setDefault(False)
        self.approval.approve_button.setDefault(True)
        counted = format_money(self.counted or 0, self.currency)
        self.approval.start(message, counted, self.note_edit.text().strip())

    def on_approval_approval_entered(self, username: str, pin: str, note: str) -> None:
        super().set_busy(True)  # Esc and Cancel wait for the register too
        self.approval_entered.emit(username, pin, note)

    def show_approval_error(self, message: str) -> None:
        """The approval was refused (e.g. a wrong PIN): ``message``; the count is kept."""
        self.set_busy(False)
        self.approval.refused(message)

    def on_approval_recount_requested(self) -> None:
        self.approval.forget_pin()
        self.pages.setCurrentIndex(0)
        self.title_label.setText("Close shift")
        self.approval.approve_button.setDefault(False)
        self.submit_button.setDefault(True)
        self.hint_label.setText("")
        self.amount_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    # --- the result -------------------------------------------------------------------------

    def show_result(self, shift: Shift) -> None:
        """The closed ``shift`` as the server computed it: expected, counted, variance."""
        money = shift.currency
        expected, counted = shift.expected_cash or 0, shift.counted_cash or 0
        variance = shift.variance or 0
        self.closed_shift_id = shift.id
        self.approval.forget_pin()
        self.title_label.setText(f"Shift {shift.id} closed")
        self.expected_label.setText(format_money(expected, money))
        self.counted_label.setText(format_money(counted, money))
        sign = "+" if variance > 0 else ""
        self.variance_label.setText(f"{sign}{format_money(variance, money)}")
        # Its colour: QLabel#totalAmount[balance=...] in pos.qss.
        self.variance_label.setProperty(
            "balance", "even" if variance == 0 else "over" if variance > 0 else "short")
        restyle(self.variance_label)
        verdict = ("The drawer balances." if variance == 0 else
                   f"The drawer is {'over' if variance > 0 else 'short'} by "
                   f"{format_money(abs(variance), money)}.")
        if shift.approved_by_name:
            verdict += f" Approved by {shift.approved_by_name}."
        self.verdict_label.setText(verdict)
        self.summary_label.setText(_totals_line(shift))
        self.pages.setCurrentIndex(1)
        self.approval.approve_button.setDefault(False)
        self.submit_button.setDefault(False)
        self.done_button.setDefault(True)
        self.done_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def set_report_available(self, available: bool) -> None:
        """Show the "Z-report" button (when the register and a printer can make one)."""
        self.report_button.setVisible(available)

    def on_report_button_clicked(self) -> None:
        if self.closed_shift_id is None:
            return
        self.report_button.setEnabled(False)
        self.show_report("Making the Z-report…")
        self.report_requested.emit(self.closed_shift_id)

    def on_report_delivered(self, result: object) -> None:
        """The report was made (``ShiftReportResult``): say where it went."""
        self.show_report(str(getattr(result, "sentence", "")), done=True)

    def on_report_failed(self, text: str) -> None:
        self.show_report(text, warning=True, done=True)

    def show_report(self, text: str, *, warning: bool = False, done: bool = False) -> None:
        """Say how the Z-report went; ``done`` lets it be printed again."""
        self.report_label.setProperty("warning", warning)
        restyle(self.report_label)
        self.report_label.setText(text)
        if done:
            self.report_button.setEnabled(True)


def _totals_line(shift: Shift) -> str:
    """"Float ... · N cash sales ... · refunds ... · pay-ins ... · pay-outs ... · drops ...",
    or "" when the shift came without its money totals (``blind``; a closed shift, as
    answered to its close, always has them)."""
    money = shift.currency
    if (shift.opening_float is None or shift.sales is None or shift.refunds is None
            or shift.pay_ins is None or shift.pay_outs is None or shift.drops is None):
        return ""
    return (f"Float {format_money(shift.opening_float, money)} · {shift.sales.count} cash "
            f"sale{'s' if shift.sales.count != 1 else ''} "
            f"{format_money(shift.sales.amount, money)} · refunds "
            f"{format_money(shift.refunds.amount, money)} · pay-ins "
            f"{format_money(shift.pay_ins, money)} · pay-outs "
            f"{format_money(shift.pay_outs, money)} · drops {format_money(shift.drops, money)}")
