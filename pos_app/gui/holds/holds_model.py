"""The hold desk's table: cash holds as rows, with a live "expires in" countdown.

A hold reads ``expired`` from the instant its ``expires_at`` passes (``shared/API.md``,
Holds), whether or not the server's sweeper has run: :func:`effective_status` applies that
rule to what the server last said, against the desk's clock (the local UTC clock, moved by
the server's offset when the register knows it). Times are shown in the event's time zone.

Rows are coloured as expiry nears: amber under 30 minutes, red under 5 minutes, grey once the
hold has ended (expired, converted or released).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QBrush, QColor

from pos_app.api.schemas import Hold
from pos_app.domain.money import format_money
from pos_app.gui.core.formatting import local_clock_time
from pos_app.gui.core.tables import RowsTableModel, code_font

__all__ = [
    "SOON",
    "URGENT",
    "HoldsFilterProxy",
    "HoldsTableModel",
    "Urgency",
    "countdown_text",
    "effective_status",
    "expired_message",
    "lines_summary",
    "status_label",
    "urgency",
]

SOON = timedelta(minutes=30)
"""Under this much time left a row turns amber."""
URGENT = timedelta(minutes=5)
"""Under this much time left a row turns red."""

_Index = QModelIndex | QPersistentModelIndex
_STATUS_LABELS = {"active": "Active", "converted": "Converted", "released": "Released",
                  "expired": "Expired"}


class Urgency(StrEnum):
    """How close a hold is to expiring, for its row colour."""

    CALM = "calm"  # active, 30 minutes or more left
    SOON = "soon"  # active, under 30 minutes left (amber)
    URGENT = "urgent"  # active, under 5 minutes left (red)
    ENDED = "ended"  # expired, converted or released (grey)


# (background, foreground) per urgency; ``None`` keeps the table's own colours.
_COLOURS: Mapping[Urgency, tuple[str, str] | None] = {
    Urgency.CALM: None,
    Urgency.SOON: ("#fef3c7", "#78350f"),
    Urgency.URGENT: ("#fee2e2", "#991b1b"),
    Urgency.ENDED: ("#f1f5f9", "#64748b"),
}


def effective_status(hold: Hold, now: datetime) -> str:
    """``hold``'s status at ``now`` (aware): an ``active`` hold whose ``expires_at`` is at or
    before ``now`` is ``expired``; any other status is as the server said."""
    if hold.status == "active" and hold.expires_at <= now:
        return "expired"
    return hold.status


def urgency(hold: Hold, now: datetime) -> Urgency:
    """The colour band of ``hold`` at ``now``: see :class:`Urgency`."""
    if effective_status(hold, now) != "active":
        return Urgency.ENDED
    left = hold.expires_at - now
    if left < URGENT:
        return Urgency.URGENT
    if left < SOON:
        return Urgency.SOON
    return Urgency.CALM


def status_label(status: str) -> str:
    """The word shown for a status, e.g. ``"Active"``."""
    return _STATUS_LABELS.get(status, status.capitalize())


def lines_summary(hold: Hold) -> str:
    """``"2 × GA, 1 × VIP"``: the held lines, quantity and ticket type name."""
    return ", ".join(f"{line.quantity} × {line.name}" for line in hold.lines)


def countdown_text(left: timedelta) -> str:
    """Time left as shown in the table: ``"3 h 05 min"`` from an hour up, ``"29:59"``
    (minutes:seconds) below, ``"0:00"`` once nothing is left."""
    seconds = max(0, int(left.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes}:{secs:02d}"


def _spoken_countdown(left: timedelta) -> str:
    seconds = max(0, int(left.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} hours {minutes} minutes"
    return f"{minutes} minutes {secs} seconds"


def expired_message(hold: Hold, zone: str | None, now: datetime | None = None) -> str:
    """What the cashier is told when an expired hold is to be paid or released, e.g.
    ``"This hold expired at 21:14; its tickets are back on sale."`` (event's time zone)."""
    return (f"This hold expired at {local_clock_time(hold.expires_at, zone, now)}; its tickets "
            "are back on sale.")


class HoldsTableModel(RowsTableModel[Hold]):
    """Holds as rows; columns Code, Customer, Phone, Tickets, Total, Expires in, Status.

    ``clock`` returns the aware UTC time the desk compares ``expires_at`` with; ``zones``
    maps event ids to IANA time zones for the times shown. :meth:`tick` (each second, from
    the desk's timer) updates only the "Expires in" column, plus any row whose colour band
    or status changed since the last tick. ``HOLD_ROLE`` gives a row's :class:`Hold`.
    """

    COLUMNS = ("Code", "Customer", "Phone", "Tickets", "Total", "Expires in", "Status")
    CODE, CUSTOMER, PHONE, TICKETS, TOTAL, EXPIRES, STATUS = range(7)
    HOLD_ROLE = Qt.ItemDataRole.UserRole
    SEARCH_ROLE = Qt.ItemDataRole.UserRole + 1

    def __init__(self, clock: Callable[[], datetime], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._clock = clock
        self._holds: list[Hold] = []
        self._zones: dict[str, str] = {}
        self._bands: list[Urgency] = []
        self._code_font = code_font()

    # --- Qt model interface -----------------------------------------------------------------

    def rows(self) -> Sequence[Hold]:
        return self._holds


    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> object:
        hold = self.row_at(index)
        if hold is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(hold, column, self._clock())
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self.alignment(column)
        if role in (Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole):
            colours = _COLOURS[urgency(hold, self._clock())]
            if colours is None:
                return None
            return QBrush(QColor(colours[0 if role == Qt.ItemDataRole.BackgroundRole else 1]))
        if role == Qt.ItemDataRole.FontRole and column == self.CODE:
            return self._code_font
        if role == Qt.ItemDataRole.ToolTipRole and column == self.EXPIRES:
            zone = self.zone_of(hold)
            return f"Pay by {local_clock_time(hold.expires_at, zone, None, with_zone=True)}"
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return self._spoken(hold, column, self._clock())
        if role == self.HOLD_ROLE:
            return hold
        if role == self.SEARCH_ROLE:
            customer = hold.customer
            return " ".join((hold.code, customer.name if customer else "",
                             (customer.phone or "") if customer else "")).casefold()
        return None

    # --- reading ----------------------------------------------------------------------------

    @property
    def holds(self) -> tuple[Hold, ...]:
        return tuple(self._holds)

    def now(self) -> datetime:
        """The desk's current time (aware UTC)."""
        return self._clock()

    def hold_at(self, row: int) -> Hold | None:
        """The hold on ``row``, or ``None`` outside the table."""
        return self._holds[row] if 0 <= row < len(self._holds) else None

    def row_of(self, hold_id: str) -> int | None:
        """The row of the hold with id ``hold_id``, or ``None``."""
        return next((row for row, hold in enumerate(self._holds) if hold.id == hold_id), None)

    def status_of(self, hold: Hold) -> str:
        """``hold``'s effective status now (see :func:`effective_status`)."""
        return effective_status(hold, self._clock())

    def zone_of(self, hold: Hold) -> str | None:
        """The IANA time zone of ``hold``'s event, or ``None`` when the event is unknown."""
        return self._zones.get(hold.event_id)

    # --- changing ---------------------------------------------------------------------------

    def set_holds(self, holds: Sequence[Hold], zones: Mapping[str, str] | None = None) -> None:
        """Show ``holds`` (server order); ``zones`` adds event id -> IANA zone entries."""
        self.beginResetModel()
        self._holds = list(holds)
        if zones:
            self._zones.update(zones)
        now = self._clock()
        self._bands = [urgency(hold, now) for hold in self._holds]
        self.endResetModel()

    def replace_hold(self, hold: Hold) -> None:
        """Show a fresher copy of a listed hold (same id); unknown holds are ignored."""
        row = self.row_of(hold.id)
        if row is None:
            return
        self._holds[row] = hold
        self._bands[row] = urgency(hold, self._clock())
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.COLUMNS) - 1))

    def tick(self) -> None:
        """The clock moved: refresh the countdown column, and whole rows whose colour band
        (or effective status) changed."""
        if not self._holds:
            return
        now = self._clock()
        last = len(self._holds) - 1
        self.dataChanged.emit(self.index(0, self.EXPIRES), self.index(last, self.EXPIRES),
                              [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole])
        for row, hold in enumerate(self._holds):
            band = urgency(hold, now)
            if band != self._bands[row]:
                self._bands[row] = band
                self.dataChanged.emit(self.index(row, 0),
                                      self.index(row, len(self.COLUMNS) - 1))

    # --- helpers ----------------------------------------------------------------------------

    def _text(self, hold: Hold, column: int, now: datetime) -> str:
        customer = hold.customer
        if column == self.CODE:
            return hold.code
        if column == self.CUSTOMER:
            return customer.name if customer else "—"
        if column == self.PHONE:
            return (customer.phone or "—") if customer else "—"
        if column == self.TICKETS:
            return lines_summary(hold)
        if column == self.TOTAL:
            return format_money(hold.total, hold.currency)
        if column == self.EXPIRES:
            status = effective_status(hold, now)
            if status == "active":
                return countdown_text(hold.expires_at - now)
            if status == "expired":
                return f"ended {local_clock_time(hold.expires_at, self.zone_of(hold), now)}"
            return "—"
        if column == self.STATUS:
            return status_label(effective_status(hold, now))
        return ""

    def _spoken(self, hold: Hold, column: int, now: datetime) -> str:
        if column == self.EXPIRES and effective_status(hold, now) == "active":
            return f"expires in {_spoken_countdown(hold.expires_at - now)}"
        if column == self.CODE:
            return f"hold code {' '.join(hold.code)}"
        return self._text(hold, column, now)

    def alignment(self, column: int) -> int:
        vertical = Qt.AlignmentFlag.AlignVCenter
        if column in (self.TOTAL, self.EXPIRES):
            return int(Qt.AlignmentFlag.AlignRight | vertical)
        return int(Qt.AlignmentFlag.AlignLeft | vertical)


class HoldsFilterProxy(QSortFilterProxyModel):
    """Narrows the holds to those whose code, customer name or phone contains the search
    text (any case), while the server is asked for the same search."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._needle = ""

    def set_search(self, text: str) -> None:
        """Show only rows matching ``text`` (blank: every row)."""
        needle = text.strip().casefold()
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
        haystack = model.data(model.index(source_row, 0, source_parent),
                              HoldsTableModel.SEARCH_ROLE)
        return isinstance(haystack, str) and self._needle in haystack
