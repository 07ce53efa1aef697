"""The sell screen against a fake register: what the cashier sees comes only from settled
outcomes, and the register never runs on the GUI thread."""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog
from pytestqt.qtbot import QtBot

from pos_app.api.schemas import ErrorBody
from pos_app.gui.sell.basket_panel import HINT_TENDER_LOW
from pos_app.gui.shell.main_window import MainWindow
from tests.fakes import FakeRegister
from tests.gui.helpers import press, sign_in


def ring_up(qtbot: QtBot, win: MainWindow, *names: str) -> None:
    for name in names:
        qtbot.mouseClick(win.sell.tiles.tile_named(name), Qt.MouseButton.LeftButton)


def tender(qtbot: QtBot, win: MainWindow, text: str) -> None:
    edit = win.sell.panel.tendered_edit
    edit.clear()
    qtbot.keyClicks(edit, text)


def test_a_confirmed_sale_shows_change_empties_the_basket_and_saves_a_receipt(
        qtbot: QtBot, window: MainWindow, fake_register: FakeRegister) -> None:
    sign_in(qtbot, window)
    sell = window.sell
    assert sell.tiles.tile_named("GA").left_text == "5 left"
    ring_up(qtbot, window, "GA", "GA", "VIP")
    assert sell.panel.total_label.text() == "$75.00"
    tender(qtbot, window, "100")
    with qtbot.waitSignal(sell.sale_confirmed, timeout=10_000) as confirmed, \
            qtbot.waitSignal(sell.receipt_delivered, timeout=10_000) as delivered:
        qtbot.mouseClick(sell.panel.charge_button, Qt.MouseButton.LeftButton)
    assert confirmed.args[0].state == "confirmed"
    assert sell.result_card.isVisible()
    assert sell.result_card.change_text() == "$25.00"
    assert "1 × $20.00, 1 × $5.00" in sell.result_card.notes_label.text()
    assert "Sale #1 confirmed" in sell.result_card.sale_label.text()
    assert sell.basket.is_empty()
    receipts = list(fake_register.paths.receipts_dir.glob("*.pdf"))
    assert len(receipts) == 1
    assert delivered.args[0] == f"Saved to {receipts[0]}"
    window.runner.wait_idle()
    assert sell.tiles.tile_named("GA").left_text == "3 left"


def test_double_charge_sells_once(qtbot: QtBot, window: MainWindow,
                                  fake_register: FakeRegister) -> None:
    sign_in(qtbot, window)
    sell = window.sell
    ring_up(qtbot, window, "GA")
    tender(qtbot, window, "25")
    fake_register.sell_gate = threading.Event()  # hold the sale in flight
    with qtbot.waitSignal(sell.charge_started):
        qtbot.mouseClick(sell.panel.charge_button, Qt.MouseButton.LeftButton)
    assert sell.panel.charge_button.text() == "Charging…"
    assert not sell.panel.charge_button.isEnabled()
    assert sell.basket.locked
    assert not sell.tiles.tile_named("GA").isEnabled()
    with qtbot.assertNotEmitted(sell.charge_started, wait=200):
        qtbot.mouseClick(sell.panel.charge_button, Qt.MouseButton.LeftButton)
        qtbot.keyClick(sell.panel.tendered_edit, Qt.Key.Key_Return)
        sell.panel.charge_button.click()
        sell.on_panel_charge_requested(2500)  # even a direct request is ignored
    with qtbot.waitSignal(sell.sale_confirmed, timeout=10_000):
        fake_register.sell_gate.set()
    window.runner.wait_idle()
    assert fake_register.calls_to("sell") == 1
    assert len(fake_register.sales) == 1
    assert sell.panel.charge_button.text() == "Charge"


def test_a_refusal_keeps_the_basket_and_shows_the_message(
        qtbot: QtBot, window: MainWindow, fake_register: FakeRegister) -> None:
    sign_in(qtbot, window)
    sell = window.sell
    ring_up(qtbot, window, "GA", "GA", "VIP")
    tender(qtbot, window, "80")
    before = sell.basket.lines
    message = "Only 1 GA left - reduce the quantity."
    fake_register.refusals.append(ErrorBody(error="insufficient_inventory", message=message))
    with qtbot.waitSignal(sell.sale_refused, timeout=10_000), \
            qtbot.assertNotEmitted(sell.sale_confirmed), \
            qtbot.assertNotEmitted(sell.receipt_delivered):
        qtbot.mouseClick(sell.panel.charge_button, Qt.MouseButton.LeftButton)
    window.runner.wait_idle()
    assert sell.banner.isVisible()
    assert sell.banner.kind == "error"
    assert sell.banner.text() == message
    assert sell.basket.lines == before
    assert not sell.basket.locked
    assert not sell.result_card.isVisible()
    assert sell.panel.tendered_edit.text() == "80"
    assert sell.panel.change_label.text() == "—"  # no change is due for a refused sale
    assert sell.panel.charge_button.isEnabled()
    assert not list(fake_register.paths.receipts_dir.glob("*.pdf"))


