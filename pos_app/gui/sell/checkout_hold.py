"""The basket's checkout hold: its tickets reserved on the server while the customer pays.

Adding tickets places (or grows) a ``checkout`` hold, the basket shows its countdown, clearing
the basket releases it, and Charge converts it (``register.pay_hold``). When it expires the
cashier is told and may hold the tickets again (issue 5).

- **One request at a time**, on the journal thread: the hold follows the basket's latest
  lines, and edits made while a request is out go as one replacement when it returns. A
  replacement names the old hold (``replaces``): the server releases it and places the new one
  in one transaction, so the basket's tickets are never let go in between, and when the new
  lines do not fit the old hold stands.
- **Not enough left** for the basket's new lines: the basket stays as the cashier made it (they
  decide what to change), the old hold stands, and the strip and banner say what is short
  ("Only 1 GA left - reduce the quantity."). Charge then asks the server once more and, when
  still short, is refused with that sentence: the sale is not sent, so the cashier's own hold
  is never counted against them.
- **Countdown**: the server's own ``expires_at - created_at`` (its clock decides expiry),
  counted on this machine's monotonic clock from the moment the request was *sent*, so it ends
  no later than the server's and a wrong terminal clock changes nothing.
- **Charge** (:meth:`CheckoutHold.when_settled`) waits until no request is out, then gets the
  hold to pay, the shortage refusal, or neither when no usable hold matches the basket
  (refused for another reason, unknown, expired, under :data:`PAY_MARGIN_S` left): the sale
  then goes by lines and the server's sale guard decides, as without holds.

States (:attr:`CheckoutHold.state`): ``idle`` (empty basket), ``placing``, ``held``,
``short`` (not enough left for the basket's lines; an earlier hold may stand), ``expired``,
``unheld`` (the server refused or did not answer; Charge sells the lines).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QWidget

from pos_app.api.schemas import Hold, SaleLineIn
from pos_app.gui.core.ports import state_name
from pos_app.gui.core.widgets import named, restyle

if TYPE_CHECKING:
    from collections.abc import Sequence

    from pos_app.gui.core.ports import HoldOutcomeLike
    from pos_app.gui.core.task_runner import Task, TaskRunner
    from pos_app.gui.sell.basket_model import BasketModel

__all__ = ["PAY_MARGIN_S", "CheckoutHold", "CheckoutHoldPort", "HoldStrip", "countdown_text"]

PAY_MARGIN_S = 2.0
"""A hold with less time left than this is not paid by hold (it could lapse on the way)."""
RELEASE_REASON = "basket cleared"


class CheckoutHoldPort(Protocol):
    """What the checkout hold needs from the register (``pos_app.journal.Register``)."""

    def hold(self, lines: Sequence[SaleLineIn], kind: str = "cash", customer: object = None,
             *, ttl_seconds: int | None = None,
             replaces: str | None = None) -> HoldOutcomeLike: ...

    def release_hold(self, ref: str, reason: str | None = None) -> HoldOutcomeLike: ...


def countdown_text(seconds: float) -> str:
    """``m:ss`` of ``seconds`` left, rounded up (``0:01`` until the last second has passed)."""
    whole = max(0, int(-(-seconds // 1)))
    return f"{whole // 60}:{whole % 60:02d}"


class CheckoutHold(QObject):
    """Keeps one checkout hold on the server matching ``basket`` (see the module docstring).

    Every register call runs through ``runner.write`` (the journal thread), never on the GUI
    thread.

    Signals:
        changed(): ``state``, the hold or the time left changed (once a second while held).
        notice(str, str): a sentence for the cashier and the banner kind (``info`` /
            ``warning`` / ``error``): not enough left, the hold expired, ...
    """

    changed = Signal()
    notice = Signal(str, str)

    def __init__(self, register: CheckoutHoldPort, runner: TaskRunner, basket: BasketModel,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._register = register
        self._runner = runner
        self._basket = basket
        self.state = "idle"
        #: Seconds each hold lasts (``None``: the server's checkout default, 15 minutes).
        self.ttl_seconds: int | None = None
        self.hold: Hold | None = None
        self.message = ""
        self._held: dict[int, int] = {}  # the lines ``hold`` holds
        self._target: dict[int, int] | None = {}  # lines of the last answered request
        self._deadline: float | None = None  # monotonic end of ``hold``
        self._task: Task | None = None
        self._dirty = False
        self.shortage: HoldOutcomeLike | None = None  # the refusal while ``short``
        self._waiters: list[Callable[[Hold | None, HoldOutcomeLike | None], None]] = []
        self._timer = QTimer(self)
        self._timer.setInterval(1_000)
        self._timer.timeout.connect(self.on_timer_timeout)
        for signal in (basket.rowsInserted, basket.rowsRemoved, basket.dataChanged,
                       basket.modelReset):
            signal.connect(self.on_basket_changed)

    # --- reading ----------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """A hold request is out."""
        return self._task is not None

    def seconds_left(self) -> float | None:
        """Seconds until the hold lapses on this clock, or ``None`` without a hold."""
        if self._deadline is None or self.hold is None:
            return None
        return max(0.0, self._deadline - time.monotonic())

    def usable(self) -> Hold | None:
        """The hold to pay for the basket as it is now, or ``None`` (see module docstring)."""
        left = self.seconds_left()
        if self.state != "held" or left is None or left < PAY_MARGIN_S:
            return None
        return self.hold if self._held == self._basket.quantities() else None

    # --- following the basket ------------------------------------------------------------------

    def on_basket_changed(self, *_args: object) -> None:
        self.sync()

    def sync(self) -> None:
        """Bring the server's hold in line with the basket (one request at a time)."""
        if self._task is not None:
            self._dirty = True
            return
        self._dirty = False
        wanted = self._basket.quantities()
        if self._settled(wanted):
            self._run_waiters()
            return
        if not wanted:
            if self.hold is None:
                self._forget("idle")
                self._run_waiters()
                return
            self._task = self._runner.write(self._register.release_hold, self.hold.id,
                                            RELEASE_REASON)
            self._task.finished.connect(self.on_release_task_done)
            self._task.failed.connect(self.on_release_task_done)
            return
        lines = [SaleLineIn(ticket_type_id=i, quantity=q) for i, q in wanted.items()]
        replaces = self.hold.id if self.hold is not None else None
        sent_at = time.monotonic()
        self._set_state("placing" if self.hold is None else self.state)
        self._task = self._runner.write(self._register.hold, lines, "checkout",
                                        ttl_seconds=self.ttl_seconds, replaces=replaces)
        self._task.finished.connect(
            lambda outcome: self.on_hold_task_finished(outcome, wanted, sent_at, replaces))
        self._task.failed.connect(lambda exc: self.on_hold_task_failed(exc, wanted))

    def _settled(self, wanted: dict[int, int]) -> bool:
        if self.hold is not None and self._held == wanted:
            return True
        return self._target == wanted

    def on_hold_task_finished(self, outcome: HoldOutcomeLike, sent: dict[int, int],
                              sent_at: float, replaces: str | None) -> None:
        self._task = None
        state = state_name(outcome)
        code = outcome.error.error if outcome.error is not None else None
        if state == "confirmed" and outcome.hold is not None:
            hold = outcome.hold
            self.hold, self._held, self._target = hold, dict(sent), dict(sent)
            self._deadline = sent_at + (hold.expires_at - hold.created_at).total_seconds()
            self._timer.start()
            self._set_state("held")
        elif code in ("hold_expired", "hold_not_active") and replaces is not None:
            # The hold being replaced lapsed (or was paid at another window): hold afresh.
            self._forget("placing")
            self._dirty = True
            self.notice.emit("The basket's earlier hold had expired; holding the tickets "
                             "again.", "info")
        elif code == "insufficient_inventory":
            self._target = dict(sent)
            self.shortage = outcome
            self._set_state("short", outcome.message)
            self.notice.emit(outcome.message, "error")
        elif state == "refused":
            self._target = dict(sent)
            self._refused(outcome.message)
        else:
            # Unknown: the replacement may or may not have happened on the server; whatever
            # it holds lapses by itself. The sale, by lines, stays safe.
            self._target = dict(sent)
            self._forget("unheld", "The server did not answer; these tickets are not "
                                   "reserved.")
        self._after_request()

    def on_hold_task_failed(self, exc: BaseException, sent: dict[int, int]) -> None:
        # Raised before anything was journaled or sent (not signed in, a bad body).
        self._task = None
        self._target = dict(sent)
        self._refused(f"Tickets not reserved: {exc}")
        self._after_request()

    def _refused(self, message: str) -> None:
        """A request changed nothing: an earlier hold stands, or nothing is reserved."""
        if self.hold is not None:
            self._set_state("held")  # the earlier hold stands (it no longer matches: lines)
        else:
            self._set_state("unheld", message)

    def on_release_task_done(self, _result: object) -> None:
        # Whatever the answer (released, already expired, unknown), the basket is empty and
        # this hold is no longer the basket's; an unreleased one lapses by itself.
        self._task = None
        self._forget("idle")
        self._after_request()

    def _after_request(self) -> None:
        if self._dirty or not self._settled(self._basket.quantities()):
            self.sync()
        else:
            self._run_waiters()

    # --- charge, expiry ---------------------------------------------------------------------

    def when_settled(self, callback: Callable[[Hold | None, HoldOutcomeLike | None], None],
                     ) -> None:
        """Call ``callback(hold, shortage)`` on the GUI thread once no request is out and the
        hold follows the basket (at once when it does already): ``hold`` to pay, or the
        ``insufficient_inventory`` refusal of the basket's lines (asked again first, so it is
        fresh), or both ``None``: sell by lines."""
        if self.state == "short" and self._task is None:
            self._target = None  # tickets may have come back since: ask once more
        self._waiters.append(callback)
        if self._task is None:
            self.sync()

    def _run_waiters(self) -> None:
        waiters, self._waiters = self._waiters, []
        hold = self.usable()
        shortage = self.shortage if self.state == "short" else None
        for callback in waiters:
            callback(hold, shortage)

    def converted(self) -> None:
        """The hold was paid: it is a sale now, nothing to release."""
        self._forget("idle")
        self._target = {}

    def lapsed(self, message: str) -> None:
        """The server said the hold expired (Charge refused ``hold_expired``)."""
        self._forget("expired", message)
        self._target = self._basket.quantities()

    def rehold(self) -> None:
        """Hold the basket's tickets again after an expiry or a refusal ("Hold again")."""
        if self.hold is None:
            self._target = None
            self.sync()

    def on_timer_timeout(self) -> None:
        left = self.seconds_left()
        if left is None:
            self._timer.stop()
            return
        if left <= 0:
            self._target = self._basket.quantities()
            self._forget("expired", "The hold expired: these tickets are no longer reserved. "
                                    "Hold again, or Charge to sell them if they are still "
                                    "there.")
            self.notice.emit(self.message, "warning")
            return
        self.changed.emit()

    def _forget(self, state: str, message: str = "") -> None:
        self.hold, self._held, self._deadline = None, {}, None
        self._timer.stop()
        self._set_state(state, message)

    def _set_state(self, state: str, message: str = "") -> None:
        self.state, self.message = state, message
        if state != "short":
            self.shortage = None
        self._basket.set_own_held(self._held)
        self.changed.emit()


