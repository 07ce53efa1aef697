"""The POS window with the real register, journal, receipts and a live HTTPS server.

Also refreshes ``docs/screenshots/signin.png`` and ``docs/screenshots/sell-screen.png``.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from pos_app.api.schemas import SaleLineIn
from pos_app.domain.money import format_money
from pos_app.gui.shell.main_window import MainWindow
from pos_app.journal import Register
from tests.gui.helpers import journal_thread_held, open_shift, select_event, sign_in
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.slow

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def click_tile(qtbot: QtBot, win: MainWindow, name: str, times: int = 1) -> None:
    for _ in range(times):
        qtbot.mouseClick(win.sell.tiles.tile_named(name), Qt.MouseButton.LeftButton)


def test_a_cash_sale_through_the_window_confirms_prints_and_counts_down(
        qtbot: QtBot, real_window: MainWindow, register: Register,
        live_server: LiveServer) -> None:
    win = real_window
    event_id = live_server.small_event(capacity=10, price=2500, types=("GA", "VIP"))
    qtbot.wait(50)
    win.grab().save(str(SCREENSHOTS / "signin.png"))
    sign_in(qtbot, win, "alex", "1234")
    open_shift(qtbot, win, register)
    select_event(qtbot, win, event_id)
    sell = win.sell
    assert sell.tiles.tile_named("GA").left_text == "10 left"

    click_tile(qtbot, win, "GA", times=2)
    assert sell.panel.total_label.text() == "$50.00"
    qtbot.keyClicks(sell.panel.tendered_edit, "60")
    with qtbot.waitSignal(sell.sale_confirmed, timeout=20_000) as confirmed, \
            qtbot.waitSignal(sell.receipt_delivered, timeout=20_000) as delivered:
        qtbot.mouseClick(sell.panel.charge_button, Qt.MouseButton.LeftButton)
    win.runner.wait_idle()

    outcome = confirmed.args[0]
    assert outcome.state == "confirmed"
    assert outcome.sale.total == 5000
    assert sell.result_card.isVisible()
    assert sell.result_card.change_text() == format_money(6000 - 5000, "USD") == "$10.00"
    assert f"Sale #{outcome.sale.number} confirmed" in sell.result_card.sale_label.text()
    receipts = sorted(Path(register.paths.receipts_dir).glob("*.pdf"))
    assert len(receipts) == 1
    assert receipts[0].stat().st_size > 0
    assert delivered.args[0] in {f"Saved to {receipts[0]}"} or delivered.args[0].startswith(
        "Printed on ")
    assert sell.basket.is_empty()
    assert sell.tiles.tile_named("GA").left_text == "8 left"
    win.grab().save(str(SCREENSHOTS / "sell-screen.png"))

    with qtbot.waitSignal(sell.receipt_delivered, timeout=20_000):
        qtbot.mouseClick(sell.result_card.reprint_button, Qt.MouseButton.LeftButton)
    assert any("reprint" in p.name for p in Path(register.paths.receipts_dir).glob("*.pdf"))


def test_selling_more_than_is_left_is_refused_and_the_basket_stays(
        qtbot: QtBot, real_window: MainWindow, register: Register,
        live_server: LiveServer) -> None:
    win = real_window
    event_id = live_server.small_event(capacity=3, price=2500, types=("GA", "VIP"))
    sign_in(qtbot, win, "alex", "1234")
    open_shift(qtbot, win, register)
    select_event(qtbot, win, event_id)
    sell = win.sell
    ga_id = sell.tiles.tile_named("GA").ticket_type.id
    with journal_thread_held(win):  # the basket's checkout hold goes out only after ...
        click_tile(qtbot, win, "GA", times=3)
        assert sell.basket.quantity_of(ga_id) == 3
        qtbot.keyClicks(sell.panel.tendered_edit, "100")
        # ... another sale at this terminal took 2 of the 3 (off the GUI thread).
        other = threading.Thread(target=register.sell,
                                 args=([SaleLineIn(ticket_type_id=ga_id, quantity=2)], 5000))
        other.start()
        other.join(30)
    # The hold of the first ticket went through, growing it to 3 did not: the basket stays.
    qtbot.waitUntil(lambda: sell.checkout is not None and sell.checkout.state == "short",
                    timeout=20_000)
    assert sell.hold_strip.text_label.text().startswith("Only 1 GA left - reduce the quantity.")
    assert sell.banner.text() == "Only 1 GA left - reduce the quantity."
    before = [(line.ticket_type_id, line.name, line.quantity, line.unit_price)
              for line in sell.basket.lines]

    with qtbot.waitSignal(sell.sale_refused, timeout=20_000) as refused, \
            qtbot.assertNotEmitted(sell.sale_confirmed):
        qtbot.keyClick(sell.panel.tendered_edit, Qt.Key.Key_Return)
    win.runner.wait_idle()

    assert refused.args[0].state == "refused"
    assert sell.banner.isVisible()
    assert sell.banner.text() == refused.args[0].message
    assert "GA" in sell.banner.text()
    assert [(line.ticket_type_id, line.name, line.quantity, line.unit_price)
            for line in sell.basket.lines] == before
    assert sell.panel.total_label.text() == "$75.00"
    assert sell.panel.tendered_edit.text() == "100"
    assert not sell.result_card.isVisible()
    assert not list(Path(register.paths.receipts_dir).glob("*.pdf"))
    # The last one is the basket's, held: sold out for everyone else.
    assert sell.tiles.tile_named("GA").left_text == "Sold out"
    assert sell.checkout is not None and sell.checkout.hold is not None
    win.grab().save(str(SCREENSHOTS / "sell-refused.png"))
