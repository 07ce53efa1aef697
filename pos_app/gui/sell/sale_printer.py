"""The printer around a cash sale: asked about before charging, the cash drawer kicked as the
sale confirms (issue 5).

- **Before charging**: when the last status check (``ReceiptPrinter.last_readiness``, kept
  fresh by the header's printer status every few seconds, read here without blocking) says a
  receipt would not come out (offline, out of paper, cover open), Charge first asks "Charge
  anyway?" in a window-modal box. Enter charges (the receipt is saved as a PDF in the receipts
  folder, for a reprint later), Esc goes back to the basket. Asked once per basket: the next
  Charge of the same basket goes ahead.
- **As the sale confirms**: ``ReceiptPrinter.kick_drawer()`` on a worker at once, before the
  receipt is rendered or printed (the thermal printer takes one job at a time, the kick
  first). A kick that fails is said in the banner: open the drawer with its key.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

if TYPE_CHECKING:
    from pos_app.gui.core.task_runner import TaskRunner
    from pos_app.gui.printing.printing import ReceiptPrinter

__all__ = ["SalePrinter"]


class SalePrinter(QObject):
    """Printer checks for one sell screen (see the module docstring).

    Signals:
        drawer_kicked(str): the drawer kick reached the printer ("Cash drawer opened").
        drawer_failed(object): the kick raised this exception (``PrintFailed``).
    """

    drawer_kicked = Signal(str)
    drawer_failed = Signal(object)

    def __init__(self, printer: ReceiptPrinter, runner: TaskRunner, parent: QWidget) -> None:
        super().__init__(parent)
        self._printer = printer
        self._runner = runner
        self._parent = parent
        self._asked_for: int | None = None  # id() of the basket state already confirmed
        self.box: QMessageBox | None = None

    def check_before_charge(self, basket_key: int, go: Callable[[], None]) -> bool:
        """``True`` when Charge may go ahead now; else asks the cashier and calls ``go()``
        once they choose to charge anyway. ``basket_key`` identifies the basket's contents:
        a cashier who already said "charge anyway" for it is not asked again."""
        readiness = getattr(self._printer, "last_readiness", None)
        if readiness is None or not readiness.needs_attention or basket_key == self._asked_for:
            return True
        if self.box is not None and self.box.isVisible():
            return False
        box = QMessageBox(QMessageBox.Icon.Warning, "Printer",
                          f"{readiness.message}.\n\nCharge anyway? The receipt is saved as a "
                          "PDF in the receipts folder; reprint it when the printer is back.",
                          QMessageBox.StandardButton.NoButton, self._parent)
        box.setObjectName("printerWarning")
        charge = box.addButton("Charge anyway", QMessageBox.ButtonRole.AcceptRole)
        charge.setAccessibleName("Charge anyway without a printed receipt")
        back = box.addButton("Back to the basket", QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(charge)
        box.setEscapeButton(back)

        def chosen() -> None:
            self.box = None
            if box.clickedButton() is charge:
                self._asked_for = basket_key
                go()

        box.finished.connect(chosen)
        self.box = box
        box.open()
        return False

    def forget(self) -> None:
        """A sale ended: the next basket is asked about again."""
        self._asked_for = None

    def kick_drawer(self) -> None:
        """Open the cash drawer now, on a worker (nothing happens without a thermal printer
        or with the kick turned off in the printer settings)."""
        kick = getattr(self._printer, "kick_drawer", None)
        if not callable(kick):
            return
        task = self._runner.read(kick)
        task.finished.connect(self.on_kick_task_finished)
        task.failed.connect(self.drawer_failed)

    def on_kick_task_finished(self, said: object) -> None:
        if isinstance(said, str):
            self.drawer_kicked.emit(said)
