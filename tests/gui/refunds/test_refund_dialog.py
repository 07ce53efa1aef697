"""The refund dialog with the real register, journal, receipts folder and a live HTTPS
server: a cashier's refund needs a manager's username and PIN typed on the dialog (without
them nothing is sent; a wrong PIN is refused and nothing refunded; the right one refunds,
prints the slip and puts the tickets back on sale); a manager refunds a whole sale with no
PIN fields; and "Receipts of this shift" opens it on the selected sale.

Also refreshes ``docs/screenshots/refund-approval.png``, ``refund-dialog.png`` and
``refund-done.png``.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QPoint, Qt
from pytestqt.qtbot import QtBot

from pos_app.api.schemas import Sale, SaleLineIn, TicketType
from pos_app.gui.core.task_runner import TaskRunner
from pos_app.gui.printing.printing import ReceiptPrinter
from pos_app.gui.refunds.refund_dialog import RefundDialog
from pos_app.gui.refunds.refund_tickets import RefundTicketsModel
from pos_app.gui.refunds.shift_receipts import ShiftReceiptsDialog
from pos_app.journal import EntryState, Register
from tests.gui.helpers import unnamed_controls
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.slow

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"
WAIT = 20_000


@dataclass
class Till:
    """The cashier alex signed in on a real register with an open shift, a small event
    ($25 GA and VIP, 10 each), a runner and a printer that saves PDFs (no printer here)."""

    register: Register
    runner: TaskRunner
    printer: ReceiptPrinter
    event_id: str

    def ticket_types(self) -> dict[str, TicketType]:
        self.register.events()  # fresh counts from the server
        return {tt.name: tt for tt in self.register.event(self.event_id).ticket_types}

    def sell(self, tendered: int, **quantities: int) -> Sale:
        ids = {name: tt.id for name, tt in self.ticket_types().items()}
        outcome = self.register.sell([SaleLineIn(ticket_type_id=ids[name], quantity=count)
                                      for name, count in quantities.items()], tendered)
        assert outcome.state is EntryState.CONFIRMED and outcome.sale is not None
        return outcome.sale

    def server_sale(self, number: int) -> Sale:
        return self.register.client.get_sale(number)

    def refunds_journaled(self) -> list[Any]:
        return self.register.journal.entries(operation="refund")


@pytest.fixture
def till(qtbot: QtBot, styled_app: object, register: Register,
         live_server: LiveServer) -> Iterator[Till]:
    event_id = live_server.small_event(capacity=10, price=2500, types=("GA", "VIP"))
    register.sign_in("alex", "1234")
    assert register.open_shift(20_000).state is EntryState.CONFIRMED
    runner = TaskRunner()
    yield Till(register, runner, ReceiptPrinter(printer_name="no-such-printer-here"), event_id)
    assert runner.wait_idle()


def open_refund(qtbot: QtBot, till: Till, sale: Sale | None = None) -> RefundDialog:
    dialog = RefundDialog(till.register, till.runner, till.printer, sale)
    qtbot.addWidget(dialog)
    dialog.resize(1000, 680)
    dialog.show()
    qtbot.waitExposed(dialog)
    return dialog


def rows(model: RefundTicketsModel) -> list[list[str]]:
    return [[str(model.index(row, column).data()) for column in range(model.columnCount())]
            for row in range(model.rowCount())]


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(path.read_bytes()))
                     .pages)


def test_a_cashiers_refund_needs_the_managers_pin_typed_on_the_dialog(
        qtbot: QtBot, till: Till, qtmodeltester: Any) -> None:
    sale = till.sell(10_000, GA=2, VIP=1)
    dialog = open_refund(qtbot, till)
    assert not dialog.is_manager and not dialog.approval_card.isHidden()
    assert dialog.pin_edit.echoMode() is dialog.pin_edit.EchoMode.Password

    # The sale number and Enter find the sale; its three tickets are listed.
    qtbot.keyClicks(dialog.number_edit, str(sale.number))
    with qtbot.waitSignal(dialog.sale_loaded, timeout=WAIT):
        qtbot.keyClick(dialog.number_edit, Qt.Key.Key_Return)
    qtmodeltester.check(dialog.tickets)
    assert unnamed_controls(dialog) == []
    assert rows(dialog.tickets) == [[ticket.code, name, "$25.00", "Valid"]
                                    for ticket, name in zip(sale.tickets, ("GA", "GA", "VIP"),
                                                            strict=True)]
    assert dialog.sale_label.text() == (f"Sale #{sale.number} · 3 tickets · $75.00 cash · "
                                        "Confirmed")
    assert not dialog.review_button.isEnabled()  # nothing checked yet

    # Space checks the first ticket: $25.00 to pay back.
    dialog.table.setCurrentIndex(dialog.tickets.index(0, 0))
    qtbot.keyClick(dialog.table, Qt.Key.Key_Space)
    assert [row.code for row in dialog.tickets.checked_rows()] == [sale.tickets[0].code]
    assert dialog.pay_back.text() == "Pay back $25.00"
    assert dialog.pay_back.how_label.text() == "1 ticket, in cash from the drawer"
    qtbot.keyClicks(dialog.reason_edit, "Customer cannot come")

    # Without the manager's username and PIN the dialog asks for them and sends nothing.
    qtbot.keyClick(dialog.reason_edit, Qt.Key.Key_Return)
    assert dialog.pages.currentIndex() == 0
    assert dialog.hint_label.text() == ("A cashier needs a manager's approval: the manager "
                                        "types their username and PIN.")
    assert dialog.focusWidget() is dialog.username_edit
    qtbot.keyClicks(dialog.username_edit, "morgan")
    qtbot.keyClick(dialog.username_edit, Qt.Key.Key_Return)
    assert dialog.hint_label.text().endswith("the manager types their PIN.")
    assert dialog.focusWidget() is dialog.pin_edit
    assert not till.runner.busy and till.refunds_journaled() == []

    # A wrong PIN: the server's sentence, nothing refunded, every field kept.
    qtbot.keyClicks(dialog.pin_edit, "9999")
    qtbot.wait(50)
    dialog.grab().save(str(SCREENSHOTS / "refund-approval.png"))
    qtbot.keyClick(dialog.pin_edit, Qt.Key.Key_Return)
    assert dialog.pages.currentIndex() == 1
    assert dialog.confirm_pay_back.text() == "Pay back $25.00"
    assert unnamed_controls(dialog) == []
    with qtbot.waitSignal(dialog.refund_refused, timeout=WAIT) as refused:
        qtbot.keyClick(dialog.confirm_button, Qt.Key.Key_Return)
    assert refused.args[0].state == "refused"
    assert dialog.pages.currentIndex() == 0
    assert dialog.hint_label.text() == ("The approval was refused: check the manager's "
                                        "username and PIN. Nothing was changed.")
    assert dialog.hint_label.property("warning") is True
    assert dialog.focusWidget() is dialog.pin_edit
    assert (dialog.reason_edit.text(), dialog.username_edit.text(), dialog.pin_edit.text()) == (
        "Customer cannot come", "morgan", "9999")
    assert [t.status for t in till.server_sale(sale.number).tickets] == ["valid"] * 3
    assert till.ticket_types()["GA"].sold == 2
    [entry] = till.refunds_journaled()
    assert entry.state is EntryState.REFUSED and "pin" not in str(entry.body).lower()
    assert entry.body["sale_ref"] == sale.id  # by id: valid at any till, unlike a number

    # The right PIN: refunded, the slip saved, the ticket no longer valid, the seat back.
    dialog.pin_edit.clear()
    qtbot.keyClicks(dialog.pin_edit, "2468")
    qtbot.keyClick(dialog.pin_edit, Qt.Key.Key_Return)
    refunds: list[Any] = []
    dialog.refund_confirmed.connect(refunds.append)
    with qtbot.waitSignal(dialog.slip_delivered, timeout=WAIT) as delivered:
        qtbot.keyClick(dialog.confirm_button, Qt.Key.Key_Return)
    [refund] = refunds
    assert (refund.amount, [t.code for t in refund.tickets]) == (2500, [sale.tickets[0].code])
    assert dialog.pages.currentIndex() == 2
    assert dialog.result_label.text() == ("Refund of $25.00 approved for 1 ticket(s) - pay it "
                                          "back (cash).")
    assert dialog.result_pay_back.text() == "Pay back $25.00"
    assert unnamed_controls(dialog) == []
    where = delivered.args[0]
    assert where.startswith("Saved to ")
    slip = Path(where.removeprefix("Saved to "))
    assert slip.parent == Path(till.register.paths.receipts_dir)
    assert slip.name.startswith(f"refund-{sale.number:06d}-")
    text = pdf_text(slip)
    for expected in ("REFUND", f"Sale #{sale.number:06d}", "Customer cannot come", "morgan",
                     "Alex Rivera", "$25.00", "REFUNDED IN CASH"):
        assert expected in text, expected
    assert sale.tickets[0].code in text.replace("\n", "")
    assert dialog.slip_label.text() == f"Refund slip: {where}"
    assert dialog.pin_edit.text() == ""  # the PIN does not stay on screen
    assert [t.status for t in till.server_sale(sale.number).tickets] == [
        "refunded", "valid", "valid"]
    assert till.ticket_types()["GA"].sold == 1 and till.ticket_types()["GA"].available == 9
    # The dialog shows the refunded ticket greyed, not checkable any more.
    assert rows(dialog.tickets)[0][3] == "Refunded"
    assert not dialog.tickets.flags(dialog.tickets.index(0, 0)) & Qt.ItemFlag.ItemIsUserCheckable
    qtbot.wait(50)
    dialog.grab().save(str(SCREENSHOTS / "refund-done.png"))


def test_a_manager_refunds_a_whole_sale_without_pin_fields(qtbot: QtBot, till: Till) -> None:
    sale = till.sell(10_000, GA=1, VIP=2)
    till.register.sign_out()
    till.register.sign_in("morgan", "2468")
    dialog = open_refund(qtbot, till, sale)
    assert dialog.is_manager and dialog.approval_card.isHidden()
    assert dialog.number_edit.text() == str(sale.number)
    assert dialog.tickets.rowCount() == 3

    qtbot.mouseClick(dialog.all_check, Qt.MouseButton.LeftButton,
                     pos=QPoint(12, dialog.all_check.height() // 2))  # on its box
    assert dialog.tickets.all_checked() and len(dialog.tickets.checked_rows()) == 3
    assert dialog.pay_back.text() == "Pay back $75.00"
    qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert dialog.hint_label.text().startswith("Give the reason for the refund")
    qtbot.keyClicks(dialog.reason_edit, "Show cancelled for this group")
    qtbot.mouseClick(dialog.review_button, Qt.MouseButton.LeftButton)
    assert dialog.pages.currentIndex() == 1
    assert dialog.confirm_title.text() == f"Refund 3 tickets of sale #{sale.number}?"
    assert dialog.confirm_pay_back.text() == "Pay back $75.00"
    assert "Approved by you (manager)" in dialog.confirm_details.text()
    qtbot.wait(50)
    dialog.grab().save(str(SCREENSHOTS / "refund-dialog.png"))

    with qtbot.waitSignals([dialog.refund_confirmed, dialog.slip_delivered], timeout=WAIT):
        qtbot.mouseClick(dialog.confirm_button, Qt.MouseButton.LeftButton)
    server = till.server_sale(sale.number)
    assert server.status == "refunded"
    assert {t.status for t in server.tickets} == {"refunded"}
    types = till.ticket_types()
    assert (types["GA"].sold, types["VIP"].sold) == (0, 0)
    assert not dialog.all_check.isEnabled() and dialog.tickets.valid_rows() == []
    [entry] = till.refunds_journaled()
    assert entry.state is EntryState.CONFIRMED and "manager" not in entry.body
    # Back to the form: every ticket is refunded, nothing more can be.
    qtbot.mouseClick(dialog.another_button, Qt.MouseButton.LeftButton)
    assert dialog.pages.currentIndex() == 0 and not dialog.review_button.isEnabled()


def test_an_unknown_sale_number_is_said_and_nothing_is_listed(qtbot: QtBot,
                                                              till: Till) -> None:
    dialog = open_refund(qtbot, till)
    qtbot.keyClick(dialog.number_edit, Qt.Key.Key_Return)
    assert dialog.hint_label.text() == ("Type the sale number printed on the receipt "
                                        "(e.g. 42), or scan a ticket's QR code.")
    qtbot.keyClicks(dialog.number_edit, "987654")
    with qtbot.waitSignal(till.runner.busy_changed, timeout=WAIT,
                          check_params_cb=lambda busy: not busy):
        qtbot.keyClick(dialog.number_edit, Qt.Key.Key_Return)
    assert dialog.hint_label.text() == ("No sale #987654 was found. Check the number on the "
                                        "receipt; another till's sale is found by scanning "
                                        "one of its tickets.")
    assert dialog.tickets.rowCount() == 0 and dialog.sale is None
    dialog.number_edit.clear()
    qtbot.keyClicks(dialog.number_edit, "A" * 26)  # a ticket code's shape, on no sale
    with qtbot.waitSignal(till.runner.busy_changed, timeout=WAIT,
                          check_params_cb=lambda busy: not busy):
        qtbot.keyClick(dialog.number_edit, Qt.Key.Key_Return)
    assert dialog.hint_label.text() == ("No sale has this ticket. Check the code, or type "
                                        "the sale number.")


def test_a_scanned_ticket_finds_its_sale_and_the_refund_names_the_sale_by_id(
        qtbot: QtBot, till: Till) -> None:
    sale = till.sell(5000, GA=2)
    dialog = open_refund(qtbot, till)
    # A scanner types the ticket's QR code (its ticket code) and Enter; any case will do.
    qtbot.keyClicks(dialog.number_edit, sale.tickets[1].code.lower())
    with qtbot.waitSignal(dialog.sale_loaded, timeout=WAIT):
        qtbot.keyClick(dialog.number_edit, Qt.Key.Key_Return)
    assert dialog.sale is not None and dialog.sale.id == sale.id
    assert rows(dialog.tickets)[1][0] == sale.tickets[1].code


def test_receipts_of_this_shift_opens_the_refund_dialog_on_the_selected_sale(
        qtbot: QtBot, till: Till) -> None:
    sale = till.sell(5000, GA=2)
    receipts = ShiftReceiptsDialog(till.register, till.runner, till.printer)
    qtbot.addWidget(receipts)
    receipts.show()
    with qtbot.waitSignal(receipts.sales_loaded, timeout=WAIT):
        receipts.load()
    assert receipts.selected_sale() == sale and receipts.refund_button.isEnabled()
    assert receipts.refund_button.accessibleName()

    qtbot.mouseClick(receipts.refund_button, Qt.MouseButton.LeftButton)
    dialog = receipts.refund_dialog
    assert isinstance(dialog, RefundDialog) and dialog.sale == sale
    assert dialog.tickets.rowCount() == 2
    dialog.tickets.set_checked(dialog.tickets.rows(), True)
    qtbot.keyClicks(dialog.reason_edit, "Double booking")
    qtbot.keyClicks(dialog.username_edit, "morgan")
    qtbot.keyClicks(dialog.pin_edit, "2468")
    dialog.review()
    slips: list[str] = []
    dialog.slip_delivered.connect(slips.append)
    with qtbot.waitSignal(receipts.sales_loaded, timeout=WAIT):  # the list is read again
        dialog.confirm()
    refunded = receipts.selected_sale()
    assert refunded is not None and refunded.status == "refunded"
    assert not receipts.refund_button.isEnabled()  # nothing left to refund
    qtbot.waitUntil(lambda: bool(slips), timeout=WAIT)
    dialog.accept()
    assert receipts.refund_dialog is None
