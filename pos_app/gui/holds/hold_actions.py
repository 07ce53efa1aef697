"""Take payment for a hold and release one: the hold desk's two actions that change
something, as a controller (like :class:`~pos_app.gui.shifts.shift_dialog.ShiftController`).

Payment is :class:`~pos_app.gui.holds.hold_payment.HoldPayment`'s (the dialog,
``register.pay_hold``, no shift open, an unknown outcome); release opens
:class:`~pos_app.gui.holds.hold_dialog.ReleaseHoldDialog` and runs ``register.release_hold`` on the
runner's journal thread. Both report what the journal settled. A hold that has expired (on
the desk's clock before asking, or by the server's ``hold_expired`` answer) is reported as
``expired``: it can be neither paid nor released.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QWidget

from pos_app.api.schemas import Hold
from pos_app.gui.core.ports import HoldDeskPort, HoldOutcomeLike, SaleOutcomeLike, state_name
from pos_app.gui.core.task_runner import Task, TaskRunner
from pos_app.gui.holds.hold_dialog import ReleaseHoldDialog, TakePaymentDialog
from pos_app.gui.holds.hold_payment import ENDED_CODES, HoldPayment
from pos_app.gui.holds.holds_model import status_label

__all__ = ["HoldActions"]



class HoldActions(QObject):
    """Payment and release of one hold at a time.

    ``status_of(hold)`` is the desk's effective status of a hold (its clock); ``payment``
    takes the payments (its signals are forwarded as this controller's).

    Signals:
        paid(object, object): the hold and the confirmed ``SaleOutcome`` it became.
        payment_refused(object): the payment's ``SaleOutcome`` was not confirmed.
        released(object): the confirmed ``HoldOutcome`` (its ``hold`` is ``released``).
        release_refused(object): the release's ``HoldOutcome`` was not confirmed.
        expired(object): this ``Hold`` has expired and can be neither paid nor released.
        told(str, str): a sentence for the cashier and its kind (``error``, ``warning``,
            ``info``) that no dialog is left open to show.
        dialog_closed(): the payment or release dialog went away.
        session_expired(): the server no longer accepts the session.
    """

    paid = Signal(object, object)
    payment_refused = Signal(object)
    released = Signal(object)
    release_refused = Signal(object)
    expired = Signal(object)
    told = Signal(str, str)
    dialog_closed = Signal()
    session_expired = Signal()

    def __init__(self, register: HoldDeskPort, runner: TaskRunner, parent: QWidget,
                 status_of: Callable[[Hold], str], payment: HoldPayment) -> None:
        super().__init__(parent)
        self._widget = parent
        self._register = register
        self._runner = runner
        self._status_of = status_of
        self._task: Task | None = None
        self.payment = payment
        self.release_dialog: ReleaseHoldDialog | None = None
        payment.paid.connect(self.paid)
        payment.refused.connect(self.payment_refused)
        payment.ended.connect(self.on_payment_ended)
        payment.told.connect(self.told)
        payment.dialog_closed.connect(self.dialog_closed)
        payment.session_expired.connect(self.session_expired)

    @property
    def payment_dialog(self) -> TakePaymentDialog | None:
        """The open cash tendered dialog, or ``None``."""
        return self.payment.dialog

    @property
    def busy(self) -> bool:
        """``True`` while a dialog is open or a register call runs."""
        return (self._task is not None or self.payment.busy
                or self.release_dialog is not None)

    def _check(self, hold: Hold, verb: str) -> bool:
        status = self._status_of(hold)
        if status == "expired":
            self.expired.emit(hold)
            return False
        if status != "active":
            self.told.emit(f"Hold {hold.code} is {status_label(status).lower()}; it cannot "
                           f"be {verb}.", "info")
            return False
        return True

    def _ended(self, hold: Hold | None, outcome: SaleOutcomeLike | HoldOutcomeLike) -> None:
        """An outcome that leaves no dialog open: expired, or told."""
        code = outcome.error.error if outcome.error is not None else None
        if code == "hold_expired" and hold is not None:
            self.expired.emit(hold)
        else:
            self.told.emit(outcome.message, "error" if state_name(outcome) == "refused"
                           else "warning")
        if code == "unauthorized":
            self.session_expired.emit()

    # --- take payment (see pos_app.gui.holds.hold_payment) ----------------------------------------

    def take_payment(self, hold: Hold) -> None:
        """Ask for the cash tendered for ``hold`` and sell it; refused at once (``expired`` /
        ``told``) when it is not active or another payment is unsettled."""
        if self.busy:
            return
        if self.payment.outcome is not None or self._check(hold, "paid"):
            self.payment.start(hold)  # while one is unsettled it only says so

    def on_payment_ended(self, hold: Hold | None, outcome: SaleOutcomeLike) -> None:
        self._ended(hold, outcome)

    # --- release ------------------------------------------------------------------------------

    def release(self, hold: Hold) -> None:
        """Ask why, then release ``hold``; refused at once when it is not active."""
        if self.busy or not self._check(hold, "released"):
            return
        dialog = ReleaseHoldDialog(hold, self._widget)
        dialog.reason_entered.connect(self.on_release_dialog_reason_entered)
        dialog.finished.connect(self.on_release_dialog_finished)
        self.release_dialog = dialog
        dialog.open()
        dialog.reason_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def on_release_dialog_reason_entered(self, reason: str) -> None:
        if self.release_dialog is None:
            return
        self._task = self._runner.write(self._register.release_hold,
                                        self.release_dialog.hold.code, reason)
        self._task.finished.connect(self.on_release_task_finished)
        self._task.failed.connect(self.on_release_task_failed)

    def on_release_task_finished(self, outcome: HoldOutcomeLike) -> None:
        self._task = None
        dialog = self.release_dialog
        hold = dialog.hold if dialog is not None else None
        code = outcome.error.error if outcome.error is not None else None
        if state_name(outcome) == "confirmed":
            if dialog is not None:
                dialog.close_now()
            self.released.emit(outcome)
            return
        if state_name(outcome) == "refused" and code not in ENDED_CODES and dialog is not None:
            dialog.show_error(outcome.message)
            if code == "unauthorized":
                self.session_expired.emit()
        else:
            if dialog is not None:
                dialog.close_now()
            self._ended(hold, outcome)
        self.release_refused.emit(outcome)

    def on_release_task_failed(self, exc: BaseException) -> None:
        from pos_app.client import NotSignedIn

        self._task = None
        if self.release_dialog is not None:
            self.release_dialog.show_error(f"The hold was not released: {exc}")
        if isinstance(exc, NotSignedIn):
            self.session_expired.emit()

    def on_release_dialog_finished(self, _result: int) -> None:
        self.release_dialog = None
        self.dialog_closed.emit()
