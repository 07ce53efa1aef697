"""Cash holds from the sell screen: "Hold for cash" on the basket, and the way to the hold desk.

"Hold for cash" (Ctrl+H) asks for the customer (:class:`~pos_app.gui.holds.hold_dialog.
HoldForCashDialog`), then :func:`~pos_app.gui.holds.hold_placement.place_cash_hold` places a 4-hour
cash hold of the basket on the journal thread and prints the hold slip on a worker. The basket
is locked meanwhile; it empties only when the journal settled the hold ``confirmed``, and
stays as it was, with the server's reason in the banner, when the hold was refused. "Holds"
(Ctrl+L) in the header opens the hold desk (:mod:`pos_app.gui.holds.hold_desk`).

An expired cash hold cannot be paid; the desk's "Sell these tickets again" (Ctrl+S) comes
here (:meth:`CashHoldFlow.sell_again`): the counts are re-read, then the hold's lines go into
the basket as far as tickets are left, which the basket's checkout hold then reserves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QPushButton, QWidget

from pos_app.gui.core.banner import MessageBanner
from pos_app.gui.core.widgets import named
from pos_app.gui.holds.hold_dialog import HoldForCashDialog
from pos_app.gui.holds.hold_placement import place_cash_hold, printed_sentence
from pos_app.gui.sell.basket_model import BasketFull, BasketModel, WrongEvent
from pos_app.gui.sell.basket_panel import BasketPanel
from pos_app.gui.sell.checkout_hold import CheckoutHold
from pos_app.gui.sell.event_list import EventList, EventListModel

if TYPE_CHECKING:
    from pos_app.api.schemas import Customer, Hold
    from pos_app.gui.core.ports import HoldDeskPort, HoldOutcomeLike
    from pos_app.gui.core.task_runner import TaskRunner
    from pos_app.gui.printing.printing import ReceiptPrinter

__all__ = ["CashHoldFlow"]


class CashHoldFlow(QObject):
    """"Hold for cash" and "Holds" for the sell ``screen``, as a presenter: it makes the two
    buttons (:attr:`hold_button` for the basket panel, :attr:`holds_button` for the header;
    whoever builds the window puts them there) and the Ctrl+H / Ctrl+L shortcuts on
    ``screen``, drives the views it is given (``basket``, its ``panel``, ``banner``,
    ``event_list`` and its ``events_model``, the basket's ``checkout`` hold, ``None``
    without one), reads whether a charge is in flight through ``charging``, and tells the
    screen the rest by its signals.
    Connect the screen's ``events_loaded`` / ``events_failed`` to :meth:`on_events_loaded` /
    :meth:`on_events_failed` (an expired hold is sold again once fresh counts are read).

    Signals:
        hold_placed(object): a cash hold was confirmed (``HoldOutcome`` with ``hold``).
        holds_requested(): the cashier asked for the hold desk ("Holds", Ctrl+L).
        events_stale(): re-read the events and counts.
        tender_focus_wanted(): the cashier types next in the tender field.
        announced(str): say this to a screen reader.
    """

    hold_placed = Signal(object)
    holds_requested = Signal()
    events_stale = Signal()
    tender_focus_wanted = Signal()
    announced = Signal(str)

    def __init__(self, register: HoldDeskPort, runner: TaskRunner, printer: ReceiptPrinter, *,
                 screen: QWidget, basket: BasketModel, panel: BasketPanel, banner: MessageBanner,
                 events_model: EventListModel, event_list: EventList,
                 checkout: CheckoutHold | None, charging: Callable[[], bool]) -> None:
        super().__init__(screen)
        self._screen = screen
        self._basket = basket
        self._panel = panel
        self._banner = banner
        self._events_model = events_model
        self._event_list = event_list
        self._checkout = checkout
        self._charging = charging
        self._selling_again: Hold | None = None  # waiting for fresh counts to sell it again
        self._register = register
        self._runner = runner
        self._printer = printer
        self.dialog: HoldForCashDialog | None = None
        self.placing = False
        self._replacing: Hold | None = None
        self.message = ""
        self.hold_button = named(QPushButton("Hold for cash"), "holdButton")
        self.hold_button.setAccessibleName("Hold the basket for a customer paying cash later")
        self.hold_button.setToolTip("Ctrl+H: keep these tickets 4 hours for a named customer")
        self.hold_button.setAutoDefault(False)
        self.holds_button = named(QPushButton("Holds"), "headerButton")
        self.holds_button.setAccessibleName("Open the hold desk")
        self.holds_button.setToolTip("Ctrl+L")
        self.holds_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        for sequence, slot in (("Ctrl+H", self.start), ("Ctrl+L", self.holds_requested.emit)):
            shortcut = QShortcut(QKeySequence(sequence), screen)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        self.hold_button.clicked.connect(self.start)
        self.holds_button.clicked.connect(self.holds_requested)
        for signal in (basket.total_changed, basket.locked_changed):
            signal.connect(self._refresh)
        self._refresh()

    def sell_again(self, hold: Hold) -> None:
        """Put expired ``hold``'s tickets in the (empty) basket, once fresh counts are read;
        says in the banner what could not be added."""
        if not self._basket.is_empty() or self._basket.locked:
            self._banner.show_message("Charge or clear the basket first, then sell the "
                                      f"tickets of hold {hold.code} again.", "info")
            return
        # One read, then done: a failed read must not leave a fill waiting for the next
        # periodic refresh, which would drop the tickets in the basket out of the blue.
        self._selling_again = hold
        self.events_stale.emit()

    def on_events_loaded(self, _response: object) -> None:
        hold, self._selling_again = self._selling_again, None
        if hold is not None:
            self._fill_basket(hold)

    def on_events_failed(self, exc: object) -> None:
        hold, self._selling_again = self._selling_again, None
        if hold is not None:
            self._banner.show_message(f"Could not read the counts to sell hold {hold.code} "
                                      f"again ({exc}); try again.", "error")

    def _fill_basket(self, hold: Hold) -> None:
        event = next((e for e in self._events_model.events if e.id == hold.event_id), None)
        if event is None:
            self._banner.show_message(f"The event of hold {hold.code} is no longer on sale.",
                                       "error")
            return
        self._event_list.select_event(event.id)
        types = {t.id: t for t in event.ticket_types}
        short = []
        for line in hold.lines:
            ticket_type = types.get(line.ticket_type_id)
            added = 0
            try:
                while ticket_type is not None and added < line.quantity:
                    self._basket.add(ticket_type)
                    added += 1
            except (BasketFull, WrongEvent):
                pass
            if added < line.quantity:
                short.append(f"{line.name}: {added} of {line.quantity}")
        if short:
            text = (f"Not all of hold {hold.code}'s tickets are left: {'; '.join(short)}. "
                    "The basket has what could be added.")
            self._banner.show_message(text, "error")
        else:
            text = (f"Hold {hold.code}'s tickets are in the basket again: take the cash.")
            self._banner.show_message(text, "info")
        self.announced.emit(text)
        self.tender_focus_wanted.emit()

    def _refresh(self, *_args: object) -> None:
        basket = self._basket
        self.hold_button.setEnabled(not basket.is_empty() and not basket.locked
                                    and not self.placing)

    def start(self) -> None:
        """Ask for the customer, then hold the basket (nothing happens on an empty, locked
        or charging basket)."""
        basket = self._basket
        if basket.is_empty() or basket.locked or self._charging() or self.placing:
            return
        dialog = HoldForCashDialog(list(basket.lines), basket.currency or "USD", self._screen)
        dialog.accepted.connect(self.on_dialog_accepted)
        dialog.finished.connect(dialog.deleteLater)
        self.dialog = dialog
        dialog.open()

    def on_dialog_accepted(self) -> None:
        dialog = self.dialog
        self.dialog = None
        customer = dialog.customer() if dialog is not None else None
        if customer is None or self._basket.is_empty() or self._basket.locked:
            return
        self.placing = True
        self._basket.set_locked(True)
        self._banner.show_message(f"Holding the tickets for {customer.name}…", "info")
        if self._checkout is None:
            self._place(customer, None)
        else:  # the basket's own checkout hold becomes the cash hold, never let go between
            self._checkout.when_settled(lambda hold, _short: self._place(customer, hold))

    def _place(self, customer: Customer, checkout: Hold | None) -> None:
        self._replacing = checkout
        placement = place_cash_hold(self._register, self._runner, self._printer,
                                    self._basket.sale_lines(), customer,
                                    replaces=checkout.id if checkout is not None else None,
                                    parent=self)
        placement.placed.connect(self.on_placement_placed)
        placement.refused.connect(self.on_placement_refused)
        placement.failed.connect(self.on_placement_failed)
        placement.slip_delivered.connect(self.on_placement_slip_delivered)
        placement.slip_failed.connect(self.on_placement_slip_failed)

    def _done(self) -> None:
        self.placing = False
        self._basket.set_locked(False)
        self._refresh()

    def on_placement_placed(self, outcome: HoldOutcomeLike) -> None:
        hold = outcome.hold
        assert hold is not None
        self._done()
        if self._checkout is not None and self._replacing is not None:
            self._checkout.converted()  # released by the server as the cash hold was placed
        self._basket.clear()
        self._panel.set_tendered(None)
        event = next((e for e in self._events_model.events if e.id == hold.event_id), None)
        until = hold.expires_at.astimezone(ZoneInfo(event.timezone) if event else None)
        who = hold.customer.name if hold.customer is not None else "the customer"
        self.message = (f"Held for {who}: code {hold.code}, until {until:%H:%M}. "
                        "Printing the hold slip…")
        self._banner.show_message(self.message, "info")
        self.announced.emit(f"Hold {' '.join(hold.code)} placed for {who}.")
        self.hold_placed.emit(outcome)

    def on_placement_refused(self, outcome: HoldOutcomeLike) -> None:
        self._done()
        self._banner.show_message(f"Not held: {outcome.message}", "error")
        self.announced.emit(f"Not held. {outcome.message}")

    def on_placement_failed(self, exc: BaseException) -> None:
        self._done()
        self._banner.show_message(f"Not held: {exc}", "error")

    def on_placement_slip_delivered(self, where: str) -> None:
        self._banner.show_message(
            self.message.replace("Printing the hold slip…", printed_sentence("Slip", where)),
            "info")

    def on_placement_slip_failed(self, exc: BaseException) -> None:
        self._banner.show_message(
            self.message.replace("Printing the hold slip…",
                                 f"The slip did not print ({exc}); reprint it from Holds."),
            "warning")
