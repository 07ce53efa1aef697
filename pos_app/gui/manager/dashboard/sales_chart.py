"""Sales over time for one event (issue 6): a line per channel of cumulative tickets sold,
net of refunds, against local time, drawn with pyqtgraph.

pyqtgraph (and numpy under it) is imported the first time the chart is shown, never at
import: the POS must start as fast without it, and a cashier never opens the dashboard.
Without pyqtgraph the chart says so in words and the rest of the dashboard works.

The data is a :class:`~pos_app.api.schemas.SalesReport` (the server chose the bucket from the
report's time span: at most 500 buckets); :func:`cumulative_points` turns a channel's buckets
into the line drawn: flat where nothing sold, rising across each bucket that sold.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont, QShowEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from pos_app.api.schemas import Event, SalesReport
from pos_app.gui.core.widgets import named

__all__ = ["CHANNEL_COLOURS", "SalesChart", "channel_label", "cumulative_points", "tick_label"]

CHANNEL_COLOURS = {"box_office": "#2563eb", "online": "#c026d3"}
"""Line colour per channel; others take :data:`_MORE_COLOURS` in turn."""
_MORE_COLOURS = ("#0d9488", "#ea580c", "#65a30d", "#475569")
_INK, _MUTED, _PAPER = "#0f172a", "#475569", "#ffffff"  # the app's light theme (pos.qss)


def channel_label(channel: str) -> str:
    """``"Box office"``, ``"Online"``: a channel's name for people."""
    return channel.replace("_", " ").capitalize()


def cumulative_points(report: SalesReport, channel: str) -> tuple[list[float], list[int]]:
    """The line of ``channel`` in ``report``: x in Unix seconds, y cumulative net tickets.

    It starts at 0 at ``report.start``, stays flat until a bucket that sold, rises across
    that bucket (to its end, or ``report.end`` when that comes first), and ends at
    ``report.end`` on the channel's total."""
    start, end = report.start.timestamp(), report.end.timestamp()
    xs: list[float] = [start]
    ys: list[int] = [0]
    total = 0
    series = next((s for s in report.series if s.channel == channel), None)
    for point in series.points if series is not None else ():
        begin = max(point.at.timestamp(), start)
        if begin > xs[-1]:
            xs.append(begin)
            ys.append(total)
        total += point.tickets
        xs.append(max(begin, min(point.at.timestamp() + report.bucket_seconds, end)))
        ys.append(total)
    if end > xs[-1]:
        xs.append(end)
        ys.append(total)
    return xs, ys


def tick_label(at: datetime, spacing: float) -> str:
    """A time axis label in local time: ``"Thu 19 Mar"`` for ticks a day or more apart,
    ``"Thu 19"`` at midnight, else ``"06:00"``."""
    if spacing >= 86400:
        return at.strftime("%a %d %b")
    if (at.hour, at.minute) == (0, 0):
        return at.strftime("%a %d")
    return at.strftime("%H:%M")


def _local_time_axis(pg: Any) -> Any:
    """pyqtgraph's date axis (this computer's local time, its tick spacing) with labels by
    :func:`tick_label`; defined here because pyqtgraph is imported late."""

    class LocalTimeAxis(pg.DateAxisItem):  # type: ignore[misc]
        def tickStrings(self, values: list[float], scale: float,
                        spacing: float) -> list[str]:
            return [tick_label(datetime.fromtimestamp(v), spacing) for v in values]

    return LocalTimeAxis(orientation="bottom")


