"""Taking payment for a cash hold at the hold desk, including its unhappy paths.

:class:`HoldPayment` opens :class:`~pos_app.gui.holds.hold_dialog.TakePaymentDialog`, runs
``register.pay_hold`` on the :class:`~pos_app.gui.core.task_runner.TaskRunner`'s journal thread
and acts on the journal-settled outcome, as the sell screen does for a basket:

- ``confirmed``: the change due on :class:`~pos_app.gui.sell.sale_result.SaleResultCard` and the
  receipt rendered and printed on a worker.
- ``refused`` with ``shift_not_open``: the opening-float dialog of the
  :class:`~pos_app.gui.shifts.shift_dialog.ShiftController` (the sell screen's own when it is
  shared), then the same tender is paid again as a new journal entry (the refused one is
  final). Other refusals stay in the payment dialog, to fix and send again.
- ``unknown`` (sent, no answer): :class:`UnsettledPaymentCard` offers Retry
  (``register.retry_sale``: the same key, so it cannot be paid twice) and Abandon
  (``register.abandon_sale``: the key is voided on the server, or the payment turns out to
  have gone through). No other payment starts until it is settled.
"""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from pos_app.api.schemas import Event, Hold, Sale
from pos_app.gui.core.ports import HoldDeskPort, SaleOutcomeLike, state_name
from pos_app.gui.core.task_runner import Task, TaskRunner
from pos_app.gui.core.widgets import named
from pos_app.gui.holds.hold_dialog import TakePaymentDialog
from pos_app.gui.holds.hold_placement import deliver_sale_receipt, printed_sentence
from pos_app.gui.printing.printing import ReceiptPrinter
from pos_app.gui.sell.sale_result import SaleResultCard
from pos_app.gui.sell.unknown_sale import NO_ABANDON_TIP
from pos_app.gui.shifts.shift_dialog import ShiftController

__all__ = ["ENDED_CODES", "NO_SHIFT", "HoldPayment", "UnsettledPaymentCard"]

ENDED_CODES = ("hold_expired", "hold_not_active")
"""Refusals that end a hold for good: nothing to fix in the payment dialog."""
NO_SHIFT = ("No shift was opened, so the hold was not paid: a cash payment needs an open "
            "shift. Enter the tender again to be asked for the float.")


def _code(outcome: SaleOutcomeLike) -> str | None:
    return outcome.error.error if outcome.error is not None else None


