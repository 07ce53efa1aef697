"""Two small views of a ticket type's figures used by
:mod:`pos_app.gui.manager.capacity.capacity_dialog`: the current counts (:class:`FiguresCard`) and a
before -> after comparison to confirm a change (:class:`BeforeAfterGrid`)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QWidget

from pos_app.api.schemas import TicketType
from pos_app.gui.core.widgets import named, restyle
from pos_app.gui.manager.capacity.capacity_preview import (
    STOCK_WORDS,
    Counts,
    ladder_text,
    limit_text,
)

__all__ = ["BeforeAfterGrid", "FiguresCard", "capacity_rows", "edit_rows"]

Row = tuple[str, str, str, bool]
"""``(caption, before, after, warning)`` of one line of a :class:`BeforeAfterGrid`."""


def capacity_rows(before: Counts, after: Counts) -> list[Row]:
    """The lines a capacity change is confirmed on; ``warning`` where ``after`` is below
    what is sold and held, or sold out."""
    return [
        ("Capacity", str(before.capacity), str(after.capacity),
         after.capacity < after.committed),
        ("Available at the box office", str(before.available), str(after.available),
         after.available == 0),
        ("Available online", str(before.public_available), str(after.public_available),
         False),
        ("Stock level", STOCK_WORDS[before.stock_level], STOCK_WORDS[after.stock_level],
         after.stock_level in ("critical", "sold_out")),
    ]


def edit_rows(before: Counts, after: Counts, ladder_before: list[int],
              ladder_after: list[int]) -> list[Row]:
    """The lines an edit of the public limit, thresholds or alert levels is confirmed on."""
    return [
        ("Public limit", limit_text(before.public_limit), limit_text(after.public_limit), False),
        ("Available online", str(before.public_available), str(after.public_available),
         False),
        ("Low / critical at", f"{before.low} / {before.critical}",
         f"{after.low} / {after.critical}", False),
        ("Stock level", STOCK_WORDS[before.stock_level], STOCK_WORDS[after.stock_level],
         after.stock_level in ("critical", "sold_out")),
        ("Alert levels", ladder_text(ladder_before), ladder_text(ladder_after), False),
    ]


class FiguresCard(QFrame):
    """A ticket type's capacity, sold, held, available, online available, public limit,
    thresholds and stock level, as captions over large numbers (read-only)."""

    CAPTIONS = ("Capacity", "Sold", "Held", "Available", "Online available", "Public limit",
                "Low / critical", "Stock level")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("figuresCard")
        grid = QGridLayout(self)
        grid.setContentsMargins(16, 12, 16, 12)
        grid.setHorizontalSpacing(24)
        grid.setVerticalSpacing(2)
        self.values: dict[str, QLabel] = {}
        for index, text in enumerate(self.CAPTIONS):
            row, column = divmod(index, 4)
            value = named(QLabel("-"), "figureValue")
            value.setAccessibleName(text)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(named(QLabel(text.upper()), "figureCaption"), row * 2, column)
            grid.addWidget(value, row * 2 + 1, column)
            self.values[text] = value

    def show_ticket_type(self, tt: TicketType) -> None:
        """Show ``tt``'s figures as the server reported them."""
        shown = {
            "Capacity": str(tt.capacity), "Sold": str(tt.sold), "Held": str(tt.held),
            "Available": str(tt.available), "Online available": str(tt.public_available),
            "Public limit": limit_text(tt.public_limit),
            "Low / critical": f"{tt.thresholds.low} / {tt.thresholds.critical}",
            "Stock level": STOCK_WORDS.get(tt.stock_level, tt.stock_level),
        }
        for text, value in shown.items():
            self.values[text].setText(value)
            self.values[text].setAccessibleDescription(value)


class BeforeAfterGrid(QFrame):
    """Lines of ``caption   before  ->  after``; an ``after`` that differs is blue, one that
    needs care (below sold and held, sold out) red."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("figuresCard")
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(18, 14, 18, 14)
        self._grid.setHorizontalSpacing(18)
        self._grid.setVerticalSpacing(8)
        self.rows: list[Row] = []

    def set_rows(self, rows: Sequence[Row]) -> None:
        """Replace the lines shown."""
        while self._grid.count():
            item = self._grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.rows = list(rows)
        headers = ("", "BEFORE", "", "AFTER")
        for column, text in enumerate(headers):
            self._grid.addWidget(named(QLabel(text), "figureCaption"), 0, column)
        for index, (text, before, after, warning) in enumerate(self.rows, start=1):
            after_label = named(QLabel(after), "figureAfter")
            after_label.setProperty("changed", before != after)
            after_label.setProperty("warning", warning)
            restyle(after_label)
            after_label.setAccessibleName(f"{text} after")
            before_label = named(QLabel(before), "figureBefore")
            before_label.setAccessibleName(f"{text} before")
            self._grid.addWidget(named(QLabel(text), "fieldCaption"), index, 0)
            self._grid.addWidget(before_label, index, 1, Qt.AlignmentFlag.AlignRight)
            self._grid.addWidget(named(QLabel("→"), "figureArrow"), index, 2)
            self._grid.addWidget(after_label, index, 3, Qt.AlignmentFlag.AlignRight)
        self._grid.setColumnStretch(0, 1)

    def text(self) -> str:
        """The lines as ``caption: before -> after``, one per line (for announcements and
        tests)."""
        return "\n".join(f"{text}: {before} -> {after}"
                         for text, before, after, _warning in self.rows)
