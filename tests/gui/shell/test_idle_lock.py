"""The window locks itself when left idle (issue 16), against a fake register: the lock
screen hides the till, the same PIN brings it back as it was, another cashier takes over with
the basket, a refusal is said in a sentence, and no shortcut acts while locked."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta

import pytest
from PySide6.QtCore import QEvent, QPointF, Qt
from PySide6.QtGui import QKeySequence, QMouseEvent, QShortcut
from PySide6.QtWidgets import QLabel, QLineEdit, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from pos_app.gui import TaskRunner, create_main_window
from pos_app.gui.shell.idle_lock import IdleWatch, lock_after_from_environment
from pos_app.gui.shell.lock_screen import SESSION_ENDED_WHILE_LOCKED, WRONG_PIN
from pos_app.gui.shell.main_window import MainWindow
from tests.fakes import FakeRegister
from tests.gui.helpers import press, sign_in


class FakeClock:
    """A monotonic clock the test moves by hand (seconds)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, *, minutes: float) -> None:
        self.now += minutes * 60


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def window(qtbot: QtBot, styled_app: object, fake_register: FakeRegister,
           clock: FakeClock) -> Iterator[MainWindow]:
    """The POS window on the fake register, its idle time measured on ``clock``."""
    win = create_main_window(fake_register, runner=TaskRunner())
    win.idle.clock = clock
    qtbot.addWidget(win)
    win.show()
    yield win
    win.runner.wait_idle()


def ring_up(qtbot: QtBot, win: MainWindow, *names: str) -> None:
    for name in names:
        qtbot.mouseClick(win.sell.tiles.tile_named(name), Qt.MouseButton.LeftButton)


def basket_of(win: MainWindow) -> dict[int, int]:
    return win.sell.basket.quantities()


def wait_out_idle_time(win: MainWindow, clock: FakeClock, *, minutes: float) -> None:
    """``minutes`` pass without input; the idle timer wakes up (as its QTimer would)."""
    clock.advance(minutes=minutes)
    win.idle.on_timer_timeout()


def unlock(qtbot: QtBot, win: MainWindow, pin: str = "1234") -> None:
    qtbot.keyClicks(win.lock_screen.pin_edit, pin)
    with qtbot.waitSignal(win.unlocked, timeout=10_000):
        qtbot.keyClick(win.lock_screen.pin_edit, Qt.Key.Key_Return)


def shown_texts(win: MainWindow) -> list[str]:
    """Every text a person can read on the window now (labels, buttons, fields)."""
    texts = []
    for widget in win.findChildren(QWidget):
        if not widget.isVisible():
            continue
        masked = (isinstance(widget, QLineEdit)
                  and widget.echoMode() != QLineEdit.EchoMode.Normal)
        if isinstance(widget, QLabel | QPushButton | QLineEdit) and not masked:
            texts.append(widget.text())
    return texts


def test_the_lock_time_is_five_minutes_unless_pos_app_lock_minutes_says_1_to_60() -> None:
    assert lock_after_from_environment({}) == (timedelta(minutes=5), None)
    assert lock_after_from_environment({"POS_APP_LOCK_MINUTES": " 2 "}) == (
        timedelta(minutes=2), None)
    assert lock_after_from_environment({"POS_APP_LOCK_MINUTES": "60"}) == (
        timedelta(minutes=60), None)
    for wrong in ("0", "61", "-1", "2.5", "off", "١"):
        after, problem = lock_after_from_environment({"POS_APP_LOCK_MINUTES": wrong})
        assert after == timedelta(minutes=5)
        assert problem is not None and "1 to 60 minutes" in problem


