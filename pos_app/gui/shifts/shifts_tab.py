"""The manager's list of shifts (every terminal, newest first) and their reports: select a
shift, press "Report" (Enter) for its Z-report (closed) or X-report (still open).

Shifts are read with ``register.manager.shifts()`` on the runner, one page of
:data:`PAGE_SIZE`, and again on "Refresh". Times are shown in the venue's time zone; money
through :func:`pos_app.domain.money.format_money`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pos_app.api.schemas import Shift
from pos_app.domain.money import format_money
from pos_app.gui.core.formatting import local_clock_time
from pos_app.gui.core.ports import ManagerPort
from pos_app.gui.core.tables import RowsTableModel, code_font, configure_row_table
from pos_app.gui.core.task_runner import TaskRunner
from pos_app.gui.core.widgets import named

__all__ = ["PAGE_SIZE", "ShiftsTab", "ShiftsTableModel", "variance_text"]

PAGE_SIZE = 200
_Index = QModelIndex | QPersistentModelIndex
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_VARIANCE_OFF = "#b91c1c"  # a drawer short or over: red, as on the close dialog


def variance_text(shift: Shift) -> str:
    """``"+$1.50"`` / ``"-$3.00"`` / ``"$0.00"`` for a closed shift, ``""`` while open."""
    if shift.variance is None:
        return ""
    sign = "+" if shift.variance > 0 else ""
    return sign + format_money(shift.variance, shift.currency)


class ShiftsTableModel(RowsTableModel[Shift]):
    """Shifts, one per row: number, terminal, opened (local time), by, status, cash sales,
    expected, counted and variance (red when not zero)."""

    COLUMNS = ("Shift", "Terminal", "Opened", "By", "Status", "Cash sales", "Expected",
               "Counted", "Variance")

    def __init__(self, zone: str | None = None) -> None:
        super().__init__()
        self._rows: list[Shift] = []
        self._zone = zone

    def rows(self) -> Sequence[Shift]:
        return self._rows

    def set_rows(self, shifts: Sequence[Shift], zone: str | None = None) -> None:
        """Show ``shifts`` (newest first, as the server lists them) in ``zone``."""
        self.beginResetModel()
        self._rows = list(shifts)
        if zone is not None:
            self._zone = zone
        self.endResetModel()

    def alignment(self, column: int) -> int:
        return _RIGHT if column >= 5 or column == 0 else super().alignment(column)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        shift = self.row_at(index)
        if shift is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(shift, column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self.alignment(column)
        if role == Qt.ItemDataRole.FontRole and column == 0:
            return code_font()
        if role == Qt.ItemDataRole.ForegroundRole and column == 8 and shift.variance:
            return QBrush(QColor(_VARIANCE_OFF))
        return None

    def _text(self, shift: Shift, column: int) -> str:
        money = shift.currency
        if column == 0:
            return str(shift.id)
        if column == 1:
            return shift.terminal_name or f"Terminal {shift.terminal_id}"
        if column == 2:
            return local_clock_time(shift.opened_at, self._zone, datetime.now(UTC))
        if column == 3:
            return shift.opened_by_name or f"Staff {shift.opened_by}"
        if column == 4:
            return "Open" if shift.status == "open" else "Closed"
        if column == 5:
            if shift.sales is None:  # withheld: a cashier's read of an open shift
                return ""
            return f"{shift.sales.count} · {format_money(shift.sales.amount, money)}"
        if column == 6:
            return "" if shift.expected_cash is None else format_money(shift.expected_cash,
                                                                        money)
        if column == 7:
            return "" if shift.counted_cash is None else format_money(shift.counted_cash,
                                                                       money)
        return variance_text(shift)


#: Opens the report of a shift: ``(shift_id, is_open)``.
ReportOpener = Callable[[int, bool], None]


class ShiftsTab(QWidget):
    """The shifts list with a status filter, "Refresh" and "Report" (Enter).

    Signals:
        report_requested(int, bool): the manager asked for the report of shift ``id``
            (``True``: it is still open, an X-report).
    """

    report_requested = Signal(int, bool)

    def __init__(self, register: ManagerPort, runner: TaskRunner,
                 parent: QWidget | None = None, *, zone: str | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("shiftsTab")
        self._register = register
        self._runner = runner
        self._generation = 0
        self.model = ShiftsTableModel(zone)
        self.status_combo = named(QComboBox(), "shiftsStatus")
        self.status_combo.setAccessibleName("Show shifts")
        for label, value in (("All shifts", None), ("Open", "open"), ("Closed", "closed")):
            self.status_combo.addItem(label, value)
        self.refresh_button = named(QPushButton("Refresh"), "secondaryButton")
        self.refresh_button.setAccessibleName("Refresh the shifts")
        self.report_button = named(QPushButton("Report  ·  Enter"), "primaryButton")
        self.report_button.setAccessibleName(
            "Report of the selected shift: Z-report when closed, X-report when open")
        self.report_button.setEnabled(False)
        self.state_label = named(QLabel("Loading shifts…"), "shiftsState")
        self.state_label.setWordWrap(True)
        self.table = configure_row_table(named(QTableView(), "shiftsTable"), row_height=40)
        self.table.setAccessibleName("Shifts, newest first")
        self.table.setModel(self.model)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)  # the terminal's name

        bar = QHBoxLayout()
        bar.addWidget(self.status_combo)
        bar.addWidget(self.refresh_button)
        bar.addStretch(1)
        bar.addWidget(self.report_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 12, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.state_label)
        layout.addWidget(self.table, 1)

        self.status_combo.currentIndexChanged.connect(self.refresh)
        self.refresh_button.clicked.connect(self.refresh)
        self.report_button.clicked.connect(self.on_report_button_clicked)
        self.table.activated.connect(self.on_report_button_clicked)
        self.table.selectionModel().selectionChanged.connect(self._on_selection_changed)
        for keys in ("Return", "Enter"):
            shortcut = QShortcut(QKeySequence(keys), self.table)
            shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)
            shortcut.activated.connect(self.on_report_button_clicked)

    def selected_shift(self) -> Shift | None:
        """The shift on the selected row, or ``None``."""
        rows = self.table.selectionModel().selectedRows()
        return self.model.row_at(rows[0]) if rows else None

    def refresh(self) -> None:
        """Read the shifts again (status filter applied) on the runner."""
        self._generation += 1
        generation = self._generation
        status = self.status_combo.currentData()
        self.state_label.setText("Loading shifts…")
        self.state_label.show()
        task = self._runner.read(self._register.manager.shifts, status=status,
                                 limit=PAGE_SIZE)
        task.finished.connect(lambda page: self._on_loaded(generation, page))
        task.failed.connect(lambda exc: self._on_failed(generation, exc))

    def set_zone(self, zone: str | None) -> None:
        """Show times in the venue's IANA ``zone`` (``None``: UTC)."""
        self.model.set_rows(self.model.rows(), zone)

    def _on_loaded(self, generation: int, page: object) -> None:
        if generation != self._generation:
            return  # a newer read is on its way
        shifts = list(getattr(page, "shifts", []))
        self.model.set_rows(shifts)
        if shifts:
            self.state_label.hide()
            self.table.selectRow(0)
        else:
            self.state_label.setText("No shifts to show.")
        self._on_selection_changed()

    def _on_failed(self, generation: int, exc: object) -> None:
        if generation == self._generation:
            self.state_label.setText(f"Could not read the shifts: {exc}")
            self.state_label.show()

    def _on_selection_changed(self, *_args: object) -> None:
        self.report_button.setEnabled(self.selected_shift() is not None)

    def on_report_button_clicked(self, *_args: object) -> None:
        shift = self.selected_shift()
        if shift is not None:
            self.report_requested.emit(shift.id, shift.status == "open")
