"""The hold desk's unhappy payments, with the real register, journal and a live HTTPS server:
a payment whose answer (or request) is lost on the way is ``unknown`` and offers Retry and
Abandon like the sell screen, blocking any other payment meanwhile; a payment refused for want
of an open shift asks for the opening float (the sell screen's dialog), opens the shift and is
taken with the same tender.

Losses are real: the register talks to the server through a TCP proxy (the reliability
suite's :class:`~tests.support.dropping_proxy.DroppingProxy`) armed by the client's
own request hook just before ``POST /v1/sales`` leaves, so the hold lookup before it is
answered normally.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from pos_app.api.schemas import Customer, Event, Hold, SaleLineIn
from pos_app.client import (
    Credentials,
    InventoryClient,
    load_config,
    pair_terminal,
    terminal_paths,
)
from pos_app.gui.core.task_runner import TaskRunner
from pos_app.gui.holds.hold_desk import HoldDesk
from pos_app.gui.holds.hold_payment import NO_SHIFT
from pos_app.gui.printing.printing import ReceiptPrinter
from pos_app.gui.shifts.shift_dialog import ShiftController
from pos_app.journal import EntryState, Journal, Register
from tests.support.dropping_proxy import DroppingProxy
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.slow

WAIT = 20_000


class LossyProxy(DroppingProxy):
    """:class:`DroppingProxy` that can also lose a request: while :attr:`lose_request` is set,
    the next bytes the terminal sends are discarded and both sockets closed. The server never
    sees that request; the terminal, which did send it, cannot know."""

    def __init__(self, upstream_port: int) -> None:
        super().__init__(upstream_port)
        self.lose_request = False
        self.lost_requests = 0

    def _pump(self, source: socket.socket, target: socket.socket, answers: bool) -> None:
        if answers:
            super()._pump(source, target, answers)
            return
        try:
            while data := source.recv(65536):
                if self.lose_request:
                    self.lose_request = False
                    self.lost_requests += 1
                    break
                target.sendall(data)
        except OSError:
            pass
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


@dataclass
class Desk:
    register: Register
    runner: TaskRunner
    printer: ReceiptPrinter
    event: Event
    proxy: LossyProxy
    lose: str = ""  # "answer" / "request": what to lose of the next POST /v1/sales

    def on_request(self, request: httpx.Request) -> None:
        """The client's request hook: arm the proxy just before the sale leaves."""
        if request.method == "POST" and request.url.path == "/v1/sales" and self.lose:
            if self.lose == "answer":
                self.proxy.drop = True
            else:
                self.proxy.lose_request = True
            self.lose = ""

    def hold(self, name: str, **quantities: int) -> Hold:
        ids = {tt.name: tt.id for tt in self.event.ticket_types}
        outcome = self.register.hold([SaleLineIn(ticket_type_id=ids[n], quantity=q)
                                      for n, q in quantities.items()], "cash",
                                     Customer(name=name))
        assert outcome.state is EntryState.CONFIRMED and outcome.hold is not None
        return outcome.hold


@pytest.fixture
def lossy(qtbot: QtBot, styled_app: object, live_server: LiveServer,
          pos_home: Path) -> Iterator[Desk]:
    """A paired, signed-in terminal with an open shift, talking to the server through a
    :class:`LossyProxy`."""
    proxy = LossyProxy(live_server.port)
    pair_terminal(live_server.base_url, live_server.add_terminal("Lossy desk"),
                  ca_file=live_server.ca_file)
    paths = terminal_paths().ensure()
    config = load_config(paths)
    credentials = Credentials(config.server_url, paths)
    client = InventoryClient(f"https://127.0.0.1:{proxy.port}", ca_file=config.ca_file,
                             terminal_token=credentials.terminal_token)
    event_id = live_server.small_event(capacity=20, price=2500, types=("GA", "VIP"))
    runner = TaskRunner()
    with Register(client, Journal(paths.journal_file), credentials, config, paths) as reg:
        reg.sign_in("alex", "1234")
        assert reg.open_shift(10_000).state is EntryState.CONFIRMED
        env = Desk(reg, runner, ReceiptPrinter(printer_name="no-such-printer-here"),
                   reg.event(event_id), proxy)
        client.add_event_hook("request", env.on_request)
        yield env
        assert runner.wait_idle()
    proxy.close()


def open_desk(qtbot: QtBot, register: Register, runner: TaskRunner, printer: ReceiptPrinter,
              **options: Any) -> HoldDesk:
    desk = HoldDesk(register, runner, printer, refresh_interval_ms=0, **options)
    qtbot.addWidget(desk)
    desk.resize(1280, 760)
    desk.show()
    qtbot.waitExposed(desk)
    with qtbot.waitSignal(desk.holds_loaded, timeout=WAIT):
        desk.refresh()
    return desk