def test_a_wrong_setting_is_said_in_the_status_bar(
        qtbot: QtBot, styled_app: object, fake_register: FakeRegister,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POS_APP_LOCK_MINUTES", "0")
    win = create_main_window(fake_register, runner=TaskRunner())
    qtbot.addWidget(win)
    assert win.idle.lock_after == timedelta(minutes=5)
    assert "POS_APP_LOCK_MINUTES='0' is not 1 to 60 minutes" in win.statusBar().currentMessage()


def test_the_window_locks_itself_after_the_idle_time(
        qtbot: QtBot, styled_app: object, fake_register: FakeRegister) -> None:
    win = create_main_window(fake_register, runner=TaskRunner(),
                             lock_after=timedelta(milliseconds=300))
    qtbot.addWidget(win)
    win.show()
    with qtbot.waitSignal(win.locked, timeout=10_000):
        sign_in(qtbot, win)  # the real QTimer, no input after the sign-in
    assert win.is_locked and win.lock_screen.isVisible()
    assert win.lock_screen.who_label.text() == "Alex Rivera is signed in."
    assert re.fullmatch(r"Locked since \d\d:\d\d", win.lock_screen.title_label.text())
    win.runner.wait_idle()


def test_nobody_signed_in_never_locks(qtbot: QtBot, window: MainWindow,
                                      clock: FakeClock) -> None:
    assert not window.idle.watching
    with qtbot.assertNotEmitted(window.locked):
        wait_out_idle_time(window, clock, minutes=30)
        window.lock()
    assert window.stack.currentWidget() is window.signin


def test_input_anywhere_starts_the_idle_time_again(
        qtbot: QtBot, window: MainWindow, clock: FakeClock) -> None:
    sign_in(qtbot, window)
    assert window.idle.watching
    clock.advance(minutes=4)
    qtbot.keyClicks(window.sell.panel.tendered_edit, "2")  # a key
    clock.advance(minutes=4)
    window.idle.on_timer_timeout()
    assert not window.is_locked
    assert window.idle.watching  # asleep again for the minute that is left
    qtbot.mouseClick(window.sell.tiles.tile_named("GA"), Qt.MouseButton.LeftButton)  # a tap
    wait_out_idle_time(window, clock, minutes=4.9)
    assert not window.is_locked
    with qtbot.waitSignal(window.locked):
        wait_out_idle_time(window, clock, minutes=0.2)
    assert window.is_locked


def test_a_pointer_that_does_not_move_is_not_someone_at_the_till(
        qapp: object, clock: FakeClock) -> None:
    idle = IdleWatch(timedelta(minutes=5), clock=clock)
    idle.start()

    def move_to(x: float) -> None:
        where = QPointF(x, 10)
        idle.eventFilter(idle, QMouseEvent(QEvent.Type.MouseMove, where, where, where,
                                           Qt.MouseButton.NoButton, Qt.MouseButton.NoButton,
                                           Qt.KeyboardModifier.NoModifier))

    move_to(10)
    clock.advance(minutes=1)
    move_to(10)  # Qt's own move under a still pointer (a widget changed under it)
    assert idle.idle_seconds() == 60
    move_to(11)
    assert idle.idle_seconds() == 0
    idle.deleteLater()


def test_the_lock_screen_hides_the_basket_its_amounts_and_the_status_bar(
        qtbot: QtBot, window: MainWindow, clock: FakeClock) -> None:
    sign_in(qtbot, window)
    ring_up(qtbot, window, "GA", "GA", "VIP")
    qtbot.keyClicks(window.sell.panel.tendered_edit, "100")
    assert "$75.00" in shown_texts(window)
    wait_out_idle_time(window, clock, minutes=5)

    assert window.is_locked
    assert not window.sell.isVisible() and not window.sell.panel.isVisible()
    assert not window.statusBar().isVisible()
    texts = shown_texts(window)
    assert not [text for text in texts if "$" in text or "75" in text or "100" in text], texts
    assert window.lock_screen.who_label.text() == "Alex Rivera is signed in."
    assert window.lock_screen.hint_label.text() == (
        "Enter your PIN to carry on. The basket is kept.")
    assert window.lock_screen.pin_edit.hasFocus()
    assert re.fullmatch(r"Locked since \d\d:\d\d\. Alex Rivera is signed in\. Enter your PIN "
                        r"to carry on\. The basket is kept\.",
                        window.lock_screen.property("lastAnnouncement"))
    window.grab().save("/tmp/lock.png")


def test_the_same_pin_unlocks_with_the_basket_as_it_was(
        qtbot: QtBot, window: MainWindow, fake_register: FakeRegister,
        clock: FakeClock) -> None:
    sign_in(qtbot, window)
    ring_up(qtbot, window, "GA", "GA", "VIP")
    qtbot.keyClicks(window.sell.panel.tendered_edit, "100")
    before = fake_register.session
    wait_out_idle_time(window, clock, minutes=5)
    for digit in "12":  # on the keypad, then typed
        qtbot.mouseClick(window.lock_screen.keypad.buttons[digit], Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(window.unlocked, timeout=10_000) as unlocked:
        qtbot.keyClicks(window.lock_screen.pin_edit, "34")
        qtbot.keyClick(window.lock_screen.pin_edit, Qt.Key.Key_Return)

    assert not window.is_locked and window.stack.currentWidget() is window.sell
    assert basket_of(window) == {1: 2, 2: 1}
    assert window.sell.panel.tendered_edit.text() == "100"
    assert window.sell.header.staff_label.text() == "Alex Rivera"
    assert window.statusBar().isVisible()
    # A fresh sign-in on the journal thread; the session it replaced is signed out.
    assert unlocked.args[0] is fake_register.session and fake_register.session is not before
    [replace_thread] = [t for name, t in fake_register.calls if name == "replace_session"]
    assert replace_thread is not threading.main_thread()
    assert before is not None and fake_register.revoked == [before.token]
    assert window.idle.watching and not window.idle.guarding


def test_a_wrong_pin_stays_locked_and_says_so(
        qtbot: QtBot, window: MainWindow, clock: FakeClock) -> None:
    sign_in(qtbot, window)
    ring_up(qtbot, window, "GA")
    wait_out_idle_time(window, clock, minutes=5)
    qtbot.keyClicks(window.lock_screen.pin_edit, "9999")
    with qtbot.waitSignal(window.lock_screen.unlock_failed, timeout=10_000), \
            qtbot.assertNotEmitted(window.unlocked):
        qtbot.keyClick(window.lock_screen.pin_edit, Qt.Key.Key_Return)
    assert window.is_locked
    assert window.lock_screen.error_label.isVisible()
    assert window.lock_screen.error_label.text() == WRONG_PIN
    assert window.lock_screen.pin_edit.text() == ""
    unlock(qtbot, window)
    assert basket_of(window) == {1: 1}


def test_too_many_tries_says_to_wait_and_stays_locked(
        qtbot: QtBot, window: MainWindow, fake_register: FakeRegister,
        clock: FakeClock) -> None:
    sign_in(qtbot, window)
    wait_out_idle_time(window, clock, minutes=5)
    fake_register.throttled = 240.0  # the server answers 429, Retry-After: 240
    qtbot.keyClicks(window.lock_screen.pin_edit, "1234")
    with qtbot.waitSignal(window.lock_screen.unlock_failed, timeout=10_000):
        qtbot.keyClick(window.lock_screen.pin_edit, Qt.Key.Key_Return)
    assert window.is_locked
    assert window.lock_screen.error_label.text() == (
        "Too many wrong PINs for this user. Try again in 4 min.")
    assert window.lock_screen.unlock_button.isEnabled()


def test_another_cashier_takes_over_with_the_basket(
        qtbot: QtBot, window: MainWindow, fake_register: FakeRegister,
        clock: FakeClock) -> None:
    sign_in(qtbot, window)
    ring_up(qtbot, window, "VIP", "VIP")
    alex = fake_register.session
    wait_out_idle_time(window, clock, minutes=5)
    qtbot.mouseClick(window.lock_screen.another_button, Qt.MouseButton.LeftButton)
    assert window.lock_screen.title_label.text() == "Another cashier"
    assert window.lock_screen.username_edit.hasFocus()
    qtbot.keyClicks(window.lock_screen.username_edit, "sam")
    qtbot.keyClick(window.lock_screen.username_edit, Qt.Key.Key_Return)  # on to the PIN
    qtbot.keyClicks(window.lock_screen.pin_edit, "5678")
    with qtbot.waitSignal(window.unlocked, timeout=10_000) as unlocked:
        qtbot.keyClick(window.lock_screen.pin_edit, Qt.Key.Key_Return)

    assert unlocked.args[0].staff.display_name == "Sam Okafor"
    assert window.stack.currentWidget() is window.sell
    assert window.sell.header.staff_label.text() == "Sam Okafor"
    assert basket_of(window) == {2: 2}
    assert alex is not None and fake_register.revoked == [alex.token]


def test_escape_goes_back_from_another_cashier_to_the_signed_in_one(
        qtbot: QtBot, window: MainWindow, clock: FakeClock) -> None:
    sign_in(qtbot, window)
    wait_out_idle_time(window, clock, minutes=5)
    screen = window.lock_screen
    qtbot.mouseClick(screen.another_button, Qt.MouseButton.LeftButton)
    assert screen.another_button.text() == "← Alex Rivera"
    qtbot.keyClick(screen.username_edit, Qt.Key.Key_Escape)
    assert not screen.another and not screen.username_edit.isVisible()
    assert screen.pin_edit.hasFocus()


def test_no_shortcut_of_the_window_acts_while_locked(
        qtbot: QtBot, window: MainWindow, fake_register: FakeRegister,
        clock: FakeClock) -> None:
    window.activateWindow()  # shortcuts, like the cashier's keys, go to the active window
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    sign_in(qtbot, window)
    # Also a shortcut of the whole window, on a widget the lock screen does not hide.
    whole_window = QShortcut(QKeySequence("Ctrl+K"), window)
    fired: list[bool] = []
    whole_window.activated.connect(lambda: fired.append(True))
    window.sell.focus_tender()
    press(qtbot, window, Qt.Key.Key_F1)
    press(qtbot, window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert basket_of(window) == {1: 1} and fired == [True]  # both act while unlocked
    wait_out_idle_time(window, clock, minutes=5)

    with qtbot.assertNotEmitted(window.sell.charge_started):
        for key in (Qt.Key.Key_F1, Qt.Key.Key_F2, Qt.Key.Key_Plus):
            press(qtbot, window, key)
        press(qtbot, window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
        press(qtbot, window, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        press(qtbot, window, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
        press(qtbot, window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert window.is_locked
    assert basket_of(window) == {1: 1} and fired == [True]
    assert fake_register.calls_to("sell") == 0
    for digit in (Qt.Key.Key_5, Qt.Key.Key_0):  # digits go to the PIN, not the tender
        press(qtbot, window, digit)
    assert window.lock_screen.pin_edit.text() == "50"
    assert window.sell.panel.tendered_edit.text() == ""


def test_an_expired_session_while_locked_keeps_the_lock_and_the_pin_signs_in_again(
        qtbot: QtBot, window: MainWindow, fake_register: FakeRegister,
        clock: FakeClock) -> None:
    sign_in(qtbot, window)
    ring_up(qtbot, window, "GA")
    wait_out_idle_time(window, clock, minutes=5)
    reads = fake_register.calls_to("events")
    fake_register.expired = True  # the server let the session lapse meanwhile
    with qtbot.waitSignal(window.sell.events_failed, timeout=10_000), \
            qtbot.assertNotEmitted(window.signed_out):
        window.sell.refresh_events()  # a read that was already on its way
    assert window.is_locked
    assert window.lock_screen.notice_label.text() == SESSION_ENDED_WHILE_LOCKED
    assert window.lock_screen.notice_label.isVisible()
    assert fake_register.calls_to("events") == reads + 1  # nothing reads on its own

    unlock(qtbot, window)
    assert window.stack.currentWidget() is window.sell
    assert basket_of(window) == {1: 1}
    qtbot.waitUntil(lambda: window.sell.tiles.tile_named("GA") is not None)


def test_dialogs_hide_while_locked_and_come_back_for_the_same_cashier(
        qtbot: QtBot, window: MainWindow, clock: FakeClock) -> None:
    sign_in(qtbot, window)
    window.show_printer_settings()
    dialog = window.printer_dialog
    assert dialog is not None and dialog.isVisible()
    wait_out_idle_time(window, clock, minutes=5)
    assert not dialog.isVisible()
    unlock(qtbot, window)
    assert window.printer_dialog is dialog and dialog.isVisible()


def test_another_cashier_does_not_get_the_previous_cashiers_dialogs(
        qtbot: QtBot, window: MainWindow, clock: FakeClock) -> None:
    sign_in(qtbot, window)
    window.show_printer_settings()
    dialog = window.printer_dialog
    assert dialog is not None
    wait_out_idle_time(window, clock, minutes=5)
    window.lock_screen.show_another_cashier()
    qtbot.keyClicks(window.lock_screen.username_edit, "sam")
    qtbot.keyClicks(window.lock_screen.pin_edit, "5678")
    with qtbot.waitSignal(window.unlocked, timeout=10_000):
        qtbot.keyClick(window.lock_screen.pin_edit, Qt.Key.Key_Return)
    assert window.printer_dialog is None and not dialog.isVisible()


def test_a_session_kept_from_an_earlier_run_opens_locked(
        qtbot: QtBot, styled_app: object, fake_register: FakeRegister) -> None:
    fake_register.sign_in("alex", "1234")  # as a restart finds it in the keyring
    kept = fake_register.session
    win = create_main_window(fake_register, runner=TaskRunner())
    qtbot.addWidget(win)
    win.show()
    assert win.is_locked and not win.sell.isVisible()
    assert win.lock_screen.who_label.text() == "Alex Rivera is signed in."
    assert fake_register.calls_to("events") == 0  # nothing read before the PIN
    unlock(qtbot, win)
    assert win.stack.currentWidget() is win.sell
    assert kept is not None and fake_register.revoked == [kept.token]
    win.runner.wait_idle()


def test_a_closed_window_holds_no_shortcut_back_and_never_locks(
        qtbot: QtBot, window: MainWindow, clock: FakeClock) -> None:
    sign_in(qtbot, window)
    wait_out_idle_time(window, clock, minutes=5)
    assert window.idle.guarding
    window.close()  # closed while locked (the next start opens locked: see above)
    assert not window.idle.guarding and not window.idle.watching
    window.show()
    assert window.idle.guarding  # still locked
    unlock(qtbot, window)
    window.close()
    assert not window.idle.watching
    with qtbot.assertNotEmitted(window.locked):
        wait_out_idle_time(window, clock, minutes=10)
        window.lock()
    assert not window.is_locked
