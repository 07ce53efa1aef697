"""Refund a sale, or some of its tickets, at the box office.

The cashier types the sale number (Enter looks it up on the runner) or the dialog is opened
on a sale; its tickets are listed, those already refunded greyed and not checkable. The
cashier checks the tickets to refund (or "All tickets"), gives the reason and, when the
signed-in staff member is not a manager, a manager types their username and PIN on the
dialog. The amount to pay back is shown large and confirmed on its own step; the refund then
goes through the register's journal (``register.refund``) on the journal thread. Confirmed:
the server's sentence, the amount, and the refund slip saved and printed on a worker. Refused
(a wrong PIN, a ticket refunded meanwhile): the server's sentence, nothing refunded, every
field kept.

Keyboard: Enter finds the sale in the number box, reviews elsewhere, then confirms; Space
checks the current ticket; Esc goes back from the confirmation, then closes.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QDialog, QPushButton, QWidget

from pos_app.api.schemas import ManagerApproval, Refund, Sale
from pos_app.domain.money import format_money
from pos_app.domain.sale_refs import parse_sale_ref
from pos_app.gui.core.failures import failure_sentence, nothing_changed
from pos_app.gui.core.form_style import FORM_STYLE, say
from pos_app.gui.core.task_runner import Task, TaskRunner
from pos_app.gui.printing.printing import ReceiptPrinter
from pos_app.gui.refunds.refund_tickets import sale_with_refund, tickets_of
from pos_app.gui.refunds.refund_view import RefundView
from pos_app.gui.refunds.refund_work import (
    RefundOutcomeLike,
    RefundPort,
    deliver_refund_slip,
    read_sale,
    refund_failure_sentence,
    refusal_sentence,
)

__all__ = ["RefundDialog", "open_refund"]

_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
_MANAGER_ROLES = ("manager", "admin")


class RefundDialog(RefundView):
    """Refund tickets of one sale (see the module docstring). The widgets are
    :class:`~pos_app.gui.refunds.refund_view.RefundView`'s.

    Signals:
        sale_loaded(object): the ``Sale`` whose tickets are shown.
        refund_confirmed(object): the server confirmed the ``Refund``.
        refund_refused(object): the refund outcome that was not confirmed (nothing refunded
            when ``refused``).
        slip_delivered(str): the refund slip was printed or saved ("Printed on ..." /
            "Saved to <path>").
        slip_failed(object): making or printing the slip raised this exception.
    """

    sale_loaded = Signal(object)
    refund_confirmed = Signal(object)
    refund_refused = Signal(object)
    slip_delivered = Signal(str)
    slip_failed = Signal(object)

    def __init__(self, register: RefundPort, runner: TaskRunner, printer: ReceiptPrinter,
                 sale: Sale | None = None, parent: QWidget | None = None) -> None:
        session = register.session
        self.is_manager = session is not None and session.staff.role in _MANAGER_ROLES
        super().__init__(needs_approval=not self.is_manager, parent=parent)
        self.setStyleSheet(FORM_STYLE)
        self._register = register
        self._runner = runner
        self._printer = printer
        self.sale: Sale | None = None
        self.refund: Refund | None = None
        self._find_task: Task | None = None
        self._refund_task: Task | None = None
        self._slip_task: Task | None = None

        self.find_button.clicked.connect(self.find_sale)
        self.all_check.clicked.connect(self.on_all_check_clicked)
        self.tickets.checks_changed.connect(self.on_tickets_checks_changed)
        self.close_button.clicked.connect(self.reject)
        self.review_button.clicked.connect(self.review)
        self.back_button.clicked.connect(self.back)
        self.confirm_button.clicked.connect(self.confirm)
        self.another_button.clicked.connect(self.refund_another)
        self.done_button.clicked.connect(self.accept)
        for edit in (self.reason_edit, self.username_edit, self.pin_edit):
            edit.textEdited.connect(self.on_field_text_edited)
        if sale is not None:
            self.number_edit.setText(str(sale.number))
            self.show_sale(sale)
            self.table.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.on_tickets_checks_changed()
            self.number_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    @property
    def busy(self) -> bool:
        """``True`` while a sale is being looked up or a refund sent."""
        return self._find_task is not None or self._refund_task is not None

    # --- the sale -----------------------------------------------------------------------------

    def find_sale(self) -> None:
        """Look the typed or scanned sale up on the runner: its number, a ticket code (the
        QR code of a ticket, from a scanner) or its id (a sentence when it is none of them)."""
        if self.busy:
            return
        ref = parse_sale_ref(self.number_edit.text())
        if ref is None:
            self._refuse("Type the sale number printed on the receipt (e.g. 42), or scan "
                         "a ticket's QR code.", self.number_edit)
            return
        self._find_task = self._runner.read(read_sale, self._register, ref.value)
        self._find_task.finished.connect(self.on_find_task_finished)
        self._find_task.failed.connect(self.on_find_task_failed)
        self.find_button.setEnabled(False)
        say(self.hint_label, f"Looking up sale #{ref.value}…" if ref.guessable
            else "Looking up the sale of this ticket…" if ref.kind == "ticket"
            else "Looking up the sale…")

    def on_find_task_finished(self, sale: Sale) -> None:
        self._find_task = None
        self.find_button.setEnabled(True)
        self.show_sale(sale)
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def on_find_task_failed(self, exc: BaseException) -> None:
        from pos_app.client import NotFound

        self._find_task = None
        self.find_button.setEnabled(True)
        ref = parse_sale_ref(self.number_edit.text())
        if not isinstance(exc, NotFound):
            text = failure_sentence(exc, nothing_changed("Nothing was found"))
        elif ref is not None and ref.guessable:
            text = (f"No sale #{ref.value} was found. Check the number on the receipt; "
                    "another till's sale is found by scanning one of its tickets.")
        else:
            text = "No sale has this ticket. Check the code, or type the sale number."
        self._refuse(text, self.number_edit)

    def show_sale(self, sale: Sale) -> None:
        """List ``sale``'s tickets (checks of tickets still valid are kept)."""
        self.sale = sale
        self.tickets.set_rows(tickets_of(sale))
        valid = len(self.tickets.valid_rows())
        method = "cash" if sale.payment.method == "cash" else "paid elsewhere"
        self.sale_label.setText(
            f"Sale #{sale.number} · {len(sale.tickets)} tickets · "
            f"{format_money(sale.total, sale.currency)} {method} · "
            f"{sale.status.replace('_', ' ').capitalize()}")
        if valid == 0:
            say(self.hint_label, f"Every ticket of sale #{sale.number} is already refunded.",
                warning=True)
        else:
            say(self.hint_label, f"Check the tickets to refund ({valid} can be), then give "
                "the reason.")
        self.on_tickets_checks_changed()
        self.sale_loaded.emit(sale)

    def on_field_text_edited(self, _text: str) -> None:
        if self.hint_label.property("warning"):
            say(self.hint_label, "")  # the problem is being fixed

    def on_all_check_clicked(self, checked: bool) -> None:
        self.tickets.set_checked(self.tickets.valid_rows(), checked)

    def on_tickets_checks_changed(self) -> None:
        rows = self.tickets.checked_rows()
        self.all_check.setEnabled(bool(self.tickets.valid_rows()))
        self.all_check.setChecked(self.tickets.all_checked())
        currency = self.sale.currency if self.sale is not None else "USD"
        self.show_amount(self.tickets.amount(), currency, len(rows), self._cash)
        self.review_button.setEnabled(bool(rows))

    @property
    def _cash(self) -> bool:
        return self.sale is None or self.sale.payment.method == "cash"

    # --- review, confirm ----------------------------------------------------------------------

    def approval(self) -> ManagerApproval | None:
        """The manager's approval typed on the dialog (``None`` for a manager signed in)."""
        if self.is_manager:
            return None
        return ManagerApproval(username=self.username_edit.text().strip(),
                               pin=self.pin_edit.text())

    def review(self) -> None:
        """Check the refund (a sentence and nothing sent when something is missing), then
        show the amount to pay back with Confirm / Back."""
        if self.busy:
            return
        sale, rows = self.sale, self.tickets.checked_rows()
        if sale is None:
            self._refuse("Find the sale first: type its number and press Enter.",
                         self.number_edit)
            return
        if not rows:
            self._refuse("Check the tickets to refund (Space in the list, or All tickets).",
                         self.table)
            return
        if not self.reason_edit.text().strip():
            self._refuse("Give the reason for the refund: it is printed on the slip and kept "
                         "in the audit log.", self.reason_edit)
            return
        if not self.is_manager and not self.username_edit.text().strip():
            self._refuse("A cashier needs a manager's approval: the manager types their "
                         "username and PIN.", self.username_edit)
            return
        if not self.is_manager and not self.pin_edit.text():
            self._refuse("A cashier needs a manager's approval: the manager types their PIN.",
                         self.pin_edit)
            return
        approver = ("you (manager)" if self.is_manager
                    else f"manager {self.username_edit.text().strip()}")
        self.show_confirmation(sale, rows, self.tickets.summary(rows), self._cash,
                               self.reason_edit.text().strip(), approver)
        say(self.hint_label, "Check the amount, then press Confirm refund (Enter) or Back "
            "(Esc).")
        self.confirm_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def back(self) -> None:
        """Back from the confirmation to the form (nothing sent)."""
        if self.busy:
            return
        self.pages.setCurrentIndex(0)
        say(self.hint_label, "")
        self.review_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def confirm(self) -> None:
        """Send the refund being confirmed on the journal thread."""
        sale = self.sale
        if sale is None or self.busy or self.pages.currentIndex() != 1:
            return
        codes = [row.code for row in self.tickets.checked_rows()]
        self._refund_task = self._runner.write(
            self._register.refund, sale.id, reason=self.reason_edit.text().strip(),
            ticket_codes=codes, manager=self.approval())
        self._refund_task.finished.connect(self.on_refund_task_finished)
        self._refund_task.failed.connect(self.on_refund_task_failed)
        self._set_busy(True)
        say(self.hint_label, "Sending the refund…")

    def on_refund_task_finished(self, outcome: RefundOutcomeLike) -> None:
        self._refund_task = None
        self._set_busy(False)
        refund, sale = outcome.refund, self.sale
        if outcome.state != "confirmed" or refund is None or sale is None:
            self.pages.setCurrentIndex(0)
            text = refusal_sentence(outcome)
            wrong_pin = (outcome.error is not None and outcome.error.error == "approval_refused"
                         and not self.is_manager)
            self._refuse(text, self.pin_edit if wrong_pin else self.review_button)
            self.refund_refused.emit(outcome)
            return
        self.refund = refund
        self.show_sale(sale_with_refund(sale, refund))
        self.show_result(refund, outcome.message)
        where = "from the drawer" if refund.method == "cash" else "to the original payment"
        say(self.hint_label, f"Pay {format_money(refund.amount, refund.currency)} back {where}, "
            "have the customer sign the slip, then press Done.", ok=True)
        self.done_button.setFocus(Qt.FocusReason.OtherFocusReason)
        self.refund_confirmed.emit(refund)
        self._print_slip(refund, sale)

    def on_refund_task_failed(self, exc: BaseException) -> None:
        self._refund_task = None
        self._set_busy(False)
        self.pages.setCurrentIndex(0)
        self._refuse(failure_sentence(exc, nothing_changed("Nothing was refunded")),
                     self.review_button)

    # --- the slip -----------------------------------------------------------------------------

    def _print_slip(self, refund: Refund, sale: Sale) -> None:
        session = self._register.session
        staff = session.staff.display_name if session is not None else ""
        approver = staff if self.is_manager else self.username_edit.text().strip()
        self.pin_edit.clear()  # used: never kept on screen longer than needed
        self._slip_task = self._runner.read(
            deliver_refund_slip, self._register, self._printer, refund, sale,
            approver_name=approver, staff_name=staff,
            terminal_name=self._register.config.terminal_name)
        self._slip_task.finished.connect(self.on_slip_task_finished)
        self._slip_task.failed.connect(self.on_slip_task_failed)
        say(self.slip_label, "Printing the refund slip…")

    def on_slip_task_finished(self, where: str) -> None:
        self._slip_task = None
        say(self.slip_label, f"Refund slip: {where}", ok=True)
        self.slip_delivered.emit(where)

    def on_slip_task_failed(self, exc: BaseException) -> None:
        self._slip_task = None
        say(self.slip_label, refund_failure_sentence(exc), warning=True)
        self.slip_failed.emit(exc)

    def refund_another(self) -> None:
        """Back to the form for more tickets of this sale (or another sale)."""
        self.reason_edit.clear()
        self.pages.setCurrentIndex(0)
        self.on_tickets_checks_changed()
        self.number_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    # --- look and keys ------------------------------------------------------------------------

    def _refuse(self, text: str, focus: QWidget) -> None:
        say(self.hint_label, text, warning=True)
        focus.setFocus(Qt.FocusReason.OtherFocusReason)

    def _set_busy(self, busy: bool) -> None:
        for button in (self.confirm_button, self.back_button, self.close_button):
            button.setEnabled(not busy)
        self.confirm_button.setText("Sending…" if busy else "Confirm refund")

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() not in _ENTER:
            super().keyPressEvent(event)
            return
        event.accept()
        focused = self.focusWidget()
        page = self.pages.currentIndex()
        if isinstance(focused, QPushButton):
            if focused.isEnabled():
                focused.click()
        elif page == 0 and (focused is self.number_edit or self.sale is None):
            self.find_sale()
        elif page == 0:
            self.review()
        elif page == 1:
            self.confirm()
        else:
            self.accept()

    def reject(self) -> None:
        if self.busy:
            return  # never while the register is working
        if self.pages.currentIndex() == 1:
            self.back()
            return
        QDialog.reject(self)


def open_refund(parent: QWidget | None, register: RefundPort, runner: TaskRunner,
                printer: ReceiptPrinter, sale: Sale | None = None) -> RefundDialog:
    """Open the refund dialog over ``parent`` (window-modal, returns at once), on ``sale``
    or asking for its number. The dialog deletes itself once closed.

    Connect to its signals with bound methods, not lambdas: PySide can crash deleting a
    dialog whose signal still holds a lambda."""
    dialog = RefundDialog(register, runner, printer, sale, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    dialog.open()
    (dialog.table if sale is not None else dialog.number_edit).setFocus(
        Qt.FocusReason.OtherFocusReason)
    return dialog
