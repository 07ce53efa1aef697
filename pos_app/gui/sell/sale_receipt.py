"""The receipt of a sale confirmed on the sell screen: saved as a PDF and printed on a worker
just after the change due is painted, printed again (marked REPRINT) when the cashier asks,
and how that went said on the result card.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from pos_app.api.schemas import Event, Sale
from pos_app.gui.core.ports import RegisterPort
from pos_app.gui.core.task_runner import TaskRunner
from pos_app.gui.printing.printing import ReceiptPrinter
from pos_app.gui.sell.sale_result import SaleResultCard

__all__ = ["RECEIPT_DELAY_MS", "SaleReceipt", "deliver_receipt"]

RECEIPT_DELAY_MS = 50
"""Milliseconds between painting the change due and starting the receipt's worker."""


def deliver_receipt(register: RegisterPort, printer: ReceiptPrinter, sale: Sale, event: Event, *,
                    staff_name: str, terminal_name: str, reprint: bool = False) -> str:
    """Save ``sale``'s receipt (and tickets) as a PDF in the receipts folder and print them
    on the configured printer (:meth:`ReceiptPrinter.deliver_sale`). Runs on a worker.

    Returns the printer's sentence ("Printed on ..." or "Saved to <path>"); raises
    :class:`~pos_app.gui.printing.printing.PrintFailed` (the PDF is saved) and ``OSError``.
    """
    return printer.deliver_sale(register, sale, event, reprint=reprint, staff_name=staff_name,
                                terminal_name=terminal_name)


class SaleReceipt(QObject):
    """The last confirmed sale's receipt, shown on ``card``.

    ``names()`` gives ``(staff_name, terminal_name)`` for the receipt, read when it is
    rendered (the cashier signed in then).

    Signals:
        delivered(str): the receipt was printed or saved; carries the printer's sentence.
        failed(object): rendering or printing the receipt raised this exception.
    """

    delivered = Signal(str)
    failed = Signal(object)

    def __init__(self, register: RegisterPort, runner: TaskRunner, printer: ReceiptPrinter,
                 card: SaleResultCard, names: Callable[[], tuple[str, str]],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._register = register
        self._runner = runner
        self._printer = printer
        self._card = card
        self._names = names
        self.last_sale: tuple[Sale, Event] | None = None

    def sale_confirmed(self, sale: Sale, event: Event) -> None:
        """Print ``sale``'s receipt (of ``event``) once the change due has been painted."""
        self.last_sale = (sale, event)
        # After the change due has been painted: the receipt's worker start-up (render
        # imports, GIL) must not delay what the cashier reads first.
        QTimer.singleShot(RECEIPT_DELAY_MS, self,  # dropped if the screen goes first
                          lambda s=sale: self._render_first_receipt(s))

    def forget(self) -> None:
        """No sale to reprint any more (the cashier signed out)."""
        self.last_sale = None

    def _render_first_receipt(self, sale: Sale) -> None:
        if self.last_sale is not None and self.last_sale[0] is sale:
            self._render_receipt(reprint=False)

    def reprint(self) -> None:
        """Print the last sale's receipt again, marked REPRINT (nothing without a sale)."""
        if self.last_sale is not None:
            self._render_receipt(reprint=True)

    def _render_receipt(self, *, reprint: bool) -> None:
        assert self.last_sale is not None
        sale, event = self.last_sale
        staff, terminal = self._names()
        self._card.set_receipt_status(
            "Printing reprint…" if reprint else "Printing receipt…", busy=True)
        task = self._runner.read(deliver_receipt, self._register, self._printer, sale, event,
                                 staff_name=staff, terminal_name=terminal, reprint=reprint)
        task.finished.connect(self.on_receipt_task_finished)
        task.failed.connect(self.on_receipt_task_failed)

    def on_receipt_task_finished(self, where: str) -> None:
        if where.startswith("Saved to "):  # the folder is long; its file name is what matters
            shown = f"Receipt saved as {Path(where.removeprefix('Saved to ')).name}"
        else:
            shown = f"Receipt: {where}"
        self._card.set_receipt_status(shown)
        self._card.receipt_label.setToolTip(where)
        self.delivered.emit(where)

    def on_receipt_task_failed(self, exc: BaseException) -> None:
        self._card.set_receipt_status(f"Receipt failed: {exc}. Press Reprint to retry.",
                                      failed=True)
        self.failed.emit(exc)