def test_an_unknown_outcome_shows_no_change_and_keeps_the_basket(
        qtbot: QtBot, window: MainWindow, fake_register: FakeRegister) -> None:
    sign_in(qtbot, window)
    sell = window.sell
    ring_up(qtbot, window, "VIP")
    tender(qtbot, window, "30")
    fake_register.unknowns = 1
    with qtbot.waitSignal(sell.sale_unknown, timeout=10_000), \
            qtbot.assertNotEmitted(sell.sale_confirmed):
        qtbot.mouseClick(sell.panel.charge_button, Qt.MouseButton.LeftButton)
    assert sell.banner.kind == "warning"
    assert "may or may not have gone through" in sell.banner.text()
    assert not sell.result_card.isVisible()
    assert [(line.name, line.quantity) for line in sell.basket.lines] == [("VIP", 1)]
    assert not list(fake_register.paths.receipts_dir.glob("*.pdf"))


def test_tender_below_total_disables_charge_with_a_hint(
        qtbot: QtBot, window: MainWindow, fake_register: FakeRegister) -> None:
    sign_in(qtbot, window)
    sell = window.sell
    ring_up(qtbot, window, "GA", "GA")
    tender(qtbot, window, "49.99")
    assert not sell.panel.charge_button.isEnabled()
    assert sell.panel.hint_label.text() == HINT_TENDER_LOW
    with qtbot.assertNotEmitted(sell.charge_started, wait=100):
        qtbot.keyClick(sell.panel.tendered_edit, Qt.Key.Key_Return)
    tender(qtbot, window, "50")
    assert sell.panel.charge_button.isEnabled()
    assert sell.panel.change_label.text() == "$0.00"
    assert fake_register.calls_to("sell") == 0


def test_quick_amounts_fill_the_tender_and_enter_charges(
        qtbot: QtBot, window: MainWindow, fake_register: FakeRegister) -> None:
    sign_in(qtbot, window)
    sell = window.sell
    ring_up(qtbot, window, "GA", "VIP", "VIP")
    labels = [b.text() for b in sell.panel.quick_buttons if b.isVisible()]
    assert labels == ["Exact", "$80.00", "$100.00"]
    qtbot.mouseClick(sell.panel.quick_buttons[2], Qt.MouseButton.LeftButton)
    assert sell.panel.tendered() == 10000
    with qtbot.waitSignal(sell.sale_confirmed, timeout=10_000):
        qtbot.keyClick(sell.panel.tendered_edit, Qt.Key.Key_Return)
    assert sell.result_card.change_text() == "$25.00"


def test_sold_out_and_fully_basketed_types_are_disabled(
        qtbot: QtBot, window: MainWindow) -> None:
    sign_in(qtbot, window)
    sell = window.sell
    vip = sell.tiles.tile_named("VIP")
    ring_up(qtbot, window, *["VIP"] * 5)
    assert sell.basket.quantity_of(2) == 5
    assert not vip.isEnabled()
    ring_up(qtbot, window, "VIP")  # a click on a disabled tile adds nothing
    assert sell.basket.quantity_of(2) == 5


def test_the_gui_thread_never_runs_register_methods(
        qtbot: QtBot, window: MainWindow, fake_register: FakeRegister) -> None:
    sign_in(qtbot, window)
    ring_up(qtbot, window, "GA")
    tender(qtbot, window, "30")
    with qtbot.waitSignal(window.sell.sale_confirmed, timeout=10_000):
        qtbot.mouseClick(window.sell.panel.charge_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(window.signed_out, timeout=10_000):
        qtbot.mouseClick(window.sell.header.sign_out_button, Qt.MouseButton.LeftButton)
    window.runner.wait_idle()
    names = {name for name, _thread in fake_register.calls}
    assert {"sign_in", "events", "sell", "sign_out"} <= names
    assert all(thread is not threading.main_thread() for thread in fake_register.threads())
    assert window.stack.currentWidget() is window.signin


def test_after_tapping_tiles_and_a_quick_amount_the_keyboard_is_in_the_tender_field(
        qtbot: QtBot, window: MainWindow, fake_register: FakeRegister) -> None:
    from PySide6.QtWidgets import QApplication

    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    sign_in(qtbot, window)
    sell = window.sell
    ring_up(qtbot, window, "GA")
    assert QApplication.focusWidget() is sell.panel.tendered_edit  # digits go to the tender
    ring_up(qtbot, window, "VIP", "VIP")
    qtbot.mouseClick(sell.panel.quick_buttons[2], Qt.MouseButton.LeftButton)
    focused = QApplication.focusWidget()
    assert focused is sell.panel.tendered_edit
    with qtbot.waitSignal(sell.sale_confirmed, timeout=10_000):
        qtbot.keyClick(focused, Qt.Key.Key_Return)  # Enter where the keyboard is
    assert sell.result_card.change_text() == "$25.00"


def test_when_a_dialog_over_the_sell_screen_closes_the_keys_work_again_without_a_click(
        qtbot: QtBot, window: MainWindow) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    sign_in(qtbot, window)
    sell = window.sell
    ga = sell.tiles.tile_named("GA").ticket_type.id
    press(qtbot, window, Qt.Key.Key_F1)
    assert sell.basket.quantity_of(ga) == 1

    dialog = QDialog(window)  # any dialog over the screen: float, hold, cash, a question
    dialog.open()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5_000)
    press(qtbot, window, Qt.Key.Key_F1)  # the dialog has the keyboard meanwhile
    assert sell.basket.quantity_of(ga) == 1
    press(qtbot, window, Qt.Key.Key_Escape)
    assert not dialog.isVisible()

    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)
    press(qtbot, window, Qt.Key.Key_F1)
    assert sell.basket.quantity_of(ga) == 2
    press(qtbot, window, Qt.Key.Key_5)  # digits from anywhere on the screen: the tender
    assert sell.panel.tendered_edit.text() == "5"
