"""The sell screen: events on the left, ticket tiles in the centre, basket and Charge on the
right, a header with the cashier and Sign out.

The screen never decides that something was sold: after Charge, what the cashier sees comes
only from the journal-settled ``SaleOutcome`` (``shared/DESIGN.md``). The screen lays out and
wires its parts; helpers it owns do the work, each in its own module:

- ``charge`` (:mod:`pos_app.gui.sell.sell_charge`): Charge, and each outcome shown.
- ``unknown`` (:mod:`pos_app.gui.sell.unknown_sale`): an unknown sale's Retry / Abandon card.
- ``receipt`` (:mod:`pos_app.gui.sell.sale_receipt`): a confirmed sale's receipt, and Reprint.
- ``inventory`` (:mod:`pos_app.gui.sell.sell_inventory`): events and counts kept current, stale
  tiles, the outage banner.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout, QWidget

from pos_app.api.schemas import Event, EventsResponse, Hold, SessionResponse, TicketType
from pos_app.domain.money import format_money
from pos_app.gui.core.banner import MessageBanner
from pos_app.gui.core.live_inventory import LiveInventory
from pos_app.gui.core.ports import RegisterPort, SaleOutcomeLike
from pos_app.gui.core.task_runner import TaskRunner
from pos_app.gui.core.widgets import announce, named
from pos_app.gui.printing.printing import ReceiptPrinter
from pos_app.gui.sell.basket_model import BasketFull, BasketModel, WrongEvent
from pos_app.gui.sell.basket_panel import BasketPanel
from pos_app.gui.sell.checkout_hold import CheckoutHold, HoldStrip
from pos_app.gui.sell.event_list import EventList, EventListModel
from pos_app.gui.sell.header import HeaderBar
from pos_app.gui.sell.sale_printer import SalePrinter
from pos_app.gui.sell.sale_receipt import SaleReceipt
from pos_app.gui.sell.sale_result import SaleResultCard
from pos_app.gui.sell.sell_charge import SaleCharge
from pos_app.gui.sell.sell_inventory import SellInventory
from pos_app.gui.sell.sell_keys import SellKeys
from pos_app.gui.sell.ticket_tiles import TicketTileGrid
from pos_app.gui.sell.unknown_sale import UnknownSale
from pos_app.gui.shifts.shift_dialog import ShiftController

__all__ = ["SellScreen"]


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

        self.basket = BasketModel(self)
        self.header = HeaderBar()
        self.banner = MessageBanner()
        self.events_model = EventListModel(self)
        self.event_list = EventList(self.events_model)
        self.event_list.setFixedWidth(272)
        self.tiles = TicketTileGrid(self.basket)
        self.result_card = SaleResultCard()
        self.panel = BasketPanel(self.basket)
        self.panel.setFixedWidth(380)
        # The helpers (modules named after them): the unknown sale's card, the receipt, the
        # events' freshness with the outage banner; what Charge does comes below.
        self.unknown = UnknownSale(register, runner, self)
        self.unknown_card = self.unknown.card
        self.unknown_label = self.unknown.label
        self.retry_button = self.unknown.retry_button
        self.abandon_button = self.unknown.abandon_button
        self.receipt = SaleReceipt(
            register, runner, printer, self.result_card,
            lambda: (self._session.staff.display_name if self._session else "",
                     self._terminal_name), self)
        self.inventory = SellInventory(register, runner, self.events_model, self.event_list,
                                       self.tiles, self.basket, live=live,
                                       signed_in=lambda: self._session is not None,
                                       refresh_interval_ms=refresh_interval_ms, parent=self)
        self.outage_banner = self.inventory.outage_banner

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
        self.result_card.reprint_requested.connect(self.receipt.reprint)
        self.shifts = ShiftController(register, runner, self, printer=printer)
        self.shifts.install(self.header, before=self.header.sign_out_button)
        self.keys = SellKeys(self, self.panel, self.event_list, self.add_tile_at)
        self.sale_printer = SalePrinter(printer, runner, self)
        self.sale_printer.drawer_failed.connect(self.on_sale_printer_drawer_failed)
        self.checkout: CheckoutHold | None = None
        if checkout_holds and all(callable(getattr(register, name, None))
                                  for name in ("hold", "release_hold", "pay_hold")):
            self.checkout = CheckoutHold(register, runner, self.basket, self)  # type: ignore[arg-type]
            self.hold_strip = HoldStrip(self.checkout)
            self.panel.add_status_widget(self.hold_strip)
            self.checkout.notice.connect(self.on_checkout_notice)
        self.charge = SaleCharge(
            register, runner, basket=self.basket, panel=self.panel, banner=self.banner,
            result_card=self.result_card, events_model=self.events_model,
            sale_printer=self.sale_printer, receipt=self.receipt, shifts=self.shifts,
            checkout=self.checkout, unreachable=lambda: self.unreachable,
            unsettled_key=lambda: self.unsettled_key,
            current_event=lambda: self.current_event, parent=self)
        self.charge.charge_started.connect(self.charge_started)
        self.charge.sale_confirmed.connect(self.sale_confirmed)
        self.charge.sale_refused.connect(self.sale_refused)
        self.charge.sale_unknown.connect(self.show_unknown)
        self.charge.sale_unknown.connect(self.sale_unknown)
        self.charge.charge_failed.connect(self.charge_failed)
        self.charge.sale_settled.connect(self.sale_settled)
        self.charge.session_expired.connect(self.session_expired)
        self.charge.connection_changed.connect(self.connection_changed)
        self.charge.offline.connect(lambda: self.set_unreachable(True))
        self.charge.events_stale.connect(self.refresh_events)
        self.charge.tender_focus_wanted.connect(self.focus_tender)
        self.charge.announced.connect(self.announce)
        self.shifts.shift_opened.connect(self.charge.on_shifts_shift_opened)
        self.shifts.shift_open_abandoned.connect(self.charge.on_shifts_shift_open_abandoned)
        self.sale_confirmed.connect(self.shifts.on_sale_confirmed)
        self.unknown.still_unknown.connect(self.charge.tell_unknown)
        self.unknown.settled.connect(self.charge.on_unknown_sale_settled)
        self.unknown.session_expired.connect(self.session_expired)
        self.receipt.delivered.connect(self.receipt_delivered)
        self.receipt.failed.connect(self.receipt_failed)
        self.inventory.events_read.connect(self.on_inventory_events_read)
        self.inventory.read_failed.connect(self.on_inventory_read_failed)
        self.inventory.connection_changed.connect(self.charge.on_inventory_connection_changed)
        self.inventory.inventory_applied.connect(self.inventory_applied)
        # The helpers' slots, under the names they had on this screen (callers use them).
        self.on_events_task_finished = self.inventory.on_events_task_finished
        self.on_events_task_failed = self.inventory.on_events_task_failed
        self.on_sell_task_finished = self.charge.on_sell_task_finished
        self.on_sell_task_failed = self.charge.on_sell_task_failed
        self.on_shifts_shift_opened = self.charge.on_shifts_shift_opened
        self.on_shifts_shift_open_abandoned = self.charge.on_shifts_shift_open_abandoned
        self.on_result_card_reprint_requested = self.receipt.reprint
        self.on_receipt_task_finished = self.receipt.on_receipt_task_finished
        self.on_receipt_task_failed = self.receipt.on_receipt_task_failed
        self.on_live_connection_changed = self.inventory.on_live_connection_changed
        self.on_retry_button_clicked = self.unknown.retry
        self.on_abandon_button_clicked = self.unknown.abandon
        self.on_settle_task_finished = self.unknown.on_settle_task_finished
        self.on_settle_task_failed = self.unknown.on_settle_task_failed

    # --- state ------------------------------------------------------------------------------

    @property
    def charging(self) -> bool:
        """``True`` while a sale is with the register."""
        return self.charge.charging

    @property
    def current_event(self) -> Event | None:
        return self.tiles.shown_event

    @property
    def live(self) -> LiveInventory | None:
        """The live inventory feed's adapter, when the window has one."""
        return self.inventory.live

    @property
    def unreachable(self) -> bool:
        return self.inventory.unreachable

    @property
    def stale(self) -> bool:
        """``True`` while the tiles show their counts as stale (older than 30 s)."""
        return self.inventory.stale

    @property
    def _fresh_at(self) -> float:
        """``time.monotonic()`` of the newest counts (tests age them)."""
        return self.inventory.fresh_at

    @_fresh_at.setter
    def _fresh_at(self, when: float) -> None:
        self.inventory.fresh_at = when

    @property
    def unsettled_key(self) -> str | None:
        """The key of an ``unknown`` sale from this basket: Charge waits for Retry / Abandon."""
        return self.unknown.key

    @property
    def _charge_hold(self) -> Hold | None:
        """The checkout hold the charge in flight pays, if any."""
        return self.charge.hold

    @_charge_hold.setter
    def _charge_hold(self, hold: Hold | None) -> None:
        self.charge.hold = hold

    def set_session(self, session: SessionResponse, terminal_name: str | None = None) -> None:
        """Start selling as ``session``'s staff member: header, events, periodic refresh."""
        self._session = session
        self._terminal_name = terminal_name or session.terminal.name
        self.header.set_who(session.staff.display_name, session.staff.role)
        self._update_where()
        self.refresh_events()
        self.shifts.refresh()
        self.inventory.start()

    def pause(self) -> None:
        """The window locked: stop reading events and following the live feed, so nothing
        keeps the server session in use meanwhile. The session, the basket, its hold, the
        shift and the dialogs stay as they are; :meth:`set_session` resumes."""
        self.inventory.stop()

    def suspend_session(self) -> None:
        """The session expired: stop reading, keep the basket (and any unknown sale) for
        the next sign-in."""
        self.inventory.stop()
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
        self.receipt.forget()

    # --- events (reads: pos_app.gui.sell.sell_inventory) ------------------------------------------

    def refresh_events(self) -> None:
        """Re-read events and counts on a worker (coalesced while one read is running)."""
        self.inventory.refresh()

    def on_inventory_events_read(self, response: EventsResponse) -> None:
        self._update_where()
        self.events_loaded.emit(response)

    def on_inventory_read_failed(self, exc: BaseException) -> None:
        from pos_app.client import NotSignedIn, ServerUnreachable, Unauthorized

        if isinstance(exc, Unauthorized | NotSignedIn) and not self.charging:
            self.inventory.refresh_timer.stop()
            self.session_expired.emit()
        elif isinstance(exc, ServerUnreachable):
            self.set_unreachable(True)
        else:
            self.banner.show_message(f"Could not load events: {exc}", "warning")
        self.events_failed.emit(exc)

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

    # --- charge (pos_app.gui.sell.sell_charge) ----------------------------------------------------

    def on_panel_charge_requested(self, tendered: int) -> None:
        self.charge.request(tendered)

    def on_sale_printer_drawer_failed(self, exc: BaseException) -> None:
        self.banner.show_message(f"{exc}. Open the drawer with its key.", "warning")

    def on_checkout_notice(self, message: str, kind: str) -> None:
        self.banner.show_message(message, kind)
        self.announce(message)

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

    # --- live inventory, staleness, outage (pos_app.gui.sell.sell_inventory) ----------------------

    def on_live_inventory_changed(self, version: object, ticket_types: object) -> None:
        """Apply the server's fresh ticket types to the events, tiles and basket."""
        self.inventory.on_live_inventory_changed(version, ticket_types)

    def check_stale(self) -> None:
        """Mark the tiles stale when the newest counts are older than 30 s."""
        self.inventory.check_stale()

    def set_unreachable(self, unreachable: bool) -> None:
        """Show or clear the outage banner; Charge is disabled while it shows."""
        self.inventory.set_unreachable(unreachable)

    # --- unknown sales: Retry / Abandon (pos_app.gui.sell.unknown_sale) ---------------------------

    def show_unknown(self, outcome: SaleOutcomeLike) -> None:
        """An unknown outcome: Retry and Abandon; this basket cannot be charged again."""
        self.unknown.show(outcome)
        self.basket.set_locked(True)
        self.charge.update_block()
