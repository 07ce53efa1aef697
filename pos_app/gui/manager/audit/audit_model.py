"""The audit log as a lazy table: only the pages fetched so far are held, the next page is
asked for when the view scrolls near the end (``canFetchMore`` / ``fetchMore``).

Pages come from ``register.manager.audit_page`` (``GET /v1/audit``, keyset paging by
``next_cursor``) on the :class:`~pos_app.gui.core.task_runner.TaskRunner`, never on the GUI thread.
One request of the current query is in flight at a time. A new query (filters or order
changed) bumps a generation counter and starts its first page at once; an answer of an older
generation is dropped when it arrives, so a slow page of the old filter never lands in the new
list.

A free-text search scans a bounded stretch of the log per request, so a page may come back
empty while the server says there is more: the model then asks for the next page by itself.

Entries at or after the first broken link of the hash chain (``GET /v1/audit/verify``'s
``first_bad_seq``, :meth:`AuditTableModel.set_first_bad_seq`) are marked broken: red tint and
the tooltip "hash chain broken here".
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, tzinfo
from functools import partial

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

from pos_app.api.schemas import AuditEntry, AuditPage
from pos_app.domain.audit_words import action_label
from pos_app.gui.core.ports import ManagerDeskLike
from pos_app.gui.core.tables import RowsTableModel
from pos_app.gui.core.task_runner import Task, TaskRunner
from pos_app.gui.manager.audit.audit_text import (
    AuditQuery,
    Order,
    entry_counts_text,
    entry_reason_text,
)

__all__ = ["BROKEN_TOOLTIP", "COUNTS_TOOLTIP", "AuditTableModel"]

_Index = QModelIndex | QPersistentModelIndex
BROKEN_TOOLTIP = "hash chain broken here"
COUNTS_TOOLTIP = "counts do not follow on here"
_BROKEN_BACKGROUND = QColor("#fee2e2")
_BROKEN_TEXT = QColor("#991b1b")


class AuditTableModel(RowsTableModel[AuditEntry]):
    """The audit entries of one query, fetched page by page (see the module docstring).

    ``desk`` is the register's manager desk (``register.manager``); ``timezone`` the zone
    times are shown in (the venue's; the computer's local zone when ``None``);
    ``page_size`` entries per request (the server allows 1..1000); at most ``max_rows`` are
    held (beyond, :attr:`capped` is true and nothing more is fetched: export instead).

    Signals:
        page_loaded(int): a page of the current query arrived with this many entries.
        first_page_loaded(): the current query's first page is in (its rows inserted, maybe
            none).
        loading_changed(bool): a request of the current query started (``True``) or ended.
        fetch_failed(object): a request of the current query raised this exception; nothing
            more is fetched until :meth:`retry` or a new query.
    """

    page_loaded = Signal(int)
    first_page_loaded = Signal()
    loading_changed = Signal(bool)
    fetch_failed = Signal(object)

    COLUMNS = ("#", "Time", "Action", "Ticket type", "Qty", "Before → after", "Staff",
               "Terminal", "Shift", "Reason / reference")
    SEQ, TIME, ACTION, TICKET_TYPE, QTY, COUNTS, STAFF, TERMINAL, SHIFT, REASON = range(10)
    ENTRY_ROLE = Qt.ItemDataRole.UserRole + 1
    BROKEN_ROLE = Qt.ItemDataRole.UserRole + 2
    _NUMERIC = frozenset({SEQ, QTY, TERMINAL, SHIFT})

    def __init__(self, desk: ManagerDeskLike, runner: TaskRunner,
                 parent: QObject | None = None, *, page_size: int = 100,
                 timezone: tzinfo | None = None, max_rows: int = 50_000) -> None:
        super().__init__(parent)
        self._desk = desk
        self._runner = runner
        self.page_size = page_size
        self.max_rows = max_rows
        self._zone = timezone
        self._entries: list[AuditEntry] = []
        self._filters: AuditQuery = {}
        self._order: Order = "desc"
        self._generation = 0
        self._started = False
        self._cursor: str | None = None
        self._at_end = False
        self._first_in = False
        self._task: Task | None = None
        self.error: BaseException | None = None
        self.first_bad_seq: int | None = None
        self.problem: str | None = None  # what is wrong there: hash | counts | truncated
        self._ticket_types: dict[int, str] = {}
        self._staff: dict[int, str] = {}

    # --- query ------------------------------------------------------------------------------

    @property
    def filters(self) -> AuditQuery:
        """The current query's filters (a copy)."""
        return dict(self._filters)

    @property
    def order(self) -> Order:
        """``desc`` (newest first) or ``asc``."""
        return self._order

    @property
    def generation(self) -> int:
        """Bumped by every :meth:`set_query`; answers of older generations are dropped."""
        return self._generation

    @property
    def loading(self) -> bool:
        """``True`` while a request of the current query is in flight."""
        return self._task is not None

    @property
    def loaded(self) -> bool:
        """``True`` once the current query's first page is in."""
        return self._first_in

    @property
    def at_end(self) -> bool:
        """``True`` when the server said there is nothing more for this query."""
        return self._at_end

    @property
    def capped(self) -> bool:
        """``True`` when :attr:`max_rows` are held and more would match."""
        return len(self._entries) >= self.max_rows and not self._at_end

    @property
    def timezone(self) -> tzinfo | None:
        return self._zone

    def set_query(self, filters: Mapping[str, str | int | datetime | None],
                  order: Order = "desc") -> None:
        """Show the entries matching ``filters`` in ``order``: the list empties and the
        first page is asked for now (an older query's answers are dropped)."""
        self._generation += 1
        self.beginResetModel()
        self._filters = {k: v for k, v in filters.items() if v is not None and v != ""}
        self._order = order
        self._entries = []
        self._cursor = None
        self._at_end = False
        self._first_in = False
        self._started = True
        self.error = None
        was_loading, self._task = self._task is not None, None
        self.endResetModel()
        if was_loading:
            self.loading_changed.emit(False)
        self._fetch()

    def retry(self) -> None:
        """Ask again for the page that failed (nothing when no request failed)."""
        if self.error is not None and self._task is None:
            self.error = None
            self._fetch()

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        return (not parent.isValid() and self._started and not self._at_end
                and self.error is None and len(self._entries) < self.max_rows)

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if self._task is None and self.canFetchMore(parent) and self._first_in:
            self._fetch()

    def _fetch(self) -> None:
        generation = self._generation
        limit = max(1, min(self.page_size, self.max_rows - len(self._entries)))
        task = self._runner.read(self._desk.audit_page, dict(self._filters), limit=limit,
                                 cursor=self._cursor, order=self._order)
        task.finished.connect(partial(self.on_page_task_finished, generation))
        task.failed.connect(partial(self.on_page_task_failed, generation))
        self._task = task
        self.loading_changed.emit(True)

    def on_page_task_finished(self, generation: int, page: AuditPage) -> None:
        if generation != self._generation:
            return  # a page of an older query
        entries = page.entries
        self._cursor = page.next_cursor
        self._at_end = page.next_cursor is None
        if entries:
            # The task stays set while the rows go in: a fetchMore from a rowsInserted slot
            # (the view, a model tester) must not ask for this page's successor twice.
            first = len(self._entries)
            self.beginInsertRows(QModelIndex(), first, first + len(entries) - 1)
            self._entries.extend(entries)
            self.endInsertRows()
            if generation != self._generation:
                return  # a slot started another query meanwhile
        self._task = None
        first_page = not self._first_in
        self._first_in = True
        self.page_loaded.emit(len(entries))
        if first_page:
            self.first_page_loaded.emit()
        if self._task is not None or generation != self._generation:
            return  # a slot asked for more already
        if not entries and not self._at_end and len(self._entries) < self.max_rows:
            self._fetch()  # a free-text scan window without a match: go on by ourselves
            return
        self.loading_changed.emit(False)

    def on_page_task_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._task = None
        self.error = exc
        self.loading_changed.emit(False)
        self.fetch_failed.emit(exc)

    # --- names and the chain ----------------------------------------------------------------

    def set_names(self, *, ticket_types: Mapping[int, str] | None = None,
                  staff: Mapping[int, str] | None = None) -> None:
        """Name ticket types and staff by id (unknown ids show as ``#id``)."""
        if ticket_types is not None:
            self._ticket_types = dict(ticket_types)
        if staff is not None:
            self._staff = dict(staff)
        self._changed_rows(self.TICKET_TYPE, self.STAFF)

    @property
    def ticket_type_names(self) -> dict[int, str]:
        return dict(self._ticket_types)

    @property
    def staff_names(self) -> dict[int, str]:
        return dict(self._staff)

    def set_first_bad_seq(self, seq: int | None, problem: str | None = "hash") -> None:
        """Mark the entries the check found wrong (``None``: the log is whole): with a
        ``hash`` or ``truncated`` problem every entry with ``seq >= seq`` (nothing after a
        broken link can be trusted), with a ``counts`` problem that entry alone (the chain
        itself holds)."""
        problem = problem if seq is not None else None
        if (seq, problem) == (self.first_bad_seq, self.problem):
            return
        self.first_bad_seq, self.problem = seq, problem
        self._changed_rows(0, len(self.COLUMNS) - 1)

    def is_broken(self, entry: AuditEntry) -> bool:
        """``True`` when the check found ``entry`` wrong (see :meth:`set_first_bad_seq`)."""
        first = self.first_bad_seq
        if first is None:
            return False
        return entry.seq == first if self.problem == "counts" else entry.seq >= first

    def _changed_rows(self, first_column: int, last_column: int) -> None:
        if self._entries:
            self.dataChanged.emit(self.index(0, first_column),
                                  self.index(len(self._entries) - 1, last_column))

    # --- table --------------------------------------------------------------------------------

    def rows(self) -> list[AuditEntry]:
        return self._entries

    def entry(self, row: int) -> AuditEntry | None:
        """The entry on ``row``, or ``None`` outside the rows held."""
        return self._entries[row] if 0 <= row < len(self._entries) else None

    def alignment(self, column: int) -> int:
        if column in self._NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return super().alignment(column)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> object:
        if (role == Qt.ItemDataRole.TextAlignmentRole and section == self.SEQ
                and orientation == Qt.Orientation.Horizontal):
            # Left, so the sort arrow (drawn at the right edge) does not cover the "#".
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        return super().headerData(section, orientation, role)

    def time_text(self, at: datetime) -> str:
        """``at`` as wall-clock time in the model's zone, ``YYYY-MM-DD HH:MM:SS``."""
        local = at.astimezone(self._zone) if self._zone is not None else at.astimezone()
        return local.strftime("%Y-%m-%d %H:%M:%S")

    def ticket_type_name(self, ticket_type_id: int | None) -> str:
        if ticket_type_id is None:
            return ""
        return self._ticket_types.get(ticket_type_id) or f"#{ticket_type_id}"

    def staff_name(self, entry: AuditEntry) -> str:
        """The staff member's name or ``#id``; the channel (``admin``, ``online``) when
        no staff member acted."""
        staff_id = entry.actor.staff_id
        if staff_id is None:
            return entry.actor.channel or ""
        return self._staff.get(staff_id) or f"#{staff_id}"

    def display(self, entry: AuditEntry, column: int) -> str:
        """The text of ``column`` for ``entry``."""
        if column == self.SEQ:
            return str(entry.seq)
        if column == self.TIME:
            return self.time_text(entry.at)
        if column == self.ACTION:
            return action_label(entry.action)
        if column == self.TICKET_TYPE:
            return self.ticket_type_name(entry.ticket_type_id)
        if column == self.QTY:
            return "" if entry.quantity is None else str(entry.quantity)
        if column == self.COUNTS:
            return entry_counts_text(entry)
        if column == self.STAFF:
            return self.staff_name(entry)
        if column == self.TERMINAL:
            return "" if entry.actor.terminal_id is None else str(entry.actor.terminal_id)
        if column == self.SHIFT:
            return "" if entry.shift_id is None else str(entry.shift_id)
        return entry_reason_text(entry)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        entry = self.row_at(index)
        if entry is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display(entry, column)
        if role == self.ENTRY_ROLE:
            return entry
        if role == self.BROKEN_ROLE:
            return self.is_broken(entry)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self.alignment(column)
        broken = self.is_broken(entry)
        if role == Qt.ItemDataRole.BackgroundRole and broken:
            return QBrush(_BROKEN_BACKGROUND)
        if role == Qt.ItemDataRole.ForegroundRole and broken:
            return QBrush(_BROKEN_TEXT)
        if role == Qt.ItemDataRole.ToolTipRole:
            if broken:
                return self._broken_tooltip
            if column == self.REASON:
                return entry_reason_text(entry, short_refs=False) or None
            return None
        if role == Qt.ItemDataRole.AccessibleTextRole:
            text = self.display(entry, column)
            return (f"{text} ({self._broken_tooltip})" if broken and column == self.SEQ
                    else text)
        return None

    @property
    def _broken_tooltip(self) -> str:
        return COUNTS_TOOLTIP if self.problem == "counts" else BROKEN_TOOLTIP
