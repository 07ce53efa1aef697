"""The basket being rung up: one line per ticket type, as a Qt table model.

The basket is only the cashier's intent. Nothing in it is "sold": a sale exists only once
the terminal core reports a journal-settled ``confirmed`` outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from pos_app.api.schemas import MAX_LINES, MAX_QUANTITY_PER_LINE, SaleLineIn, TicketType
from pos_app.domain.money import format_money
from pos_app.gui.core.tables import RowsTableModel

__all__ = ["BasketFull", "BasketLine", "BasketModel", "WrongEvent"]

_Index = QModelIndex | QPersistentModelIndex


class BasketFull(ValueError):
    """The ticket type has no more tickets left to add, or the basket has too many lines."""


class WrongEvent(ValueError):
    """The basket holds tickets for another event: one sale covers one event."""


@dataclass
class BasketLine:
    """``quantity`` tickets of one type at ``unit_price`` minor units of ``currency``.

    ``available`` is how many the box office may sell of this type, as last read from the
    server; ``own_held`` how many of this type the basket's own checkout hold keeps (the
    server does not count them as available to anyone, this basket included); together they
    cap ``quantity``.
    """

    ticket_type_id: int
    event_id: str
    name: str
    unit_price: int
    currency: str
    quantity: int
    available: int
    own_held: int = 0

    @property
    def amount(self) -> int:
        """``quantity * unit_price`` in minor units."""
        return self.quantity * self.unit_price

    @property
    def limit(self) -> int:
        """Most tickets this line may hold: what is left, and the per-line maximum."""
        return min(self.available + self.own_held, MAX_QUANTITY_PER_LINE)


class BasketModel(RowsTableModel[BasketLine]):
    """Basket lines as rows; columns Ticket, Qty, Price, Amount.

    Signals:
        total_changed(int): the basket total in minor units changed (also on clear).
        locked_changed(bool): the basket was locked (a charge is in flight) or unlocked.
    """

    COLUMNS = ("Ticket", "Qty", "Price", "Amount")
    TICKET, QTY, PRICE, AMOUNT = range(4)

    total_changed = Signal(int)
    locked_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._lines: list[BasketLine] = []
        self._locked = False

    # --- Qt model interface -----------------------------------------------------------------

    def rows(self) -> Sequence[BasketLine]:
        return self._lines


    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        line = self.row_at(index)
        if line is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == self.TICKET:
                return line.name
            if column == self.QTY:
                return str(line.quantity)
            if column == self.PRICE:
                return format_money(line.unit_price, line.currency)
            if column == self.AMOUNT:
                return format_money(line.amount, line.currency)
        elif role == Qt.ItemDataRole.TextAlignmentRole:
            return self.alignment(column)
        elif role == Qt.ItemDataRole.AccessibleTextRole:
            return (f"{line.quantity} × {line.name} at "
                    f"{format_money(line.unit_price, line.currency)}")
        elif role == Qt.ItemDataRole.UserRole:
            return line.ticket_type_id
        return None

    # --- reading ----------------------------------------------------------------------------

    @property
    def lines(self) -> tuple[BasketLine, ...]:
        """A snapshot of the lines, in the order they were first added."""
        return tuple(BasketLine(**vars(line)) for line in self._lines)

    @property
    def total(self) -> int:
        """Sum of line amounts in minor units of :attr:`currency`."""
        return sum(line.amount for line in self._lines)

    @property
    def currency(self) -> str | None:
        """Currency of the basket, ``None`` when empty."""
        return self._lines[0].currency if self._lines else None

    @property
    def event_id(self) -> str | None:
        """The event every line belongs to, ``None`` when empty."""
        return self._lines[0].event_id if self._lines else None

    @property
    def locked(self) -> bool:
        """``True`` while a charge is in flight: every change is refused."""
        return self._locked

    def is_empty(self) -> bool:
        return not self._lines

    def quantity_of(self, ticket_type_id: int) -> int:
        """Tickets of ``ticket_type_id`` in the basket (0 when absent)."""
        row = self._row_of(ticket_type_id)
        return 0 if row is None else self._lines[row].quantity

    def can_add(self, ticket_type: TicketType) -> bool:
        """Whether one more ``ticket_type`` fits (stock left, same event, not locked)."""
        if self._locked or ticket_type.available <= 0:
            return False
        if self.event_id is not None and self.event_id != ticket_type.event_id:
            return False
        row = self._row_of(ticket_type.id)
        if row is None:
            return len(self._lines) < MAX_LINES
        return self._lines[row].quantity < min(ticket_type.available, MAX_QUANTITY_PER_LINE)

    def sale_lines(self) -> list[SaleLineIn]:
        """The basket as the lines of a sale request."""
        return [SaleLineIn(ticket_type_id=line.ticket_type_id, quantity=line.quantity)
                for line in self._lines]

    # --- changing ---------------------------------------------------------------------------

    def quantities(self) -> dict[int, int]:
        """``{ticket_type_id: quantity}`` of every line (what a checkout hold must hold)."""
        return {line.ticket_type_id: line.quantity for line in self._lines}

    def set_own_held(self, held: dict[int, int]) -> None:
        """Record that the basket's checkout hold keeps ``held`` (``{ticket_type_id:
        quantity}``; types not named: none)."""
        for line in self._lines:
            line.own_held = held.get(line.ticket_type_id, 0)

    def set_locked(self, locked: bool) -> None:
        """Lock (``True``) while a charge is in flight; unlock when its outcome arrives."""
        if locked != self._locked:
            self._locked = locked
            self.locked_changed.emit(locked)

    def add(self, ticket_type: TicketType) -> int:
        """Add one ``ticket_type`` ticket; returns its row.

        Raises:
            WrongEvent: the basket holds tickets for another event.
            BasketFull: none left to add, or the basket already has the most lines allowed.
            RuntimeError: the basket is locked.
        """
        self._check_unlocked()
        if self.event_id is not None and self.event_id != ticket_type.event_id:
            raise WrongEvent("The basket holds tickets for another event. "
                             "Charge or clear it first.")
        row = self._row_of(ticket_type.id)
        if row is None:
            if ticket_type.available <= 0:
                raise BasketFull(f"{ticket_type.name} is sold out.")
            if len(self._lines) >= MAX_LINES:
                raise BasketFull(f"A sale can hold at most {MAX_LINES} ticket types.")
            row = len(self._lines)
            self.beginInsertRows(QModelIndex(), row, row)
            self._lines.append(BasketLine(
                ticket_type_id=ticket_type.id, event_id=ticket_type.event_id,
                name=ticket_type.name, unit_price=ticket_type.price,
                currency=ticket_type.currency, quantity=1, available=ticket_type.available))
            self.endInsertRows()
            self.total_changed.emit(self.total)
            return row
        self._lines[row].available = ticket_type.available
        self.increment(row)
        return row

    def increment(self, row: int) -> None:
        """One more ticket on ``row``.

        Raises:
            BasketFull: the line already holds every ticket left (or the per-line maximum).
            IndexError: no such row. RuntimeError: the basket is locked.
        """
        self._check_unlocked()
        line = self._line(row)
        if line.quantity >= line.limit:
            left = "ticket" if line.limit == 1 else "tickets"
            raise BasketFull(f"Only {line.limit} {line.name} {left} can be sold.")
        line.quantity += 1
        self._line_changed(row)

    def decrement(self, row: int) -> None:
        """One ticket fewer on ``row``; the line is removed when it reaches zero."""
        self._check_unlocked()
        line = self._line(row)
        if line.quantity <= 1:
            self.remove(row)
            return
        line.quantity -= 1
        self._line_changed(row)

    def remove(self, row: int) -> None:
        """Remove ``row`` entirely."""
        self._check_unlocked()
        self._line(row)
        self.beginRemoveRows(QModelIndex(), row, row)
        del self._lines[row]
        self.endRemoveRows()
        self.total_changed.emit(self.total)

    def clear(self) -> None:
        """Empty the basket."""
        self._check_unlocked()
        if not self._lines:
            return
        self.beginResetModel()
        self._lines.clear()
        self.endResetModel()
        self.total_changed.emit(0)

    def update_availability(self, ticket_types: list[TicketType]) -> None:
        """Record fresh ``available`` counts (quantities are never changed behind the
        cashier's back; a line above its new limit is refused by the server and shown)."""
        by_id = {ticket_type.id: ticket_type for ticket_type in ticket_types}
        for line in self._lines:
            fresh = by_id.get(line.ticket_type_id)
            if fresh is not None:
                line.available = fresh.available

    # --- helpers ----------------------------------------------------------------------------

    def alignment(self, column: int) -> int:
        if column == self.TICKET:
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if column == self.QTY:
            return int(Qt.AlignmentFlag.AlignCenter)
        return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def _check_unlocked(self) -> None:
        if self._locked:
            raise RuntimeError("the basket is locked while a charge is in flight")

    def _row_of(self, ticket_type_id: int) -> int | None:
        for row, line in enumerate(self._lines):
            if line.ticket_type_id == ticket_type_id:
                return row
        return None

    def _line(self, row: int) -> BasketLine:
        if not 0 <= row < len(self._lines):
            raise IndexError(f"no basket line {row}")
        return self._lines[row]

    def _line_changed(self, row: int) -> None:
        self.dataChanged.emit(self.index(row, self.QTY), self.index(row, self.AMOUNT),
                              [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole])
        self.total_changed.emit(self.total)
