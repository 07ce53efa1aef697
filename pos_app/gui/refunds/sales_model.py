"""Browsing sales (the shift's receipts): the table model, the filter that finds a sale by
its number or by the code of one of its tickets, and :class:`SalesBrowser`, a search box
over the table with its keyboard.

Times are shown in the venue's time zone (the event's IANA zone; UTC, labelled, when the
event is not known). Money goes through :func:`pos_app.domain.money.format_money`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from PySide6.QtCore import (
    QEvent,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QKeyEvent
from PySide6.QtWidgets import (
    QHeaderView,
    QLabel,
    QLineEdit,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pos_app.api.schemas import Sale
from pos_app.domain.money import format_money
from pos_app.gui.core.formatting import local_clock_time
from pos_app.gui.core.styles import style_sheet
from pos_app.gui.core.tables import RowsTableModel, code_font, configure_row_table
from pos_app.gui.core.widgets import named, restyle

__all__ = ["SalesBrowser", "SalesFilterProxy", "SalesTableModel", "sale_matches",
           "sale_status_label", "tickets_summary"]

_Index = QModelIndex | QPersistentModelIndex
_STATUS_LABELS = {"confirmed": "Confirmed", "partially_refunded": "Partially refunded",
                  "refunded": "Refunded"}
# Refunds stand out: amber for a partial refund, grey for a sale refunded in full.
_STATUS_COLOURS = {"partially_refunded": "#b45309", "refunded": "#64748b"}
_TABLE_STYLE = style_sheet("sales_table")
_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
_MOVES = {Qt.Key.Key_Up: -1, Qt.Key.Key_Down: 1, Qt.Key.Key_PageUp: -10,
          Qt.Key.Key_PageDown: 10}  # rows moved by each key in the search box


def sale_status_label(status: str) -> str:
    """The words shown for a sale's ``status``, e.g. ``"Partially refunded"``."""
    return _STATUS_LABELS.get(status, status.replace("_", " ").capitalize())


def tickets_summary(sale: Sale) -> str:
    """``"2 × GA, 1 × VIP"``: the sale's lines, quantity and ticket type name."""
    return ", ".join(f"{line.quantity} × {line.name}" for line in sale.lines)


def sale_matches(sale: Sale, text: str) -> bool:
    """Whether ``sale`` is what the cashier typed: its number (digits, an optional leading
    ``#``, leading zeros as printed on the receipt: ``#000042``) or part of one of its ticket
    codes (any case). Blank text matches every sale.

    A number matches exactly: "4" finds sale 4, not 14 or 40, so typing a number narrows the
    list to that one sale.
    """
    needle = text.strip()
    if not needle:
        return True
    digits = needle.removeprefix("#").strip()
    if digits.isdigit():
        return int(digits) == sale.number
    folded = needle.casefold()
    return any(folded in ticket.code.casefold() for ticket in sale.tickets)