def pay_from_keyboard(qtbot: QtBot, desk: HoldDesk, hold: Hold, tendered: str) -> None:
    """Find ``hold`` by its code, Down, Enter, type ``tendered`` (leaves Enter to the
    caller)."""
    desk.search_edit.setFocus(Qt.FocusReason.OtherFocusReason)
    with qtbot.waitSignal(desk.holds_loaded, timeout=WAIT):
        qtbot.keyClicks(desk.search_edit, hold.code)
    qtbot.keyClick(desk.search_edit, Qt.Key.Key_Down)
    selected = desk.selected_hold()
    assert selected is not None and selected.code == hold.code
    qtbot.keyClick(desk.table, Qt.Key.Key_Return)
    dialog = desk.payment_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.tendered_edit.hasFocus, timeout=2_000)
    qtbot.keyClicks(dialog.tendered_edit, tendered)


def sales_of(register: Register) -> list[tuple[str, EntryState]]:
    return [(entry.operation, entry.state) for entry in register.journal.entries()
            if entry.operation == "sale"]


def test_an_unknown_payment_offers_retry_which_converts_the_hold_once(
        qtbot: QtBot, lossy: Desk) -> None:
    hold = lossy.hold("Robin Lost", GA=2)
    desk = open_desk(qtbot, lossy.register, lossy.runner, lossy.printer)
    pay_from_keyboard(qtbot, desk, hold, "60")
    lossy.lose = "answer"  # the server sells the hold; its answer never arrives
    with qtbot.waitSignal(desk.payment_unknown, timeout=WAIT) as unknown, \
            qtbot.waitSignal(desk.holds_loaded, timeout=WAIT):
        qtbot.keyClick(desk.payment_dialog.tendered_edit, Qt.Key.Key_Return)  # type: ignore[union-attr]

    assert lossy.proxy.dropped == 1
    assert unknown.args[0].state is EntryState.UNKNOWN and unknown.args[0].sale is None
    assert desk.payment_dialog is None and not desk.result_card.isVisible()
    card = desk.payment.card
    assert card.isVisible() and card.retry_button.isEnabled() and card.abandon_button.isEnabled()
    assert hold.code in card.label.text()
    assert desk.focusWidget() is card.retry_button  # the keyboard's next stop
    assert desk.banner.kind == "warning" and desk.banner.text() == unknown.args[0].message
    assert desk.last_announcement.startswith("Payment outcome unknown.")
    assert sales_of(lossy.register) == [("sale", EntryState.UNKNOWN)]

    with qtbot.waitSignal(desk.payment_settled, timeout=WAIT) as settled, \
            qtbot.waitSignal(desk.payment_confirmed, timeout=WAIT) as paid, \
            qtbot.waitSignal(desk.receipt_delivered, timeout=WAIT):
        qtbot.keyClick(card.retry_button, Qt.Key.Key_Return)

    sale = paid.args[0].sale
    assert settled.args[0].key == unknown.args[0].key  # the same payment, sent again
    assert sale.total == 5000 and sale.payment.change == 1000
    assert not card.isVisible() and desk.result_card.isVisible()
    assert desk.result_card.change_text() == "$10.00"
    assert lossy.register.client.get_hold(hold.code).status == "converted"
    assert [s.number for s in lossy.register.shift_sales()] == [sale.number]  # once only
    assert sales_of(lossy.register) == [("sale", EntryState.CONFIRMED)]
    sold = {tt.name: tt.sold for ev in lossy.register.events().events
            if ev.id == lossy.event.id for tt in ev.ticket_types}
    assert sold == {"GA": 2, "VIP": 0}


def test_abandon_cancels_an_unknown_payment_and_leaves_the_hold_active(
        qtbot: QtBot, lossy: Desk) -> None:
    hold = lossy.hold("Sasha Dropped", VIP=1)
    desk = open_desk(qtbot, lossy.register, lossy.runner, lossy.printer)
    pay_from_keyboard(qtbot, desk, hold, "25")
    lossy.lose = "request"  # the sale never reaches the server; the terminal cannot know
    with qtbot.waitSignal(desk.payment_unknown, timeout=WAIT), \
            qtbot.waitSignal(desk.holds_loaded, timeout=WAIT):
        qtbot.keyClick(desk.payment_dialog.tendered_edit, Qt.Key.Key_Return)  # type: ignore[union-attr]
    assert lossy.proxy.lost_requests == 1
    card = desk.payment.card
    assert card.isVisible()

    # The hold still reads active, but no second payment starts while this one is unknown.
    desk.focus_table()
    selected = desk.selected_hold()
    assert selected is not None and selected.code == hold.code
    qtbot.keyClick(desk.table, Qt.Key.Key_Return)
    assert desk.payment_dialog is None
    assert desk.banner.text() == (f"The payment for hold {hold.code} is unsettled: Retry or "
                                  "Abandon it before taking another payment.")
    assert desk.focusWidget() is card.retry_button

    with qtbot.waitSignal(desk.payment_settled, timeout=WAIT) as settled:
        qtbot.mouseClick(card.abandon_button, Qt.MouseButton.LeftButton)
    assert settled.args[0].state is EntryState.VOIDED
    assert not card.isVisible() and not desk.result_card.isVisible()
    assert desk.banner.text() == (f"Payment abandoned: nothing was sold, hold {hold.code} "
                                  "was not paid.")
    assert lossy.register.client.get_hold(hold.code).status == "active"
    assert lossy.register.shift_sales() == []
    assert sales_of(lossy.register) == [("sale", EntryState.VOIDED)]

    # Settled: the hold can be paid now, as a new payment.
    qtbot.waitUntil(lambda: desk.selected_hold() is not None, timeout=WAIT)
    qtbot.keyClick(desk.table, Qt.Key.Key_Return)
    assert desk.payment_dialog is not None
    qtbot.keyClicks(desk.payment_dialog.tendered_edit, "25")
    with qtbot.waitSignal(desk.payment_confirmed, timeout=WAIT):
        qtbot.keyClick(desk.payment_dialog.tendered_edit, Qt.Key.Key_Return)
    assert lossy.register.client.get_hold(hold.code).status == "converted"


