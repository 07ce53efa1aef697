"""Charge on the sell screen: from the basket to a journal-settled outcome, shown.

Charge hands the locked basket to ``register.sell`` on the
:class:`~pos_app.gui.core.task_runner.TaskRunner`'s journal thread; what the cashier sees next
comes only from the journal-settled ``SaleOutcome`` it returns (``shared/DESIGN.md``):

- ``confirmed``: change due (from the sale's payment record) and the notes to hand back,
  the sale number, a receipt rendered and printed on a worker; the basket empties and the
  counts are re-read.
- ``refused``: the outcome's message in a red banner; the basket stays exactly as it was.
  Refused with ``shift_not_open`` (no shift at this terminal): the opening-float dialog of
  :mod:`pos_app.gui.shifts.shift_dialog`; once the shift is open the same basket is sold again as a
  new journal entry (the refused one is final). Cancelled: the red banner.
- ``unknown``: the message in an amber banner; no change, no receipt, the basket stays,
  locked, with Retry / Abandon (:mod:`pos_app.gui.sell.unknown_sale`); what they settle is shown
  here too.

With a register that holds (``hold``, ``release_hold``, ``pay_hold``), the basket keeps a
checkout hold on the server (:mod:`pos_app.gui.sell.checkout_hold`): Charge waits for it to follow
the basket, then pays it (``register.pay_hold``), or sells the lines when there is no usable
hold. A payment refused because the hold expired keeps the basket and says so. Charge is
blocked while the basket's last sale is unknown or the server is unreachable.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal

from pos_app.api.schemas import Event, Hold, Sale
from pos_app.domain.money import format_money
from pos_app.gui.core.banner import MessageBanner
from pos_app.gui.core.ports import RegisterPort, SaleOutcomeLike, state_name
from pos_app.gui.core.task_runner import Task, TaskRunner
from pos_app.gui.sell.basket_model import BasketModel
from pos_app.gui.sell.basket_panel import BasketPanel
from pos_app.gui.sell.checkout_hold import CheckoutHold
from pos_app.gui.sell.event_list import EventListModel
from pos_app.gui.sell.sale_printer import SalePrinter
from pos_app.gui.sell.sale_receipt import SaleReceipt
from pos_app.gui.sell.sale_result import SaleResultCard
from pos_app.gui.sell.sell_inventory import OUTAGE
from pos_app.gui.sell.unknown_sale import UNSETTLED_TIP
from pos_app.gui.shifts.shift_dialog import ShiftController

__all__ = ["NOT_SOLD", "UNKNOWN_FAILURE", "SaleCharge"]

UNKNOWN_FAILURE = ("The sale did not complete normally ({error}). Do not hand over tickets or "
                   "change until a manager has checked the sale.")
NOT_SOLD = "Nothing was sold: {error}"


class SaleCharge(QObject):
    """One charge at a time (module docstring), as the sell screen's presenter of Charge: it
    drives the views it is given (``basket``, ``panel``, ``banner``, ``result_card``) and
    the screen's helpers for the drawer and receipt (``sale_printer``, ``receipt``), the
    checkout hold (``checkout``, ``None`` without one) and the shift (``shifts``), and it
    tells the screen the rest by its signals. It reads the screen's state through
    ``unreachable`` (the server is down), ``unsettled_key`` (the key of the basket's unknown
    sale, else ``None``) and ``current_event`` (the event the tiles show).

    Signals:
        charge_started(): a basket was handed to the register.
        sale_confirmed(object): the journal settled the sale as confirmed (``SaleOutcome``).
        sale_refused(object): the sale was refused (``SaleOutcome``); nothing changed.
        sale_unknown(object): the sale is ``unknown`` (or ``voided``): show Retry / Abandon.
        charge_failed(object): the register raised this exception instead of settling an outcome.
        sale_settled(object): Retry or Abandon settled an unknown sale (``SaleOutcome``).
        session_expired(): the server no longer accepts the session.
        connection_changed(bool): the server became unreachable (``False``) or answers.
        offline(): a refusal said the server cannot be reached: show the outage.
        events_stale(): the counts changed: re-read the events.
        tender_focus_wanted(): the cashier types next in the tender field.
        announced(str): say this to a screen reader.
    """

    charge_started = Signal()
    sale_confirmed = Signal(object)
    sale_refused = Signal(object)
    sale_unknown = Signal(object)
    charge_failed = Signal(object)
    sale_settled = Signal(object)
    session_expired = Signal()
    connection_changed = Signal(bool)
    offline = Signal()
    events_stale = Signal()
    tender_focus_wanted = Signal()
    announced = Signal(str)

    def __init__(self, register: RegisterPort, runner: TaskRunner, *, basket: BasketModel,
                 panel: BasketPanel, banner: MessageBanner, result_card: SaleResultCard,
                 events_model: EventListModel, sale_printer: SalePrinter, receipt: SaleReceipt,
                 shifts: ShiftController, checkout: CheckoutHold | None,
                 unreachable: Callable[[], bool], unsettled_key: Callable[[], str | None],
                 current_event: Callable[[], Event | None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._basket = basket
        self._panel = panel
        self._banner = banner
        self._result_card = result_card
        self._events_model = events_model
        self._sale_printer = sale_printer
        self._receipt = receipt
        self._shifts = shifts
        self._checkout = checkout
        self._unreachable = unreachable
        self._unsettled_key = unsettled_key
        self._current_event = current_event
        self._register = register
        self._runner = runner
        self._task: Task | None = None
        self._event: Event | None = None
        self._tendered = 0
        self._awaiting_hold = False  # Charge waits for the checkout hold to follow the basket
        self.hold: Hold | None = None  # the hold this charge pays, if any
        # A charge refused with shift_not_open, waiting for the float dialog (its outcome).
        self._awaiting_shift: SaleOutcomeLike | None = None
        self._shift_retried = False

    @property
    def charging(self) -> bool:
        """``True`` while a sale is with the register."""
        return self._task is not None or self._awaiting_shift is not None or self._awaiting_hold

    def request(self, tendered: int) -> None:
        """Charge the basket with ``tendered`` cash (minor units of the basket's currency).
        Nothing happens while charging, on an empty basket, during an outage or while the
        basket's last sale is unknown; a printer that would not print is asked about first.
        """
        basket = self._basket
        if self.charging or basket.is_empty():
            return  # a second press while the first is in flight does nothing
        if self._unreachable() or self._unsettled_key() is not None:
            return  # nothing is queued to be sold later; an unknown sale blocks this basket
        basket_key = hash((basket.event_id, tuple(basket.quantities().items())))
        if not self._sale_printer.check_before_charge(
                basket_key, lambda: self.request(tendered)):
            return  # the cashier is asked first: the printer would not print the receipt
        event_id = basket.event_id
        self._event = next(
            (e for e in self._events_model.events if e.id == event_id), self._current_event())
        self._banner.clear()
        self._result_card.clear()
        basket.set_locked(True)
        self._panel.set_charging(True)
        self._tendered = tendered
        self._shift_retried = False
        self._send()
        self.announced.emit("Charging " + format_money(basket.total, basket.currency or "USD"))
        self.charge_started.emit()

    def _send(self) -> None:
        """Hand the locked basket to the register: pay its checkout hold once that follows
        the basket, or sell its lines."""
        self.hold = None
        checkout = self._checkout
        if checkout is None:
            self._submit(None)
            return
        self._awaiting_hold = True
        checkout.when_settled(self._submit)

    def _submit(self, hold: Hold | None, shortage: object = None) -> None:
        self._awaiting_hold = False
        self.hold = hold
        if shortage is not None:
            # The server, just asked, cannot hold these lines even with the basket's own
            # tickets: a sale of them is refused alike, so none is sent.
            self.on_sell_task_finished(shortage)  # type: ignore[arg-type]
            return
        if hold is not None:
            self._task = self._runner.write(self._register.pay_hold,  # type: ignore[attr-defined]
                                            hold.id, self._tendered)
        else:
            self._task = self._runner.write(self._register.sell,
                                            self._basket.sale_lines(), self._tendered)
        self._task.finished.connect(self.on_sell_task_finished)
        self._task.failed.connect(self.on_sell_task_failed)

    def _over(self) -> None:
        self._task = None
        self._basket.set_locked(False)
        self._panel.set_charging(False)

    def on_sell_task_finished(self, outcome: SaleOutcomeLike) -> None:
        if self._ask_for_shift(outcome):
            return  # the basket stays locked while the float dialog is up
        self._over()
        state = state_name(outcome)
        if state == "confirmed" and outcome.sale is not None:
            self.confirmed(outcome, outcome.sale)
        elif state == "refused":
            self._panel.hide_change_preview()
            self.tender_focus_wanted.emit()
            code = outcome.error.error if outcome.error is not None else None
            if code == "offline":
                self.offline.emit()
            if code in ("hold_expired", "hold_not_active") and self._checkout is not None \
                    and self.hold is not None:
                self._checkout.lapsed(outcome.message)
            self._banner.show_message(outcome.message, "error")
            self.announced.emit(f"Not sold. {outcome.message}")
            self.sale_refused.emit(outcome)
            if code == "unauthorized":
                self.session_expired.emit()
                return
            self.events_stale.emit()
        else:
            self._panel.hide_change_preview()
            self.tender_focus_wanted.emit()
            self.tell_unknown(outcome)

    def tell_unknown(self, outcome: SaleOutcomeLike) -> None:
        """Say that ``outcome`` is unknown and offer Retry / Abandon for it."""
        self._banner.show_message(outcome.message, "warning")
        self.announced.emit(f"Sale outcome unknown. {outcome.message}")
        self.sale_unknown.emit(outcome)

    def update_block(self) -> None:
        """Block Charge (the reason in its tooltip) while the basket's last sale is unknown
        or the server is unreachable; else let it charge."""
        if self._unsettled_key() is not None:
            self._panel.set_blocked(UNSETTLED_TIP)
        elif self._unreachable():
            self._panel.set_blocked(OUTAGE)
        else:
            self._panel.set_blocked(None)

    def on_inventory_connection_changed(self, connected: bool) -> None:
        self.update_block()
        self.connection_changed.emit(connected)

    # --- shift needed (see pos_app.gui.shifts.shift_dialog) ---------------------------------------

    def _ask_for_shift(self, outcome: SaleOutcomeLike) -> bool:
        """On a first ``shift_not_open`` refusal, ask for the float (True: asked)."""
        if state_name(outcome) != "refused" or outcome.error is None \
                or outcome.error.error != "shift_not_open" or self._shift_retried:
            return False
        currency = self._event.currency if self._event else "USD"
        self._task = None
        self._awaiting_shift = outcome
        if not self._shifts.request_open(currency):
            self._awaiting_shift = None
            return False
        return True

    def on_shifts_shift_opened(self, _outcome: object) -> None:
        if self._awaiting_shift is None:
            return
        self._awaiting_shift = None
        self._shift_retried = True  # the refused entry is final: a new entry, a new key
        self._send()

    def on_shifts_shift_open_abandoned(self, message: str) -> None:
        outcome, self._awaiting_shift = self._awaiting_shift, None
        if outcome is None:
            return
        self._over()
        self._panel.hide_change_preview()
        self.tender_focus_wanted.emit()
        self._banner.show_message(message, "error")
        self.sale_refused.emit(outcome)

    def on_sell_task_failed(self, exc: BaseException) -> None:
        from pos_app.client import NotSignedIn, TerminalError

        self._over()
        self._panel.hide_change_preview()
        if isinstance(exc, NotSignedIn):
            self.charge_failed.emit(exc)
            self.session_expired.emit()
            return
        if isinstance(exc, TerminalError | ValueError):  # raised before anything was journaled
            self._banner.show_message(NOT_SOLD.format(error=exc), "error")
        else:
            self._banner.show_message(UNKNOWN_FAILURE.format(error=exc), "warning")
        self.charge_failed.emit(exc)

    # --- confirmed, or settled by Retry / Abandon ---------------------------------------------

    def confirmed(self, outcome: SaleOutcomeLike, sale: Sale) -> None:
        """Show confirmed ``sale``: drawer, change due, basket emptied, receipt printed."""
        if self._checkout is not None and self.hold is not None:
            self._checkout.converted()  # the hold is the sale now: nothing to release
        self.hold = None
        self._sale_printer.kick_drawer()  # first: the drawer opens before the receipt prints
        self._sale_printer.forget()
        self._basket.clear()
        self._panel.set_tendered(None)
        self._result_card.show_sale(sale)
        change = sale.payment.change or 0
        self.announced.emit(f"Sale {sale.number} confirmed. Change due "
                        f"{format_money(change, sale.currency)}.")
        self._result_card.new_sale_button.setFocus(Qt.FocusReason.OtherFocusReason)
        event = self._event
        self.sale_confirmed.emit(outcome)
        if event is not None and event.id == sale.event_id:
            self._receipt.sale_confirmed(sale, event)
        else:
            self._result_card.set_receipt_status("Receipt unavailable: event not loaded",
                                                  failed=True)
        self.events_stale.emit()

    def on_unknown_sale_settled(self, outcome: SaleOutcomeLike) -> None:
        """Retry or Abandon settled the unknown sale: unlock the basket and show how."""
        self._basket.set_locked(False)
        self.update_block()
        state = state_name(outcome)
        if state == "confirmed" and outcome.sale is not None:
            self.confirmed(outcome, outcome.sale)
        else:
            self._banner.show_message(
                outcome.message if state == "refused" else
                "The sale was abandoned: nothing was sold. The basket is still here.", "info")
            self.events_stale.emit()
        self.sale_settled.emit(outcome)
