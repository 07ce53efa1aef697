""""Receipts of this shift": find any sale of the terminal's open shift and reprint its
receipt, marked REPRINT.

The sales are read with ``register.shift_sales()`` on the
:class:`~pos_app.gui.core.task_runner.TaskRunner` (newest first), with the events for the venue's
time zone; a reprint looks the sale's event up with ``register.event`` and renders and prints
the receipt with the sell screen's :func:`~pos_app.gui.sell.sell_screen.deliver_receipt`, on a
worker too. The GUI thread only renders what comes back.

Keyboard: typing goes to the search box (sale number or ticket code), Up / Down move the
selection, Enter reprints the selected sale, F5 reads the sales again, Esc closes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pos_app.api.schemas import Event, EventsResponse, Sale
from pos_app.domain.clock import utc_now
from pos_app.gui.core.failures import FailureWords, failure_sentence, server_message
from pos_app.gui.core.ports import RegisterPort
from pos_app.gui.core.styles import style_sheet
from pos_app.gui.core.task_runner import Task, TaskRunner
from pos_app.gui.core.widgets import announce, named, restyle
from pos_app.gui.printing.printing import ReceiptPrinter
from pos_app.gui.printing.thermal_jobs import PrintFailed
from pos_app.gui.refunds.refund_work import RefundPort
from pos_app.gui.refunds.sales_model import SalesBrowser, SalesFilterProxy, SalesTableModel
from pos_app.gui.sell.sale_receipt import deliver_receipt

if TYPE_CHECKING:
    from pos_app.gui.refunds.refund_dialog import RefundDialog

__all__ = [
    "LOAD_FAILED",
    "ShiftReceiptsDialog",
    "ShiftReceiptsPort",
    "open_shift_receipts",
    "reprint_failure_message",
    "reprint_sale",
]

LOADING = "Loading this shift's sales…"
EMPTY = "No sales in this terminal's open shift yet."
UNREACHABLE = ("Cannot reach the server, so this shift's sales cannot be listed. Check the "
               "connection, then press F5 to try again.")
NO_MATCH = "No sale of this shift has that number or ticket code."
_STYLE = style_sheet("shift_receipts")
_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class ShiftReceiptsPort(RegisterPort, RefundPort, Protocol):
    """What the dialog needs from the register (blocking: through the runner only); the
    refund dialog it opens needs :class:`~pos_app.gui.refunds.refund_work.RefundPort`."""

    def shift_sales(self, *, limit: int = 500) -> list[Sale]: ...

    def event(self, event_id: str) -> Event: ...


def _read_shift_sales(register: ShiftReceiptsPort) -> tuple[list[Sale], EventsResponse]:
    """Worker: the open shift's sales (newest first) and the events (their venues' zones)."""
    sales = register.shift_sales()
    return sales, register.events()


def reprint_sale(register: ShiftReceiptsPort, printer: ReceiptPrinter, sale: Sale, *,
                 staff_name: str, terminal_name: str) -> str:
    """Render ``sale``'s receipt marked REPRINT into the receipts folder and print it.
    Worker only.

    Returns the printer's sentence ("Printed on ..." or "Saved to <path>"). Raises
    ``LookupError`` when the server no longer lists the sale's event, and whatever
    :func:`~pos_app.gui.sell.sell_screen.deliver_receipt` raises (``OSError``,
    :class:`~pos_app.gui.printing.printing.PrintFailed`, the client errors).
    """
    try:
        event = register.event(sale.event_id)
    except KeyError:
        register.events()  # the cached events may predate this event: read them again
        try:
            event = register.event(sale.event_id)
        except KeyError:
            raise LookupError(f"The event of sale #{sale.number} is no longer listed, so its "
                              "receipt cannot be rendered.") from None
    return deliver_receipt(register, printer, sale, event, reprint=True,
                           staff_name=staff_name, terminal_name=terminal_name)


LOAD_FAILED = FailureWords(
    session_ended="Your session has ended: sign in again to see this shift's receipts.",
    unreachable=UNREACHABLE,
    no_answer="The server did not answer in time. Press F5 to try again.",
    refused=lambda exc: f"The server would not list the sales: {server_message(exc)}",
    other=lambda exc: f"The sales could not be listed ({exc}). Press F5 to try again.",
)
"""The cashier's sentence for a failed read of the shift's sales (never a traceback)."""


def reprint_failure_message(sale: Sale, exc: BaseException) -> str:
    """The cashier's sentence for a reprint of ``sale`` that failed (never a traceback)."""
    from pos_app.client import ServerUnreachable

    if isinstance(exc, LookupError):
        return str(exc)
    if isinstance(exc, PrintFailed):
        return (f"The printer refused the reprint of sale #{sale.number} ({exc}). Check it, "
                "then press Enter to try again.")
    if isinstance(exc, ServerUnreachable):
        return (f"Cannot reach the server to look up sale #{sale.number}'s event. Try again "
                "when the connection is back.")
    return f"The reprint of sale #{sale.number} failed ({exc}). Press Enter to try again."


