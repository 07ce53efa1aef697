"""The terminal's own journal, whole: every request this till recorded, newest first, for when
the server cannot be reached (or to see what the till itself sent).

It reads only the local SQLite journal (``register.journal.entries(...)``, the same read as
:func:`pos_app.gui.shell.journal_status.read_unresolved`), on the
:class:`~pos_app.gui.core.task_runner.TaskRunner`: it works with the server down. Filters: state
and operation (asked of the journal), and a search of the reference (sale number, hold
code, "shift 12") or the idempotency key's beginning (matched on the worker,
:func:`entry_matches`). At most :data:`SHOW_LIMIT` entries are listed; the line under the
table says when more match. The selected entry's request body and the server's answer are
shown as indented JSON.

Keyboard: typing searches, Up/Down choose, F5 reads again, Esc closes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, Protocol

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QKeyEvent, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from pos_app.gui.core.ports import state_name
from pos_app.gui.core.styles import style_sheet
from pos_app.gui.core.tables import RowsTableModel, configure_row_table
from pos_app.gui.core.task_runner import TaskRunner
from pos_app.gui.core.widgets import Combo, named, restyle

__all__ = ["OPERATIONS", "SHOW_LIMIT", "STATES", "JournalEntryLike", "JournalModel",
           "JournalRead", "JournalView", "entry_detail_text", "entry_matches", "read_journal"]

SHOW_LIMIT = 2000
SEARCH_DELAY_MS = 250
STATES = ("pending", "confirmed", "refused", "unknown", "voided")
OPERATIONS: dict[str, str] = {
    "sale": "Sale", "hold": "Hold", "hold_release": "Hold release", "refund": "Refund",
    "shift_open": "Shift open", "cash_movement": "Cash movement", "shift_close": "Shift close",
    "capacity_change": "Capacity change", "capacity_bulk": "Bulk capacity change",
    "ticket_type_edit": "Ticket type edit",
}
"""The journaled operations (``pos_app.journal``) in words, in the order the list offers."""
_STATE_COLOURS = {"pending": "#b45309", "unknown": "#b45309", "refused": "#b91c1c",
                  "confirmed": "#166534", "voided": "#64748b"}
_STYLE = style_sheet("journal_view")


class JournalEntryLike(Protocol):
    """One journal entry as :class:`pos_app.journal.JournalEntry` has it."""

    key: str
    operation: str
    state: Any  # EntryState (a str enum)
    body: dict[str, Any]
    response: dict[str, Any] | None
    error_code: str | None
    reference: str | None
    staff_id: int | None
    terminal_id: int | None
    created_at: datetime
    updated_at: datetime
    flagged_for_manager: bool
    server: str | None


@dataclass(frozen=True)
class JournalRead:
    """What :func:`read_journal` found: ``entries`` newest first (at most ``limit``), whether
    more matched (``more``) and whether the home has journaled for more than one server
    (``several_servers``: then each row names its server)."""

    entries: list[JournalEntryLike]
    more: bool
    several_servers: bool = False


def read_journal(register: object, state: str | None, operation: str | None, text: str,
                 limit: int = SHOW_LIMIT) -> JournalRead:
    """Worker: the journal entries in ``state`` of ``operation`` (``None``: any) that
    :func:`entry_matches` ``text`` (empty: all), newest first, at most
    ``limit``. A register without a journal has none. Raises the journal's errors
    (``JournalError``, ``sqlalchemy`` errors) when the file cannot be read."""
    journal = getattr(register, "journal", None)
    if journal is None:
        return JournalRead([], False)
    servers = getattr(journal, "servers", None)
    several = servers is not None and len(servers()) > 1
    needle = text.strip().casefold()
    if not needle:  # the journal counts for us: one more than shown says "more"
        found = list(journal.entries(state=state, operation=operation, limit=limit + 1))
        return JournalRead(found[:limit], len(found) > limit, several)
    matches: list[JournalEntryLike] = []
    for entry in journal.entries(state=state, operation=operation, limit=None):
        if entry_matches(entry, needle):
            matches.append(entry)
            if len(matches) > limit:
                break
    return JournalRead(matches[:limit], len(matches) > limit, several)


def entry_matches(entry: JournalEntryLike, text: str) -> bool:
    """``True`` when ``text`` (any case) begins the entry's key or a word of its reference
    (sale number, hold code, "shift 12"), or, holding a space, appears in the reference."""
    needle = text.strip().casefold()
    reference = (entry.reference or "").casefold()
    if " " in needle:
        return needle in reference
    return entry.key.casefold().startswith(needle) or any(
        word.startswith(needle) for word in reference.split())


def _server(entry: JournalEntryLike) -> str:
    return getattr(entry, "server", None) or "not recorded (journaled before servers were)"


def entry_detail_text(entry: JournalEntryLike) -> str:
    """Every field of ``entry``, the request body and the response as indented JSON."""
    def pretty(value: object) -> str:
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)

    lines = [
        f"Operation   {OPERATIONS.get(entry.operation, entry.operation)} ({entry.operation})",
        f"State       {state_name(entry)}" + ("  (flagged for the manager)"
                                          if entry.flagged_for_manager else ""),
        f"Reference   {entry.reference or '—'}",
        f"Error       {entry.error_code or '—'}",
        f"Created     {entry.created_at.astimezone():%Y-%m-%d %H:%M:%S %Z}",
        f"Updated     {entry.updated_at.astimezone():%Y-%m-%d %H:%M:%S %Z}",
        f"Staff       {entry.staff_id if entry.staff_id is not None else '—'}",
        f"Terminal    {entry.terminal_id if entry.terminal_id is not None else '—'}",
        f"Server      {_server(entry)}",
        f"Key         {entry.key}",
        "",
        "Request",
        pretty(entry.body),
        "",
        "Response",
        pretty(entry.response) if entry.response is not None else "(no answer recorded)",
    ]
    return "\n".join(lines)


_Index = QModelIndex | QPersistentModelIndex


class JournalModel(RowsTableModel[JournalEntryLike]):
    """Journal entries, one per row: when (local time), operation, state, reference, error,
    key. With ``several_servers`` (:meth:`set_entries`) the reference also names the entry's
    server, so two servers' "sale 1" are told apart."""

    COLUMNS = ("When", "Operation", "State", "Reference", "Error", "Key")
    WHEN, OPERATION, STATE, REFERENCE, ERROR, KEY = range(6)
    ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._entries: list[JournalEntryLike] = []
        self._several_servers = False

    def rows(self) -> list[JournalEntryLike]:
        return self._entries

    def set_entries(self, entries: Sequence[JournalEntryLike], *,
                    several_servers: bool = False) -> None:
        self.beginResetModel()
        self._entries = list(entries)
        self._several_servers = several_servers
        self.endResetModel()

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        entry = self.row_at(index)
        if entry is None:
            return None
        column = index.column()
        if role == self.ENTRY_ROLE:
            return entry
        if role == Qt.ItemDataRole.ForegroundRole and column == self.STATE:
            return QBrush(QColor(_STATE_COLOURS.get(state_name(entry), "#0f172a")))
        if role == Qt.ItemDataRole.ToolTipRole and column == self.KEY:
            return entry.key
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return None
        if column == self.WHEN:
            return f"{entry.created_at.astimezone():%Y-%m-%d %H:%M:%S}"
        if column == self.OPERATION:
            return OPERATIONS.get(entry.operation, entry.operation.replace("_", " "))
        if column == self.STATE:
            return state_name(entry) + (" · flagged" if entry.flagged_for_manager else "")
        if column == self.REFERENCE:
            if self._several_servers:
                return f"{entry.reference or '—'} on {_server(entry)}"
            return entry.reference or ""
        if column == self.ERROR:
            return entry.error_code or ""
        return entry.key


