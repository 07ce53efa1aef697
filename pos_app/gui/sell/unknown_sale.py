"""A sale whose outcome is unknown, on the sell screen: the amber card with Retry and Abandon,
and settling the sale with the register (``shared/DESIGN.md``).

While a sale from the basket is ``unknown`` the basket is locked and Charge is blocked: the
sale may have gone through. With the customer still there, Retry sends the same journal entry
again (``register.retry_sale``: the server recognises its key, so it cannot be sold twice);
Abandon cancels it for good (``register.abandon_sale``, when the register has it). Both run
on the :class:`~pos_app.gui.core.task_runner.TaskRunner`'s journal thread; the card only shows
what they settle.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton

from pos_app.gui.core.ports import RegisterPort, SaleOutcomeLike, state_name
from pos_app.gui.core.task_runner import Task, TaskRunner
from pos_app.gui.core.widgets import named

__all__ = ["NO_ABANDON_TIP", "UNSETTLED_TIP", "UnknownSale"]

UNSETTLED_TIP = "The last sale's outcome is unknown: Retry or Abandon it first."
NO_ABANDON_TIP = "Abandon is not available in this version: Retry, or ask a manager."


class UnknownSale(QObject):
    """The Retry / Abandon card (:attr:`card`, for the screen to lay out) and the settling
    of one unknown sale at a time, by its journal key (:attr:`key`).

    Signals:
        still_unknown(object): Retry or Abandon answered, but the sale is still pending or
            unknown (``SaleOutcome``); :meth:`show` it again.
        settled(object): the sale is settled: confirmed, refused or abandoned
            (``SaleOutcome``); the card is hidden and :attr:`key` is ``None``.
        session_expired(): settling needs a new sign-in (the sale stays unknown).
    """

    still_unknown = Signal(object)
    settled = Signal(object)
    session_expired = Signal()

    def __init__(self, register: RegisterPort, runner: TaskRunner,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._register = register
        self._runner = runner
        self._task: Task | None = None
        self.key: str | None = None
        self.card = named(QFrame(), "unknownSaleCard")
        self.label = named(QLabel(), "unknownSaleText")
        self.label.setWordWrap(True)
        self.retry_button = named(QPushButton("Retry"), "primaryButton")
        self.retry_button.setAccessibleName("Retry the unknown sale")
        self.abandon_button = named(QPushButton("Abandon"), "secondaryButton")
        self.abandon_button.setAccessibleName("Abandon the unknown sale")
        layout = QHBoxLayout(self.card)
        layout.setContentsMargins(20, 12, 20, 12)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.retry_button)
        layout.addWidget(self.abandon_button)
        self.card.hide()
        self.retry_button.clicked.connect(self.retry)
        self.abandon_button.clicked.connect(self.abandon)

    @property
    def can_abandon(self) -> bool:
        """``True`` when the register can abandon a sale (``abandon_sale``)."""
        return callable(getattr(self._register, "abandon_sale", None))

    def show(self, outcome: SaleOutcomeLike) -> None:
        """Show the card for ``outcome`` (unknown): Retry, and Abandon when the register
        has it (else disabled, with a tooltip saying so)."""
        self.key = outcome.key
        self.label.setText(
            "This basket's last sale is unsettled. With the customer still here: Retry sends "
            "the same sale again (it cannot be sold twice). Abandon cancels it for good.")
        self.retry_button.setEnabled(True)
        can_abandon = self.can_abandon
        self.abandon_button.setEnabled(can_abandon)
        self.abandon_button.setToolTip("" if can_abandon else NO_ABANDON_TIP)
        self.card.show()

    def retry(self) -> None:
        """Send the unknown sale again (``register.retry_sale``) on the journal thread."""
        self._settle("retry_sale")

    def abandon(self) -> None:
        """Cancel the unknown sale for good (``register.abandon_sale``) on the journal
        thread."""
        self._settle("abandon_sale")

    def _settle(self, method: str) -> None:
        key = self.key
        action = getattr(self._register, method, None)
        if key is None or self._task is not None or not callable(action):
            return
        self.retry_button.setEnabled(False)
        self.abandon_button.setEnabled(False)
        self.label.setText("Checking the sale with the server…")
        self._task = self._runner.write(action, key)
        self._task.finished.connect(self.on_settle_task_finished)
        self._task.failed.connect(self.on_settle_task_failed)

    def on_settle_task_finished(self, outcome: SaleOutcomeLike) -> None:
        self._task = None
        state = state_name(outcome)
        if state in ("pending", "unknown"):
            self.still_unknown.emit(outcome)
            return
        self.key = None
        self.card.hide()
        self.settled.emit(outcome)

    def on_settle_task_failed(self, exc: BaseException) -> None:
        from pos_app.client import NotSignedIn, Unauthorized

        self._task = None
        self.retry_button.setEnabled(self.key is not None)
        self.abandon_button.setEnabled(self.can_abandon)
        self.label.setText(f"Still unknown ({exc}). Retry or Abandon.")
        if isinstance(exc, NotSignedIn | Unauthorized):
            self.session_expired.emit()
