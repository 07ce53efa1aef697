"""Z-report and X-report from the window: fetch the shift, render the 80 mm PDF
(:mod:`pos_app.receipts.shift_report`) into the terminal's receipts folder, print it with
the :class:`~pos_app.gui.printing.printing.ReceiptPrinter` and say where it went.

Everything blocking (the server read, the events' time zone, rendering, printing) runs in
:func:`deliver_shift_report` on the runner's read pool; the GUI thread only shows the
sentence. Callable with just a shift id (the manager's list of past shifts), or with
``None`` for this terminal's open shift (an X-report)::

    job = open_shift_report(dialog, register, runner, printer, shift_id)
    job.delivered.connect(lambda result: label.setText(result.sentence))
    job.failed.connect(label.setText)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from pos_app.api.schemas import EventsResponse, Shift
from pos_app.gui.core.ports import RegisterPaths
from pos_app.gui.core.task_runner import TaskRunner
from pos_app.gui.printing.printing import ReceiptPrinter
from pos_app.gui.printing.thermal_jobs import PrintFailed

__all__ = [
    "ShiftReader",
    "ShiftReportJob",
    "ShiftReportPort",
    "ShiftReportResult",
    "deliver_shift_report",
    "open_shift_report",
    "supports_shift_report",
    "venue_timezone",
]

FALLBACK_TIMEZONE = "UTC"
"""Used when no event tells the venue's zone (none listed, or the list could not be read)."""


class ShiftReader(Protocol):
    """``register.manager`` as far as reports need it (``ManagerDesk.shift``)."""

    def shift(self, shift_id: int) -> Shift: ...


class ShiftReportPort(Protocol):
    """The register calls a report makes (blocking: worker only); ``ManagerPort`` is one.
    For ``shift_id=None`` the register also needs ``current_shift()``."""

    @property
    def paths(self) -> RegisterPaths: ...

    @property
    def manager(self) -> ShiftReader: ...

    def events(self) -> EventsResponse: ...


def supports_shift_report(register: object) -> bool:
    """Whether ``register`` has what :func:`deliver_shift_report` calls (a fake may not)."""
    return all(hasattr(register, name) for name in ("paths", "manager", "events"))


@dataclass(frozen=True, slots=True)
class ShiftReportResult:
    """A delivered report: the ``shift`` as fetched, the saved ``path``, and the
    ``sentence`` for the user (what was printed where, and where the PDF is)."""

    shift: Shift
    path: Path
    sentence: str


def venue_timezone(register: ShiftReportPort, shift: Shift) -> str:
    """The IANA zone of an event the shift sold for (else the first event listed), or
    :data:`FALLBACK_TIMEZONE`. Worker only (reads the events)."""
    try:
        events = register.events().events
    except Exception:  # the report still prints, in UTC
        return FALLBACK_TIMEZONE
    sold = {t.event_id for t in shift.ticket_types or ()}
    for event in events:
        if event.id in sold:
            return event.timezone
    return events[0].timezone if events else FALLBACK_TIMEZONE


def deliver_shift_report(register: ShiftReportPort, printer: ReceiptPrinter,
                         shift_id: int | None, *, timezone: str | None = None,
                         now: datetime | None = None) -> ShiftReportResult:
    """Fetch shift ``shift_id`` (``None``: this terminal's open shift), save its Z-report
    (closed) or X-report (open) as a PDF in ``register.paths.receipts_dir`` and print it.
    Times are shown in ``timezone`` (default :func:`venue_timezone`), printed at ``now``.
    Worker only.

    A printer that refuses the job does not lose the report: the sentence says it was saved
    but not printed.

    Raises:
        LookupError: ``shift_id`` is ``None`` and no shift is open here.
        OSError: the receipts folder cannot be written.
        ValueError: ``timezone`` is not an IANA zone.
        the client errors: the shift could not be read.
    """
    from pos_app.receipts.shift_report import shift_report_from_shift, write_shift_report

    if shift_id is not None:
        shift: Shift | None = register.manager.shift(shift_id)
    else:
        current: Callable[[], Shift | None] | None = getattr(register, "current_shift", None)
        shift = current() if current is not None else None
    if shift is None:
        raise LookupError("No shift is open at this terminal, so there is no X-report.")
    zone = timezone or venue_timezone(register, shift)
    data = shift_report_from_shift(shift, timezone=zone, printed_at=now or datetime.now(UTC))
    folder = Path(register.paths.receipts_dir)
    folder.mkdir(parents=True, exist_ok=True)
    pdf = write_shift_report(data, folder)
    kind = "Z-report" if data.closed else "X-report"
    try:
        said = printer.deliver(pdf)
    except PrintFailed as error:
        return ShiftReportResult(shift, pdf, f"{kind} of shift {shift.id} saved to {pdf} but "
                                             f"not printed: {error}.")
    where = "" if str(pdf) in said else f"; saved to {pdf}"
    return ShiftReportResult(shift, pdf, f"{kind} of shift {shift.id}: {said}{where}.")


class ShiftReportJob(QObject):
    """One report being made on the runner (see :func:`open_shift_report`). Deletes itself
    once it has reported.

    Signals:
        delivered(object): the :class:`ShiftReportResult`.
        failed(str): a sentence saying why no report was made.
    """

    delivered = Signal(object)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None, *, notify: bool = False) -> None:
        super().__init__(parent)
        self._notify = notify
        self.message_box: QMessageBox | None = None

    def on_task_finished(self, result: ShiftReportResult) -> None:
        self._tell(result.sentence, warning=False)
        self.delivered.emit(result)
        self.deleteLater()

    def on_task_failed(self, exc: BaseException) -> None:
        text = str(exc) if isinstance(exc, LookupError) else f"The report was not made: {exc}"
        self._tell(text, warning=True)
        self.failed.emit(text)
        self.deleteLater()

    def _tell(self, text: str, *, warning: bool) -> None:
        """With ``notify``, say ``text`` in a message box over the parent window (not
        blocking: ``open()``, deleted when closed)."""
        parent = self.parent()
        if not self._notify or not isinstance(parent, QWidget):
            return
        icon = QMessageBox.Icon.Warning if warning else QMessageBox.Icon.Information
        box = QMessageBox(icon, "Shift report", text, QMessageBox.StandardButton.Ok, parent)
        box.setObjectName("shiftReportMessage")
        box.setAccessibleName("Shift report")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
        self.message_box = box


def open_shift_report(parent: QObject | None, register: ShiftReportPort, runner: TaskRunner,
                      printer: ReceiptPrinter, shift_id: int | None, *,
                      timezone: str | None = None, notify: bool = True) -> ShiftReportJob:
    """Make, save and print shift ``shift_id``'s report (``None``: this terminal's open
    shift, an X-report; an open shift's id works too, from any terminal for a manager) on
    ``runner``. Returns the job, whose ``delivered`` / ``failed`` say how it went; with
    ``notify`` (the default) the sentence is also shown in a message box over ``parent``.
    Never blocks the GUI thread."""
    job = ShiftReportJob(parent, notify=notify)
    task = runner.read(deliver_shift_report, register, printer, shift_id, timezone=timezone)
    task.finished.connect(job.on_task_finished)
    task.failed.connect(job.on_task_failed)
    return job
