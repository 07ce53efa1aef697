"""Exporting the audit viewer's filtered view: every matching entry, fetched page by page on
the :class:`~pos_app.gui.core.task_runner.TaskRunner`, then written as CSV or PDF
(:mod:`pos_app.receipts.audit_export`) on a worker too.

One page is asked for at a time, so :meth:`AuditExportJob.cancel` takes effect at the next
page; at most :data:`EXPORT_CAP` entries are exported, and the file says so when more
matched.
"""

from __future__ import annotations

from datetime import tzinfo
from functools import partial
from pathlib import Path
from typing import Literal

from PySide6.QtCore import QObject, Signal

from pos_app.api.schemas import AuditEntry, AuditPage
from pos_app.domain.audit_words import ACTION_LABELS
from pos_app.gui.core.ports import ManagerDeskLike
from pos_app.gui.core.task_runner import Task, TaskRunner
from pos_app.gui.manager.audit.audit_text import AuditQuery, Order

__all__ = ["EXPORT_CAP", "EXPORT_PAGE", "AuditExportJob", "ExportKind", "write_export"]

EXPORT_CAP = 100_000
"""Most entries one export holds (a PDF of them is ~2,000 pages)."""
EXPORT_PAGE = 1000  # the server's largest page
ExportKind = Literal["csv", "pdf"]


def write_export(kind: ExportKind, entries: list[AuditEntry], path: Path, *,
                 filters_text: str, chain_text: str, ticket_types: dict[int, str],
                 staff: dict[int, str], timezone: tzinfo | None, note: str | None,
                 first_bad_seq: int | None) -> Path:
    """Worker: write ``entries`` as ``kind`` to ``path``; returns ``path``. Raises
    ``OSError`` when the file cannot be written."""
    from pos_app.receipts.audit_export import AuditNames, write_audit_csv, write_audit_pdf

    names = AuditNames(actions=ACTION_LABELS, ticket_types=ticket_types, staff=staff)
    if kind == "csv":
        write_audit_csv(entries, path, filters_text=filters_text, chain_text=chain_text,
                        names=names, timezone=timezone, note=note)
    else:
        write_audit_pdf(entries, path, filters_text=filters_text, chain_text=chain_text,
                        names=names, timezone=timezone, note=note,
                        first_bad_seq=first_bad_seq)
    return path


class AuditExportJob(QObject):
    """Fetch every entry matching ``filters`` (in ``order``) and write them to ``path``.

    Call :meth:`start`; :meth:`cancel` stops at the next page (nothing is written).

    Signals:
        progressed(int): this many entries fetched so far.
        writing(): every entry is in; the file is being written.
        finished(object): the ``Path`` written.
        failed(object): fetching or writing raised this exception (no file written).
        cancelled(): stopped by :meth:`cancel`; no file written.
    """

    progressed = Signal(int)
    writing = Signal()
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()

    def __init__(self, desk: ManagerDeskLike, runner: TaskRunner, kind: ExportKind,
                 path: Path, *, filters: AuditQuery, order: Order, filters_text: str,
                 chain_text: str, ticket_types: dict[int, str], staff: dict[int, str],
                 timezone: tzinfo | None, first_bad_seq: int | None,
                 cap: int = EXPORT_CAP, page_size: int = EXPORT_PAGE,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._desk = desk
        self._runner = runner
        self.kind = kind
        self.path = path
        self._filters = dict(filters)
        self._order = order
        self._texts = (filters_text, chain_text)
        self._names = (ticket_types, staff)
        self._zone = timezone
        self._first_bad = first_bad_seq
        self.cap = cap
        self._page_size = page_size
        self.entries: list[AuditEntry] = []
        self.capped = False
        self.running = False
        self._cancelled = False
        self._task: Task | None = None

    def start(self) -> None:
        """Ask for the first page."""
        self.running = True
        self._fetch(None)

    def cancel(self) -> None:
        """Stop at the next page; ``cancelled`` is emitted then (or now while writing is not
        yet asked for)."""
        self._cancelled = True

    def _fetch(self, cursor: str | None) -> None:
        limit = min(self._page_size, self.cap - len(self.entries))
        self._task = self._runner.read(self._desk.audit_page, dict(self._filters),
                                       limit=limit, cursor=cursor, order=self._order)
        self._task.finished.connect(self.on_page_task_finished)
        self._task.failed.connect(self.on_task_failed)

    def on_page_task_finished(self, page: AuditPage) -> None:
        self._task = None
        if self._cancelled:
            self.running = False
            self.cancelled.emit()
            return
        self.entries.extend(page.entries)
        self.progressed.emit(len(self.entries))
        if page.next_cursor is not None and len(self.entries) < self.cap:
            self._fetch(page.next_cursor)
            return
        self.capped = page.next_cursor is not None
        note = (f"Capped at {self.cap:,} entries: more match these filters. Narrow them "
                "(a date range) to export the rest." if self.capped else None)
        self.writing.emit()
        ticket_types, staff = self._names
        self._task = self._runner.read(partial(
            write_export, self.kind, self.entries, self.path, filters_text=self._texts[0],
            chain_text=self._texts[1], ticket_types=ticket_types, staff=staff,
            timezone=self._zone, note=note, first_bad_seq=self._first_bad))
        self._task.finished.connect(self.on_write_task_finished)
        self._task.failed.connect(self.on_task_failed)

    def on_write_task_finished(self, path: Path) -> None:
        self._task = None
        self.running = False
        self.finished.emit(path)

    def on_task_failed(self, exc: BaseException) -> None:
        self._task = None
        self.running = False
        if self._cancelled:
            self.cancelled.emit()
        else:
            self.failed.emit(exc)
