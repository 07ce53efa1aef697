"""The tickets of a sale in the refund dialog (:mod:`pos_app.gui.refunds.refund_dialog`): a
checkable table of code, ticket type, price and status, where tickets already refunded are shown
greyed and cannot be checked; and the amount the checked ones pay back.

A ticket's price is its type's unit price on the sale's lines (the server pays back exactly
that sum, ``Refund.amount``; this is only the preview). Money goes through
:func:`pos_app.domain.money.format_money`.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, NamedTuple

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QBrush, QColor

from pos_app.api.schemas import Refund, Sale
from pos_app.domain.money import format_money
from pos_app.gui.core.checkable_model import CheckableRowsModel
from pos_app.gui.core.tables import code_font

__all__ = ["RefundTicketsModel", "TicketRow", "sale_with_refund", "tickets_of"]

_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
_GREY = QColor("#94a3b8")
_STATUS_WORDS = {"valid": "Valid", "refunded": "Refunded"}


class TicketRow(NamedTuple):
    """One ticket of the sale: ``code``, ``ticket_type`` (its name), ``price`` in minor
    units of ``currency``, and ``status`` (``valid`` / ``refunded``)."""

    code: str
    ticket_type: str
    price: int
    currency: str
    status: str


def tickets_of(sale: Sale) -> list[TicketRow]:
    """``sale``'s tickets in sale order, each priced at its type's unit price."""
    names = {line.ticket_type_id: line.name for line in sale.lines}
    prices = {line.ticket_type_id: line.unit_price for line in sale.lines}
    return [TicketRow(ticket.code, names.get(ticket.ticket_type_id,
                                             f"Type {ticket.ticket_type_id}"),
                      prices.get(ticket.ticket_type_id, 0), sale.currency, ticket.status)
            for ticket in sale.tickets]


def sale_with_refund(sale: Sale, refund: Refund) -> Sale:
    """``sale`` as it stands after ``refund``: its refunded tickets marked ``refunded`` and
    its status the refund's ``sale_status`` (when the server gave it)."""
    codes = {ticket.code for ticket in refund.tickets}
    tickets = [ticket.model_copy(update={"status": "refunded"}) if ticket.code in codes
               else ticket for ticket in sale.tickets]
    update: dict[str, object] = {"tickets": tickets}
    if refund.sale_status is not None:
        update["status"] = refund.sale_status
    return sale.model_copy(update=update)


class RefundTicketsModel(CheckableRowsModel[TicketRow]):
    """A sale's tickets, valid ones checkable (column 0). ``Qt.UserRole`` gives the
    :class:`TicketRow`."""

    CODE, TYPE, PRICE, STATUS = range(4)
    COLUMNS = ("Ticket code", "Ticket type", "Price", "Status")

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)

    def key(self, row: TicketRow) -> Hashable:
        return row.code

    def checkable(self, row: TicketRow) -> bool:
        return row.status == "valid"

    def alignment(self, column: int) -> int:
        return _RIGHT if column == self.PRICE else _LEFT

    def valid_rows(self) -> list[TicketRow]:
        """The tickets that can still be refunded."""
        return [row for row in self.rows() if self.checkable(row)]

    def all_checked(self) -> bool:
        """``True`` when every ticket that can be refunded is checked (and there is one)."""
        valid = self.valid_rows()
        return bool(valid) and all(self.is_checked(row) for row in valid)

    def amount(self) -> int:
        """What the checked tickets pay back, in minor units."""
        return sum(row.price for row in self.checked_rows())

    def cell(self, row: TicketRow, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.UserRole:
            return row
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return (row.code, row.ticket_type, format_money(row.price, row.currency),
                    _STATUS_WORDS.get(row.status, row.status))[column]
        if role == Qt.ItemDataRole.FontRole and column == self.CODE:
            return code_font()
        if role == Qt.ItemDataRole.ForegroundRole and not self.checkable(row):
            return QBrush(_GREY)
        if role == Qt.ItemDataRole.ToolTipRole and not self.checkable(row):
            return "Already refunded: this ticket no longer admits anyone."
        return None

    def summary(self, rows: Sequence[TicketRow] | None = None) -> str:
        """``"2 × GA, 1 × VIP"`` for ``rows`` (default: the checked ones)."""
        counts: dict[str, int] = {}
        for row in self.checked_rows() if rows is None else rows:
            counts[row.ticket_type] = counts.get(row.ticket_type, 0) + 1
        return ", ".join(f"{count} × {name}" for name, count in counts.items())