class ShiftReceiptsDialog(QDialog):
    """The open shift's sales, newest first, searchable, each reprintable (marked REPRINT).

    Call :meth:`load` (``open_shift_receipts`` does) to read the sales. :attr:`browser`
    holds the search box, the table and its model.

    Signals:
        sales_loaded(object): the shift's ``list[Sale]`` (newest first) is shown.
        load_failed(object): reading the sales raised this exception; a sentence is shown.
        receipt_reprinted(str): a reprint was printed or saved ("Printed on ..." /
            "Saved to <path>").
        reprint_failed(object): rendering or printing a reprint raised this exception.
    """

    sales_loaded = Signal(object)
    load_failed = Signal(object)
    receipt_reprinted = Signal(str)
    reprint_failed = Signal(object)

    def __init__(self, register: ShiftReceiptsPort, runner: TaskRunner,
                 printer: ReceiptPrinter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shiftReceiptsDialog")
        self.setWindowTitle("Receipts of this shift")
        self.setModal(True)
        self.setStyleSheet(_STYLE)
        self._register = register
        self._runner = runner
        self._printer = printer
        self._load_task: Task | None = None
        self._print_task: Task | None = None
        self._printing_sale: Sale | None = None

        title = named(QLabel("Receipts of this shift"), "sectionTitle")
        self.subtitle_label = named(QLabel("Find a sale by its number or a ticket code and "
                                           "reprint its receipt, marked REPRINT."),
                                    "sectionSubtitle")
        self.subtitle_label.setWordWrap(True)
        self.refresh_button = named(QPushButton("Refresh  F5"), "secondaryButton")
        self.refresh_button.setAccessibleName("Read this shift's sales again")
        self.browser = SalesBrowser(EMPTY, NO_MATCH)
        self.browser.table.setAccessibleName("Sales of this shift, newest first")
        self.status_label = named(QLabel(), "receiptsStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setAccessibleName("Reprint status")
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        keys = named(QLabel("Enter  reprint   ·   ↑ ↓  choose   ·   F5  refresh   ·   "
                            "Esc  close"), "receiptsKeys")
        keys.setAccessibleName("Keyboard shortcuts")
        self.close_button = named(QPushButton("Close"), "secondaryButton")
        self.close_button.setAccessibleName("Close the receipts of this shift")
        self.refund_button = named(QPushButton("Refund…"), "secondaryButton")
        self.refund_button.setAccessibleName("Refund tickets of the selected sale")
        self.refund_dialog: RefundDialog | None = None
        self.reprint_button = named(QPushButton("Reprint receipt"), "primaryButton")
        self.reprint_button.setAccessibleName("Reprint the selected sale's receipt")
        self.reprint_button.setToolTip("Enter")
        for push in (self.refresh_button, self.close_button, self.refund_button,
                     self.reprint_button):
            push.setAutoDefault(False)  # Enter is handled once: the browser or keyPressEvent
            push.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.close_button.setMinimumWidth(120)
        self.reprint_button.setMinimumWidth(200)

        heading = QVBoxLayout()
        heading.setSpacing(2)
        heading.addWidget(title)
        heading.addWidget(self.subtitle_label)
        top = QHBoxLayout()
        top.addLayout(heading, 1)
        top.addWidget(self.refresh_button, 0, Qt.AlignmentFlag.AlignBottom)
        buttons = QHBoxLayout()
        buttons.setSpacing(12)
        buttons.addWidget(keys, 1)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.refund_button)
        buttons.addWidget(self.reprint_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.setSpacing(14)
        layout.addLayout(top)
        layout.addWidget(self.browser, 1)
        layout.addWidget(self.status_label)
        layout.addLayout(buttons)
        self.setMinimumSize(860, 560)

        self.refresh_button.clicked.connect(self.load)
        self.close_button.clicked.connect(self.reject)
        self.reprint_button.clicked.connect(self.reprint_selected)
        self.refund_button.clicked.connect(self.refund_selected)
        self.browser.sale_chosen.connect(self.on_browser_sale_chosen)
        self.browser.current_changed.connect(self.on_browser_current_changed)
        self.browser.show_message(LOADING)
        self.search_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    # The browser's parts, for the caller and tests.
    @property
    def search_edit(self) -> QLineEdit:
        return self.browser.search_edit

    @property
    def table(self) -> QTableView:
        return self.browser.table

    @property
    def model(self) -> SalesTableModel:
        return self.browser.model

    @property
    def proxy(self) -> SalesFilterProxy:
        return self.browser.proxy

    @property
    def printing(self) -> bool:
        """``True`` while a reprint is being rendered or printed."""
        return self._print_task is not None

    def selected_sale(self) -> Sale | None:
        """The selected sale, or ``None``."""
        return self.browser.selected_sale()

    # --- reading ------------------------------------------------------------------------------

    def load(self) -> None:
        """Read the open shift's sales on a worker ("Loading…" meanwhile); ignored while a
        read is running."""
        if self._load_task is not None:
            return
        self.browser.show_message(LOADING)
        self._load_task = self._runner.read(_read_shift_sales, self._register)
        self._load_task.finished.connect(self.on_load_task_finished)
        self._load_task.failed.connect(self.on_load_task_failed)
        self._show_state()

    def on_load_task_finished(self, result: tuple[list[Sale], EventsResponse]) -> None:
        self._load_task = None
        sales, events = result
        session = self._register.session
        staff = {session.staff.id: session.staff.display_name} if session is not None else {}
        self.browser.set_sales(sales, zones={e.id: e.timezone for e in events.events},
                               staff_names=staff, now=utc_now())
        count = f"{len(sales)} sale{'s' if len(sales) != 1 else ''}"
        self.subtitle_label.setText(f"{count} in this shift, newest first. Find one by its "
                                    "number or a ticket code; the copy is marked REPRINT.")
        announce(self, f"{count} in this shift.")
        self._show_state()
        self.sales_loaded.emit(sales)

    def on_load_task_failed(self, exc: BaseException) -> None:
        self._load_task = None
        text = failure_sentence(exc, LOAD_FAILED)
        self.browser.show_message(text, failed=True)
        announce(self, text)
        self._show_state()
        self.load_failed.emit(exc)

    def on_browser_current_changed(self, _sale: object) -> None:
        self._show_state()

    # --- reprinting ---------------------------------------------------------------------------

    def on_browser_sale_chosen(self, _sale: object) -> None:
        self.reprint_selected()

    def reprint_selected(self) -> None:
        """Reprint the selected sale's receipt (marked REPRINT) on a worker; ignored while a
        reprint is running or nothing is selected."""
        sale = self.selected_sale()
        if sale is None or self.printing:
            return
        staff = self.model.staff_name(sale) if sale.staff_id is not None else ""
        self._printing_sale = sale
        self._set_status(f"Printing the reprint of sale #{sale.number}…")
        announce(self, f"Reprinting sale {sale.number}")
        self._print_task = self._runner.read(
            reprint_sale, self._register, self._printer, sale, staff_name=staff,
            terminal_name=self._register.config.terminal_name)
        self._print_task.finished.connect(self.on_print_task_finished)
        self._print_task.failed.connect(self.on_print_task_failed)
        self._show_state()

    def on_print_task_finished(self, where: str) -> None:
        sale, self._printing_sale, self._print_task = self._printing_sale, None, None
        text = f"Sale #{sale.number if sale else ''} reprinted: {where}"
        self._set_status(text)
        announce(self, text)
        self._show_state()
        self.receipt_reprinted.emit(where)

    def on_print_task_failed(self, exc: BaseException) -> None:
        sale, self._printing_sale, self._print_task = self._printing_sale, None, None
        text = (reprint_failure_message(sale, exc) if sale is not None
                else f"The reprint failed: {exc}")
        self._set_status(text, failed=True)
        announce(self, text)
        self._show_state()
        self.reprint_failed.emit(exc)

    # --- refunding ----------------------------------------------------------------------------

    def refund_selected(self) -> None:
        """Open the refund dialog on the selected sale (unless one is open); the list is read
        again after a refund."""
        from pos_app.gui.refunds.refund_dialog import open_refund

        sale = self.selected_sale()
        if sale is not None and self.refund_dialog is None:
            self.refund_dialog = open_refund(self, self._register, self._runner,
                                             self._printer, sale)
            self.refund_dialog.refund_confirmed.connect(self.load)  # a bound slot, see there
            self.refund_dialog.finished.connect(self.on_refund_dialog_finished)

    def on_refund_dialog_finished(self, _result: int) -> None:
        self.refund_dialog = None
        self.search_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    # --- look and keys --------------------------------------------------------------------------

    def _set_status(self, text: str, *, failed: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setToolTip(text)
        self.status_label.setAccessibleDescription(text)
        self.status_label.setProperty("failed", failed)
        restyle(self.status_label)

    def _show_state(self) -> None:
        sale = self.selected_sale()
        self.refresh_button.setEnabled(self._load_task is None)
        self.reprint_button.setEnabled(sale is not None and not self.printing)
        self.refund_button.setEnabled(sale is not None and sale.status != "refunded")
        self.reprint_button.setText("Printing…" if self.printing else
                                    f"Reprint sale #{sale.number}" if sale is not None else
                                    "Reprint receipt")
        if not self.status_label.text() and sale is not None:
            self._set_status("Enter reprints the selected sale's receipt, marked REPRINT.")

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Keys the search box and the table leave alone (the browser handles theirs).
        if event.key() == Qt.Key.Key_F5:
            self.load()
        elif event.key() in _ENTER:
            focused = self.focusWidget()
            if isinstance(focused, QPushButton) and focused.isEnabled():
                focused.click()
        else:
            super().keyPressEvent(event)
            return
        event.accept()


def open_shift_receipts(parent: QWidget | None, register: ShiftReceiptsPort,
                        runner: TaskRunner, printer: ReceiptPrinter) -> ShiftReceiptsDialog:
    """Open "Receipts of this shift" over ``parent`` (window-modal, returns at once) and
    start reading the sales. The dialog deletes itself once closed."""
    dialog = ShiftReceiptsDialog(register, runner, printer, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, True)
    dialog.open()
    dialog.search_edit.setFocus(Qt.FocusReason.OtherFocusReason)
    dialog.load()
    return dialog