class SalesChart(QWidget):
    """An event picker over the chart of its :class:`SalesReport`.

    Attributes:
        curves: the plotted lines by channel (pyqtgraph ``PlotDataItem``; ``getData()``
            gives x and y), empty until the chart was first shown with a report.
        available: ``False`` when pyqtgraph could not be imported (a sentence is shown).

    Signals:
        event_selected(str): the manager picked this event id in the combo box.
    """

    event_selected = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("salesChart")
        self.curves: dict[str, Any] = {}
        self.available = True
        self._plot: Any = None
        self._pg: Any = None  # the pyqtgraph module, once imported
        self._report: SalesReport | None = None
        title = named(QLabel("Sales over time"), "dashboardHeading")
        self.event_combo = named(QComboBox(), "chartEvent")
        self.event_combo.setAccessibleName("Event shown in the sales chart")
        self.event_combo.setMinimumWidth(320)
        self.note = named(QLabel("Reading the sales…"), "chartNote")
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setWordWrap(True)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.note)
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(title)
        head.addStretch(1)
        head.addWidget(self.event_combo)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addLayout(head)
        layout.addWidget(self.stack, 1)
        self.event_combo.currentIndexChanged.connect(self.on_event_combo_current_index_changed)

    # --- events -------------------------------------------------------------------------

    def current_event_id(self) -> str | None:
        """The event picked in the combo box, or ``None`` while there is none."""
        value = self.event_combo.currentData()
        return value if isinstance(value, str) else None

    def set_events(self, events: list[Event]) -> None:
        """Offer ``events`` in the combo box, keeping the one picked when it is still there
        (else the first)."""
        keep = self.current_event_id()
        if [self.event_combo.itemData(i) for i in range(self.event_combo.count())] == [
                e.id for e in events]:
            return
        self.event_combo.blockSignals(True)
        self.event_combo.clear()
        for event in events:
            self.event_combo.addItem(event.name, event.id)
        index = max(0, self.event_combo.findData(keep)) if keep is not None else 0
        self.event_combo.setCurrentIndex(index if events else -1)
        self.event_combo.blockSignals(False)
        if self.current_event_id() != keep and self.current_event_id() is not None:
            self.event_selected.emit(self.current_event_id())

    def on_event_combo_current_index_changed(self, _index: int) -> None:
        event_id = self.current_event_id()
        if event_id is not None:
            if self._report is not None and self._report.event_id != event_id:
                self._report = None
                self._say("Reading the sales…")
            self.event_selected.emit(event_id)

    # --- data ---------------------------------------------------------------------------

    @property
    def report(self) -> SalesReport | None:
        """The report drawn (or to draw when shown)."""
        return self._report

    def set_report(self, report: SalesReport) -> None:
        """Draw ``report`` if it is the picked event's (others are ignored)."""
        if report.event_id != self.current_event_id():
            return
        self._report = report
        if self.isVisible():
            self._draw()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._draw()

    def _say(self, text: str) -> None:
        self.note.setText(text)
        self.stack.setCurrentWidget(self.note)

    def _draw(self) -> None:
        report = self._report
        if report is None:
            return
        if not any(s.points for s in report.series):
            self._say("No sales yet for this event: the lines start with the first sale.")
            return
        plot = self._ensure_plot()
        if plot is None:
            return
        plot.clear()
        self.curves = {}
        top = 1
        for number, channel in enumerate(report.channels):
            xs, ys = cumulative_points(report, channel)
            colour = CHANNEL_COLOURS.get(channel, _MORE_COLOURS[number % len(_MORE_COLOURS)])
            self.curves[channel] = plot.plot(
                xs, ys, name=f"{channel_label(channel)}: {ys[-1]:,}",
                pen=self._pg.mkPen(colour, width=3))
            top = max(top, *ys)
        totals = (f"{channel_label(c)} {int(line.getData()[1][-1])}"
                  for c, line in self.curves.items())
        plot.setAccessibleDescription("Tickets sold so far: " + ", ".join(totals))
        plot.setXRange(report.start.timestamp(), report.end.timestamp(), padding=0.02)
        plot.setYRange(0, top * 1.1 + 1, padding=0)
        self.stack.setCurrentWidget(plot)

    def _ensure_plot(self) -> Any:
        """The pyqtgraph plot, created (and pyqtgraph imported) on first use; ``None`` with
        a sentence shown when pyqtgraph is missing."""
        if self._plot is not None or not self.available:
            return self._plot
        try:
            import pyqtgraph as pg  # type: ignore[import-untyped]  # slow: first show only
        except ImportError:
            self.available = False
            self._say("The chart needs pyqtgraph, which is not installed on this terminal. "
                      "The counts above are complete without it.")
            return None
        self._pg = pg
        font = QFont()
        font.setPixelSize(12)
        axis = _local_time_axis(pg)
        widget = pg.PlotWidget(background=_PAPER, axisItems={"bottom": axis})
        widget.setObjectName("salesPlot")
        for part in (widget, widget.viewport()):  # both take focus
            part.setAccessibleName("Chart of cumulative tickets sold per channel over time")
        widget.setMenuEnabled(False)
        widget.setMouseEnabled(x=True, y=False)
        widget.showGrid(x=True, y=True, alpha=0.12)
        for name in ("bottom", "left"):
            item = widget.getAxis(name)
            item.setPen(pg.mkPen(_MUTED))
            item.setTextPen(pg.mkPen(_INK))
            item.setStyle(tickFont=font)
        widget.setLabel("left", "Tickets sold (net)", color=_MUTED, size="10pt")
        legend = widget.addLegend(offset=(12, 8), labelTextColor=_INK,
                                  brush=pg.mkBrush(255, 255, 255, 230),
                                  pen=pg.mkPen("#e2e8f0"))
        legend.setLabelTextSize("10pt")
        self.stack.addWidget(widget)
        self._plot = widget
        return widget
