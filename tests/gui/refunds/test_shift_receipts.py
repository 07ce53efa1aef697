""""Receipts of this shift" with the real register, journal, receipts folder and a live HTTPS
server: the shift's sales listed newest first, found by number or ticket code, reprinted
with Enter (the PDF says REPRINT), and plain words when the server cannot be reached.

Also refreshes ``docs/screenshots/shift-receipts.png``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from pos_app.api.schemas import Event, ManagerApproval, Sale, SaleLineIn
from pos_app.client import InventoryClient
from pos_app.gui.core.task_runner import TaskRunner
from pos_app.gui.printing.printing import ReceiptPrinter
from pos_app.gui.refunds.sales_model import SalesTableModel
from pos_app.gui.refunds.shift_receipts import (
    EMPTY,
    LOADING,
    NO_MATCH,
    UNREACHABLE,
    ShiftReceiptsDialog,
    open_shift_receipts,
)
from pos_app.journal import EntryState, Register
from tests.support.live_server import LiveServer, free_port

pytestmark = pytest.mark.slow

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
WAIT = 20_000


@dataclass
class Till:
    """A signed-in real register with an open shift, a small event, a runner and a printer
    that saves PDFs (there is no printer here)."""

    register: Register
    runner: TaskRunner
    printer: ReceiptPrinter
    event: Event

    def sell(self, tendered: int, **quantities: int) -> Sale:
        ids = {tt.name: tt.id for tt in self.event.ticket_types}
        outcome = self.register.sell([SaleLineIn(ticket_type_id=ids[name], quantity=count)
                                      for name, count in quantities.items()], tendered)
        assert outcome.state is EntryState.CONFIRMED and outcome.sale is not None
        return outcome.sale


@pytest.fixture
def till(qtbot: QtBot, styled_app: object, register: Register,
         live_server: LiveServer) -> Iterator[Till]:
    event_id = live_server.small_event(capacity=30, price=2500, types=("GA", "VIP"))
    register.sign_in("alex", "1234")
    runner = TaskRunner()
    env = Till(register, runner, ReceiptPrinter(printer_name="no-such-printer-here"),
               register.event(event_id))
    yield env
    assert runner.wait_idle()


def open_dialog(qtbot: QtBot, till: Till) -> ShiftReceiptsDialog:
    dialog = ShiftReceiptsDialog(till.register, till.runner, till.printer)
    qtbot.addWidget(dialog)
    dialog.resize(980, 620)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def shown_numbers(dialog: ShiftReceiptsDialog) -> list[str]:
    return [str(dialog.proxy.index(row, SalesTableModel.NUMBER).data())
            for row in range(dialog.proxy.rowCount())]


def row_texts(dialog: ShiftReceiptsDialog, row: int) -> list[str]:
    return [str(dialog.proxy.index(row, column).data())
            for column in range(dialog.proxy.columnCount())]


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(path.read_bytes()))
                     .pages)


def test_the_shifts_sales_are_listed_newest_first_found_by_number_and_reprinted_with_enter(
        qtbot: QtBot, till: Till, qtmodeltester: Any) -> None:
    assert till.register.open_shift(20_000).state is EntryState.CONFIRMED
    first = till.sell(5000, GA=2)
    second = till.sell(10_000, GA=1, VIP=2)
    third = till.sell(2500, VIP=1)
    refunded = till.register.refund(str(second.number), reason="one guest could not come",
                                    ticket_codes=[second.tickets[0].code],
                                    manager=ManagerApproval(username="morgan", pin="2468"))
    assert refunded.state is EntryState.CONFIRMED

    dialog = open_dialog(qtbot, till)
    with qtbot.waitSignal(dialog.sales_loaded, timeout=WAIT) as loaded:
        dialog.load()
        assert dialog.browser.pages.currentWidget() is dialog.browser.placeholder
        assert dialog.browser.placeholder.text() == LOADING
        assert not dialog.reprint_button.isEnabled()

    assert [sale.number for sale in loaded.args[0]] == [third.number, second.number,
                                                        first.number]
    assert shown_numbers(dialog) == [f"#{third.number}", f"#{second.number}",
                                     f"#{first.number}"]
    qtmodeltester.check(dialog.model)
    qtmodeltester.check(dialog.proxy)
    local = second.created_at.astimezone(ZoneInfo(till.event.timezone))
    assert row_texts(dialog, 1) == [f"#{second.number}", f"{local:%H:%M} {local.tzname()}",
                                    "1 × GA, 2 × VIP", "$75.00", "Partially refunded",
                                    "Alex Rivera"]
    assert row_texts(dialog, 0)[3:5] == ["$25.00", "Confirmed"]
    assert dialog.selected_sale() == loaded.args[0][0] and dialog.search_edit.hasFocus()
    for widget in (dialog.search_edit, dialog.table, dialog.refresh_button,
                   dialog.close_button, dialog.reprint_button, dialog.status_label,
                   dialog.browser.placeholder):
        assert widget.accessibleName()
    qtbot.wait(50)
    dialog.grab().save(str(SCREENSHOTS / "shift-receipts.png"))

    qtbot.keyClicks(dialog.search_edit, str(second.number))
    assert shown_numbers(dialog) == [f"#{second.number}"]
    with qtbot.waitSignal(dialog.receipt_reprinted, timeout=WAIT) as reprinted:
        qtbot.keyClick(dialog.search_edit, Qt.Key.Key_Return)
    where = reprinted.args[0]
    assert where.startswith("Saved to ")  # there is no printer here
    pdf = Path(where.removeprefix("Saved to "))
    assert pdf.parent == Path(till.register.paths.receipts_dir)
    assert f"{second.number:06d}" in pdf.name and pdf.stem.endswith("-reprint")
    text = pdf_text(pdf)
    assert "REPRINT" in text and f"Sale #{second.number:06d}" in text
    assert second.tickets[0].code not in text.replace("\n", "")  # refunded: no longer admits
    assert dialog.status_label.text() == f"Sale #{second.number} reprinted: Saved to {pdf}"
    assert dialog.isVisible()

    # A ticket code (any case, any part) finds its sale; a number matches exactly.
    dialog.search_edit.clear()
    qtbot.keyClicks(dialog.search_edit, first.tickets[1].code[3:12].lower())
    assert shown_numbers(dialog) == [f"#{first.number}"]
    dialog.search_edit.clear()
    qtbot.keyClicks(dialog.search_edit, f"#{third.number + 1000}")
    assert dialog.proxy.rowCount() == 0 and dialog.browser.placeholder.text() == NO_MATCH
    assert not dialog.reprint_button.isEnabled()

    # Up / Down from the search box move the selection; typing in the table searches.
    dialog.search_edit.clear()
    assert dialog.selected_sale() == loaded.args[0][0]
    qtbot.keyClick(dialog.search_edit, Qt.Key.Key_Down)
    qtbot.keyClick(dialog.search_edit, Qt.Key.Key_Down)
    assert dialog.selected_sale() == loaded.args[0][2]
    qtbot.keyClick(dialog.search_edit, Qt.Key.Key_Down)
    qtbot.keyClick(dialog.search_edit, Qt.Key.Key_Up)
    assert dialog.selected_sale() == loaded.args[0][1]
    dialog.table.setFocus()
    qtbot.keyClicks(dialog.table, str(third.number))
    assert dialog.search_edit.hasFocus() and dialog.search_edit.text() == str(third.number)
    assert shown_numbers(dialog) == [f"#{third.number}"]

    qtbot.keyClick(dialog.search_edit, Qt.Key.Key_Escape)
    assert not dialog.isVisible()


def test_an_unreachable_server_and_an_empty_shift_are_told_in_plain_words(
        qtbot: QtBot, till: Till, monkeypatch: pytest.MonkeyPatch) -> None:
    dialog = open_dialog(qtbot, till)
    with qtbot.waitSignal(dialog.sales_loaded, timeout=WAIT) as loaded:
        dialog.load()
    assert loaded.args[0] == [] and dialog.browser.placeholder.text() == EMPTY  # no shift open yet
    assert not dialog.reprint_button.isEnabled()

    dead = InventoryClient(f"https://127.0.0.1:{free_port()}",
                           ca_file=till.register.config.ca_file, session_token="expired-anyway")
    monkeypatch.setattr(till.register, "client", dead)
    with qtbot.waitSignal(dialog.load_failed, timeout=WAIT):
        qtbot.keyClick(dialog.search_edit, Qt.Key.Key_F5)
    assert dialog.browser.pages.currentWidget() is dialog.browser.placeholder
    assert dialog.browser.placeholder.text() == UNREACHABLE
    assert dialog.browser.placeholder.property("failed") is True
    assert dialog.refresh_button.isEnabled() and not dialog.reprint_button.isEnabled()
    dead.close()


def test_shift_sales_keeps_the_newest_across_pages_and_open_shift_receipts_loads(
        qtbot: QtBot, till: Till) -> None:
    assert till.register.shift_sales() == []  # no shift open at this terminal
    assert till.register.open_shift(10_000).state is EntryState.CONFIRMED
    sales = [till.sell(2500, GA=1) for _ in range(3)]

    newest_two = till.register.shift_sales(limit=2)  # two pages of two: the first is dropped
    assert [sale.number for sale in newest_two] == [sales[2].number, sales[1].number]

    dialog = open_shift_receipts(None, till.register, till.runner, till.printer)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.sales_loaded, timeout=WAIT):
        pass
    assert dialog.isVisible() and dialog.search_edit.hasFocus()
    assert shown_numbers(dialog) == [f"#{sale.number}" for sale in reversed(sales)]
    with qtbot.waitSignal(dialog.finished, timeout=2_000):
        qtbot.keyClick(dialog.search_edit, Qt.Key.Key_Escape)
