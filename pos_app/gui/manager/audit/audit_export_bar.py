"""The audit viewer's export controls: "Export CSV…" and "Export PDF…", and while an export
runs its progress bar and "Cancel export". The work is an
:class:`~pos_app.gui.manager.audit.audit_export_job.AuditExportJob` the viewer builds for its
current filters; this bar runs one at a time and says how it went."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QProgressBar, QPushButton, QWidget

from pos_app.gui.core.failures import failure_sentence
from pos_app.gui.core.styles import style_sheet
from pos_app.gui.core.widgets import announce, named
from pos_app.gui.manager.audit.audit_detail import READ_FAILED
from pos_app.gui.manager.audit.audit_export_job import EXPORT_CAP, AuditExportJob, ExportKind

__all__ = ["EXPORT_BAR_STYLE", "AuditExportBar", "JobFactory"]

EXPORT_BAR_STYLE = style_sheet("audit_export_bar")
JobFactory = Callable[[ExportKind, Path, int], AuditExportJob]
"""``make_job(kind, path, cap)``: the export of the viewer's current view."""


class AuditExportBar(QWidget):
    """Export buttons, progress and cancel (see the module docstring).

    ``suggest(kind)`` gives the file name the save dialog proposes.

    Signals:
        said(str, bool): a sentence for the status line (``True``: a failure).
        finished(object): the ``Path`` written.
        failed(object): the export raised this exception.
        cancelled(): the export was cancelled; no file was written.
    """

    said = Signal(str, bool)
    finished = Signal(object)
    failed = Signal(object)
    cancelled = Signal()

    def __init__(self, make_job: JobFactory, suggest: Callable[[ExportKind], Path],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._make_job = make_job
        self._suggest = suggest
        self.job: AuditExportJob | None = None
        self.progress = named(QProgressBar(), "exportProgress")
        self.progress.setTextVisible(False)
        self.progress.setRange(0, EXPORT_CAP)
        self.progress.setAccessibleName("Export progress")
        self.progress.hide()
        self.cancel_button = named(QPushButton("Cancel export"), "secondaryButton")
        self.cancel_button.setAccessibleName("Cancel the export")
        self.cancel_button.hide()
        self.csv_button = named(QPushButton("Export CSV…"), "secondaryButton")
        self.csv_button.setAccessibleName("Export the filtered entries as CSV")
        self.csv_button.setToolTip("Ctrl+E")
        self.pdf_button = named(QPushButton("Export PDF…"), "secondaryButton")
        self.pdf_button.setAccessibleName("Export the filtered entries as PDF")
        self.pdf_button.setToolTip("Ctrl+P")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(10)
        for widget in (self.progress, self.cancel_button, self.csv_button, self.pdf_button):
            layout.addWidget(widget)
        self.csv_button.clicked.connect(lambda: self.choose("csv"))
        self.pdf_button.clicked.connect(lambda: self.choose("pdf"))
        self.cancel_button.clicked.connect(self.cancel)

    def choose(self, kind: ExportKind) -> None:
        """Ask where to save (a file dialog), then :meth:`start`; nothing while one runs."""
        if self.job is not None:
            return
        label = "CSV files (*.csv)" if kind == "csv" else "PDF files (*.pdf)"
        path, _ = QFileDialog.getSaveFileName(self, f"Export the audit log as {kind.upper()}",
                                              str(self._suggest(kind)), label)
        if path:
            self.start(kind, Path(path))

    def start(self, kind: ExportKind, path: Path, *,
              cap: int = EXPORT_CAP) -> AuditExportJob | None:
        """Export to ``path`` (at most ``cap`` entries); the running job, or ``None`` while
        another export runs."""
        if self.job is not None:
            return None
        job = self._make_job(kind, path, cap)
        job.progressed.connect(self.on_job_progressed)
        job.writing.connect(self.on_job_writing)
        job.finished.connect(self.on_job_finished)
        job.failed.connect(self.on_job_failed)
        job.cancelled.connect(self.on_job_cancelled)
        self.job = job
        self.progress.setRange(0, cap)
        self.progress.setValue(0)
        self._running(True, f"Exporting {kind.upper()}: reading the entries…")
        job.start()
        return job

    def cancel(self) -> None:
        """Stop the running export at its next page; nothing is written."""
        if self.job is not None:
            self.job.cancel()
            self.said.emit("Cancelling the export…", False)

    def on_job_progressed(self, count: int) -> None:
        self.progress.setValue(count)
        self.said.emit(f"Exporting: {count:,} entries read…", False)

    def on_job_writing(self) -> None:
        self.progress.setRange(0, 0)  # busy: the writer reports no progress
        self.said.emit("Writing the file…", False)

    def on_job_finished(self, path: Path) -> None:
        job, self.job = self.job, None
        count = len(job.entries) if job is not None else 0
        capped = " (capped: more matched)" if job is not None and job.capped else ""
        self._running(False, f"Exported {count:,} entries{capped} to {path}")
        self.finished.emit(path)

    def on_job_failed(self, exc: BaseException) -> None:
        self.job = None
        text = (f"The export could not be saved: {exc}" if isinstance(exc, OSError)
                else failure_sentence(exc, READ_FAILED))
        self._running(False, text, failed=True)
        self.failed.emit(exc)

    def on_job_cancelled(self) -> None:
        self.job = None
        self._running(False, "Export cancelled; no file was written.")
        self.cancelled.emit()

    def _running(self, running: bool, text: str, *, failed: bool = False) -> None:
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        self.csv_button.setEnabled(not running)
        self.pdf_button.setEnabled(not running)
        self.said.emit(text, failed)
        announce(self, text)
