"""The widgets of the refund dialog (:class:`~pos_app.gui.refunds.refund_dialog.RefundDialog`) and
how they are laid out on its three steps: the form (sale, tickets, reason, manager approval, the
amount), the confirmation (the amount to pay back, large) and the result (the server's
sentence and the slip). No behaviour: the dialog drives it."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from pos_app.api.schemas import MAX_REASON_LENGTH, Refund, Sale
from pos_app.domain.money import format_money
from pos_app.gui.core.checkable_model import CheckTableView
from pos_app.gui.core.form_style import caption
from pos_app.gui.core.tables import configure_row_table
from pos_app.gui.core.widgets import named
from pos_app.gui.refunds.refund_tickets import RefundTicketsModel, TicketRow

__all__ = ["RefundView"]


def _push(text: str, accessible: str, object_name: str = "secondaryButton") -> QPushButton:
    button = named(QPushButton(text), object_name)
    button.setAccessibleName(accessible)
    button.setAutoDefault(False)  # Enter is handled once, by the dialog
    return button


class _PayBack(QFrame):
    """``PAY BACK`` over a large amount and how it is paid (cash / original payment)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("payBackCard")
        self.caption_label = named(QLabel("PAY BACK"), "payBackCaption")
        self.amount_label = named(QLabel(), "payBackAmount")
        self.amount_label.setAccessibleName("Amount to pay back")
        self.how_label = named(QLabel(), "payBackCaption")
        self.how_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 12, 18, 12)
        layout.setSpacing(2)
        layout.addWidget(self.caption_label)
        layout.addWidget(self.amount_label)
        layout.addWidget(self.how_label)

    def show_amount(self, amount: int, currency: str, tickets: int, cash: bool) -> None:
        money = format_money(amount, currency)
        self.amount_label.setText(money)
        self.amount_label.setAccessibleDescription(f"Pay back {money}")
        where = "in cash from the drawer" if cash else "to the original payment"
        self.how_label.setText(f"{tickets} ticket{'s' if tickets != 1 else ''}, {where}"
                               if tickets else "Check the tickets to refund")

    def text(self) -> str:
        return f"Pay back {self.amount_label.text()}"


