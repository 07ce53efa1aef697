"""The locked window against the real server (issue 16): the PIN is checked there, the
session it replaces ends there, the basket's checkout hold and the terminal's shift go on
through an unlock or a change of cashier, and the server's throttle is said in a sentence."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from pos_app.client import InventoryClient, Unauthorized
from pos_app.gui.shell.main_window import MainWindow
from pos_app.journal import Register
from tests.gui.helpers import holds, press_on_sell, ready, wait_held
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.slow


def unlock_as(qtbot: QtBot, win: MainWindow, pin: str, username: str | None = None) -> None:
    screen = win.lock_screen
    if username is not None:
        qtbot.mouseClick(screen.another_button, Qt.MouseButton.LeftButton)
        qtbot.keyClicks(screen.username_edit, username)
    qtbot.keyClicks(screen.pin_edit, pin)
    with qtbot.waitSignal(win.unlocked, timeout=20_000):
        qtbot.keyClick(screen.pin_edit, Qt.Key.Key_Return)


def test_the_same_pin_keeps_the_hold_and_ends_the_replaced_session_on_the_server(
        qtbot: QtBot, real_window: MainWindow, register: Register,
        live_server: LiveServer) -> None:
    win = real_window
    event_id = ready(qtbot, win, register, live_server)
    sell = win.sell
    checkout = sell.checkout
    assert checkout is not None
    for _ in range(2):
        press_on_sell(qtbot, win, Qt.Key.Key_F1)
    wait_held(qtbot, win, 2)
    hold, before, basket = checkout.hold, register.session, sell.basket.quantities()
    assert hold is not None and before is not None

    win.lock()
    win.grab().save("docs/screenshots/lock-screen.png")
    unlock_as(qtbot, win, "1234")

    assert register.session is not None and register.session.token != before.token
    with InventoryClient(live_server.base_url, ca_file=live_server.ca_file,
                         session_token=before.token) as old, pytest.raises(Unauthorized):
        old.list_events()  # signed out on the server, not left to idle out
    assert checkout.hold is hold and checkout.state == "held"
    assert sell.basket.quantities() == basket and sum(basket.values()) == 2
    with qtbot.waitSignal(sell.sale_confirmed, timeout=20_000) as confirmed:
        press_on_sell(qtbot, win, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    win.runner.wait_idle()
    assert confirmed.args[0].sale.staff_id == before.staff.id
    assert [h.status for h in holds(register, event_id, kind="checkout")
            if h.id == hold.id] == ["converted"]


def test_another_cashier_takes_over_the_basket_its_hold_and_the_shift(
        qtbot: QtBot, real_window: MainWindow, register: Register,
        live_server: LiveServer) -> None:
    win = real_window
    event_id = ready(qtbot, win, register, live_server)
    sell = win.sell
    checkout = sell.checkout
    assert checkout is not None and sell.shifts.shift is not None
    shift_id = sell.shifts.shift.id
    press_on_sell(qtbot, win, Qt.Key.Key_F1)
    wait_held(qtbot, win, 1)
    hold = checkout.hold
    assert hold is not None and win.manage_button is not None
    assert not win.manage_button.isVisible()

    win.lock()
    unlock_as(qtbot, win, "2468", username="morgan")

    assert sell.header.staff_label.text() == "Morgan Lee"
    assert win.manage_button.isVisible()  # a manager now
    assert checkout.hold is hold and sum(sell.basket.quantities().values()) == 1
    qtbot.waitUntil(lambda: sell.shifts.shift is not None and sell.shifts.shift.id == shift_id,
                    timeout=10_000)
    with qtbot.waitSignal(sell.sale_confirmed, timeout=20_000) as confirmed:
        press_on_sell(qtbot, win, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    win.runner.wait_idle()
    sale = confirmed.args[0].sale
    assert register.session is not None and sale.staff_id == register.session.staff.id
    assert sale.shift_id == shift_id
    assert [h.status for h in holds(register, event_id, kind="checkout")
            if h.id == hold.id] == ["converted"]


def test_the_servers_throttle_is_said_and_the_till_stays_locked(
        qtbot: QtBot, real_window: MainWindow, register: Register,
        live_server: LiveServer) -> None:
    win = real_window
    ready(qtbot, win, register, live_server)
    win.lock()
    screen = win.lock_screen
    for _ in range(5):  # the server's limit per terminal and username
        qtbot.keyClicks(screen.pin_edit, "0000")
        with qtbot.waitSignal(screen.unlock_failed, timeout=20_000):
            qtbot.keyClick(screen.pin_edit, Qt.Key.Key_Return)
        assert screen.error_label.text() == "Wrong PIN."
    qtbot.keyClicks(screen.pin_edit, "1234")  # even the right PIN waits now
    with qtbot.waitSignal(screen.unlock_failed, timeout=20_000) as failed:
        qtbot.keyClick(screen.pin_edit, Qt.Key.Key_Return)
    assert failed.args[0].status == 429
    assert screen.error_label.text().startswith("Too many wrong PINs for this user. Try again in ")
    assert win.is_locked and not win.sell.isVisible()
