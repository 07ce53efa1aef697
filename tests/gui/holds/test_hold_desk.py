"""The hold desk with the real register, journal, receipts folder and a live HTTPS server:
cash holds placed through ``place_cash_hold`` (slip printed), found by code, name and phone
and paid or released with the keyboard alone; expired holds refused in plain words.

Also refreshes ``docs/screenshots/hold-desk.png`` and ``docs/screenshots/hold-for-cash.png``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from pos_app.api.schemas import Customer, Event, Hold, SaleLineIn
from pos_app.domain.clock import utc_now
from pos_app.gui.core.task_runner import TaskRunner
from pos_app.gui.holds.hold_desk import HoldDesk
from pos_app.gui.holds.hold_dialog import HIDDEN_CHARACTER, HoldForCashDialog
from pos_app.gui.holds.hold_placement import place_cash_hold
from pos_app.gui.holds.holds_model import HoldsTableModel, Urgency, urgency
from pos_app.gui.printing.printing import ReceiptPrinter
from pos_app.gui.sell.basket_model import BasketLine
from pos_app.journal import EntryState, Register
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.slow

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
WAIT = 20_000


@dataclass
class Desk:
    """A signed-in real register with an open shift, a small event, a runner and a printer
    that saves PDFs (there is no printer here)."""

    register: Register
    runner: TaskRunner
    printer: ReceiptPrinter
    event: Event

    def lines(self, **quantities: int) -> list[SaleLineIn]:
        ids = {tt.name: tt.id for tt in self.event.ticket_types}
        return [SaleLineIn(ticket_type_id=ids[name], quantity=quantity)
                for name, quantity in quantities.items()]

    def receipts(self) -> Path:
        return Path(self.register.paths.receipts_dir)


@pytest.fixture
def desk_env(qtbot: QtBot, styled_app: object, register: Register,
             live_server: LiveServer) -> Iterator[Desk]:
    event_id = live_server.small_event(capacity=30, price=2500, types=("GA", "VIP"))
    register.sign_in("alex", "1234")
    assert register.open_shift(20_000).state is EntryState.CONFIRMED
    runner = TaskRunner()
    env = Desk(register, runner, ReceiptPrinter(printer_name="no-such-printer-here"),
               register.event(event_id))
    yield env
    assert runner.wait_idle()


def place(qtbot: QtBot, env: Desk, name: str, phone: str | None = None, *,
          ttl_seconds: int | None = None, **quantities: int) -> Hold:
    """Place a cash hold through ``place_cash_hold`` and wait for its slip."""
    placement = place_cash_hold(env.register, env.runner, env.printer,
                                env.lines(**(quantities or {"GA": 2})),
                                Customer(name=name, phone=phone), ttl_seconds=ttl_seconds)
    with qtbot.waitSignal(placement.placed, timeout=WAIT) as placed, \
            qtbot.waitSignal(placement.slip_delivered, timeout=WAIT) as slip:
        pass
    hold = placed.args[0].hold
    assert hold is not None and hold.status == "active" and hold.kind == "cash"
    assert slip.args[0] == f"Saved to {env.receipts() / f'hold-{hold.code}.pdf'}"
    return hold


def open_desk(qtbot: QtBot, env: Desk, *, clock: Callable[[], datetime] | None = None
              ) -> HoldDesk:
    desk = HoldDesk(env.register, env.runner, env.printer, clock=clock)
    qtbot.addWidget(desk)
    desk.resize(1280, 760)
    desk.show()
    qtbot.waitExposed(desk)
    with qtbot.waitSignal(desk.holds_loaded, timeout=WAIT):
        desk.refresh()
    desk.search_edit.setFocus(Qt.FocusReason.OtherFocusReason)
    return desk


def search(qtbot: QtBot, desk: HoldDesk, text: str) -> list[str]:
    """Clear the search box with Esc, type ``text``, wait for the server's answer; the
    codes shown."""
    if desk.search_edit.text():
        with qtbot.waitSignal(desk.holds_loaded, timeout=WAIT):
            qtbot.keyClick(desk.search_edit, Qt.Key.Key_Escape)
    with qtbot.waitSignal(desk.holds_loaded, timeout=WAIT):
        qtbot.keyClicks(desk.search_edit, text)
    return shown_codes(desk)


def shown_codes(desk: HoldDesk) -> list[str]:
    return [str(desk.proxy.index(row, HoldsTableModel.CODE).data())
            for row in range(desk.proxy.rowCount())]


def local_hhmm(hold: Hold, zone: str) -> str:
    return f"{hold.expires_at.astimezone(ZoneInfo(zone)):%H:%M}"


def test_a_cash_hold_is_found_by_code_name_and_phone_and_paid_with_the_keyboard(
        qtbot: QtBot, desk_env: Desk) -> None:
    env = desk_env
    dana = place(qtbot, env, "Dana Whitfield", "555-7142", GA=2)
    morgan = place(qtbot, env, "Morgan Whitlock", "555-7199", VIP=1)
    desk = open_desk(qtbot, env)
    assert {dana.code, morgan.code} <= set(shown_codes(desk))

    assert search(qtbot, desk, dana.code.lower()) == [dana.code]
    assert search(qtbot, desk, "dana whit") == [dana.code]
    assert search(qtbot, desk, "7142") == [dana.code]
    assert desk.last_announcement == "1 active hold matching “7142”."
    assert sorted(search(qtbot, desk, "WHIT")) == sorted([dana.code, morgan.code])
    assert search(qtbot, desk, "7142") == [dana.code]

    qtbot.keyClick(desk.search_edit, Qt.Key.Key_Down)
    assert desk.table.hasFocus()
    selected = desk.selected_hold()
    assert selected is not None and selected.code == dana.code
    assert desk.detail.total_label.text() == "$50.00"
    qtbot.keyClick(desk.table, Qt.Key.Key_Return)
    dialog = desk.payment_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(dialog.tendered_edit.hasFocus, timeout=2_000)
    assert dialog.total_label.text() == "$50.00"
    qtbot.keyClicks(dialog.tendered_edit, "40")
    assert not dialog.submit_button.isEnabled()
    qtbot.keyClick(dialog.tendered_edit, Qt.Key.Key_Backspace)
    qtbot.keyClick(dialog.tendered_edit, Qt.Key.Key_Backspace)
    qtbot.keyClicks(dialog.tendered_edit, "60")
    assert dialog.change_label.text() == "$10.00"
    with qtbot.waitSignal(desk.payment_confirmed, timeout=WAIT) as paid, \
            qtbot.waitSignal(desk.receipt_delivered, timeout=WAIT) as receipt:
        qtbot.keyClick(dialog.tendered_edit, Qt.Key.Key_Return)

    sale = paid.args[0].sale
    assert sale.total == 5000 and sale.payment.change == 1000
    assert not dialog.isVisible() and desk.payment_dialog is None
    assert desk.result_card.isVisible() and desk.result_card.change_text() == "$10.00"
    assert desk.last_announcement.startswith(f"Hold {dana.code} paid. Change due $10.00")
    assert receipt.args[0].startswith("Saved to ") and Path(receipt.args[0][9:]).is_file()
    assert env.register.client.get_hold(dana.code).status == "converted"
    operations = [(e.operation, e.state) for e in env.register.journal.entries()]
    assert operations[0] == ("sale", EntryState.CONFIRMED)


def test_a_hold_is_released_with_a_reason_from_the_keyboard(qtbot: QtBot,
                                                            desk_env: Desk) -> None:
    env = desk_env
    hold = place(qtbot, env, "Quinn Harlow", "555-7177", VIP=2)
    desk = open_desk(qtbot, env)
    assert search(qtbot, desk, "quinn") == [hold.code]
    qtbot.keyClick(desk.search_edit, Qt.Key.Key_Down)
    qtbot.keyClick(desk.table, Qt.Key.Key_Delete)
    dialog = desk.release_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.reason_edit.hasFocus, timeout=2_000)
    assert not dialog.submit_button.isEnabled()
    qtbot.keyClick(dialog.reason_edit, Qt.Key.Key_Return)  # no reason yet: told, not sent
    assert dialog.isVisible() and "why" in dialog.hint_label.text()
    qtbot.keyClicks(dialog.reason_edit, "Customer called to cancel")
    with qtbot.waitSignal(desk.hold_released, timeout=WAIT) as released, \
            qtbot.waitSignal(desk.holds_loaded, timeout=WAIT):
        qtbot.keyClick(dialog.reason_edit, Qt.Key.Key_Return)

    assert released.args[0].hold.status == "released"
    assert not dialog.isVisible()
    assert desk.banner.text() == f"Hold {hold.code} released - its tickets are back on sale."
    assert shown_codes(desk) == []  # the active filter no longer lists it
    server = env.register.client.get_hold(hold.code)
    assert (server.status, server.release_reason) == ("released", "Customer called to cancel")
    with qtbot.waitSignal(desk.holds_loaded, timeout=WAIT):
        qtbot.keyClick(desk.search_edit, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert desk.status == "released" and shown_codes(desk) == [hold.code]


def test_a_hold_that_expired_on_the_desk_clock_is_refused_in_plain_words(
        qtbot: QtBot, desk_env: Desk) -> None:
    env = desk_env
    hold = place(qtbot, env, "Ada Quick", "555-7100", ttl_seconds=2, GA=1)
    desk = open_desk(qtbot, env)
    assert search(qtbot, desk, hold.code) == [hold.code]
    qtbot.keyClick(desk.search_edit, Qt.Key.Key_Down)
    assert desk.detail.pay_button.isEnabled()
    # The countdown reaches zero on the desk's clock: the row and the panel say so.
    qtbot.waitUntil(lambda: not desk.detail.pay_button.isEnabled(), timeout=5_000)
    assert desk.model.status_of(hold) == "expired"
    assert desk.proxy.index(0, HoldsTableModel.STATUS).data() == "Expired"
    assert desk.detail.status_chip.text() == "Expired"
    grey = desk.proxy.index(0, HoldsTableModel.CODE).data(Qt.ItemDataRole.ForegroundRole)
    assert grey.color().name() == "#64748b"
    with qtbot.waitSignal(desk.holds_loaded, timeout=WAIT):
        qtbot.keyClick(desk.table, Qt.Key.Key_Return)
    expected = (f"This hold expired at {local_hhmm(hold, env.event.timezone)}; its tickets "
                "are back on sale.")
    assert desk.payment_dialog is None
    assert desk.banner.isVisible() and desk.banner.text() == expected
    assert desk.last_announcement == expected
    assert shown_codes(desk) == []  # refreshed: no longer active


def test_a_hold_the_server_expired_is_refused_when_paid_and_the_table_refreshes(
        qtbot: QtBot, desk_env: Desk) -> None:
    env = desk_env
    hold = place(qtbot, env, "Late Larry", ttl_seconds=3, GA=1)
    # This till's clock runs ten minutes slow: only the server knows the hold has lapsed.
    desk = open_desk(qtbot, env, clock=lambda: utc_now() - timedelta(minutes=10))
    assert search(qtbot, desk, hold.code) == [hold.code]
    qtbot.wait(int((hold.expires_at - utc_now()).total_seconds() * 1000) + 300)
    qtbot.keyClick(desk.search_edit, Qt.Key.Key_Down)
    qtbot.keyClick(desk.table, Qt.Key.Key_Return)
    dialog = desk.payment_dialog
    assert dialog is not None
    qtbot.keyClicks(dialog.tendered_edit, "25")
    with qtbot.waitSignal(desk.payment_refused, timeout=WAIT) as refused, \
            qtbot.waitSignal(desk.holds_loaded, timeout=WAIT):
        qtbot.keyClick(dialog.tendered_edit, Qt.Key.Key_Return)
    assert refused.args[0].error.error == "hold_expired"
    assert not dialog.isVisible() and not desk.result_card.isVisible()
    assert desk.banner.text() == (f"This hold expired at {local_hhmm(hold, env.event.timezone)}"
                                  "; its tickets are back on sale.")
    assert shown_codes(desk) == []


def test_the_desk_calls_the_register_only_from_worker_threads(
        qtbot: QtBot, desk_env: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    env = desk_env
    calls: list[tuple[str, threading.Thread]] = []

    def recorded(name: str) -> Callable[..., Any]:
        real = getattr(env.register, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            calls.append((name, threading.current_thread()))
            return real(*args, **kwargs)

        return call

    for name in ("hold", "list_holds", "events", "pay_hold", "release_hold"):
        monkeypatch.setattr(env.register, name, recorded(name))
    first = place(qtbot, env, "Thread One", GA=1)
    place(qtbot, env, "Thread Two", GA=1)
    desk = open_desk(qtbot, env)
    assert search(qtbot, desk, "thread one") == [first.code]
    qtbot.keyClick(desk.search_edit, Qt.Key.Key_Down)
    qtbot.keyClick(desk.table, Qt.Key.Key_Return)
    assert desk.payment_dialog is not None
    qtbot.keyClicks(desk.payment_dialog.tendered_edit, "25")
    with qtbot.waitSignal(desk.payment_confirmed, timeout=WAIT):
        qtbot.keyClick(desk.payment_dialog.tendered_edit, Qt.Key.Key_Return)
    assert search(qtbot, desk, "thread two") != []
    qtbot.keyClick(desk.search_edit, Qt.Key.Key_Down)
    qtbot.keyClick(desk.table, Qt.Key.Key_Delete)
    assert desk.release_dialog is not None
    qtbot.keyClicks(desk.release_dialog.reason_edit, "test")
    with qtbot.waitSignal(desk.hold_released, timeout=WAIT):
        qtbot.keyClick(desk.release_dialog.reason_edit, Qt.Key.Key_Return)
    with qtbot.waitSignal(desk.slip_delivered, timeout=WAIT):
        qtbot.keyClick(desk.table, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert env.runner.wait_idle()

    names = {name for name, _ in calls}
    assert names >= {"hold", "list_holds", "events", "pay_hold", "release_hold"}
    assert all(thread is not threading.main_thread() for _, thread in calls), calls


def test_the_hold_for_cash_dialog_needs_a_name_and_returns_the_customer(
        qtbot: QtBot, styled_app: object) -> None:
    lines = [BasketLine(1, "night", "General Admission", 4500, "USD", 2, 10),
             BasketLine(2, "night", "Balcony", 6500, "USD", 1, 10)]
    dialog = HoldForCashDialog(lines, "USD")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    for widget in (dialog.name_edit, dialog.phone_edit, dialog.submit_button,
                   dialog.cancel_button, dialog.hint_label, dialog.lines_box):
        assert widget.accessibleName()
    qtbot.waitUntil(dialog.name_edit.hasFocus, timeout=2_000)
    assert not dialog.submit_button.isEnabled()
    assert dialog.submit_button.height() >= 44 and dialog.cancel_button.height() >= 44
    assert "$155.00" in dialog.lines_box.accessibleName()
    qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Return)
    assert dialog.isVisible() and dialog.result() == 0
    assert dialog.hint_label.text() == "Enter the customer's name to hold the tickets."
    assert dialog.hint_label.property("warning") is True
    qtbot.keyClicks(dialog.name_edit, "Dana Smith ")
    assert dialog.submit_button.isEnabled()
    qtbot.keyClick(dialog.name_edit, Qt.Key.Key_Tab)
    qtbot.keyClicks(dialog.phone_edit, "555-0142")
    qtbot.wait(50)
    dialog.grab().save(str(SCREENSHOTS / "hold-for-cash.png"))
    with qtbot.waitSignal(dialog.accepted, timeout=2_000):
        qtbot.keyClick(dialog.phone_edit, Qt.Key.Key_Return)
    assert dialog.customer() == Customer(name="Dana Smith", phone="555-0142")

    cancelled = HoldForCashDialog(lines, "USD")
    qtbot.addWidget(cancelled)
    cancelled.show()
    qtbot.keyClicks(cancelled.name_edit, "Someone")
    with qtbot.waitSignal(cancelled.rejected, timeout=2_000):
        qtbot.keyClick(cancelled.name_edit, Qt.Key.Key_Escape)
    assert cancelled.result() == QDialog.DialogCode.Rejected

    # A name pasted with a right-to-left override would print reversed on the slip (and the
    # server refuses it): the dialog says so and stays, nothing raises.
    pasted = HoldForCashDialog(lines, "USD")
    qtbot.addWidget(pasted)
    pasted.show()
    pasted.name_edit.setText("Dana \u202ehtimS")
    qtbot.keyClick(pasted.name_edit, Qt.Key.Key_Return)
    assert pasted.isVisible() and pasted.result() == 0
    assert pasted.hint_label.text() == HIDDEN_CHARACTER
    assert pasted.customer() is None


def test_the_holds_model_passes_the_model_tester_and_colours_rows_by_expiry(
        qtbot: QtBot, desk_env: Desk, qtmodeltester: Any) -> None:
    env = desk_env
    calm = place(qtbot, env, "Dana Smith", "312-555-0142", GA=2)
    soon = place(qtbot, env, "Priya Patel", "312-555-0108", ttl_seconds=25 * 60, VIP=1)
    urgent = place(qtbot, env, "Sam Okafor", "312-555-0163", ttl_seconds=4 * 60, GA=4)
    paid = place(qtbot, env, "Lee Chen", "312-555-0121", GA=1, VIP=1)
    released = place(qtbot, env, "Jordan Reyes", "312-555-0150", VIP=2)
    lapsed = place(qtbot, env, "Alex Kim", "312-555-0187", ttl_seconds=1, GA=3)
    assert env.register.pay_hold(paid.code, 10_000).state is EntryState.CONFIRMED
    assert env.register.release_hold(released.code, "changed plans").state is \
        EntryState.CONFIRMED
    qtbot.wait(1_100)
    desk = open_desk(qtbot, env)
    with qtbot.waitSignal(desk.holds_loaded, timeout=WAIT):
        qtbot.keyClick(desk.search_edit, Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier)
    assert desk.status is None and desk.filter_buttons[None].isChecked()
    assert len(search(qtbot, desk, "312-555")) == 6
    qtmodeltester.check(desk.model)
    qtmodeltester.check(desk.proxy)

    now = desk.model.now()
    bands = {hold.code: urgency(hold, now) for hold in desk.model.holds}
    assert bands == {calm.code: Urgency.CALM, soon.code: Urgency.SOON,
                     urgent.code: Urgency.URGENT, paid.code: Urgency.ENDED,
                     released.code: Urgency.ENDED, lapsed.code: Urgency.ENDED}
    row = desk.model.row_of(soon.id)
    assert row is not None
    amber = desk.model.index(row, 0).data(Qt.ItemDataRole.BackgroundRole)
    assert amber.color().name() == "#fef3c7"
    statuses = {str(desk.model.index(r, HoldsTableModel.CODE).data()):
                desk.model.index(r, HoldsTableModel.STATUS).data()
                for r in range(desk.model.rowCount())}
    assert statuses[paid.code] == "Converted" and statuses[released.code] == "Released"
    assert statuses[lapsed.code] == "Expired"

    # Only the countdown column changes each second (plus rows that change colour).
    changed: list[tuple[int, int, int, int]] = []
    desk.model.dataChanged.connect(lambda a, b, _roles=None: changed.append(
        (a.row(), a.column(), b.row(), b.column())))
    desk.model.tick()
    assert changed[0] == (0, HoldsTableModel.EXPIRES, desk.model.rowCount() - 1,
                          HoldsTableModel.EXPIRES)

    desk._select_proxy_row(desk.proxy.mapFromSource(
        desk.model.index(desk.model.row_of(calm.id) or 0, 0)).row())
    desk.table.setFocus()
    qtbot.wait(50)
    desk.grab().save(str(SCREENSHOTS / "hold-desk.png"))