class UnsettledPaymentCard(QFrame):
    """An amber card: this hold's payment is unsettled; Retry or Abandon it (the sell
    screen's unknown-sale card, for a hold). The owner connects the two buttons."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("unknownSaleCard")  # styled like the sell screen's (pos.qss)
        self.label = named(QLabel(), "unknownSaleText")
        self.label.setWordWrap(True)
        self.label.setAccessibleName("Unsettled payment")
        self.retry_button = named(QPushButton("Retry"), "primaryButton")
        self.retry_button.setAccessibleName("Retry the unsettled payment")
        self.abandon_button = named(QPushButton("Abandon"), "secondaryButton")
        self.abandon_button.setAccessibleName("Abandon the unsettled payment")
        for push in (self.retry_button, self.abandon_button):
            push.setAutoDefault(True)  # Enter presses the focused one, outside dialogs too
            push.setMinimumWidth(120)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(20, 12, 20, 12)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.retry_button)
        layout.addWidget(self.abandon_button)
        self.hide()

    def show_payment(self, code: str, *, can_retry: bool, can_abandon: bool,
                     note: str = "") -> None:
        """Offer Retry / Abandon for hold ``code``'s unsettled payment (``note``: what the
        last attempt to settle it said)."""
        self.label.setText(
            (f"{note} " if note else "") + f"The payment for hold {code} is unsettled: it may "
            "or may not have gone through. With the customer still here: Retry sends the same "
            "payment again (it cannot be taken twice). Abandon cancels it for good.")
        self.label.setAccessibleDescription(self.label.text())
        self.retry_button.setEnabled(can_retry)
        self.abandon_button.setEnabled(can_abandon)
        self.abandon_button.setToolTip("" if can_abandon else NO_ABANDON_TIP)
        self.show()

    def set_busy(self, text: str) -> None:
        """While the register settles the payment: both buttons off, ``text`` shown."""
        self.retry_button.setEnabled(False)
        self.abandon_button.setEnabled(False)
        self.label.setText(text)


class HoldPayment(QObject):
    """Payment for one cash hold at a time (see the module docstring).

    ``parent`` is the desk (dialogs open over it); ``events`` is the desk's event cache
    (event id -> ``Event``, read, never changed here) used to render receipts;
    ``shifts`` is the float flow to reuse (the sell screen's ``sell.shifts``), else one of
    its own. :attr:`result_card` and :attr:`card` are for the desk's layout.

    Signals:
        paid(object, object): the hold (``None`` when unknown) and the confirmed
            ``SaleOutcome``; the change due is shown and the receipt is printing.
        refused(object): a payment's ``SaleOutcome`` that is not confirmed (refused,
            unknown, voided).
        ended(object, object): the hold and a final outcome that leaves no dialog open
            (the hold expired or ended, a retried payment refused, ...): tell the cashier.
        unsettled(object): the payment's outcome is unknown (``SaleOutcome``); the card
            offers Retry and Abandon.
        settled(object): Retry or Abandon settled the unknown payment (its outcome).
        told(str, str): a sentence for the cashier and its kind (``info``, ``warning``).
        receipt_delivered(str): the receipt was printed or saved ("Printed on ..." / ...).
        print_failed(object): rendering or printing the receipt raised this exception.
        dialog_closed(): the payment dialog went away.
        session_expired(): the server no longer accepts the session.
    """

    paid = Signal(object, object)
    refused = Signal(object)
    ended = Signal(object, object)
    unsettled = Signal(object)
    settled = Signal(object)
    told = Signal(str, str)
    receipt_delivered = Signal(str)
    print_failed = Signal(object)
    dialog_closed = Signal()
    session_expired = Signal()

    def __init__(self, register: HoldDeskPort, runner: TaskRunner, printer: ReceiptPrinter,
                 parent: QWidget, *, events: Mapping[str, Event] | None = None,
                 shifts: ShiftController | None = None) -> None:
        super().__init__(parent)
        self._widget = parent
        self._register = register
        self._runner = runner
        self._printer = printer
        self._events = events if events is not None else {}
        self.shifts = shifts if shifts is not None else ShiftController(register, runner,
                                                                        parent)
        self._task: Task | None = None
        self.dialog: TakePaymentDialog | None = None
        self._hold: Hold | None = None
        self._tendered = 0
        self._shift_asked = False
        self._awaiting_shift: SaleOutcomeLike | None = None
        self.outcome: SaleOutcomeLike | None = None  # the unknown payment, while unsettled
        self.last_sale: Sale | None = None
        self.result_card = SaleResultCard()
        self.result_card.new_sale_button.setText("Done")
        self.result_card.new_sale_button.setAccessibleName("Close the payment result")
        self.card = UnsettledPaymentCard()
        self.card.retry_button.clicked.connect(self.retry)
        self.card.abandon_button.clicked.connect(self.abandon)
        self.result_card.reprint_requested.connect(self.on_result_card_reprint_requested)
        self.shifts.shift_opened.connect(self.on_shifts_shift_opened)
        self.shifts.shift_open_abandoned.connect(self.on_shifts_shift_open_abandoned)

    @property
    def busy(self) -> bool:
        """``True`` while the dialog is open or the register works on a payment."""
        return (self._task is not None or self.dialog is not None
                or self._awaiting_shift is not None)

    @property
    def unsettled_hold(self) -> Hold | None:
        """The hold whose payment is unknown, or ``None`` when none is."""
        return self._hold if self.outcome is not None else None

    # --- taking payment -----------------------------------------------------------------------

    def start(self, hold: Hold) -> None:
        """Ask for the cash tendered for ``hold`` (the caller checked it is active) and sell
        it. While a payment is unsettled it is refused, with a sentence (``told``)."""
        if self.outcome is not None:
            code = self._hold.code if self._hold is not None else ""
            self.told.emit(f"The payment for hold {code} is unsettled: Retry or Abandon it "
                           "before taking another payment.", "warning")
            self.card.retry_button.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        if self.busy:
            return
        self.result_card.clear()
        dialog = TakePaymentDialog(hold, self._widget)
        dialog.tendered_entered.connect(self.on_dialog_tendered_entered)
        dialog.finished.connect(self.on_dialog_finished)
        self.dialog = dialog
        dialog.open()
        dialog.tendered_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def on_dialog_tendered_entered(self, tendered: int) -> None:
        if self.dialog is None or self._task is not None:
            return
        self._tendered = tendered
        self._shift_asked = False
        self._pay(self.dialog.hold)

    def _pay(self, hold: Hold) -> None:
        self._hold = hold
        self._task = self._runner.write(self._register.pay_hold, hold.code, self._tendered)
        self._task.finished.connect(self.on_pay_task_finished)
        self._task.failed.connect(self.on_pay_task_failed)

    def on_pay_task_finished(self, outcome: SaleOutcomeLike) -> None:
        self._task = None
        if self._ask_for_shift(outcome):
            return  # the payment dialog waits, busy, behind the float dialog
        dialog, hold, state, code = self.dialog, self._hold, state_name(outcome), _code(outcome)
        if state == "confirmed" and outcome.sale is not None:
            self._close_dialog()
            self._confirmed(hold, outcome, outcome.sale)
            return
        if state == "refused" and code not in ENDED_CODES and dialog is not None:
            dialog.show_error(outcome.message)  # e.g. too little cash: fix, send again
            if code == "unauthorized":
                self.session_expired.emit()
        elif state in ("unknown", "pending"):
            self._close_dialog()
            self._show_unsettled(outcome)
        else:
            self._close_dialog()
            self.ended.emit(hold, outcome)
        self.refused.emit(outcome)

    def on_pay_task_failed(self, exc: BaseException) -> None:
        from pos_app.client import NotSignedIn

        self._task = None
        if self.dialog is not None:
            self.dialog.show_error(f"The payment was not taken: {exc}")
        if isinstance(exc, NotSignedIn):
            self.session_expired.emit()

    def on_dialog_finished(self, _result: int) -> None:
        self.dialog = None
        self.dialog_closed.emit()

    def _close_dialog(self) -> None:
        if self.dialog is not None:
            self.dialog.close_now()

    def _confirmed(self, hold: Hold | None, outcome: SaleOutcomeLike, sale: Sale) -> None:
        self.last_sale = sale
        self.result_card.show_sale(sale)
        self.result_card.new_sale_button.setFocus(Qt.FocusReason.OtherFocusReason)
        self._print_receipt(sale, reprint=False)
        self.paid.emit(hold, outcome)

    # --- no shift open: the float dialog, then the same payment again -------------------------

    def _ask_for_shift(self, outcome: SaleOutcomeLike) -> bool:
        """On the first ``shift_not_open`` refusal of this payment, ask for the float (True:
        asked; ``shift_opened`` or ``shift_open_abandoned`` follows)."""
        if (state_name(outcome) != "refused" or _code(outcome) != "shift_not_open"
                or self._shift_asked or self.dialog is None):
            return False
        self._shift_asked = True
        if not self.shifts.request_open(self.dialog.hold.currency):
            return False
        self._awaiting_shift = outcome
        self.dialog.set_busy(True, "No shift is open at this terminal: enter the opening "
                                   "float, then the payment is taken.")
        return True

    def on_shifts_shift_opened(self, _outcome: object) -> None:
        if self._awaiting_shift is None:
            return  # the sell screen's own request, when the controller is shared
        self._awaiting_shift = None
        if self.dialog is None:
            return
        self.dialog.set_busy(True, "Shift open. Taking payment…")
        self._pay(self.dialog.hold)  # a new journal entry: the refused one is final

    def on_shifts_shift_open_abandoned(self, _message: str) -> None:
        refused, self._awaiting_shift = self._awaiting_shift, None
        if refused is None:
            return
        if self.dialog is not None:
            self.dialog.show_error(NO_SHIFT)
        self.refused.emit(refused)

    # --- unknown: Retry / Abandon -------------------------------------------------------------

    def _show_unsettled(self, outcome: SaleOutcomeLike, note: str = "") -> None:
        self.outcome = outcome
        self.card.show_payment(
            self._hold.code if self._hold is not None else "", note=note,
            can_retry=callable(getattr(self._register, "retry_sale", None)),
            can_abandon=callable(getattr(self._register, "abandon_sale", None)))
        self.card.retry_button.setFocus(Qt.FocusReason.OtherFocusReason)
        self.unsettled.emit(outcome)

    def retry(self) -> None:
        """Send the unsettled payment again with its own key (``register.retry_sale``)."""
        self._settle("retry_sale")

    def abandon(self) -> None:
        """Cancel the unsettled payment for good (``register.abandon_sale``)."""
        self._settle("abandon_sale")

    def _settle(self, method: str) -> None:
        action = getattr(self._register, method, None)
        if self.outcome is None or self._task is not None or not callable(action):
            return
        self.card.set_busy("Checking the payment with the server…")
        self._task = self._runner.write(action, self.outcome.key)
        self._task.finished.connect(self.on_settle_task_finished)
        self._task.failed.connect(self.on_settle_task_failed)

    def on_settle_task_finished(self, outcome: SaleOutcomeLike) -> None:
        self._task = None
        state = state_name(outcome)
        if state in ("unknown", "pending"):
            self._show_unsettled(outcome, note=outcome.message)
            return
        hold, self.outcome = self._hold, None
        self.card.hide()
        if state == "confirmed" and outcome.sale is not None:
            self._confirmed(hold, outcome, outcome.sale)
        elif state == "voided":
            code = hold.code if hold is not None else ""
            self.told.emit(f"Payment abandoned: nothing was sold, hold {code} was not paid.",
                           "info")
        else:
            self.ended.emit(hold, outcome)
        self.settled.emit(outcome)

    def on_settle_task_failed(self, exc: BaseException) -> None:
        from pos_app.client import NotSignedIn, Unauthorized

        self._task = None
        if self.outcome is not None:
            self._show_unsettled(self.outcome, note=f"Still unknown ({exc}).")
        if isinstance(exc, NotSignedIn | Unauthorized):
            self.session_expired.emit()

    # --- receipts -----------------------------------------------------------------------------

    def _print_receipt(self, sale: Sale, *, reprint: bool) -> None:
        self.result_card.set_receipt_status("Printing reprint…" if reprint
                                            else "Printing receipt…", busy=True)
        task = self._runner.read(deliver_sale_receipt, self._register, self._printer, sale,
                                 dict(self._events), reprint)
        task.finished.connect(self.on_receipt_task_finished)
        task.failed.connect(self.on_receipt_task_failed)

    def on_result_card_reprint_requested(self) -> None:
        if self.last_sale is not None:
            self._print_receipt(self.last_sale, reprint=True)

    def on_receipt_task_finished(self, where: str) -> None:
        self.result_card.set_receipt_status(printed_sentence("Receipt", where))
        self.result_card.receipt_label.setToolTip(where)
        self.receipt_delivered.emit(where)

    def on_receipt_task_failed(self, exc: BaseException) -> None:
        if self.result_card.isVisible():
            self.result_card.set_receipt_status(
                f"Printing failed: {exc}. Press Reprint to retry.", failed=True)
        self.print_failed.emit(exc)
