"""The printer's state in the header, so a printer that is off or out of paper is seen before
charging: "Printer ready", "Printer offline", "Out of paper", "PDF receipts".

:class:`PrinterStatusButton` asks ``ReceiptPrinter.readiness()`` on the
:class:`~pos_app.gui.core.task_runner.TaskRunner` every 10 seconds while it is shown, and at once
when :meth:`PrinterStatusButton.refresh` is called (after the settings changed). It is also
the header's "Printer" button: pressing it asks for the printer settings.
"""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QHideEvent, QIcon, QPainter, QPixmap, QShowEvent
from PySide6.QtWidgets import QPushButton, QWidget

from pos_app.gui.core.task_runner import Task, TaskRunner
from pos_app.gui.core.widgets import named, restyle
from pos_app.gui.printing.printer_config import PrinterReadiness, Readiness
from pos_app.gui.printing.printing import ReceiptPrinter

__all__ = ["POLL_INTERVAL_MS", "PrinterStatusButton", "short_text"]

POLL_INTERVAL_MS = 10_000

# Short words for the header, and the colour level the stylesheet keys on.
_SHOWN: dict[Readiness, tuple[str, str]] = {
    Readiness.OK: ("Printer ready", "ok"),
    Readiness.PAPER_LOW: ("Paper low", "warning"),
    Readiness.UNKNOWN: ("Printer connected", "ok"),
    Readiness.NO_PRINTER: ("PDF receipts", "info"),
    Readiness.OFFLINE: ("Printer offline", "error"),
    Readiness.PAPER_OUT: ("Out of paper", "error"),
    Readiness.COVER_OPEN: ("Printer cover open", "error"),
}
_DOT_COLOURS = {"ok": "#22c55e", "warning": "#f59e0b", "error": "#ffffff", "info": "#94a3b8",
                "checking": "#64748b"}


def short_text(readiness: PrinterReadiness) -> str:
    """The header's words for ``readiness`` ("Out of paper")."""
    return _SHOWN[readiness.state][0]


def _dot(colour: str) -> QIcon:
    pixmap = QPixmap(24, 24)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(colour))
    painter.drawEllipse(4, 4, 16, 16)
    painter.end()
    return QIcon(pixmap)


class PrinterStatusButton(QPushButton):
    """The printer's state as a header button (a coloured dot and a few words); pressing it
    emits ``clicked`` (open the printer settings).

    The state is re-read every ``interval_ms`` while the button is shown, and at once on
    :meth:`refresh`. Only one check runs at a time; a refresh asked for during a check runs
    right after it, so a check that started before new settings never has the last word.

    Signals:
        readiness_changed(object): a check found a state or sentence different from the
            last one (a :class:`~pos_app.gui.printing.printer_config.PrinterReadiness`).
    """

    readiness_changed = Signal(object)

    def __init__(self, printer: ReceiptPrinter, runner: TaskRunner,
                 parent: QWidget | None = None, *,
                 interval_ms: int = POLL_INTERVAL_MS) -> None:
        super().__init__(parent)
        named(self, "printerStatus")
        self._printer = printer
        self._runner = runner
        self._task: Task | None = None
        self._again = False
        self.readiness: PrinterReadiness | None = None
        """The last state shown (``None`` until the first check returns)."""
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.setIconSize(QSize(12, 12))
        self.setAutoDefault(False)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.refresh)
        self._show("Checking printer…", "checking", "Asking the printer whether it is ready")

    @property
    def checking(self) -> bool:
        """``True`` while a readiness check runs on a worker."""
        return self._task is not None

    def refresh(self) -> None:
        """Check the printer now, on a worker (after a check already running)."""
        if self._task is not None:
            self._again = True
            return
        self._task = self._runner.read(self._printer.readiness)
        self._task.finished.connect(self.on_readiness_task_finished)
        self._task.failed.connect(self.on_readiness_task_failed)

    def on_readiness_task_finished(self, readiness: PrinterReadiness) -> None:
        self._task = None
        if self._again:
            self._again = False
            self.refresh()
            return
        self.show_readiness(readiness)

    def on_readiness_task_failed(self, exc: BaseException) -> None:
        # ``readiness()`` reports printer trouble as a state; an exception is a fault of
        # ours, and the cashier should still see that nothing is known.
        self.on_readiness_task_finished(
            PrinterReadiness(Readiness.UNKNOWN, f"Printer status not known ({exc})"))

    def show_readiness(self, readiness: PrinterReadiness) -> None:
        """Show ``readiness``; emits ``readiness_changed`` when it differs from the last."""
        words, level = _SHOWN[readiness.state]
        self._show(words, level, readiness.message)
        if readiness != self.readiness:
            self.readiness = readiness
            self.readiness_changed.emit(readiness)

    def _show(self, words: str, level: str, sentence: str) -> None:
        self.setText(words)
        self.setIcon(_dot(_DOT_COLOURS[level]))
        self.setProperty("level", level)
        restyle(self)
        self.setToolTip(f"{sentence}\nPress for the printer settings.")
        self.setAccessibleName(f"Printer: {words}")
        self.setAccessibleDescription(f"{sentence}. Press for the printer settings.")

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # Polled only while seen: the sign-in screen has no use for the printer's state.
        if not self._timer.isActive():
            self._timer.start()
            self.refresh()

    def hideEvent(self, event: QHideEvent) -> None:
        self._timer.stop()
        super().hideEvent(event)