def test_a_payment_without_an_open_shift_asks_for_the_float_then_takes_the_same_tender(
        qtbot: QtBot, styled_app: object, register: Register,
        live_server: LiveServer) -> None:
    event_id = live_server.small_event(capacity=10, price=2500, types=("GA",))
    register.sign_in("alex", "1234")
    event = register.event(event_id)
    placed = register.hold([SaleLineIn(ticket_type_id=event.ticket_types[0].id, quantity=2)],
                           "cash", Customer(name="Noor Nofloat"))
    assert placed.hold is not None and register.current_shift() is None
    hold = placed.hold
    runner = TaskRunner()
    printer = ReceiptPrinter(printer_name="no-such-printer-here")
    sell_screen = QWidget()  # stands in for the sell screen that owns the shared controller
    qtbot.addWidget(sell_screen)
    shared = ShiftController(register, runner, sell_screen)
    desk = open_desk(qtbot, register, runner, printer, shifts=shared)
    assert desk.payment.shifts is shared

    pay_from_keyboard(qtbot, desk, hold, "60")
    payment = desk.payment_dialog
    assert payment is not None
    qtbot.keyClick(payment.tendered_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: shared.float_dialog is not None
                    and shared.float_dialog.isVisible(), timeout=WAIT)
    assert payment.isVisible() and payment.busy  # waits behind the float dialog
    # Cancelled: nothing paid, the payment dialog says why and can ask again.
    with qtbot.waitSignal(desk.payment_refused, timeout=WAIT) as refused:
        qtbot.keyClick(shared.float_dialog.amount_edit, Qt.Key.Key_Escape)  # type: ignore[union-attr]
    assert refused.args[0].error.error == "shift_not_open"
    assert payment.isVisible() and not payment.busy
    assert payment.hint_label.text() == NO_SHIFT
    assert register.current_shift() is None

    qtbot.keyClick(payment.tendered_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: shared.float_dialog is not None
                    and shared.float_dialog.isVisible(), timeout=WAIT)
    float_dialog = shared.float_dialog
    assert float_dialog is not None
    qtbot.waitUntil(float_dialog.amount_edit.hasFocus, timeout=2_000)
    qtbot.keyClicks(float_dialog.amount_edit, "200")
    with qtbot.waitSignal(desk.payment_confirmed, timeout=WAIT) as paid, \
            qtbot.waitSignal(desk.receipt_delivered, timeout=WAIT):
        qtbot.keyClick(float_dialog.amount_edit, Qt.Key.Key_Return)

    sale = paid.args[0].sale
    assert sale.payment.tendered == 6000 and sale.payment.change == 1000
    assert not payment.isVisible() and not float_dialog.isVisible()
    assert desk.result_card.change_text() == "$10.00"
    shift = register.current_shift()
    assert shift is not None and sale.shift_id == shift.id
    assert shift.blind and shift.opening_float is None  # a cashier's read of an open shift
    opened = [e for e in register.journal.entries() if e.operation == "shift_open"]
    assert [(e.state, e.body["opening_float"]) for e in opened] == [
        (EntryState.CONFIRMED, 20_000)]
    assert shared.shift is not None and shared.shift.id == shift.id  # the header knows too
    assert register.client.get_hold(hold.code).status == "converted"
    operations = [(e.operation, e.state) for e in register.journal.entries()]
    assert operations.count(("sale", EntryState.REFUSED)) == 2
    assert operations.count(("shift_open", EntryState.CONFIRMED)) == 1
    assert operations.count(("sale", EntryState.CONFIRMED)) == 1
    assert runner.wait_idle()
