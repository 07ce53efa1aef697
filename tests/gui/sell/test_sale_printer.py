"""The printer around a cash sale, on the fake register with a network ESC/POS printer played
by a loopback TCP server: a printer out of paper is shown before charging (Esc goes back,
Enter charges anyway), and the cash drawer is kicked as the sale confirms, before the receipt
prints."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from pos_app.gui import TaskRunner, create_main_window
from pos_app.gui.printing.printer_config import Readiness
from pos_app.gui.shell.main_window import MainWindow
from tests.fakes import FakeRegister
from tests.gui.helpers import DRAWER_KICK, sign_in, thermal
from tests.unit.receipts.printer_server import LoopbackPrinter
from tests.unit.receipts.test_thermal_printer import OFFLINE, ONLINE, PAPER_OK, PAPER_OUT


@pytest.fixture
def printer_server() -> Iterator[LoopbackPrinter]:
    with LoopbackPrinter({1: OFFLINE, 4: PAPER_OUT}) as server:
        yield server


@pytest.fixture
def thermal_window(qtbot: QtBot, styled_app: object, fake_register: FakeRegister,
                   printer_server: LoopbackPrinter) -> Iterator[MainWindow]:
    win = create_main_window(fake_register, runner=TaskRunner(),
                             printer=thermal(printer_server.url))
    qtbot.addWidget(win)
    win.show()
    yield win
    win.runner.wait_idle()


def message_box(win: MainWindow) -> object:
    box = win.sell.sale_printer.box
    return box if box is not None and box.isVisible() else None


def test_out_of_paper_is_asked_about_before_charging_and_the_drawer_opens_first(
        qtbot: QtBot, thermal_window: MainWindow, printer_server: LoopbackPrinter) -> None:
    win = thermal_window
    sell = win.sell
    sign_in(qtbot, win)
    assert win.printer.readiness().state is Readiness.PAPER_OUT  # what the header's poll sees
    qtbot.mouseClick(sell.tiles.tile_named("GA"), Qt.MouseButton.LeftButton)
    qtbot.keyClicks(sell.panel.tendered_edit, "30")

    with qtbot.assertNotEmitted(sell.charge_started):
        qtbot.keyClick(sell.panel.tendered_edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: message_box(win) is not None)
    box = sell.sale_printer.box
    assert box is not None and "out of paper" in box.text()
    assert "Charge anyway?" in box.text()
    box.grab().save("docs/screenshots/printer-warning.png")
    with qtbot.assertNotEmitted(sell.charge_started):
        qtbot.keyClick(box, Qt.Key.Key_Escape)
        qtbot.waitUntil(lambda: message_box(win) is None)
    assert sell.basket.quantity_of(1) == 1  # back to the basket, nothing sold

    qtbot.keyClick(sell.panel.tendered_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: message_box(win) is not None)
    box = sell.sale_printer.box
    assert box is not None
    with qtbot.waitSignal(sell.sale_confirmed, timeout=10_000), \
            qtbot.waitSignal(sell.sale_printer.drawer_kicked, timeout=10_000), \
            qtbot.waitSignal(sell.receipt_delivered, timeout=10_000):
        qtbot.keyClick(box, Qt.Key.Key_Return)
    win.runner.wait_idle()

    jobs = printer_server.jobs
    kick = jobs.index(DRAWER_KICK)
    receipt = next(i for i, job in enumerate(jobs) if b"000001" in job)
    assert kick < receipt  # the drawer opens before the receipt starts printing
    assert sell.result_card.change_text() == "$5.00"


def test_a_ready_printer_is_not_asked_about(
        qtbot: QtBot, styled_app: object, fake_register: FakeRegister) -> None:
    with LoopbackPrinter({1: ONLINE, 4: PAPER_OK}) as server:
        win = create_main_window(fake_register, runner=TaskRunner(), printer=thermal(server.url))
        qtbot.addWidget(win)
        win.show()
        sign_in(qtbot, win)
        assert win.printer.readiness().state is Readiness.OK
        qtbot.mouseClick(win.sell.tiles.tile_named("GA"), Qt.MouseButton.LeftButton)
        qtbot.keyClicks(win.sell.panel.tendered_edit, "25")
        with qtbot.waitSignal(win.sell.sale_confirmed, timeout=10_000):
            qtbot.keyClick(win.sell.panel.tendered_edit, Qt.Key.Key_Return)
        assert message_box(win) is None
        win.runner.wait_idle()


def test_a_drawer_that_does_not_open_is_said(
        qtbot: QtBot, styled_app: object, fake_register: FakeRegister) -> None:
    from tests.unit.receipts.printer_server import closed_port

    win = create_main_window(fake_register, runner=TaskRunner(),
                             printer=thermal(f"tcp://127.0.0.1:{closed_port()}"))
    qtbot.addWidget(win)
    win.show()
    sign_in(qtbot, win)
    qtbot.mouseClick(win.sell.tiles.tile_named("GA"), Qt.MouseButton.LeftButton)
    qtbot.keyClicks(win.sell.panel.tendered_edit, "25")
    # Nothing listens: the last check said offline, so Charge asks first.
    assert win.printer.readiness().needs_attention
    qtbot.keyClick(win.sell.panel.tendered_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: message_box(win) is not None)
    box = win.sell.sale_printer.box
    assert box is not None
    with qtbot.waitSignal(win.sell.sale_printer.drawer_failed, timeout=10_000):
        qtbot.keyClick(box, Qt.Key.Key_Return)
    assert "Open the drawer with its key" in win.sell.banner.text()
    win.runner.wait_idle()
