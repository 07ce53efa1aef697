"""The right-hand panel: basket table, total, cash tendered, quick amounts, Exact cash and
Charge.

The panel only collects the cashier's intent. It asks for a charge with
``charge_requested(tendered)``; the sell screen runs it and calls :meth:`set_charging`.
The "Change" line here is a preview of what the tender implies; the change to hand back is
shown only from a confirmed sale (see ``sale_result.py``).
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pos_app.domain.cash import change_due, quick_tenders
from pos_app.domain.money import InvalidAmount, format_money, parse_major
from pos_app.gui.core.tables import configure_row_table
from pos_app.gui.core.widgets import named
from pos_app.gui.sell.basket_model import BasketFull, BasketModel

__all__ = ["HINT_ENTER_TENDER", "HINT_TENDER_LOW", "BasketPanel"]

HINT_TENDER_LOW = "Tendered is less than the total"
HINT_ENTER_TENDER = "Enter the cash tendered"
HINT_EMPTY = "Add tickets to start a sale"
QUICK_BUTTONS = 4


class BasketPanel(QFrame):
    """Basket, tender and Charge.

    Signals:
        charge_requested(int): Charge was pressed (or Enter in the tendered field) with a
            valid tender in minor units; not emitted while a charge is in flight.
        basket_edited(): the cashier changed the basket or the tender.
    """

    charge_requested = Signal(int)
    basket_edited = Signal()

    def __init__(self, basket: BasketModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._blocked: str | None = None
        self.setObjectName("basketPanel")
        self._basket = basket
        self._charging = False
        self._hide_change = False
        self._currency = "USD"

        title = named(QLabel("Basket"), "panelTitle")
        self.table = named(QTableView(), "basketTable")
        self.table.setAccessibleName("Basket lines")
        self.table.setModel(basket)
        configure_row_table(self.table, row_height=44)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(BasketModel.TICKET, QHeaderView.ResizeMode.Stretch)
        for column in (BasketModel.QTY, BasketModel.PRICE, BasketModel.AMOUNT):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        # Qt sizes columns to their text without the stylesheet's item padding: leave room
        # for it, or a price such as $150.00 is cut to "$1…".
        header.setMinimumSectionSize(72)

        self.minus_button = named(QPushButton("−"), "qtyButton")
        self.minus_button.setAccessibleName("One fewer of the selected ticket")
        self.plus_button = named(QPushButton("+"), "qtyButton")
        self.plus_button.setAccessibleName("One more of the selected ticket")
        self.clear_button = named(QPushButton("Clear"), "secondaryButton")
        self.clear_button.setAccessibleName("Clear the basket")
        edit_row = QHBoxLayout()
        edit_row.addWidget(self.minus_button)
        edit_row.addWidget(self.plus_button)
        edit_row.addStretch(1)
        edit_row.addWidget(self.clear_button)

        self.total_label = named(QLabel(), "totalAmount")
        self.total_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.total_label.setAccessibleName("Total")
        self.tendered_edit = named(QLineEdit(), "tenderedEdit")
        self.tendered_edit.setPlaceholderText("0.00")
        self.tendered_edit.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.tendered_edit.setAccessibleName("Cash tendered")
        self.change_label = named(QLabel("—"), "changePreview")
        self.change_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.change_label.setAccessibleName("Change preview")
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(8)
        grid.addWidget(named(QLabel("Total"), "totalCaption"), 0, 0)
        grid.addWidget(self.total_label, 0, 1)
        tendered_caption = named(QLabel("Cash tendered"), "fieldCaption")
        tendered_caption.setBuddy(self.tendered_edit)
        grid.addWidget(tendered_caption, 1, 0)
        grid.addWidget(self.tendered_edit, 1, 1)
        grid.addWidget(named(QLabel("Change"), "fieldCaption"), 3, 0)
        grid.addWidget(self.change_label, 3, 1)
        grid.setColumnStretch(1, 1)

        self.quick_buttons: list[QPushButton] = []
        quick_row = QHBoxLayout()
        quick_row.setSpacing(8)
        for _ in range(QUICK_BUTTONS):
            button = named(QPushButton(), "quickButton")
            button.clicked.connect(lambda _c=False, b=button: self.on_quick_button_clicked(b))
            quick_row.addWidget(button)
            self.quick_buttons.append(button)
        grid.addLayout(quick_row, 2, 0, 1, 2)

        self.hint_label = named(QLabel(), "hintLabel")
        self.hint_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.charge_button = named(QPushButton("Charge"), "chargeButton")
        self.charge_button.setAccessibleName("Charge")
        self.charge_button.setToolTip("Enter")
        self.charge_button.setAutoDefault(False)
        self.exact_button = named(QPushButton("Exact cash"), "exactButton")
        self.exact_button.setAccessibleName("Charge exact cash")
        self.exact_button.setToolTip("Ctrl+Enter: the customer pays the total exactly")
        self.exact_button.setAutoDefault(False)
        self._actions_row = QHBoxLayout()
        self._actions_row.setSpacing(8)
        self._actions_row.addWidget(self.exact_button, 1)
        charge_row = QVBoxLayout()
        charge_row.setSpacing(8)
        charge_row.addLayout(self._actions_row)
        charge_row.addWidget(self.charge_button)

        layout = self._layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 20)
        layout.setSpacing(10)
        layout.addWidget(title)
        layout.addWidget(self.table, 1)
        layout.addLayout(edit_row)
        rule = named(QFrame(), "rule")
        rule.setFrameShape(QFrame.Shape.HLine)
        layout.addWidget(rule)
        layout.addLayout(grid)
        layout.addWidget(self.hint_label)
        layout.addLayout(charge_row)

        self.minus_button.clicked.connect(self.on_minus_button_clicked)
        self.plus_button.clicked.connect(self.on_plus_button_clicked)
        self.clear_button.clicked.connect(self.on_clear_button_clicked)
        self.charge_button.clicked.connect(self.on_charge_button_clicked)
        self.exact_button.clicked.connect(self.on_exact_button_clicked)
        self.tendered_edit.textEdited.connect(self.on_tendered_edit_text_edited)
        self.tendered_edit.returnPressed.connect(self.on_tendered_edit_return_pressed)
        self.table.selectionModel().selectionChanged.connect(self._refresh)
        basket.total_changed.connect(self.on_basket_total_changed)
        basket.locked_changed.connect(self._refresh)
        basket.rowsInserted.connect(self.on_basket_rows_inserted)
        basket.modelReset.connect(self._refresh)
        self._refresh()

    # --- reading ----------------------------------------------------------------------------

    def tendered(self) -> int | None:
        """The typed tender in minor units, or ``None`` when empty or not an amount."""
        try:
            return parse_major(self.tendered_edit.text(), self._currency)
        except InvalidAmount:
            return None

    def can_charge(self) -> bool:
        """Basket not empty, tender at least the total, no charge in flight, not blocked."""
        tendered = self.tendered()
        return (not self._charging and self._blocked is None and not self._basket.is_empty()
                and tendered is not None and tendered >= self._basket.total)

    def set_blocked(self, reason: str | None) -> None:
        """Disable Charge for ``reason`` (its tooltip), or allow it again (``None``)."""
        self._blocked = reason
        self.charge_button.setToolTip(reason or "")
        self._refresh()

    def add_action_button(self, button: QPushButton) -> None:
        """Put ``button`` (e.g. "Hold for cash") beside Exact cash, above Charge."""
        self._actions_row.insertWidget(0, button, 1)

    def add_status_widget(self, widget: QWidget) -> None:
        """Put ``widget`` (e.g. the checkout hold's countdown) under the basket's edit row."""
        self._layout.insertWidget(3, widget)

    def selected_row(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return rows[0].row() if rows else None

    # --- changing ---------------------------------------------------------------------------

    def set_charging(self, charging: bool) -> None:
        """Show a charge in flight ("Charging…", everything locked) or back to normal."""
        self._charging = charging
        self.charge_button.setText("Charging…" if charging else "Charge")
        self.tendered_edit.setReadOnly(charging)
        self._refresh()

    def hide_change_preview(self) -> None:
        """Show no change amount until the cashier edits the basket or the tender (after a
        sale that was not confirmed: no change is due)."""
        self._hide_change = True
        self._refresh()

    def set_tendered(self, amount: int | None) -> None:
        """Put ``amount`` minor units (or nothing) in the tendered field."""
        self.tendered_edit.setText("" if amount is None else self._major_text(amount))
        self._refresh()

    def select_row(self, row: int) -> None:
        index = self._basket.index(row, 0)
        self.table.selectionModel().select(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.table.setCurrentIndex(index)

    # --- slots ------------------------------------------------------------------------------

    def on_minus_button_clicked(self) -> None:
        row = self.selected_row()
        if row is not None and not self._basket.locked:
            self._basket.decrement(row)
            if row < self._basket.rowCount():
                self.select_row(row)
            self.basket_edited.emit()

    def on_plus_button_clicked(self) -> None:
        row = self.selected_row()
        if row is not None and not self._basket.locked:
            try:
                self._basket.increment(row)
            except BasketFull as exc:
                self.hint_label.setText(str(exc))
                return
            self.basket_edited.emit()

    def on_clear_button_clicked(self) -> None:
        if not self._basket.locked:
            self._basket.clear()
            self.set_tendered(None)
            self.basket_edited.emit()

    def on_quick_button_clicked(self, button: QPushButton) -> None:
        amount = button.property("amount")
        if amount is not None and not self._charging:
            self._hide_change = False
            self.set_tendered(int(amount))
            self.basket_edited.emit()
            # Keep the keyboard where the cashier works: Enter now charges this amount.
            self.tendered_edit.setFocus(Qt.FocusReason.OtherFocusReason)
            self.tendered_edit.selectAll()

    def on_tendered_edit_text_edited(self, _text: str) -> None:
        self._hide_change = False
        self._refresh()
        self.basket_edited.emit()

    def on_tendered_edit_return_pressed(self) -> None:
        self.on_charge_button_clicked()

    def on_charge_button_clicked(self) -> None:
        if self.can_charge():
            tendered = self.tendered()
            assert tendered is not None
            self.charge_requested.emit(tendered)

    def on_exact_button_clicked(self) -> None:
        """Charge with tendered = total (the "Exact cash" button, Ctrl+Enter)."""
        if self._charging or self._blocked is not None or self._basket.is_empty():
            return
        self._hide_change = False
        self.set_tendered(self._basket.total)
        self.on_charge_button_clicked()

    def on_basket_total_changed(self, _total: int) -> None:
        self._hide_change = False
        self._refresh()

    def on_basket_rows_inserted(self, _parent: object, first: int, _last: int) -> None:
        self.select_row(first)
        self._refresh()

    # --- helpers ----------------------------------------------------------------------------

    def _major_text(self, amount: int) -> str:
        return format_money(amount, self._currency).lstrip("$€£¥").replace(",", "")

    def _refresh(self, *_args: object) -> None:
        basket = self._basket
        if basket.currency is not None:
            self._currency = basket.currency
        total = basket.total
        locked = basket.locked or self._charging
        self.total_label.setText(format_money(total, self._currency))
        row = self.selected_row()
        self.minus_button.setEnabled(not locked and row is not None)
        self.plus_button.setEnabled(not locked and row is not None)
        self.clear_button.setEnabled(not locked and not basket.is_empty())
        self.table.setEnabled(not locked)
        for button, amount in zip(self.quick_buttons, self._quick_amounts(total), strict=False):
            button.setVisible(amount is not None)
            button.setProperty("amount", amount)
            if amount is not None:
                text = format_money(amount, self._currency)
                button.setText("Exact" if amount == total else text)
                button.setAccessibleName(f"Tendered {text}")
            button.setEnabled(not locked)
        tendered = self.tendered()
        if (tendered is not None and tendered >= total and not basket.is_empty()
                and not self._hide_change):
            self.change_label.setText(format_money(change_due(total, tendered), self._currency))
        else:
            self.change_label.setText("—")
        if basket.is_empty():
            hint = HINT_EMPTY
        elif tendered is None:
            hint = HINT_ENTER_TENDER
        elif tendered < total:
            hint = HINT_TENDER_LOW
        else:
            hint = ""
        self.hint_label.setText(hint)
        self.hint_label.setProperty("warning", hint == HINT_TENDER_LOW)
        self.hint_label.style().unpolish(self.hint_label)
        self.hint_label.style().polish(self.hint_label)
        self.charge_button.setEnabled(self.can_charge())
        self.exact_button.setEnabled(not self._charging and self._blocked is None
                                     and not basket.is_empty())
        if not self._charging:
            self.charge_button.setText(
                f"Charge {format_money(total, self._currency)}" if total else "Charge")

    def _quick_amounts(self, total: int) -> list[int | None]:
        amounts: list[int | None] = list(quick_tenders(total, most=QUICK_BUTTONS))
        return amounts + [None] * (QUICK_BUTTONS - len(amounts))
