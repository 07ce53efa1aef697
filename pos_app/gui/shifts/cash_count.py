"""Counting a drawer by denomination: one row per note and coin, a count per row, the line
totals and the grand total (issue 6: "opens a shift with a float (counted by denomination)
... closes with a blind count by denomination").

The cashier types how many of each note and coin; Tab / Shift+Tab and Up / Down move between
rows; Enter submits the dialog the widget sits in. The total is only ever the sum of the
counts (:func:`pos_app.domain.cash.count_total`), never typed, so it cannot disagree with them.
"""

from __future__ import annotations

import itertools

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QIntValidator, QKeyEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QLineEdit, QWidget

from pos_app.domain.cash import count_total, denominations_of
from pos_app.domain.money import format_money
from pos_app.gui.core.widgets import named

__all__ = ["CashCountWidget", "denomination_name"]

MAX_COUNT = 9999


def denomination_name(value: int, currency: str) -> str:
    """``"$20.00 notes"`` / ``"$0.25 coins"``: US cash has a $1 note, euro, pound and Canadian
    cash have 1 and 2 unit coins."""
    smallest_note = 100 if currency == "USD" else 500
    return f"{format_money(value, currency)} {'notes' if value >= smallest_note else 'coins'}"


class CashCountWidget(QFrame):
    """The count grid for ``currency`` (see the module docstring).

    Signals:
        total_changed(int): the counted total in minor units changed.
    """

    total_changed = Signal(int)

    def __init__(self, currency: str = "USD", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cashCount")
        self.currency = currency.upper()
        self.denominations = denominations_of(self.currency)
        self.count_edits: dict[int, QLineEdit] = {}
        self.line_labels: dict[int, QLabel] = {}
        grid = QGridLayout(self)
        grid.setContentsMargins(12, 8, 12, 8)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(4)
        half = (len(self.denominations) + 1) // 2  # notes on the left, coins on the right
        for index, value in enumerate(self.denominations):
            row, column = index % half, (index // half) * 3
            name = denomination_name(value, self.currency)
            caption = named(QLabel(format_money(value, self.currency)), "fieldCaption")
            edit = named(QLineEdit(), "countEdit")
            edit.setValidator(QIntValidator(0, MAX_COUNT, edit))
            edit.setPlaceholderText("0")
            edit.setAlignment(Qt.AlignmentFlag.AlignRight)
            edit.setMaximumWidth(72)
            edit.setAccessibleName(f"How many {name}")
            caption.setBuddy(edit)
            line = named(QLabel(), "countLine")
            line.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            line.setMinimumWidth(84)
            grid.addWidget(caption, row, column)
            grid.addWidget(edit, row, column + 1)
            grid.addWidget(line, row, column + 2)
            edit.textChanged.connect(self._recount)
            edit.installEventFilter(self)
            self.count_edits[value] = edit
            self.line_labels[value] = line
        self.total_label = named(QLabel(), "countTotal")
        self.total_label.setAccessibleName("Counted total")
        self.total_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        grid.addWidget(named(QLabel("Counted"), "fieldCaption"), half, 3, 1, 2)
        grid.addWidget(self.total_label, half, 5)
        edits = list(self.count_edits.values())
        for first, second in itertools.pairwise(edits):
            QWidget.setTabOrder(first, second)
        self._recount()

    def counts(self) -> dict[int, int]:
        """``{denomination: count}`` of every row with a count (minor units)."""
        found = {}
        for value, edit in self.count_edits.items():
            text = edit.text().strip()
            if text:
                found[value] = int(text)
        return found

    def total(self) -> int:
        """The counted total in minor units."""
        return count_total(self.counts())

    def set_counts(self, counts: dict[int, int]) -> None:
        """Fill the rows (tests, a recount); rows not named are emptied."""
        for value, edit in self.count_edits.items():
            edit.setText(str(counts[value]) if counts.get(value) else "")

    def set_read_only(self, read_only: bool) -> None:
        for edit in self.count_edits.values():
            edit.setReadOnly(read_only)

    def first_edit(self) -> QLineEdit:
        return self.count_edits[self.denominations[0]]

    def _recount(self, *_args: object) -> None:
        counts = self.counts()
        for value, label in self.line_labels.items():
            count = counts.get(value, 0)
            label.setText(format_money(value * count, self.currency) if count else "")
        total = count_total(counts)
        self.total_label.setText(format_money(total, self.currency))
        self.total_changed.emit(total)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Up / Down walk the rows like a spreadsheet column: counting is a column of numbers.
        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent) \
                and event.key() in (Qt.Key.Key_Up, Qt.Key.Key_Down):
            edits = list(self.count_edits.values())
            if watched in edits:
                step = -1 if event.key() == Qt.Key.Key_Up else 1
                target = edits[(edits.index(watched) + step) % len(edits)]
                target.setFocus(Qt.FocusReason.TabFocusReason)
                target.selectAll()
                return True
        return False
