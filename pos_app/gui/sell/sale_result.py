"""What the cashier sees after Charge: a result card for confirmed sales, a banner otherwise.

:class:`SaleResultCard` shows the change to hand back and the notes and coins that make it up,
the sale number and where the receipt went. It is filled only from a confirmed, journal-settled
``Sale``; nothing here computes a sale of its own.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from pos_app.api.schemas import Sale
from pos_app.domain.cash import USD_DENOMINATIONS, change_due, denominations_for
from pos_app.domain.money import format_money
from pos_app.gui.core.widgets import named, restyle

__all__ = ["SaleResultCard", "change_breakdown"]



def change_breakdown(amount: int, currency: str) -> list[str]:
    """Notes and coins for ``amount`` minor units, e.g. ``["1 × $10.00", "1 × $5.00"]``.

    Empty for currencies without a denomination table (only USD today) or no change.
    """
    if currency.upper() != "USD" or amount <= 0:
        return []
    return [f"{count} × {format_money(value, currency)}"
            for value, count in denominations_for(amount, USD_DENOMINATIONS)]


class SaleResultCard(QFrame):
    """Change due, notes to hand back, sale number, receipt status and Reprint.

    Signals:
        reprint_requested(): the cashier asked for a copy of the receipt.
        dismissed(): the cashier closed the card ("New sale").
    """

    reprint_requested = Signal()
    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("saleResultCard")
        self.sale: Sale | None = None
        self.caption_label = named(QLabel("Change due"), "changeCaption")
        self.change_label = named(QLabel(), "changeDue")
        self.change_label.setAccessibleName("Change due")
        self.notes_label = named(QLabel(), "changeNotes")
        self.notes_label.setWordWrap(True)
        self.sale_label = named(QLabel(), "saleNumber")
        self.sale_label.setWordWrap(True)
        self.receipt_label = named(QLabel(), "receiptStatus")
        self.receipt_label.setWordWrap(True)
        # A long folder path must not widen the window: clip, full text in the tooltip.
        self.receipt_label.setSizePolicy(QSizePolicy.Policy.Ignored,
                                         QSizePolicy.Policy.Preferred)
        self.receipt_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reprint_button = named(QPushButton("Reprint"), "secondaryButton")
        self.reprint_button.setAccessibleName("Reprint receipt")
        self.new_sale_button = named(QPushButton("New sale"), "primaryButton")
        self.new_sale_button.setAccessibleName("Close and start a new sale")
        self.reprint_button.clicked.connect(self.on_reprint_button_clicked)
        self.new_sale_button.clicked.connect(self.on_new_sale_button_clicked)

        left = QVBoxLayout()
        left.setSpacing(2)
        left.addWidget(self.caption_label)
        left.addWidget(self.change_label)
        left.addWidget(self.notes_label)
        right = QVBoxLayout()
        right.setSpacing(6)
        right.addWidget(self.sale_label)
        right.addWidget(self.receipt_label)
        right.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.reprint_button)
        buttons.addWidget(self.new_sale_button)
        right.addLayout(buttons)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(22, 18, 22, 18)
        layout.setSpacing(20)
        layout.addLayout(left, 1)
        layout.addLayout(right, 1)
        self.hide()

    def show_sale(self, sale: Sale) -> None:
        """Show a confirmed ``sale``: its change (from the server's payment record)."""
        self.sale = sale
        change = sale.payment.change
        if change is None and sale.payment.tendered is not None:
            change = change_due(sale.total, sale.payment.tendered)
        change = change or 0
        self.change_label.setText(format_money(change, sale.currency))
        self.caption_label.setText("Change due" if change else "No change due")
        notes = change_breakdown(change, sale.currency)
        self.notes_label.setText("Hand back: " + ", ".join(notes) if notes else "")
        self.notes_label.setVisible(bool(notes))
        tickets = len(sale.tickets)
        self.sale_label.setText(
            f"Sale #{sale.number} confirmed · {tickets} ticket{'s' if tickets != 1 else ''} · "
            f"{format_money(sale.total, sale.currency)}")
        self.set_receipt_status("Preparing receipt…", busy=True)
        self.show()

    def change_text(self) -> str:
        return self.change_label.text()

    def set_receipt_status(self, text: str, *, busy: bool = False, failed: bool = False) -> None:
        """Say where the receipt went (or that it is on its way, or failed)."""
        self.receipt_label.setText(text)
        self.receipt_label.setToolTip(text)
        self.receipt_label.setProperty("failed", failed)
        restyle(self.receipt_label)
        self.reprint_button.setEnabled(not busy and self.sale is not None)

    def clear(self) -> None:
        self.sale = None
        self.hide()

    def on_reprint_button_clicked(self) -> None:
        if self.sale is not None:
            self.reprint_requested.emit()

    def on_new_sale_button_clicked(self) -> None:
        self.clear()
        self.dismissed.emit()
