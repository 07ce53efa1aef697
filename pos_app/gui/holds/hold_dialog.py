"""The hold desk's dialogs: hold a basket for cash, take payment for a hold, release one.

None of them talks to the network. Each only collects what the cashier typed and hands it
back (a return value or a signal); the caller runs the register call on the
:class:`~pos_app.gui.core.task_runner.TaskRunner` and tells the dialog how it went
(:meth:`_DeskDialog.set_busy`, :meth:`_DeskDialog.show_error`).

All of them are keyboard-first: the first field has the focus, Enter submits (or presses the
focused button), Esc cancels (never while the register is working), and every control has an
accessible name.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pos_app.api.schemas import Customer, Hold
from pos_app.domain.cash import change_due, quick_tenders
from pos_app.domain.money import InvalidAmount, format_money, parse_major
from pos_app.domain.text import unsafe_character
from pos_app.gui.core.styles import style_sheet
from pos_app.gui.core.widgets import named, restyle
from pos_app.gui.holds.holds_model import lines_summary

__all__ = [
    "HIDDEN_CHARACTER",
    "HeldLineLike",
    "HoldForCashDialog",
    "ReleaseHoldDialog",
    "TakePaymentDialog",
]

NAME_NEEDED = "Enter the customer's name to hold the tickets."
HIDDEN_CHARACTER = ("The name or phone holds a hidden control character that would print "
                    "the slip out of order; type it again.")
RELEASE_REASONS = ("Customer cancelled", "Did not come back", "Held by mistake")
_DIALOG_STYLE = style_sheet("hold_dialogs")


class HeldLineLike(Protocol):
    """A basket line to hold (``pos_app.gui.sell.basket_model.BasketLine``): ``quantity`` of
    ``name`` at ``unit_price``, ``amount`` in all (minor units)."""

    @property
    def name(self) -> str: ...

    @property
    def quantity(self) -> int: ...

    @property
    def unit_price(self) -> int: ...

    @property
    def amount(self) -> int: ...


class _DeskDialog(QDialog):
    """Title, explanation, a form, a hint line and Cancel / primary buttons.

    Enter runs :meth:`submit` (or clicks the focused button); Esc cancels unless busy.
    """

    def __init__(self, title: str, text: str, button: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        self.setStyleSheet(_DIALOG_STYLE)
        self.title_label = named(QLabel(title), "panelTitle")
        self.text_label = named(QLabel(text), "sectionSubtitle")
        self.text_label.setWordWrap(True)
        self.hint_label = named(QLabel(), "hintLabel")
        self.hint_label.setWordWrap(True)
        self.hint_label.setAccessibleName("Message")
        self.submit_button = named(QPushButton(button), "primaryButton")
        self.submit_button.setAccessibleName(button)
        self.cancel_button = named(QPushButton("Cancel"), "secondaryButton")
        self.cancel_button.setAccessibleName("Cancel")
        for push in (self.submit_button, self.cancel_button):
            push.setAutoDefault(False)  # Enter is handled in keyPressEvent, once
            push.setMinimumWidth(120)
        self.cancel_button.clicked.connect(self.reject)
        self.submit_button.clicked.connect(self.submit)
        self.buttons = QHBoxLayout()
        self.buttons.setSpacing(12)
        self.buttons.addStretch(1)
        self.buttons.addWidget(self.cancel_button)
        self.buttons.addWidget(self.submit_button)
        self.form = QGridLayout()
        self.form.setHorizontalSpacing(16)
        self.form.setVerticalSpacing(12)
        self.form.setColumnStretch(1, 1)
        self.busy = False
        self.setMinimumWidth(520)

    def _arrange(self, *middle: QWidget | QGridLayout) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.setSpacing(14)
        layout.addWidget(self.title_label)
        layout.addWidget(self.text_label)
        for item in middle:
            if isinstance(item, QGridLayout):
                layout.addLayout(item)
            else:
                layout.addWidget(item)
        layout.addWidget(self.hint_label)
        layout.addSpacing(4)
        layout.addLayout(self.buttons)

    def submit(self) -> None:  # overridden
        raise NotImplementedError

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.modifiers() & (
                Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier):
            focused = self.focusWidget()
            if isinstance(focused, QPushButton):
                if focused.isEnabled():
                    focused.click()
            elif not self.busy:
                self.submit()
            event.accept()
            return
        super().keyPressEvent(event)

    def show_hint(self, text: str, *, warning: bool = False) -> None:
        """Show ``text`` under the form (red when ``warning``)."""
        self.hint_label.setProperty("warning", warning)
        restyle(self.hint_label)
        self.hint_label.setText(text)
        self.hint_label.setAccessibleDescription(text)

    def show_error(self, text: str) -> None:
        """The register (or the cashier's input) said no: ``text`` in red, busy state off."""
        self.set_busy(False)
        self.show_hint(text, warning=True)

    def set_busy(self, busy: bool, text: str = "") -> None:
        """While the register works: inputs read-only, buttons disabled, ``text`` shown."""
        self.busy = busy
        for edit in self.findChildren(QLineEdit):
            edit.setReadOnly(busy)
        for push in self.findChildren(QPushButton):
            push.setEnabled(not busy)
        if busy:
            self.show_hint(text)
        else:
            self._refresh()

    def _refresh(self) -> None:
        """Re-derive enabled states from the inputs (subclasses)."""

    def reject(self) -> None:
        if not self.busy:  # never while the register is working
            super().reject()

    def close_now(self) -> None:
        """Close whatever the state (the caller finished with this dialog)."""
        self.busy = False
        self.done(QDialog.DialogCode.Rejected)


def _lines_box(rows: Sequence[tuple[str, str]], total: str) -> QFrame:
    box = named(QFrame(), "holdLines")
    grid = QGridLayout(box)
    grid.setContentsMargins(16, 12, 16, 12)
    grid.setHorizontalSpacing(16)
    grid.setVerticalSpacing(6)
    for row, (name, amount) in enumerate(rows):
        name_label = named(QLabel(name), "holdLineName")
        amount_label = named(QLabel(amount), "holdLineAmount")
        amount_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        grid.addWidget(name_label, row, 0)
        grid.addWidget(amount_label, row, 1)
    rule = named(QFrame(), "rule")
    rule.setFrameShape(QFrame.Shape.HLine)
    grid.addWidget(rule, len(rows), 0, 1, 2)
    caption = named(QLabel("Total to pay"), "totalCaption")
    total_label = named(QLabel(total), "totalAmount")
    total_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    total_label.setAccessibleName("Total to pay")
    grid.addWidget(caption, len(rows) + 1, 0)
    grid.addWidget(total_label, len(rows) + 1, 1)
    grid.setColumnStretch(0, 1)
    box.setAccessibleName("Held tickets: " + "; ".join(f"{n} {a}" for n, a in rows)
                          + f"; total {total}")
    return box


class HoldForCashDialog(_DeskDialog):
    """Who the basket is held for: the customer's name (required) and phone (optional),
    above the lines and total that will be held for ``hours`` hours.

    Hold stays disabled, with a hint, until a name is typed. Accepted: :meth:`customer`
    returns the customer to pass to ``register.hold(..., customer=)``; the dialog itself
    sends nothing.

    Args:
        lines: the basket lines (quantity, name, unit price and amount in minor units).
        currency: ISO 4217 code of the amounts.
        hours: how long the server holds cash holds (``shared/API.md``: 4 hours).
    """

    def __init__(self, lines: Sequence[HeldLineLike], currency: str,
                 parent: QWidget | None = None, *, hours: int = 4) -> None:
        super().__init__("Hold for cash",
                         f"The tickets are kept for {hours} hours. The customer pays cash at "
                         "the box office, quoting the hold code printed on the slip.",
                         "Hold tickets", parent)
        self.setObjectName("holdForCashDialog")
        total = sum(line.amount for line in lines)
        self.name_edit = QLineEdit()
        self.name_edit.setAccessibleName("Customer name (required)")
        self.name_edit.setPlaceholderText("e.g. Dana Smith")
        self.name_edit.setMaxLength(120)
        self.phone_edit = QLineEdit()
        self.phone_edit.setAccessibleName("Customer phone (optional)")
        self.phone_edit.setPlaceholderText("Optional")
        self.phone_edit.setMaxLength(40)
        self.phone_edit.setInputMethodHints(Qt.InputMethodHint.ImhDialableCharactersOnly)
        name_caption = named(QLabel("Customer name"), "fieldCaption")
        name_caption.setBuddy(self.name_edit)
        phone_caption = named(QLabel("Phone"), "fieldCaption")
        phone_caption.setBuddy(self.phone_edit)
        self.form.addWidget(name_caption, 0, 0)
        self.form.addWidget(self.name_edit, 0, 1)
        self.form.addWidget(phone_caption, 1, 0)
        self.form.addWidget(self.phone_edit, 1, 1)
        rows = [(f"{line.quantity} × {line.name}  @ {format_money(line.unit_price, currency)}",
                 format_money(line.amount, currency)) for line in lines]
        self.lines_box = _lines_box(rows, format_money(total, currency))
        self.total = total
        self.submit_button.setText(f"Hold {sum(line.quantity for line in lines)} tickets")
        self.submit_button.setAccessibleName("Hold the tickets for this customer")
        self._arrange(self.form, self.lines_box)
        self.setTabOrder(self.name_edit, self.phone_edit)
        self.setTabOrder(self.phone_edit, self.submit_button)
        self.setTabOrder(self.submit_button, self.cancel_button)
        self.name_edit.textChanged.connect(self._refresh)
        self._refresh()
        self.name_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def customer(self) -> Customer | None:
        """The customer typed (name stripped; phone ``None`` when blank), or ``None`` while
        there is no name."""
        name = self.name_edit.text().strip()
        if not name or self._hidden_character():
            return None
        phone = self.phone_edit.text().strip() or None
        return Customer(name=name, phone=phone)

    def _hidden_character(self) -> bool:
        """True when the name or phone holds a character the server refuses (a NUL or a
        bidirectional control, pasted in: :mod:`pos_app.domain.text`)."""
        return unsafe_character(self.name_edit.text() + self.phone_edit.text()) is not None

    def submit(self) -> None:
        if self._hidden_character():
            self.show_hint(HIDDEN_CHARACTER, warning=True)
            self.name_edit.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        if self.customer() is None:
            self.show_hint(NAME_NEEDED, warning=True)
            self.name_edit.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self.accept()

    def _refresh(self) -> None:
        named_ = bool(self.name_edit.text().strip())
        self.submit_button.setEnabled(named_ and not self.busy)
        if not named_:
            self.show_hint(NAME_NEEDED, warning=self.hint_label.property("warning") is True)
        else:
            self.show_hint("Enter holds the tickets; Esc goes back to the basket.")


class TakePaymentDialog(_DeskDialog):
    """Cash tendered for a hold: total, tendered field, quick amounts, change preview.

    The change shown is a preview; the change to hand back comes from the confirmed sale.

    Signals:
        tendered_entered(int): the cashier submitted this tender (minor units, at least the
            total); the caller runs ``register.pay_hold`` and then closes the dialog or calls
            :meth:`show_error`.
    """

    tendered_entered = Signal(int)

    def __init__(self, hold: Hold, parent: QWidget | None = None) -> None:
        money = format_money(hold.total, hold.currency)
        who = hold.customer.name if hold.customer else "the customer"
        super().__init__("Take payment", f"Hold {hold.code} for {who}: {lines_summary(hold)}.",
                         f"Take {money}", parent)
        self.setObjectName("takePaymentDialog")
        self.hold = hold
        self.currency = hold.currency
        self.submit_button.setObjectName("chargeButton")
        self.submit_button.setAccessibleName(f"Take payment of {money}")
        caption = named(QLabel("Total"), "totalCaption")
        self.total_label = named(QLabel(money), "totalAmount")
        self.total_label.setAlignment(Qt.AlignmentFlag.AlignRight
                                      | Qt.AlignmentFlag.AlignVCenter)
        self.total_label.setAccessibleName("Total to pay")
        self.tendered_edit = named(QLineEdit(), "tenderedEdit")
        self.tendered_edit.setPlaceholderText("0.00")
        self.tendered_edit.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.tendered_edit.setAccessibleName("Cash tendered")
        tendered_caption = named(QLabel("Cash tendered"), "fieldCaption")
        tendered_caption.setBuddy(self.tendered_edit)
        self.change_label = named(QLabel("—"), "changePreview")
        self.change_label.setAlignment(Qt.AlignmentFlag.AlignRight
                                       | Qt.AlignmentFlag.AlignVCenter)
        self.change_label.setAccessibleName("Change preview")
        self.quick_buttons: list[QPushButton] = []
        quick_row = QHBoxLayout()
        quick_row.setSpacing(8)
        for amount in quick_tenders(hold.total):
            text = format_money(amount, hold.currency)
            button = named(QPushButton("Exact" if amount == hold.total else text),
                           "quickButton")
            button.setAccessibleName(f"Tendered {text}")
            button.setAutoDefault(False)
            button.setProperty("amount", amount)
            button.clicked.connect(lambda _c=False, a=amount: self.on_quick_button_clicked(a))
            quick_row.addWidget(button)
            self.quick_buttons.append(button)
        self.form.addWidget(caption, 0, 0)
        self.form.addWidget(self.total_label, 0, 1)
        self.form.addWidget(tendered_caption, 1, 0)
        self.form.addWidget(self.tendered_edit, 1, 1)
        self.form.addLayout(quick_row, 2, 0, 1, 2)
        self.form.addWidget(named(QLabel("Change"), "fieldCaption"), 3, 0)
        self.form.addWidget(self.change_label, 3, 1)
        self._arrange(self.form)
        self.submit_button.setMinimumWidth(200)
        self.tendered_edit.textEdited.connect(self._refresh)
        self._refresh()
        self.tendered_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def tendered(self) -> int | None:
        """The typed tender in minor units, or ``None`` when it is not an amount."""
        try:
            return parse_major(self.tendered_edit.text(), self.currency)
        except InvalidAmount:
            return None

    def on_quick_button_clicked(self, amount: int) -> None:
        if self.busy:
            return
        text = format_money(amount, self.currency).lstrip("$€£¥").replace(",", "")
        self.tendered_edit.setText(text)
        self.tendered_edit.setFocus(Qt.FocusReason.OtherFocusReason)
        self.tendered_edit.selectAll()
        self._refresh()

    def submit(self) -> None:
        tendered = self.tendered()
        if tendered is None:
            self.show_hint("Enter the cash tendered.", warning=True)
        elif tendered < self.hold.total:
            self.show_hint("Tendered is less than the total.", warning=True)
        else:
            self.set_busy(True, "Taking payment…")
            self.tendered_entered.emit(tendered)
            return
        self.tendered_edit.setFocus(Qt.FocusReason.OtherFocusReason)
        self.tendered_edit.selectAll()

    def _refresh(self) -> None:
        tendered = self.tendered()
        enough = tendered is not None and tendered >= self.hold.total
        self.submit_button.setEnabled(enough and not self.busy)
        if enough and tendered is not None:
            self.change_label.setText(format_money(change_due(self.hold.total, tendered),
                                                   self.currency))
            self.show_hint("Enter takes the payment.")
        else:
            self.change_label.setText("—")
            self.show_hint("Enter the cash tendered." if tendered is None
                           else "Tendered is less than the total.",
                           warning=tendered is not None)


class ReleaseHoldDialog(_DeskDialog):
    """Why a hold's tickets go back on sale: a reason (typed, or one of the usual ones).

    Signals:
        reason_entered(str): the reason (stripped, not blank); the caller runs
            ``register.release_hold`` and then closes the dialog or calls :meth:`show_error`.
    """

    reason_entered = Signal(str)

    def __init__(self, hold: Hold, parent: QWidget | None = None) -> None:
        who = hold.customer.name if hold.customer else "the customer"
        super().__init__("Release hold",
                         f"Hold {hold.code} for {who} ({lines_summary(hold)}). Its tickets go "
                         "back on sale at once; this cannot be undone.", "Release hold", parent)
        self.setObjectName("releaseHoldDialog")
        self.hold = hold
        self.reason_edit = QLineEdit()
        self.reason_edit.setAccessibleName("Reason for releasing the hold")
        self.reason_edit.setPlaceholderText("e.g. Customer cancelled")
        self.reason_edit.setMaxLength(500)
        caption = named(QLabel("Reason"), "fieldCaption")
        caption.setBuddy(self.reason_edit)
        self.reason_buttons: list[QPushButton] = []
        presets = QHBoxLayout()
        presets.setSpacing(8)
        for reason in RELEASE_REASONS:
            button = named(QPushButton(reason), "quickButton")
            button.setAccessibleName(f"Reason: {reason}")
            button.setAutoDefault(False)
            button.clicked.connect(lambda _c=False, r=reason: self.on_reason_button_clicked(r))
            presets.addWidget(button)
            self.reason_buttons.append(button)
        self.form.addWidget(caption, 0, 0)
        self.form.addWidget(self.reason_edit, 0, 1)
        self.form.addLayout(presets, 1, 0, 1, 2)
        self._arrange(self.form)
        self.setMinimumWidth(620)
        self.reason_edit.textChanged.connect(self._refresh)
        self._refresh()
        self.reason_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def on_reason_button_clicked(self, reason: str) -> None:
        if not self.busy:
            self.reason_edit.setText(reason)
            self.reason_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def submit(self) -> None:
        reason = self.reason_edit.text().strip()
        if not reason:
            self.show_hint("Enter why the hold is released.", warning=True)
            self.reason_edit.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self.set_busy(True, "Releasing the hold…")
        self.reason_entered.emit(reason)

    def _refresh(self) -> None:
        given = bool(self.reason_edit.text().strip())
        self.submit_button.setEnabled(given and not self.busy)
        if given:
            self.show_hint("Enter releases the hold.")
        elif self.hint_label.property("warning") is not True:
            self.show_hint("Enter why the hold is released.")