class RefundView(QDialog):
    """The refund dialog's widgets (see the module docstring); ``needs_approval`` shows the
    manager's username and PIN fields."""

    def __init__(self, *, needs_approval: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("refundDialog")
        self.setWindowTitle("Refund")
        self.setModal(True)
        self.tickets = RefundTicketsModel(self)

        title = named(QLabel("Refund"), "sectionTitle")
        subtitle = named(QLabel("Find the sale by its number or scan a ticket, check the "
                                "tickets to refund, give the reason."), "sectionSubtitle")
        self.number_edit = QLineEdit()
        self.number_edit.setPlaceholderText("Sale number (e.g. 42) or scan a ticket")
        self.number_edit.setAccessibleName("Sale number or ticket code")
        self.find_button = _push("Find  Enter", "Look the sale up")
        self.sale_label = named(QLabel("No sale yet."), "saleNumber")
        self.sale_label.setAccessibleName("The sale")
        self.sale_label.setWordWrap(True)
        self.table = configure_row_table(CheckTableView(self.tickets), row_height=40)
        self.table.setModel(self.tickets)
        self.table.setAccessibleName("Tickets of the sale; Space checks one")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.all_check = QCheckBox("&All tickets still valid")
        self.all_check.setAccessibleName("Refund every ticket still valid")
        self.reason_edit = QLineEdit()
        self.reason_edit.setMaxLength(MAX_REASON_LENGTH)
        self.reason_edit.setPlaceholderText("Required, e.g. customer cannot come")
        self.reason_edit.setAccessibleName("Reason for the refund")

        self.approval_card = QFrame()
        self.approval_card.setObjectName("approvalCard")
        self.username_edit = QLineEdit()
        self.username_edit.setPlaceholderText("Manager's username")
        self.username_edit.setAccessibleName("Approving manager's username")
        self.pin_edit = QLineEdit()
        self.pin_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin_edit.setPlaceholderText("PIN")
        self.pin_edit.setAccessibleName("Approving manager's PIN")
        approval = QGridLayout(self.approval_card)
        approval.setContentsMargins(16, 12, 16, 12)
        approval.addWidget(named(QLabel("Manager approval"), "panelTitle"), 0, 0, 1, 2)
        note = named(QLabel("A cashier's refund needs a manager: the manager types their "
                            "username and PIN here."), "hintLabel")
        note.setWordWrap(True)
        approval.addWidget(note, 1, 0, 1, 2)
        approval.addWidget(caption("&Manager", self.username_edit), 2, 0)
        approval.addWidget(self.username_edit, 2, 1)
        approval.addWidget(caption("&PIN", self.pin_edit), 3, 0)
        approval.addWidget(self.pin_edit, 3, 1)
        self.approval_card.setVisible(needs_approval)
        self.pay_back = _PayBack()
        self.close_button = _push("Close", "Close the refund dialog")
        self.review_button = _push("Refund…", "Review the refund before confirming",
                                   "primaryButton")
        self.review_button.setMinimumWidth(170)

        find_row = QHBoxLayout()
        find_row.addWidget(caption("&Sale #", self.number_edit))
        find_row.addWidget(self.number_edit, 1)
        find_row.addWidget(self.find_button)
        left = QVBoxLayout()
        left.addLayout(find_row)
        left.addWidget(self.sale_label)
        left.addWidget(self.table, 1)
        left.addWidget(self.all_check)
        right = QVBoxLayout()
        right.addWidget(caption("&Reason", self.reason_edit))
        right.addWidget(self.reason_edit)
        right.addWidget(self.approval_card)
        right.addStretch(1)
        right.addWidget(self.pay_back)
        columns = QHBoxLayout()
        columns.setSpacing(20)
        columns.addLayout(left, 3)
        columns.addLayout(right, 2)
        form_buttons = QHBoxLayout()
        form_buttons.addStretch(1)
        form_buttons.addWidget(self.close_button)
        form_buttons.addWidget(self.review_button)
        form = QWidget()
        form_layout = QVBoxLayout(form)
        form_layout.setContentsMargins(0, 0, 0, 0)
        form_layout.addLayout(columns, 1)
        form_layout.addLayout(form_buttons)

        self.pages = QStackedWidget()
        self.pages.addWidget(form)
        self.pages.addWidget(self._build_confirm_page())
        self.pages.addWidget(self._build_result_page())
        self.hint_label = named(QLabel(), "hintLabel")
        self.hint_label.setWordWrap(True)
        self.hint_label.setAccessibleName("Message")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 22, 28, 22)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addWidget(subtitle)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.hint_label)
        self.setMinimumSize(980, 660)

    def _build_confirm_page(self) -> QWidget:
        self.confirm_title = named(QLabel(), "panelTitle")
        self.confirm_title.setWordWrap(True)
        self.confirm_pay_back = _PayBack()
        self.confirm_details = named(QLabel(), "sectionSubtitle")
        self.confirm_details.setWordWrap(True)
        self.confirm_details.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse)
        self.back_button = _push("Back", "Back to the refund form")
        self.confirm_button = _push("Confirm refund", "Confirm and send the refund",
                                    "primaryButton")
        self.confirm_button.setMinimumWidth(190)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.confirm_button)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(14)
        layout.addWidget(self.confirm_title)
        layout.addWidget(self.confirm_pay_back)
        layout.addWidget(self.confirm_details)
        layout.addStretch(1)
        layout.addLayout(buttons)
        return page

    def _build_result_page(self) -> QWidget:
        self.result_title = named(QLabel("Refund done"), "panelTitle")
        self.result_pay_back = _PayBack()
        self.result_label = named(QLabel(), "sectionSubtitle")
        self.result_label.setWordWrap(True)
        self.result_label.setAccessibleName("Refund result")
        self.slip_label = named(QLabel(), "hintLabel")
        self.slip_label.setWordWrap(True)
        self.slip_label.setAccessibleName("Refund slip")
        self.slip_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.another_button = _push("Refund more tickets",
                                    "Refund more tickets of this or another sale")
        self.done_button = _push("Done", "Close the refund dialog", "primaryButton")
        self.done_button.setMinimumWidth(170)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.another_button)
        buttons.addWidget(self.done_button)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(14)
        layout.addWidget(self.result_title)
        layout.addWidget(self.result_pay_back)
        layout.addWidget(self.result_label)
        layout.addWidget(self.slip_label)
        layout.addStretch(1)
        layout.addLayout(buttons)
        return page

    # --- what the dialog shows ----------------------------------------------------------------

    def show_amount(self, amount: int, currency: str, tickets: int, cash: bool) -> None:
        """The form's amount to pay back for ``tickets`` checked tickets."""
        self.pay_back.show_amount(amount, currency, tickets, cash)

    def show_confirmation(self, sale: Sale, rows: Sequence[TicketRow], summary: str,
                          cash: bool, reason: str, approver: str) -> None:
        """Step 2: what will be refunded and paid back; Confirm / Back."""
        amount = sum(row.price for row in rows)
        count = len(rows)
        self.confirm_title.setText(f"Refund {count} ticket{'s' if count != 1 else ''} of "
                                   f"sale #{sale.number}?")
        self.confirm_pay_back.show_amount(amount, sale.currency, count, cash)
        codes = ", ".join(row.code for row in rows)
        self.confirm_details.setText(f"{summary}\nCodes: {codes}\nReason: {reason}\n"
                                     f"Approved by {approver}. The refunded tickets will no "
                                     "longer admit anyone.")
        self.pages.setCurrentIndex(1)

    def show_result(self, refund: Refund, message: str) -> None:
        """Step 3: the server's refund and its sentence."""
        count = len(refund.tickets)
        self.result_pay_back.show_amount(refund.amount, refund.currency, count,
                                         refund.method == "cash")
        self.result_label.setText(message)
        self.slip_label.setText("")
        self.pages.setCurrentIndex(2)