class JournalView(QDialog):
    """The whole journal of this terminal (see the module docstring). Call :meth:`load`
    (done when first shown).

    Signals:
        entries_loaded(int): a read finished and shows this many entries.
        load_failed(object): the journal could not be read (a sentence is shown).
    """

    entries_loaded = Signal(int)
    load_failed = Signal(object)

    def __init__(self, register: object, runner: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("journalView")
        self.setWindowTitle("This terminal's journal")
        self.setStyleSheet(_STYLE)
        self._register = register
        self._runner = runner
        self._generation = 0
        self._loaded_once = False
        self.more = False
        self.model = JournalModel(self)

        title = named(QLabel("This terminal's journal"), "sectionTitle")
        subtitle = named(QLabel("Every request this till recorded, newest first. Read from "
                                "this computer only, so it works while the server is down."),
                         "sectionSubtitle")
        subtitle.setWordWrap(True)
        self.state_combo = named(Combo(), "journalCombo")
        self.state_combo.setMinimumWidth(170)
        self.state_combo.setAccessibleName("State")
        self.state_combo.addItem("Any state", None)
        for state in STATES:
            self.state_combo.addItem(state.capitalize(), state)
        self.operation_combo = named(Combo(), "journalCombo")
        self.operation_combo.setMinimumWidth(230)
        self.operation_combo.setAccessibleName("Operation")
        self.operation_combo.addItem("Any operation", None)
        for code, label in OPERATIONS.items():
            self.operation_combo.addItem(label, code)
        self.search_edit = named(QLineEdit(), "journalSearch")
        self.search_edit.setPlaceholderText("Search reference or key")
        self.search_edit.setAccessibleName("Search the journal by reference or key")
        self.search_edit.setClearButtonEnabled(True)
        self.refresh_button = named(QPushButton("Refresh  F5"), "secondaryButton")
        self.refresh_button.setAccessibleName("Read the journal again")
        self.table = named(QTableView(), "journalTable")
        self.table.setModel(self.model)
        self.table.setAccessibleName("Journal entries, newest first")
        configure_row_table(self.table, row_height=36)
        self.table.setWordWrap(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.detail = named(QPlainTextEdit(), "journalDetail")
        self.detail.setReadOnly(True)
        self.detail.setAccessibleName("Selected journal entry, request and response")
        mono = QFont()
        mono.setFamilies(["DejaVu Sans Mono", "Consolas", "Menlo", "monospace"])
        self.detail.setFont(mono)
        self.detail.setPlaceholderText("Select an entry to see its request and the answer.")
        self.status_label = named(QLabel("Reading the journal…"), "journalStatusLine")
        self.status_label.setAccessibleName("Journal summary")
        self.close_button = named(QPushButton("Close"), "secondaryButton")
        self.close_button.setAccessibleName("Close the journal")
        for push in (self.refresh_button, self.close_button):
            push.setAutoDefault(False)

        filters = QHBoxLayout()
        filters.setSpacing(10)
        filters.addWidget(self.state_combo)
        filters.addWidget(self.operation_combo)
        filters.addWidget(self.search_edit, 1)
        filters.addWidget(self.refresh_button)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.table)
        splitter.addWidget(self.detail)
        splitter.setSizes([640, 420])
        splitter.setChildrenCollapsible(False)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status_label, 1)
        bottom.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(24, 20, 24, 18)
        layout.setSpacing(12)
        layout.addWidget(title)
        layout.addWidget(subtitle)
        layout.addLayout(filters)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)
        self.resize(1180, 720)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.load)
        self.search_edit.textEdited.connect(lambda _t: self._search_timer.start())
        self.state_combo.currentIndexChanged.connect(lambda _i: self.load())
        self.operation_combo.currentIndexChanged.connect(lambda _i: self.load())
        self.refresh_button.clicked.connect(self.load)
        self.close_button.clicked.connect(self.reject)
        self.table.selectionModel().currentRowChanged.connect(self.on_table_current_changed)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._loaded_once:
            self._loaded_once = True
            self.load()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_F5:
            self.load()
            event.accept()
            return
        super().keyPressEvent(event)

    def load(self) -> None:
        """Read the entries for the current filters on a worker; an older read's answer is
        dropped when it arrives."""
        self._loaded_once = True
        self._search_timer.stop()
        self._generation += 1
        generation = self._generation
        task = self._runner.read(read_journal, self._register, self.state_combo.currentData(),
                                 self.operation_combo.currentData(), self.search_edit.text())
        task.finished.connect(partial(self.on_read_task_finished, generation))
        task.failed.connect(partial(self.on_read_task_failed, generation))

    def on_read_task_finished(self, generation: int, result: JournalRead) -> None:
        if generation != self._generation:
            return
        chosen = self.selected_entry()
        self.model.set_entries(result.entries, several_servers=result.several_servers)
        self.more = result.more
        count = len(result.entries)
        if result.more:
            text = (f"Showing the newest {count:,} matching entries; more match. Narrow the "
                    "filters to see older ones.")
        elif count:
            text = f"{count:,} entr{'y' if count == 1 else 'ies'}, newest first."
        else:
            text = "No journal entries match." if self._filtered() else "The journal is empty."
        self._status(text)
        keep = next((row for row, e in enumerate(result.entries)
                     if chosen is not None and e.key == chosen.key), 0 if count else None)
        if keep is not None:
            self.table.selectRow(keep)
        else:
            self.detail.clear()
        self.entries_loaded.emit(count)

    def on_read_task_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._status(f"The journal on this computer could not be read ({exc}). Keep the "
                     "file for the manager.", failed=True)
        self.load_failed.emit(exc)

    def _filtered(self) -> bool:
        return bool(self.state_combo.currentData() or self.operation_combo.currentData()
                    or self.search_edit.text().strip())

    def _status(self, text: str, *, failed: bool = False) -> None:
        self.status_label.setText(text)
        self.status_label.setProperty("failed", failed)
        restyle(self.status_label)

    def selected_entry(self) -> JournalEntryLike | None:
        """The entry on the table's current row, or ``None``."""
        return self.model.row_at(self.table.currentIndex())

    def on_table_current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        entry = self.model.row_at(current)
        if entry is None:
            self.detail.clear()
        else:
            self.detail.setPlainText(entry_detail_text(entry))
