"""The sell screen: events on the left, ticket tiles in the centre, basket and Charge on the
right, a header with the cashier and Sign out.

The screen never decides that something was sold. Charge hands the basket to
``register.sell`` on the :class:`TaskRunner`'s journal thread; what the cashier sees next
comes only from the journal-settled ``SaleOutcome`` it returns (``shared/DESIGN.md``):

- ``confirmed``: change due (from the sale's payment record) and the notes to hand back,
  the sale number, a receipt rendered and printed on a worker; the basket empties and the
  counts are re-read.
- ``refused``: the outcome's message in a red banner; the basket stays exactly as it was.
  Refused with ``shift_not_open`` (no shift at this terminal): the opening-float dialog of
  :mod:`pos_app.gui.shift_dialog`; once the shift is open the same basket is sold again as a
  new journal entry (the refused one is final). Cancelled: the red banner.
- ``unknown``: the message in an amber banner; no change, no receipt, the basket stays.

With a register that holds (``hold``, ``release_hold``, ``pay_hold``), the basket keeps a
checkout hold on the server (:mod:`pos_app.gui.checkout_hold`): Charge waits for it to follow
the basket, then pays it (``register.pay_hold``), or sells the lines when there is no usable
hold. A payment refused because the hold expired keeps the basket and says so.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from pos_app.api.schemas import Event, EventsResponse, Hold, Sale, SessionResponse, TicketType
from pos_app.domain.money import format_money
from pos_app.gui.basket_model import BasketFull, BasketModel, WrongEvent
from pos_app.gui.basket_panel import BasketPanel
from pos_app.gui.checkout_hold import CheckoutHold, HoldStrip
from pos_app.gui.event_list import EventList, EventListModel
from pos_app.gui.header import HeaderBar
from pos_app.gui.live_inventory import LiveInventory
from pos_app.gui.ports import RegisterPort, SaleOutcomeLike
from pos_app.gui.printing import ReceiptPrinter
from pos_app.gui.sale_printer import SalePrinter
from pos_app.gui.sale_result import MessageBanner, SaleResultCard
from pos_app.gui.sell_keys import SellKeys
from pos_app.gui.shift_dialog import ShiftController
from pos_app.gui.task_runner import Task, TaskRunner
from pos_app.gui.ticket_tiles import TicketTileGrid
from pos_app.gui.widgets import announce, named

__all__ = ["SellScreen", "deliver_receipt"]

UNKNOWN_FAILURE = ("The sale did not complete normally ({error}). Do not hand over tickets or "
                   "change until a manager has checked the sale.")
NOT_SOLD = "Nothing was sold: {error}"
OUTAGE = "Server unreachable - no sales until the connection is back"
STALE_AFTER_S = 30.0
RECEIPT_DELAY_MS = 50
UNSETTLED_TIP = "The last sale's outcome is unknown: Retry or Abandon it first."
NO_ABANDON_TIP = "Abandon is not available in this version: Retry, or ask a manager."


def deliver_receipt(register: RegisterPort, printer: ReceiptPrinter, sale: Sale, event: Event, *,
                    staff_name: str, terminal_name: str, reprint: bool = False) -> str:
    """Save ``sale``'s receipt (and tickets) as a PDF in the receipts folder and print them
    on the configured printer (:meth:`ReceiptPrinter.deliver_sale`). Runs on a worker.

    Returns the printer's sentence ("Printed on ..." or "Saved to <path>"); raises
    :class:`~pos_app.gui.printing.PrintFailed` (the PDF is saved) and ``OSError``.
    """
    return printer.deliver_sale(register, sale, event, reprint=reprint, staff_name=staff_name,
                                terminal_name=terminal_name)


class SellScreen(QWidget):
    """Ring up tickets and take cash.

    Signals:
        events_loaded(object): a fresh ``EventsResponse`` was shown.
        events_failed(object): reading the events raised this exception.
        charge_started(): a basket was handed to ``register.sell``.
        sale_confirmed(object): the journal settled the sale as confirmed (``SaleOutcome``).
        sale_refused(object): the server refused the sale (``SaleOutcome``); nothing changed.
        sale_unknown(object): the journal holds the sale as ``unknown`` (or ``voided``):
            it may or may not have happened (``SaleOutcome``).
        charge_failed(object): ``register.sell`` raised this exception instead of settling
            an outcome (not signed in, or a local fault); nothing is shown as sold.
        receipt_delivered(str): the receipt was printed or saved; carries the sentence.
        receipt_failed(object): rendering or printing the receipt raised this exception.
        sign_out_requested(): the cashier pressed Sign out.
        session_expired(): the server no longer accepts the session (sign in again; the
            basket is kept).
        connection_changed(bool): ``False`` when the server became unreachable (outage
            banner, Charge disabled), ``True`` when it answers again.
        inventory_applied(object): live ticket-type updates were shown (``list[TicketType]``).
        sale_settled(object): an unknown sale was settled by Retry or Abandon (outcome).
    """

    events_loaded = Signal(object)
    events_failed = Signal(object)
    charge_started = Signal()
    sale_confirmed = Signal(object)
    sale_refused = Signal(object)
    sale_unknown = Signal(object)
    charge_failed = Signal(object)
    receipt_delivered = Signal(str)
    receipt_failed = Signal(object)
    sign_out_requested = Signal()
    session_expired = Signal()
    connection_changed = Signal(bool)
    inventory_applied = Signal(object)
    sale_settled = Signal(object)

    def __init__(self, register: RegisterPort, runner: TaskRunner, printer: ReceiptPrinter,
                 parent: QWidget | None = None, *, refresh_interval_ms: int = 15_000,
                 live: LiveInventory | None = None, checkout_holds: bool = True) -> None:
        super().__init__(parent)
        self.setObjectName("sellScreen")
        self._register = register
        self._runner = runner
        self._printer = printer
        self._session: SessionResponse | None = None
        self._terminal_name = ""
        self._sell_task: Task | None = None
        self._events_task: Task | None = None
        self._refresh_again = False
        self._charge_event: Event | None = None
        self._last_sale: tuple[Sale, Event] | None = None
        self._charge_tendered = 0
        self._awaiting_hold = False  # Charge waits for the checkout hold to follow the basket
        self._charge_hold: Hold | None = None  # the hold this charge pays, if any
        # A charge refused with shift_not_open, waiting for the float dialog (its outcome).
        self._awaiting_shift: SaleOutcomeLike | None = None
        self._shift_retried = False
        self._unreachable = False
        self._fresh_at = time.monotonic()
        self.stale = False
        # The key of an ``unknown`` sale from this basket: Charge waits for Retry / Abandon.
        self.unsettled_key: str | None = None
        self._settle_task: Task | None = None
        self.live = live

        self.basket = BasketModel(self)
        self.header = HeaderBar()
        self.banner = MessageBanner()
        self.outage_banner = named(MessageBanner(), "outageBanner")
        self.outage_banner.close_button.hide()
        self.unknown_card = named(QFrame(), "unknownSaleCard")
        self.unknown_label = named(QLabel(), "unknownSaleText")
        self.unknown_label.setWordWrap(True)
        self.retry_button = named(QPushButton("Retry"), "primaryButton")
        self.retry_button.setAccessibleName("Retry the unknown sale")
        self.abandon_button = named(QPushButton("Abandon"), "secondaryButton")
        self.abandon_button.setAccessibleName("Abandon the unknown sale")
        unknown_layout = QHBoxLayout(self.unknown_card)
        unknown_layout.setContentsMargins(20, 12, 20, 12)
        unknown_layout.addWidget(self.unknown_label, 1)
        unknown_layout.addWidget(self.retry_button)
        unknown_layout.addWidget(self.abandon_button)
        self.unknown_card.hide()
        self.events_model = EventListModel(self)
        self.event_list = EventList(self.events_model)
        self.event_list.setFixedWidth(272)
        self.tiles = TicketTileGrid(self.basket)
        self.result_card = SaleResultCard()
        self.panel = BasketPanel(self.basket)
        self.panel.setFixedWidth(380)

        centre = QVBoxLayout()
        centre.setSpacing(16)
        centre.addWidget(self.tiles, 1)
        centre.addWidget(self.result_card)
        body = QHBoxLayout()
        body.setContentsMargins(20, 16, 20, 20)
        body.setSpacing(20)
        body.addWidget(self.event_list)
        body.addLayout(centre, 1)
        body.addWidget(self.panel)
        content = named(QFrame(), "sellBody")
        content_layout = QVBoxLayout(content)
        content_layout.setContentsMargins(0, 0, 0, 0)
        content_layout.setSpacing(0)
        content_layout.addWidget(self.outage_banner)
        content_layout.addWidget(self.banner)
        content_layout.addWidget(self.unknown_card)
        content_layout.addLayout(body, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.header)
        layout.addWidget(content, 1)

        self.setTabOrder(self.event_list, self.tiles)
        self.setTabOrder(self.tiles, self.panel.table)
        self.setTabOrder(self.panel.table, self.panel.tendered_edit)
        self.setTabOrder(self.panel.tendered_edit, self.panel.charge_button)

        self.header.sign_out_clicked.connect(self.on_header_sign_out_clicked)
        self.event_list.event_selected.connect(self.on_event_list_event_selected)
        self.tiles.ticket_type_chosen.connect(self.on_tiles_ticket_type_chosen)
        self.panel.charge_requested.connect(self.on_panel_charge_requested)
        self.panel.basket_edited.connect(self.on_panel_basket_edited)
        self.result_card.reprint_requested.connect(self.on_result_card_reprint_requested)
        self.shifts = ShiftController(register, runner, self)
        self.shifts.install(self.header, before=self.header.sign_out_button)
        self.shifts.shift_opened.connect(self.on_shifts_shift_opened)
        self.shifts.shift_open_abandoned.connect(self.on_shifts_shift_open_abandoned)
        self.keys = SellKeys(self)
        self.sale_printer = SalePrinter(printer, runner, self)
        self.sale_printer.drawer_failed.connect(self.on_sale_printer_drawer_failed)
        self.checkout: CheckoutHold | None = None
        if checkout_holds and all(callable(getattr(register, name, None))
                                  for name in ("hold", "release_hold", "pay_hold")):
            self.checkout = CheckoutHold(register, runner, self.basket, self)  # type: ignore[arg-type]
            self.hold_strip = HoldStrip(self.checkout)
            self.panel.add_status_widget(self.hold_strip)
            self.checkout.notice.connect(self.on_checkout_notice)
        self.sale_confirmed.connect(self.shifts.on_sale_confirmed)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setInterval(refresh_interval_ms)
        self._refresh_timer.timeout.connect(self.refresh_events)
        # While unreachable: look again every few seconds so the banner clears by itself.
        self._probe_timer = QTimer(self)
        self._probe_timer.setInterval(3_000)
        self._probe_timer.timeout.connect(self.refresh_events)
        self._stale_timer = QTimer(self)
        self._stale_timer.setInterval(1_000)
        self._stale_timer.timeout.connect(self.check_stale)
        self.retry_button.clicked.connect(self.on_retry_button_clicked)
        self.abandon_button.clicked.connect(self.on_abandon_button_clicked)
        if live is not None:
            live.inventory_changed.connect(self.on_live_inventory_changed)
            live.connection_changed.connect(self.on_live_connection_changed)

    # --- state ------------------------------------------------------------------------------

    @property
    def charging(self) -> bool:
        """``True`` while a sale is with the register."""
        return (self._sell_task is not None or self._awaiting_shift is not None
                or self._awaiting_hold)

    @property
    def current_event(self) -> Event | None:
        return self.tiles.shown_event

    def set_session(self, session: SessionResponse, terminal_name: str | None = None) -> None:
        """Start selling as ``session``'s staff member: header, events, periodic refresh."""
        self._session = session
        self._terminal_name = terminal_name or session.terminal.name
        self.header.set_who(session.staff.display_name, session.staff.role)
        self._update_where()
        self.refresh_events()
        self.shifts.refresh()
        if self._refresh_timer.interval() > 0:
            self._refresh_timer.start()
        self._stale_timer.start()

    def suspend_session(self) -> None:
        """The session expired: stop reading, keep the basket (and any unknown sale) for
        the next sign-in."""
        self._refresh_timer.stop()
        self._probe_timer.stop()
        self._stale_timer.stop()
        if self.live is not None:
            self.live.stop()
        self.shifts.reset()
        self._session = None

    def end_session(self) -> None:
        """Forget the cashier: empty basket, no messages, no timer."""
        self.suspend_session()
        self.shifts.reset()
        self._session = None
        if not self.basket.locked:
            self.basket.clear()
        self.panel.set_tendered(None)
        self.banner.clear()
        self.result_card.clear()
        self._last_sale = None

    # --- events -----------------------------------------------------------------------------

    def refresh_events(self) -> None:
        """Re-read events and counts on a worker (coalesced while one read is running)."""
        if self._events_task is not None:
            self._refresh_again = True
            return
        self._events_task = self._runner.read(self._register.events)
        self._events_task.finished.connect(self.on_events_task_finished)
        self._events_task.failed.connect(self.on_events_task_failed)

    def on_events_task_finished(self, response: EventsResponse) -> None:
        self._events_task = None
        self._fresh_at = time.monotonic()
        self.set_unreachable(False)
        if self.live is not None and self._session is not None:
            self.live.start(response.inventory_version)
        self.check_stale()
        current = self.current_event.id if self.current_event else None
        self.events_model.set_events(response.events)
        wanted = current or self.basket.event_id
        if wanted is None and response.events:
            wanted = response.events[0].id
        fresh = next((e for e in response.events if e.id == wanted), None)
        if fresh is not None:
            if self.event_list.currentIndex().row() != self.events_model.row_of(fresh.id):
                self.event_list.select_event(fresh.id)
            self.tiles.show_event(fresh)
        for event in response.events:
            self.basket.update_availability(event.ticket_types)
        self._update_where()
        self.events_loaded.emit(response)
        self._after_events_read()

    def on_events_task_failed(self, exc: BaseException) -> None:
        from pos_app.client import NotSignedIn, ServerUnreachable, Unauthorized

        self._events_task = None
        if isinstance(exc, Unauthorized | NotSignedIn) and not self.charging:
            self._refresh_timer.stop()
            self.session_expired.emit()
        elif isinstance(exc, ServerUnreachable):
            self.set_unreachable(True)
        else:
            self.banner.show_message(f"Could not load events: {exc}", "warning")
        self.events_failed.emit(exc)
        self._after_events_read()

    def _after_events_read(self) -> None:
        if self._refresh_again:
            self._refresh_again = False
            self.refresh_events()

    def on_event_list_event_selected(self, event: Event) -> None:
        self.tiles.show_event(event)
        self._update_where()

    def _update_where(self) -> None:
        event = self.current_event
        self.header.set_where(self._terminal_name, event.venue if event else None)

    # --- basket -----------------------------------------------------------------------------

    def add_tile_at(self, position: int) -> None:
        """F1..F12: add one ticket of the tile at ``position`` (0-based), as a tap would."""
        tile = self.tiles.tile_at(position)
        if tile is None:
            return
        if not tile.isEnabled():
            self.announce(f"{tile.ticket_type.name} cannot be added now.")
            return
        self.tiles.on_tile_clicked(tile)

    def announce(self, text: str) -> None:
        """Tell a screen reader ``text`` (sale and payment state changes)."""
        announce(self, text)

    def on_tiles_ticket_type_chosen(self, ticket_type: TicketType) -> None:
        if self.charging:
            return
        try:
            self.basket.add(ticket_type)
        except (BasketFull, WrongEvent) as exc:
            self.banner.show_message(str(exc), "info")
            return
        self._start_new_sale()
        self.focus_tender()  # a tap on a tile must not leave digits and Enter on the tile
        self.announce(f"{ticket_type.name} added: {self.basket.quantity_of(ticket_type.id)} "
                      f"in basket, total {format_money(self.basket.total, ticket_type.currency)}")

    def on_panel_basket_edited(self) -> None:
        self._start_new_sale()

    def _start_new_sale(self) -> None:
        """The cashier moved on: the last result and messages no longer apply."""
        if self.result_card.isVisible():
            self.result_card.clear()
        if self.banner.isVisible() and self.banner.kind != "warning":
            self.banner.clear()

    # --- charge -----------------------------------------------------------------------------

    def on_panel_charge_requested(self, tendered: int) -> None:
        if self.charging or self.basket.is_empty():
            return  # a second press while the first is in flight does nothing
        if self._unreachable or self.unsettled_key is not None:
            return  # nothing is queued to be sold later; an unknown sale blocks this basket
        basket_key = hash((self.basket.event_id, tuple(self.basket.quantities().items())))
        if not self.sale_printer.check_before_charge(
                basket_key, lambda: self.on_panel_charge_requested(tendered)):
            return  # the cashier is asked first: the printer would not print the receipt
        event_id = self.basket.event_id
        self._charge_event = next(
            (e for e in self.events_model.events if e.id == event_id), self.current_event)
        self.banner.clear()
        self.result_card.clear()
        self.basket.set_locked(True)
        self.panel.set_charging(True)
        self._charge_tendered = tendered
        self._shift_retried = False
        self._send_charge()
        self.announce("Charging " + format_money(self.basket.total, self.basket.currency or "USD"))
        self.charge_started.emit()

    def _send_charge(self) -> None:
        """Hand the locked basket to the register: pay its checkout hold once that follows
        the basket, or sell its lines."""
        self._charge_hold = None
        if self.checkout is None:
            self._submit_charge(None)
            return
        self._awaiting_hold = True
        self.checkout.when_settled(self._submit_charge)

    def _submit_charge(self, hold: Hold | None, shortage: object = None) -> None:
        self._awaiting_hold = False
        self._charge_hold = hold
        if shortage is not None:
            # The server, just asked, cannot hold these lines even with the basket's own
            # tickets: a sale of them is refused alike, so none is sent.
            self.on_sell_task_finished(shortage)  # type: ignore[arg-type]
            return
        if hold is not None:
            self._sell_task = self._runner.write(self._register.pay_hold,  # type: ignore[attr-defined]
                                                 hold.id, self._charge_tendered)
        else:
            self._sell_task = self._runner.write(self._register.sell, self.basket.sale_lines(),
                                                 self._charge_tendered)
        self._sell_task.finished.connect(self.on_sell_task_finished)
        self._sell_task.failed.connect(self.on_sell_task_failed)

    def on_sale_printer_drawer_failed(self, exc: BaseException) -> None:
        self.banner.show_message(f"{exc}. Open the drawer with its key.", "warning")

    def on_checkout_notice(self, message: str, kind: str) -> None:
        self.banner.show_message(message, kind)
        self.announce(message)

    def _charge_over(self) -> None:
        self._sell_task = None
        self.basket.set_locked(False)
        self.panel.set_charging(False)

    def on_sell_task_finished(self, outcome: SaleOutcomeLike) -> None:
        if self._ask_for_shift(outcome):
            return  # the basket stays locked while the float dialog is up
        self._charge_over()
        state = str(getattr(outcome.state, "value", outcome.state))
        if state == "confirmed" and outcome.sale is not None:
            self._on_confirmed(outcome, outcome.sale)
        elif state == "refused":
            self.panel.hide_change_preview()
            self.focus_tender()
            code = outcome.error.error if outcome.error is not None else None
            if code == "offline":
                self.set_unreachable(True)
            if code in ("hold_expired", "hold_not_active") and self.checkout is not None \
                    and self._charge_hold is not None:
                self.checkout.lapsed(outcome.message)
            self.banner.show_message(outcome.message, "error")
            self.announce(f"Not sold. {outcome.message}")
            self.sale_refused.emit(outcome)
            if code == "unauthorized":
                self.session_expired.emit()
                return
            self.refresh_events()
        else:
            self.panel.hide_change_preview()
            self.focus_tender()
            self.banner.show_message(outcome.message, "warning")
            self.announce(f"Sale outcome unknown. {outcome.message}")
            self.show_unknown(outcome)
            self.sale_unknown.emit(outcome)

    # --- shift needed (see pos_app.gui.shift_dialog) --------------------------------------

    def _ask_for_shift(self, outcome: SaleOutcomeLike) -> bool:
        """On a first ``shift_not_open`` refusal, ask for the float (True: asked)."""
        refused = str(getattr(outcome.state, "value", outcome.state)) == "refused"
        if not refused or outcome.error is None or outcome.error.error != "shift_not_open" \
                or self._shift_retried:
            return False
        currency = self._charge_event.currency if self._charge_event else "USD"
        self._sell_task = None
        self._awaiting_shift = outcome
        if not self.shifts.request_open(currency):
            self._awaiting_shift = None
            return False
        return True

    def on_shifts_shift_opened(self, _outcome: object) -> None:
        if self._awaiting_shift is None:
            return
        self._awaiting_shift = None
        self._shift_retried = True  # the refused entry is final: a new entry, a new key
        self._send_charge()

    def on_shifts_shift_open_abandoned(self, message: str) -> None:
        outcome, self._awaiting_shift = self._awaiting_shift, None
        if outcome is None:
            return
        self._charge_over()
        self.panel.hide_change_preview()
        self.focus_tender()
        self.banner.show_message(message, "error")
        self.sale_refused.emit(outcome)

    def on_sell_task_failed(self, exc: BaseException) -> None:
        from pos_app.client import NotSignedIn, TerminalError

        self._charge_over()
        self.panel.hide_change_preview()
        if isinstance(exc, NotSignedIn):
            self.charge_failed.emit(exc)
            self.session_expired.emit()
            return
        if isinstance(exc, TerminalError | ValueError):  # raised before anything was journaled
            self.banner.show_message(NOT_SOLD.format(error=exc), "error")
        else:
            self.banner.show_message(UNKNOWN_FAILURE.format(error=exc), "warning")
        self.charge_failed.emit(exc)

    def _on_confirmed(self, outcome: SaleOutcomeLike, sale: Sale) -> None:
        if self.checkout is not None and self._charge_hold is not None:
            self.checkout.converted()  # the hold is the sale now: nothing to release
        self._charge_hold = None
        self.sale_printer.kick_drawer()  # first: the drawer opens before the receipt prints
        self.sale_printer.forget()
        self.basket.clear()
        self.panel.set_tendered(None)
        self.result_card.show_sale(sale)
        change = sale.payment.change or 0
        self.announce(f"Sale {sale.number} confirmed. Change due "
                      f"{format_money(change, sale.currency)}.")
        self.result_card.new_sale_button.setFocus(Qt.FocusReason.OtherFocusReason)
        event = self._charge_event
        self.sale_confirmed.emit(outcome)
        if event is not None and event.id == sale.event_id:
            self._last_sale = (sale, event)
            # After the change due has been painted: the receipt's worker start-up (render
            # imports, GIL) must not delay what the cashier reads first.
            QTimer.singleShot(RECEIPT_DELAY_MS, self,  # dropped if the screen goes first
                              lambda s=sale: self._render_first_receipt(s))
        else:
            self.result_card.set_receipt_status("Receipt unavailable: event not loaded",
                                                failed=True)
        self.refresh_events()

    # --- receipts ---------------------------------------------------------------------------

    def _render_first_receipt(self, sale: Sale) -> None:
        if self._last_sale is not None and self._last_sale[0] is sale:
            self._render_receipt(reprint=False)

    def on_result_card_reprint_requested(self) -> None:
        if self._last_sale is not None:
            self._render_receipt(reprint=True)

    def _render_receipt(self, *, reprint: bool) -> None:
        assert self._last_sale is not None
        sale, event = self._last_sale
        staff = self._session.staff.display_name if self._session else ""
        self.result_card.set_receipt_status(
            "Printing reprint…" if reprint else "Printing receipt…", busy=True)
        task = self._runner.read(deliver_receipt, self._register, self._printer, sale, event,
                                 staff_name=staff, terminal_name=self._terminal_name,
                                 reprint=reprint)
        task.finished.connect(self.on_receipt_task_finished)
        task.failed.connect(self.on_receipt_task_failed)

    def on_receipt_task_finished(self, where: str) -> None:
        if where.startswith("Saved to "):  # the folder is long; its file name is what matters
            shown = f"Receipt saved as {Path(where.removeprefix('Saved to ')).name}"
        else:
            shown = f"Receipt: {where}"
        self.result_card.set_receipt_status(shown)
        self.result_card.receipt_label.setToolTip(where)
        self.receipt_delivered.emit(where)

    def on_receipt_task_failed(self, exc: BaseException) -> None:
        self.result_card.set_receipt_status(f"Receipt failed: {exc}. Press Reprint to retry.",
                                            failed=True)
        self.receipt_failed.emit(exc)

    # --- header -----------------------------------------------------------------------------

    def on_header_sign_out_clicked(self) -> None:
        if not self.charging:
            if not self.basket.locked:
                # Signing out empties the basket anyway: empty it first, so its checkout hold
                # is released (on the journal thread) before the session ends.
                self.basket.clear()
            self.sign_out_requested.emit()

    def focus_tender(self) -> None:
        """Put the keyboard in the tendered field (where a cashier types)."""
        self.panel.tendered_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    # --- live inventory, staleness, outage ----------------------------------------------------

    def on_live_inventory_changed(self, _version: object, ticket_types: object) -> None:
        """Apply the server's fresh ticket types to the events, tiles and basket."""
        self._fresh_at = time.monotonic()
        self.set_unreachable(False)
        fresh = {t.id: t for t in ticket_types} if isinstance(ticket_types, list) else {}
        if fresh:
            events = []
            for event in self.events_model.events:
                types = [fresh[t.id] if t.id in fresh and fresh[t.id].version >= t.version
                         else t for t in event.ticket_types]
                events.append(event.model_copy(update={"ticket_types": types}))
            self.events_model.set_events(events)
            shown = self.current_event
            if shown is not None:
                updated = next((e for e in events if e.id == shown.id), None)
                if updated is not None:
                    self.tiles.show_event(updated)
            self.basket.update_availability(list(fresh.values()))
        self.check_stale()
        self.inventory_applied.emit(list(fresh.values()))

    def on_live_connection_changed(self, connected: bool) -> None:
        if connected:
            self._fresh_at = time.monotonic()
            self.refresh_events()  # re-read in full; the banner clears when it answers
        else:
            self.set_unreachable(True)

    def check_stale(self) -> None:
        """Mark the tiles stale when the newest counts are older than 30 s."""
        live_up = self.live is not None and self.live.connected is True
        if live_up and not self._unreachable:
            self._fresh_at = time.monotonic()
        stale = time.monotonic() - self._fresh_at > STALE_AFTER_S
        if stale != self.stale:
            self.stale = stale
            self.tiles.set_stale(stale)

    def set_unreachable(self, unreachable: bool) -> None:
        """Show or clear the outage banner; Charge is disabled while it shows."""
        if unreachable == self._unreachable:
            return
        self._unreachable = unreachable
        if unreachable:
            self.outage_banner.show_message(OUTAGE, "error")
            self._probe_timer.start()
        else:
            self.outage_banner.clear()
            self._probe_timer.stop()
        self._update_charge_block()
        self.connection_changed.emit(not unreachable)

    @property
    def unreachable(self) -> bool:
        return self._unreachable

    def _update_charge_block(self) -> None:
        if self.unsettled_key is not None:
            self.panel.set_blocked(UNSETTLED_TIP)
        elif self._unreachable:
            self.panel.set_blocked(OUTAGE)
        else:
            self.panel.set_blocked(None)

    # --- unknown sales: Retry / Abandon -------------------------------------------------------

    def show_unknown(self, outcome: SaleOutcomeLike) -> None:
        """An unknown outcome: Retry and Abandon; this basket cannot be charged again."""
        self.unsettled_key = outcome.key
        self.basket.set_locked(True)
        self.unknown_label.setText(
            "This basket's last sale is unsettled. With the customer still here: Retry sends "
            "the same sale again (it cannot be sold twice). Abandon cancels it for good.")
        self.retry_button.setEnabled(True)
        can_abandon = callable(getattr(self._register, "abandon_sale", None))
        self.abandon_button.setEnabled(can_abandon)
        self.abandon_button.setToolTip("" if can_abandon else NO_ABANDON_TIP)
        self.unknown_card.show()
        self._update_charge_block()

    def on_retry_button_clicked(self) -> None:
        self._settle("retry_sale")

    def on_abandon_button_clicked(self) -> None:
        self._settle("abandon_sale")

    def _settle(self, method: str) -> None:
        key = self.unsettled_key
        action = getattr(self._register, method, None)
        if key is None or self._settle_task is not None or not callable(action):
            return
        self.retry_button.setEnabled(False)
        self.abandon_button.setEnabled(False)
        self.unknown_label.setText("Checking the sale with the server…")
        self._settle_task = self._runner.write(action, key)
        self._settle_task.finished.connect(self.on_settle_task_finished)
        self._settle_task.failed.connect(self.on_settle_task_failed)

    def on_settle_task_finished(self, outcome: SaleOutcomeLike) -> None:
        self._settle_task = None
        state = str(getattr(outcome.state, "value", outcome.state))
        if state in ("pending", "unknown"):
            self.banner.show_message(outcome.message, "warning")
            self.announce(f"Sale outcome unknown. {outcome.message}")
            self.show_unknown(outcome)
            self.sale_unknown.emit(outcome)
            return
        self.unsettled_key = None
        self.unknown_card.hide()
        self.basket.set_locked(False)
        self._update_charge_block()
        if state == "confirmed" and outcome.sale is not None:
            self._on_confirmed(outcome, outcome.sale)
        else:
            self.banner.show_message(
                outcome.message if state == "refused" else
                "The sale was abandoned: nothing was sold. The basket is still here.", "info")
            self.refresh_events()
        self.sale_settled.emit(outcome)

    def on_settle_task_failed(self, exc: BaseException) -> None:
        from pos_app.client import NotSignedIn, Unauthorized

        self._settle_task = None
        key = self.unsettled_key
        self.retry_button.setEnabled(key is not None)
        self.abandon_button.setEnabled(callable(getattr(self._register, "abandon_sale", None)))
        self.unknown_label.setText(f"Still unknown ({exc}). Retry or Abandon.")
        if isinstance(exc, NotSignedIn | Unauthorized):
            self.session_expired.emit()