class HoldStrip(QFrame):
    """The basket's line about its checkout hold: "Held · 14:32 left", "Holding…", or why
    the tickets are not reserved with a "Hold again" button. Hidden while the basket is
    empty. Its ``holdState`` property (the controller's state) colours it in the stylesheet.
    """

    def __init__(self, controller: CheckoutHold, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("holdStrip")
        self._controller = controller
        self.text_label = named(QLabel(), "holdStripText")
        self.text_label.setWordWrap(True)
        self.rehold_button = named(QPushButton("Hold again"), "secondaryButton")
        self.rehold_button.setAccessibleName("Hold the basket's tickets again")
        self.rehold_button.setAutoDefault(False)
        # Its text wraps to two lines at most: never squeezed by the basket table above it.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.text_label.setMinimumHeight(self.text_label.fontMetrics().lineSpacing() * 2 + 4)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 8, 6)
        layout.addWidget(self.text_label, 1)
        layout.addWidget(self.rehold_button)
        self.rehold_button.clicked.connect(controller.rehold)
        controller.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        controller = self._controller
        state = controller.state
        left = controller.seconds_left()
        if state == "held" and left is not None:
            text = f"Tickets held · {countdown_text(left)} left"
        elif state == "short":
            text = controller.message
            if left is not None:
                text += f"\nThe earlier hold stands · {countdown_text(left)} left"
        elif state == "placing":
            text = "Holding the tickets…"
        elif state == "expired":
            text = "Hold expired: tickets not reserved"
        elif state == "unheld":
            text = controller.message or "Tickets not reserved"
        else:
            text = ""
        self.text_label.setText(text)
        self.setAccessibleName(text or "No tickets held")
        self.rehold_button.setVisible(state in ("expired", "unheld"))
        if self.property("holdState") != state:
            self.setProperty("holdState", state)
            restyle(self)
            restyle(self.text_label)  # its colour depends on the strip's state
        self.setVisible(state != "idle")
