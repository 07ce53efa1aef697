"""The hold desk: find a customer's cash hold (:mod:`pos_app.gui.holds.hold_finder`), take payment
for it, release it, reprint its slip. :func:`place_cash_hold` (from
:mod:`pos_app.gui.holds.hold_placement`) is what the sell screen calls to hold a
basket for cash.

Every register call (listing, paying, releasing, placing) and every slip or receipt runs on
the :class:`~pos_app.gui.core.task_runner.TaskRunner`; the GUI thread only renders outcomes.
What the cashier is told comes from journal-settled outcomes: a payment shows change due
only when the sale is ``confirmed``; an unknown one offers Retry / Abandon and blocks other
payments, and one refused for want of a shift asks for the opening float first
(:mod:`pos_app.gui.holds.hold_payment`).

The keyboard alone does everything (:mod:`pos_app.gui.holds.hold_keys`): type to search, Down
into the table, Enter takes payment, Delete releases, F5 refreshes.

State changes are announced to screen readers (``QAccessibleAnnouncementEvent`` where this
Qt has it) and written to the live status line under the table.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAccessible, QHideEvent, QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from pos_app.api.schemas import Event, Hold
from pos_app.gui.core.banner import MessageBanner
from pos_app.gui.core.ports import HoldDeskPort, HoldOutcomeLike, SaleOutcomeLike
from pos_app.gui.core.styles import style_sheet
from pos_app.gui.core.task_runner import TaskRunner
from pos_app.gui.core.widgets import named
from pos_app.gui.holds.hold_actions import HoldActions
from pos_app.gui.holds.hold_dialog import ReleaseHoldDialog, TakePaymentDialog
from pos_app.gui.holds.hold_finder import (
    FINDER_STYLE,
    HoldFinder,
    count_sentence,
    default_clock,
)
from pos_app.gui.holds.hold_keys import HoldDeskKeys
from pos_app.gui.holds.hold_payment import HoldPayment
from pos_app.gui.holds.hold_placement import (
    deliver_hold_slip,
    printed_sentence,
)
from pos_app.gui.holds.holds_model import expired_message
from pos_app.gui.printing.printing import ReceiptPrinter
from pos_app.gui.shifts.shift_dialog import ShiftController

try:  # Qt 6.8+
    from PySide6.QtGui import QAccessibleAnnouncementEvent
except ImportError:  # pragma: no cover - older PySide6: the live label alone
    QAccessibleAnnouncementEvent = None  # type: ignore[assignment,misc]

__all__ = ["HoldDesk"]

_DESK_STYLE = style_sheet("hold_desk") + FINDER_STYLE


class HoldDesk(QWidget):
    """Cash holds: search, filter, take payment, release, reprint the slip.

    ``clock`` (aware UTC ``datetime``) decides when a hold reads expired; by default the
    local clock, moved by the register's ``server_time_offset`` when it has one. ``shifts``:
    the opening-float flow to share (the sell screen's ``sell.shifts``), else the desk's own.
    The list is read when the desk is shown, after every action, on F5 and every
    ``refresh_interval_ms`` while it is shown (0: not on a timer).

    Signals:
        holds_loaded(object): a fresh ``list[Hold]`` is shown.
        holds_failed(object): reading the holds raised this exception.
        payment_confirmed(object): a hold was paid (``SaleOutcome``, confirmed).
        payment_refused(object): a payment was not confirmed (refused, unknown or voided).
        payment_unknown(object): a payment's outcome is unknown (``SaleOutcome``): Retry or
            Abandon are offered, no other payment starts meanwhile.
        payment_settled(object): Retry or Abandon settled it (the final ``SaleOutcome``).
        hold_released(object): a hold was released (``HoldOutcome``, confirmed).
        release_refused(object): a release was not confirmed.
        slip_delivered(str) / receipt_delivered(str): printed ("Printed on ...") or saved.
        print_failed(object): a slip or receipt could not be rendered or printed.
        session_expired(): the server no longer accepts the session.
        announced(str): this sentence was announced to screen readers.
    """

    holds_loaded = Signal(object)
    holds_failed = Signal(object)
    payment_confirmed = Signal(object)
    payment_refused = Signal(object)
    payment_unknown = Signal(object)
    payment_settled = Signal(object)
    hold_released = Signal(object)
    release_refused = Signal(object)
    slip_delivered = Signal(str)
    receipt_delivered = Signal(str)
    print_failed = Signal(object)
    session_expired = Signal()
    sell_again_requested = Signal(object)
    announced = Signal(str)

    def __init__(self, register: HoldDeskPort, runner: TaskRunner, printer: ReceiptPrinter,
                 parent: QWidget | None = None, *,
                 clock: Callable[[], datetime] | None = None,
                 refresh_interval_ms: int = 30_000,
                 shifts: ShiftController | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("holdDesk")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(_DESK_STYLE)
        self._register = register
        self._runner = runner
        self._printer = printer
        self._events: dict[str, Event] = {}  # every event seen, by id (shared with payment)
        self.last_announcement = ""
        self._announce_next = False
        self._load_failed = False

        self.finder = HoldFinder(register, runner, clock or default_clock(register),
                                 self._events, self, refresh_interval_ms=refresh_interval_ms)
        self.model = self.finder.model
        self.proxy = self.finder.proxy
        self.payment = HoldPayment(register, runner, printer, self, events=self._events,
                                   shifts=shifts)
        self.hold_actions = HoldActions(register, runner, self, self.model.status_of,
                                        self.payment)
        self.banner = MessageBanner()
        self.refresh_button = self.finder.refresh_button
        self.search_edit = self.finder.search_edit
        self.filter_group = self.finder.filter_group
        self.filter_buttons = self.finder.filter_buttons
        self.table = self.finder.table
        self.result_card = self.payment.result_card
        self.live_label = named(QLabel(), "liveStatus")
        self.live_label.setAccessibleName("Hold desk status")
        self.detail = self.finder.detail

        left = QVBoxLayout()
        left.setSpacing(14)
        left.addLayout(self.finder.column, 1)
        left.addWidget(self.result_card)
        left.addWidget(self.live_label)
        body = QHBoxLayout()
        body.setContentsMargins(20, 16, 20, 20)
        body.setSpacing(20)
        body.addLayout(left, 1)
        body.addWidget(self.detail)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.payment.card)
        layout.addLayout(body, 1)

        self.setTabOrder(self.search_edit, self.table)
        self.setTabOrder(self.table, self.detail.pay_button)
        self.setTabOrder(self.detail.pay_button, self.detail.release_button)
        self.setTabOrder(self.detail.release_button, self.detail.reprint_button)

        self._search_timer = self.finder.search_timer
        self._search_timer.timeout.connect(self.refresh)
        self._tick_timer = self.finder.tick_timer
        self._refresh_timer = self.finder.refresh_timer  # it reads quietly

        self.finder.filter_chosen.connect(self.set_status_filter)
        self.finder.read_finished.connect(self.on_read_task_finished)
        self.finder.read_failed.connect(self.on_read_task_failed)
        self.search_edit.returnPressed.connect(self.on_search_edit_return_pressed)
        self.keys = HoldDeskKeys(self, self.search_edit, self.table)
        self.keys.table_focus_requested.connect(self.focus_table)
        self.keys.search_edited.connect(self.finder.on_search_edit_text_edited)
        self.keys.refresh_requested.connect(self.refresh)
        self.keys.payment_requested.connect(self.take_payment)
        self.keys.release_requested.connect(self.release_selected)
        self.keys.reprint_requested.connect(self.reprint_slip)
        self.keys.sell_again_requested.connect(self.sell_again)
        self.keys.filter_chosen.connect(self.set_status_filter)
        self.table.doubleClicked.connect(lambda _i: self.take_payment())
        self.refresh_button.clicked.connect(self.refresh)
        self.detail.pay_button.clicked.connect(self.take_payment)
        self.detail.release_button.clicked.connect(self.release_selected)
        self.detail.reprint_button.clicked.connect(self.reprint_slip)
        self.detail.sell_again_button.clicked.connect(self.sell_again)
        self.result_card.dismissed.connect(self.focus_table)
        self.payment.unsettled.connect(self.on_payment_unsettled)
        self.payment.settled.connect(self.on_payment_settled)
        self.payment.receipt_delivered.connect(self.receipt_delivered)
        self.payment.print_failed.connect(self.on_print_task_failed)
        self.hold_actions.paid.connect(self.on_hold_actions_paid)
        self.hold_actions.payment_refused.connect(self.payment_refused)
        self.hold_actions.released.connect(self.on_hold_actions_released)
        self.hold_actions.release_refused.connect(self.release_refused)
        self.hold_actions.expired.connect(self.on_hold_actions_expired)
        self.hold_actions.told.connect(self.on_hold_actions_told)
        self.hold_actions.dialog_closed.connect(self.on_hold_actions_dialog_closed)
        self.hold_actions.session_expired.connect(self.session_expired)
        self.finder.show_selected()

    # --- reading ------------------------------------------------------------------------------

    @property
    def status(self) -> str | None:
        """The status filter in force (``active``, ``converted``, ``released``, ``expired``;
        ``None``: all)."""
        return self.finder.status

    @property
    def search_text(self) -> str:
        return self.finder.search_text

    def selected_hold(self) -> Hold | None:
        """The hold on the table's current row, or ``None``."""
        return self.finder.selected_hold()

    def refresh(self) -> None:
        """Re-read the holds for the current filter and search on a worker (a request made
        while one runs is sent when it answers); the number found is announced."""
        self._announce_next = True
        self.finder.read()

    def refresh_quietly(self) -> None:
        """:meth:`refresh` without announcing the count (timers, after an action whose own
        outcome was just announced)."""
        self.finder.read()

    def on_read_task_finished(self, result: tuple[list[Hold], dict[str, Event]]) -> None:
        self._announce_next, announce = False, self._announce_next
        holds, events = result
        self.finder.show_holds(holds, events)
        if self._load_failed:
            self._load_failed = False
            self.banner.clear()
        if announce:
            self.announce(count_sentence(len(holds), self.status, self.search_text))
        self.holds_loaded.emit(holds)

    def on_read_task_failed(self, exc: BaseException) -> None:
        from pos_app.client import NotSignedIn, Unauthorized

        self._load_failed = True
        if isinstance(exc, NotSignedIn | Unauthorized):
            self.session_expired.emit()
        self.banner.show_message(f"Could not load the holds: {exc}", "warning")
        self.announce(f"Could not load the holds: {exc}", assertive=True)
        self.holds_failed.emit(exc)

    def set_status_filter(self, status: str | None) -> None:
        """Show holds of ``status`` (``active``, ``converted``, ``released``, ``expired``,
        ``None``: all) and re-read them."""
        self.finder.set_status(status)
        self.refresh()

    # --- keyboard (the key map: pos_app.gui.holds.hold_keys) --------------------------------------

    def focus_table(self) -> None:
        """Put the keyboard in the table, on the current row (the first when none)."""
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)
        if not self.table.currentIndex().isValid() and self.proxy.rowCount() > 0:
            self._select_proxy_row(0)

    def on_search_edit_return_pressed(self) -> None:
        if self._search_timer.isActive():
            self.refresh()
        self.focus_table()

    def _select_proxy_row(self, row: int) -> None:
        self.finder.select_row(row)

    # --- take payment and release (see pos_app.gui.holds.hold_actions) ----------------------------

    @property
    def payment_dialog(self) -> TakePaymentDialog | None:
        """The open cash tendered dialog, or ``None``."""
        return self.hold_actions.payment_dialog

    @property
    def release_dialog(self) -> ReleaseHoldDialog | None:
        """The open release dialog, or ``None``."""
        return self.hold_actions.release_dialog

    def take_payment(self) -> None:
        """Open the cash tendered dialog for the selected hold; an expired or ended hold is
        refused at once, in plain words."""
        hold = self.selected_hold()
        if hold is not None:
            self.hold_actions.take_payment(hold)

    def sell_again(self) -> None:
        """The selected hold expired: ask the window to put its tickets in the basket
        (``sell_again_requested(hold)``); nothing happens for any other hold."""
        hold = self.selected_hold()
        if hold is not None and self.model.status_of(hold) == "expired":
            self.sell_again_requested.emit(hold)

    def release_selected(self) -> None:
        """Ask why, then release the selected active hold."""
        hold = self.selected_hold()
        if hold is not None:
            self.hold_actions.release(hold)

    def on_hold_actions_paid(self, hold: Hold | None, outcome: SaleOutcomeLike) -> None:
        self.banner.clear()  # the payment's result card shows the change and the receipt
        self.announce(f"Hold {hold.code if hold else ''} paid. Change due "
                      f"{self.result_card.change_text()}.", assertive=True)
        self.payment_confirmed.emit(outcome)
        self.refresh_quietly()

    def on_payment_unsettled(self, outcome: SaleOutcomeLike) -> None:
        self.banner.show_message(outcome.message, "warning")
        self.announce(f"Payment outcome unknown. {outcome.message}", assertive=True)
        self.payment_unknown.emit(outcome)
        self.refresh_quietly()  # the table shows whether the hold was converted meanwhile

    def on_payment_settled(self, outcome: SaleOutcomeLike) -> None:
        self.payment_settled.emit(outcome)
        if not self.result_card.isVisible():
            self.focus_table()
        self.refresh_quietly()

    def on_hold_actions_released(self, outcome: HoldOutcomeLike) -> None:
        self.banner.show_message(outcome.message, "info")
        self.announce(outcome.message)
        if outcome.hold is not None:
            self.model.replace_hold(outcome.hold)
        self.hold_released.emit(outcome)
        self.refresh_quietly()

    def on_hold_actions_expired(self, hold: Hold) -> None:
        text = expired_message(hold, self.model.zone_of(hold), self.model.now())
        self.banner.show_message(text, "error")
        self.announce(text, assertive=True)
        self.refresh_quietly()

    def on_hold_actions_told(self, text: str, kind: str) -> None:
        self.banner.show_message(text, kind)
        self.announce(text, assertive=True)
        self.refresh_quietly()

    def on_hold_actions_dialog_closed(self) -> None:
        if not self.result_card.isVisible():
            self.focus_table()

    # --- printing -----------------------------------------------------------------------------

    def reprint_slip(self) -> None:
        """Print the selected hold's slip again, marked REPRINT."""
        hold = self.selected_hold()
        if hold is None:
            return
        self.announce(f"Reprinting the slip of hold {hold.code}…")
        task = self._runner.read(deliver_hold_slip, self._register, self._printer, hold,
                                 reprint=True, event=self._events.get(hold.event_id))
        task.finished.connect(self.on_slip_task_finished)
        task.failed.connect(self.on_print_task_failed)

    def on_slip_task_finished(self, where: str) -> None:
        self.announce(printed_sentence("Slip", where))
        self.slip_delivered.emit(where)

    def on_print_task_failed(self, exc: BaseException) -> None:
        text = f"Printing failed: {exc}"  # a receipt's card says so too (HoldPayment)
        self.announce(text, assertive=True)
        self.print_failed.emit(exc)

    # --- announcements ------------------------------------------------------------------------

    def announce(self, text: str, *, assertive: bool = False) -> None:
        """Tell screen readers ``text`` (``assertive``: interrupt them) and show it on the
        live status line."""
        self.last_announcement = text
        self.live_label.setText(text)
        self.live_label.setAccessibleDescription(text)
        if QAccessibleAnnouncementEvent is not None:
            event = QAccessibleAnnouncementEvent(self.live_label, text)
            event.setPoliteness(QAccessible.AnnouncementPoliteness.Assertive if assertive
                                else QAccessible.AnnouncementPoliteness.Polite)
            QAccessible.updateAccessibility(event)
        self.announced.emit(text)

    # --- visibility -----------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.finder.on_tick_timer_timeout()
        self._tick_timer.start()
        self.refresh()  # the cashier opened the desk: show what is held now
        if self._refresh_timer.interval() > 0:
            self._refresh_timer.start()

    def hideEvent(self, event: QHideEvent) -> None:
        super().hideEvent(event)
        self._tick_timer.stop()  # nothing to count down on a hidden desk
        self._refresh_timer.stop()

