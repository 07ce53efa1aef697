"""The sign-in screen against a fake register."""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from pos_app.gui.shell.main_window import MainWindow
from pos_app.gui.shell.signin import WRONG_CREDENTIALS
from tests.fakes import FakeRegister


def test_enter_signs_in_and_shows_the_sell_screen_with_the_cashier(
        qtbot: QtBot, window: MainWindow) -> None:
    qtbot.keyClicks(window.signin.username_edit, "alex")
    qtbot.keyClick(window.signin.username_edit, Qt.Key.Key_Return)  # moves to the PIN
    for digit in "1234":
        qtbot.mouseClick(window.signin.keypad_buttons[digit], Qt.MouseButton.LeftButton)
    assert window.signin.pin_edit.text() == "1234"
    with qtbot.waitSignal(window.signin.signed_in, timeout=10_000) as signed_in:
        qtbot.keyClick(window.signin.pin_edit, Qt.Key.Key_Return)
    assert signed_in.args[0].staff.display_name == "Alex Rivera"
    assert window.stack.currentWidget() is window.sell
    assert window.sell.header.staff_label.text() == "Alex Rivera"


def test_the_button_says_signing_in_while_the_register_works(
        qtbot: QtBot, window: MainWindow, fake_register: FakeRegister) -> None:
    fake_register.delay = 0.3
    qtbot.keyClicks(window.signin.username_edit, "alex")
    qtbot.keyClicks(window.signin.pin_edit, "1234")
    with qtbot.waitSignal(window.signin.signed_in, timeout=10_000):
        qtbot.mouseClick(window.signin.sign_in_button, Qt.MouseButton.LeftButton)
        assert window.signin.sign_in_button.text() == "Signing in…"
        assert not window.signin.sign_in_button.isEnabled()
        qtbot.keyClick(window.signin.pin_edit, Qt.Key.Key_Return)  # ignored while busy
    window.runner.wait_idle()
    assert fake_register.calls_to("sign_in") == 1
    assert window.signin.sign_in_button.text() == "Sign in"


def test_a_wrong_pin_says_so_and_clears_the_pin(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.keyClicks(window.signin.username_edit, "alex")
    qtbot.keyClicks(window.signin.pin_edit, "9999")
    with qtbot.waitSignal(window.signin.sign_in_failed, timeout=10_000), \
            qtbot.assertNotEmitted(window.signin.signed_in):
        qtbot.keyClick(window.signin.pin_edit, Qt.Key.Key_Return)
    assert window.signin.error_label.isVisible()
    assert window.signin.error_label.text() == WRONG_CREDENTIALS
    assert window.signin.pin_edit.text() == ""
    assert window.signin.username_edit.text() == "alex"
    assert window.stack.currentWidget() is window.signin


def test_an_unreachable_server_is_reported(qtbot: QtBot, window: MainWindow,
                                           fake_register: FakeRegister) -> None:
    fake_register.unreachable = True
    qtbot.keyClicks(window.signin.username_edit, "alex")
    qtbot.keyClicks(window.signin.pin_edit, "1234")
    with qtbot.waitSignal(window.signin.sign_in_failed, timeout=10_000):
        qtbot.mouseClick(window.signin.sign_in_button, Qt.MouseButton.LeftButton)
    assert "Cannot reach the box-office server" in window.signin.error_label.text()
    assert window.signin.pin_edit.text() == "1234"


def test_the_pin_field_hides_digits_and_refuses_letters(qtbot: QtBot,
                                                        window: MainWindow) -> None:
    qtbot.keyClicks(window.signin.pin_edit, "12ab3")
    assert window.signin.pin_edit.text() == "123"
    assert window.signin.pin_edit.displayText() != "123"


def test_every_control_has_an_accessible_name(qtbot: QtBot, window: MainWindow) -> None:
    from PySide6.QtWidgets import QAbstractButton, QLineEdit

    from tests.gui.helpers import sign_in

    sign_in(qtbot, window)
    window.sell.tiles.tile_named("GA").click()
    controls = window.findChildren(QAbstractButton) + window.findChildren(QLineEdit)
    unnamed = [c for c in controls if c.isVisibleTo(window) and not c.accessibleName()]
    assert unnamed == []