class SalesTableModel(RowsTableModel[Sale]):
    """Sales as rows, in the order given; columns Sale, Time, Tickets, Total, Status, Staff.

    ``zones`` maps event ids to IANA zones (the venue's) for the Time column; ``staff_names``
    maps staff ids to the names shown (others read ``Staff #id``). ``SALE_ROLE`` gives a
    row's :class:`~pos_app.api.schemas.Sale`.
    """

    COLUMNS = ("Sale", "Time", "Tickets", "Total", "Status", "Staff")
    NUMBER, TIME, TICKETS, TOTAL, STATUS, STAFF = range(6)
    SALE_ROLE = Qt.ItemDataRole.UserRole

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._sales: list[Sale] = []
        self._zones: dict[str, str] = {}
        self._staff: dict[int, str] = {}
        self._now: datetime | None = None
        self._number_font = code_font()

    # --- Qt model interface -----------------------------------------------------------------

    def rows(self) -> Sequence[Sale]:
        return self._sales


    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        sale = self.row_at(index)
        if sale is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(sale, column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self.alignment(column)
        if role == Qt.ItemDataRole.FontRole and column == self.NUMBER:
            return self._number_font
        if role == Qt.ItemDataRole.ForegroundRole and column == self.STATUS:
            colour = _STATUS_COLOURS.get(sale.status)
            return QBrush(QColor(colour)) if colour else None
        if role == Qt.ItemDataRole.ToolTipRole and column == self.TICKETS:
            return "\n".join(ticket.code + ("" if ticket.status == "valid" else " (refunded)")
                             for ticket in sale.tickets)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            if column == self.NUMBER:
                return f"sale number {sale.number}"
            if column == self.TICKETS:
                count = len(sale.tickets)
                return f"{count} ticket{'s' if count != 1 else ''}: {tickets_summary(sale)}"
            return self._text(sale, column)
        if role == self.SALE_ROLE:
            return sale
        return None

    # --- reading and changing -----------------------------------------------------------------

    def sale_at(self, row: int) -> Sale | None:
        """The sale on ``row``, or ``None`` outside the table."""
        return self._sales[row] if 0 <= row < len(self._sales) else None

    def set_sales(self, sales: Sequence[Sale], *, zones: Mapping[str, str] | None = None,
                  staff_names: Mapping[int, str] | None = None,
                  now: datetime | None = None) -> None:
        """Show ``sales`` in this order; ``zones`` (event id -> IANA zone) and
        ``staff_names`` (staff id -> name) add to those known; ``now`` (aware) decides
        whether a time needs its day (a sale of another day shows it)."""
        self.beginResetModel()
        self._sales = list(sales)
        self._zones.update(zones or {})
        self._staff.update(staff_names or {})
        self._now = now
        self.endResetModel()

    def zone_of(self, sale: Sale) -> str | None:
        """The IANA zone of ``sale``'s venue, or ``None`` when its event is unknown."""
        return self._zones.get(sale.event_id)

    def staff_name(self, sale: Sale) -> str:
        """Who made ``sale``: a known name, ``Staff #id``, or a dash (online sales)."""
        if sale.staff_id is None:
            return "—"
        return self._staff.get(sale.staff_id, f"Staff #{sale.staff_id}")

    # --- helpers ----------------------------------------------------------------------------

    def _text(self, sale: Sale, column: int) -> str:
        if column == self.NUMBER:
            return f"#{sale.number}"
        if column == self.TIME:
            return local_clock_time(sale.created_at, self.zone_of(sale), self._now,
                                    with_zone=True)
        if column == self.TICKETS:
            return tickets_summary(sale)
        if column == self.TOTAL:
            return format_money(sale.total, sale.currency)
        if column == self.STATUS:
            return sale_status_label(sale.status)
        if column == self.STAFF:
            return self.staff_name(sale)
        return ""

    def alignment(self, column: int) -> int:
        vertical = Qt.AlignmentFlag.AlignVCenter
        if column == self.TOTAL:
            return int(Qt.AlignmentFlag.AlignRight | vertical)
        return int(Qt.AlignmentFlag.AlignLeft | vertical)


class SalesFilterProxy(QSortFilterProxyModel):
    """Narrows the sales to those :func:`sale_matches` the search text."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._needle = ""

    def set_search(self, text: str) -> None:
        """Show only the rows matching ``text`` (blank: every row)."""
        needle = text.strip()
        if needle == self._needle:
            return
        if hasattr(self, "endFilterChange"):  # Qt 6.10+
            self.beginFilterChange()
            self._needle = needle
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:  # pragma: no cover - older Qt
            self._needle = needle
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        if not self._needle:
            return True
        model = self.sourceModel()
        sale = model.data(model.index(source_row, 0, source_parent), SalesTableModel.SALE_ROLE)
        return isinstance(sale, Sale) and sale_matches(sale, self._needle)


class SalesBrowser(QWidget):
    """A search box over a table of sales, or a sentence in the table's place (loading,
    nothing to show, a failure). The keyboard stays in the search box: typing searches, Up /
    Down / Page Up / Page Down move the selection, Enter chooses; typing in the table goes to
    the search box too.

    Args:
        empty_text: shown when there are no sales at all.
        no_match_text: shown when no sale matches the search.

    Signals:
        sale_chosen(object): Enter or a double click on this ``Sale``.
        current_changed(object): the selected ``Sale`` changed (``None``: none selected).
    """

    sale_chosen = Signal(object)
    current_changed = Signal(object)

    def __init__(self, empty_text: str, no_match_text: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setStyleSheet(_TABLE_STYLE)
        self._empty_text = empty_text
        self._no_match_text = no_match_text
        self.loaded = False
        self._keep_id: str | None = None
        self.model = SalesTableModel(self)
        self.proxy = SalesFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.search_edit = named(QLineEdit(), "salesSearch")
        self.search_edit.setPlaceholderText("Search sale number or ticket code")
        self.search_edit.setAccessibleName("Search sales by sale number or ticket code")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setMaxLength(64)
        self.table = named(QTableView(), "salesTable")
        self.table.setModel(self.proxy)
        configure_row_table(self.table, row_height=44)
        self.table.setWordWrap(False)
        self.table.setTabKeyNavigation(False)
        header = self.table.horizontalHeader()
        header.setMinimumSectionSize(80)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(SalesTableModel.TICKETS, QHeaderView.ResizeMode.Stretch)
        self.placeholder = named(QLabel(), "salesPlaceholder")
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.placeholder.setAccessibleName("Sales list status")
        self.pages = QStackedWidget()
        self.pages.addWidget(self.table)
        self.pages.addWidget(self.placeholder)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(14)
        layout.addWidget(self.search_edit)
        layout.addWidget(self.pages, 1)
        self.search_edit.textChanged.connect(self.on_search_edit_text_changed)
        self.table.doubleClicked.connect(self.on_table_double_clicked)
        self.table.selectionModel().currentRowChanged.connect(self.on_table_current_changed)
        for watched in (self.search_edit, self.table):
            watched.installEventFilter(self)

    def selected_sale(self) -> Sale | None:
        """The sale on the table's current row, or ``None`` (also while not loaded)."""
        return self._sale_at(self.table.currentIndex().row()) if self.loaded else None

    def _sale_at(self, row: int) -> Sale | None:
        index = self.proxy.index(row, 0)
        sale = index.data(SalesTableModel.SALE_ROLE) if index.isValid() else None
        return sale if isinstance(sale, Sale) else None

    def select_row(self, row: int) -> None:
        """Make ``row`` (of the rows shown, clamped to them) current and selected."""
        rows = self.proxy.rowCount()
        if rows == 0:
            return
        index = self.proxy.index(max(0, min(rows - 1, row)), 0)
        self.table.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.table.scrollTo(index)

    def set_sales(self, sales: Sequence[Sale], *, zones: Mapping[str, str] | None = None,
                  staff_names: Mapping[int, str] | None = None,
                  now: datetime | None = None) -> None:
        """Show ``sales`` (the rest as :meth:`SalesTableModel.set_sales`), keeping the
        selected sale selected when it is still shown, else the first."""
        chosen = getattr(self.selected_sale(), "id", None) or self._keep_id
        self.model.set_sales(sales, zones=zones, staff_names=staff_names, now=now)
        self.loaded = True
        self._after_filter(chosen)

    def show_message(self, text: str, *, failed: bool = False) -> None:
        """Show ``text`` in the table's place (red when ``failed``); until :meth:`set_sales`
        nothing can be chosen."""
        if self.loaded:  # re-selected by the next set_sales when still there
            self._keep_id = getattr(self.selected_sale(), "id", None)
        self.loaded = False
        self._say(text, failed)
        self.current_changed.emit(None)

    def _say(self, text: str, failed: bool = False) -> None:
        self.placeholder.setText(text)
        self.placeholder.setAccessibleDescription(text)
        self.placeholder.setProperty("failed", failed)
        restyle(self.placeholder)
        self.pages.setCurrentWidget(self.placeholder)

    def on_search_edit_text_changed(self, text: str) -> None:
        chosen = self.selected_sale()
        self.proxy.set_search(text)
        if self.loaded:
            self._after_filter(chosen.id if chosen is not None else None)

    def _after_filter(self, keep_id: str | None) -> None:
        if self.model.rowCount() == 0:
            self._say(self._empty_text)
        elif self.proxy.rowCount() == 0:
            self._say(self._no_match_text)
        else:
            self.pages.setCurrentWidget(self.table)
            ids = [getattr(self._sale_at(row), "id", None)
                   for row in range(self.proxy.rowCount())]
            self.select_row(ids.index(keep_id) if keep_id in ids else 0)
        self.current_changed.emit(self.selected_sale())

    def on_table_current_changed(self, _current: QModelIndex, _previous: QModelIndex) -> None:
        self.current_changed.emit(self.selected_sale())

    def on_table_double_clicked(self, _index: QModelIndex) -> None:
        self._choose()

    def _choose(self) -> None:
        sale = self.selected_sale()
        if sale is not None:
            self.sale_chosen.emit(sale)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        key = event.key()
        plain = not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if key in _ENTER and plain:
            self._choose()
            return True
        if watched is self.search_edit and key in _MOVES and plain:
            self.select_row(max(0, self.table.currentIndex().row()) + _MOVES[Qt.Key(key)])
            return True
        typed = event.text()
        shifted = event.modifiers() == Qt.KeyboardModifier.ShiftModifier
        if watched is self.table and (plain or shifted) and (
                (typed.isprintable() and typed.strip()) or key == Qt.Key.Key_Backspace):
            # Typing in the table searches: the keys go to the search box.
            self.search_edit.setFocus(Qt.FocusReason.OtherFocusReason)
            if key == Qt.Key.Key_Backspace:
                self.search_edit.backspace()
            else:
                self.search_edit.insert(typed)
            return True
        return False
