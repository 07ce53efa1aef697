"""The basket's checkout hold, against the real server: adding tickets holds them (one hold
that grows), the basket shows the countdown, Clear releases, Charge converts the hold, an
expired hold is said and can be placed again, and a shortage keeps the basket as it is."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from pos_app.api.schemas import SaleLineIn
from pos_app.gui.sell.checkout_hold import countdown_text
from pos_app.gui.shell.main_window import MainWindow
from pos_app.journal import EntryState, Register
from tests.gui.helpers import holds, press_on_sell, ready, wait_held
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.slow


def counts(register: Register, event_id: str) -> list[tuple[str, int, int]]:
    """``(name, held, available)`` of each ticket type of ``event_id``, read now."""
    [event] = [e for e in register.events().events if e.id == event_id]
    return [(t.name, t.held, t.available) for t in event.ticket_types]


def test_countdown_text_rounds_up_to_whole_seconds() -> None:
    assert [countdown_text(s) for s in (900, 899.2, 61, 60, 0.4, 0, -3)] == [
        "15:00", "15:00", "1:01", "1:00", "0:01", "0:00", "0:00"]


def test_adding_tickets_holds_them_in_one_hold_that_grows_and_charge_converts_it(
        qtbot: QtBot, real_window: MainWindow, register: Register,
        live_server: LiveServer) -> None:
    win = real_window
    event_id = ready(qtbot, win, register, live_server, capacity=10)
    sell = win.sell
    for _ in range(3):
        press_on_sell(qtbot, win, Qt.Key.Key_F1)
    wait_held(qtbot, win, 3)

    active = holds(register, event_id, status="active", kind="checkout")
    assert [[(line.name, line.quantity) for line in h.lines] for h in active] == [[("GA", 3)]]
    # The smaller holds it grew from were replaced, not left behind.
    assert {h.status for h in holds(register, event_id, kind="checkout")} == {"active", "released"}
    assert sell.hold_strip.isVisible()
    assert re.fullmatch(r"Tickets held · 1[45]:\d\d left", sell.hold_strip.text_label.text())
    assert sell.hold_strip.accessibleName() == sell.hold_strip.text_label.text()
    with qtbot.waitSignal(sell.events_loaded, timeout=10_000):
        sell.refresh_events()
    assert sell.tiles.tile_named("GA").left_text == "7 left"  # held for this basket
    win.grab().save("docs/screenshots/checkout-hold.png")

    with qtbot.waitSignal(sell.sale_confirmed, timeout=20_000) as confirmed:
        press_on_sell(qtbot, win, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    win.runner.wait_idle()
    sale = confirmed.args[0].sale
    assert [(line.name, line.quantity) for line in sale.lines] == [("GA", 3)]
    [converted] = holds(register, event_id, status="converted", kind="checkout")
    assert converted.id == active[0].id
    sale_entry = next(e for e in register.journal.entries() if e.operation == "sale")
    assert sale_entry.request["hold_id"] == converted.id
    assert sell.checkout is not None and sell.checkout.state == "idle"
    assert not sell.hold_strip.isVisible()
    assert holds(register, event_id, status="active") == []
    assert counts(register, event_id) == [("GA", 0, 7), ("VIP", 0, 10)]  # 3 sold, none held


def test_clearing_the_basket_releases_its_hold(
        qtbot: QtBot, real_window: MainWindow, register: Register,
        live_server: LiveServer) -> None:
    win = real_window
    event_id = ready(qtbot, win, register, live_server, capacity=10)
    sell = win.sell
    press_on_sell(qtbot, win, Qt.Key.Key_F1)
    press_on_sell(qtbot, win, Qt.Key.Key_F2)
    wait_held(qtbot, win, 2)
    qtbot.mouseClick(sell.panel.clear_button, Qt.MouseButton.LeftButton)
    assert sell.checkout is not None
    qtbot.waitUntil(lambda: sell.checkout.state == "idle" and not sell.checkout.busy,
                    timeout=20_000)
    assert holds(register, event_id, status="active") == []
    released = holds(register, event_id, status="released", kind="checkout")
    assert released and all(h.status == "released" for h in released)
    assert counts(register, event_id) == [("GA", 0, 10), ("VIP", 0, 10)]


def test_an_expired_hold_is_said_and_the_tickets_can_be_held_again(
        qtbot: QtBot, real_window: MainWindow, register: Register,
        live_server: LiveServer) -> None:
    win = real_window
    event_id = ready(qtbot, win, register, live_server, capacity=10)
    sell = win.sell
    assert sell.checkout is not None
    sell.checkout.ttl_seconds = 2
    press_on_sell(qtbot, win, Qt.Key.Key_F1)
    wait_held(qtbot, win, 1)
    qtbot.waitUntil(lambda: sell.checkout.state == "expired", timeout=10_000)
    assert sell.hold_strip.text_label.text() == "Hold expired: tickets not reserved"
    assert sell.hold_strip.rehold_button.isVisible()
    assert sell.banner.text().startswith("The hold expired")
    assert sell.property("lastAnnouncement").startswith("The hold expired")
    # The server, whose clock decides, agrees.
    qtbot.waitUntil(lambda: [h.status for h in holds(register, event_id, kind="checkout")]
                    == ["expired"], timeout=10_000)
    assert sell.basket.quantity_of(sell.tiles.tile_named("GA").ticket_type.id) == 1

    sell.checkout.ttl_seconds = None
    qtbot.mouseClick(sell.hold_strip.rehold_button, Qt.MouseButton.LeftButton)
    wait_held(qtbot, win, 1)
    assert [h.status for h in holds(register, event_id, kind="checkout")] == ["active", "expired"]
    with qtbot.waitSignal(sell.sale_confirmed, timeout=20_000):
        press_on_sell(qtbot, win, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    win.runner.wait_idle()
    assert [h.status for h in holds(register, event_id, kind="checkout")] == [
        "converted", "expired"]


def test_charging_after_the_hold_expired_sells_the_lines_if_still_there(
        qtbot: QtBot, real_window: MainWindow, register: Register,
        live_server: LiveServer) -> None:
    win = real_window
    ready(qtbot, win, register, live_server, capacity=10)
    sell = win.sell
    assert sell.checkout is not None
    sell.checkout.ttl_seconds = 2
    press_on_sell(qtbot, win, Qt.Key.Key_F1)
    press_on_sell(qtbot, win, Qt.Key.Key_F1)
    qtbot.waitUntil(lambda: sell.checkout.state == "expired", timeout=10_000)
    with qtbot.waitSignal(sell.sale_confirmed, timeout=20_000) as confirmed:
        press_on_sell(qtbot, win, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    win.runner.wait_idle()
    assert [(line.name, line.quantity) for line in confirmed.args[0].sale.lines] == [("GA", 2)]
    sale_entry = next(e for e in register.journal.entries() if e.operation == "sale")
    assert "hold_id" not in sale_entry.request and sale_entry.state is EntryState.CONFIRMED


def test_another_terminal_cannot_take_the_tickets_in_a_basket(
        qtbot: QtBot, real_window: MainWindow, register: Register,
        live_server: LiveServer) -> None:
    win = real_window
    ready(qtbot, win, register, live_server, capacity=2)
    sell = win.sell
    press_on_sell(qtbot, win, Qt.Key.Key_F1)
    press_on_sell(qtbot, win, Qt.Key.Key_F1)
    wait_held(qtbot, win, 2)
    ga = sell.tiles.tile_named("GA").ticket_type.id
    other = register.sell([SaleLineIn(ticket_type_id=ga, quantity=1)], tendered=2500)
    assert other.state is EntryState.REFUSED and other.message == "GA is sold out - remove it " \
        "from the sale."
    with qtbot.waitSignal(sell.sale_confirmed, timeout=20_000):
        press_on_sell(qtbot, win, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    win.runner.wait_idle()


def test_a_shortage_keeps_the_basket_and_reducing_it_holds_what_is_left(
        qtbot: QtBot, real_window: MainWindow, register: Register,
        live_server: LiveServer) -> None:
    from tests.gui.helpers import journal_thread_held

    win = real_window
    event_id = ready(qtbot, win, register, live_server, capacity=3)
    sell = win.sell
    ga = sell.tiles.tile_named("GA").ticket_type.id
    with journal_thread_held(win):
        for _ in range(3):
            press_on_sell(qtbot, win, Qt.Key.Key_F1)
        assert register.sell([SaleLineIn(ticket_type_id=ga, quantity=1)],
                             tendered=2500).state is EntryState.CONFIRMED
    assert sell.checkout is not None
    qtbot.waitUntil(lambda: sell.checkout.state == "short" and not sell.checkout.busy,
                    timeout=20_000)
    assert sell.basket.quantity_of(ga) == 3  # the cashier decides what to change
    assert sell.hold_strip.text_label.text().startswith("Only 2 GA left - reduce the quantity.")
    assert "The earlier hold stands" in sell.hold_strip.text_label.text()
    win.grab().save("docs/screenshots/checkout-hold-short.png")

    press_on_sell(qtbot, win, Qt.Key.Key_Minus)
    wait_held(qtbot, win, 2)
    assert not sell.banner.isVisible()  # the cashier acted on it
    assert sell.hold_strip.text_label.text().startswith("Tickets held")
    assert [[(ln.name, ln.quantity) for ln in h.lines]
            for h in holds(register, event_id, status="active")] == [[("GA", 2)]]


def test_signing_out_releases_the_baskets_hold(
        qtbot: QtBot, real_window: MainWindow, register: Register,
        live_server: LiveServer) -> None:
    win = real_window
    event_id = ready(qtbot, win, register, live_server, capacity=10)
    sell = win.sell
    press_on_sell(qtbot, win, Qt.Key.Key_F1)
    wait_held(qtbot, win, 1)
    with qtbot.waitSignal(win.signed_out, timeout=20_000):
        qtbot.mouseClick(sell.header.sign_out_button, Qt.MouseButton.LeftButton)
    win.runner.wait_idle()
    register.sign_in("alex", "1234")
    assert [h.status for h in holds(register, event_id, kind="checkout")] == ["released"]
