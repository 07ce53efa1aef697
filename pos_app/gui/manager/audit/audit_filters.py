"""The audit viewer's filter bar: date range, action, ticket type, order, terminal, staff,
shift and free text, turned into ``GET /v1/audit``'s filters.

Typing (the number boxes, the search text, the dates) is debounced: the filters are
announced once typing pauses for :data:`TYPING_DELAY_MS`; a choice in a list or a tick takes
effect at once. Dates are typed as wall-clock time in the venue's zone (the viewer's
``timezone``) and sent as aware datetimes: ``from`` inclusive, ``to`` exclusive.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, time, timedelta, tzinfo

from PySide6.QtCore import QDate, QDateTime, QPointF, Qt, QTime, QTimer, Signal
from PySide6.QtGui import QColor, QIntValidator, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from pos_app.domain.audit_words import ACTION_LABELS
from pos_app.gui.core.styles import style_sheet
from pos_app.gui.core.widgets import Combo, named
from pos_app.gui.manager.audit.audit_text import AuditQuery, Order

__all__ = ["FILTER_STYLE", "TYPING_DELAY_MS", "AuditFilterBar", "set_bar_filters", "zone_name"]

TYPING_DELAY_MS = 250
FILTER_STYLE = style_sheet("audit_filters")
_DATE_FORMAT = "yyyy-MM-dd HH:mm"


def zone_name(zone: tzinfo | None) -> str:
    """A zone's name for people: the IANA key (``America/Chicago``) or "local time"."""
    if zone is None:
        return "local time"
    return str(getattr(zone, "key", None) or zone.tzname(None) or zone)


def _qdatetime(value: datetime) -> QDateTime:
    """``value``'s wall-clock date and time (to the minute) as a ``QDateTime``."""
    return QDateTime(QDate(value.year, value.month, value.day), QTime(value.hour, value.minute))


class _DateEdit(QDateTimeEdit):
    """A date-time box with the combo boxes' chevron for its calendar (the stylesheet's
    border leaves Qt none to draw; see :class:`pos_app.gui.printing.printer_form.Combo`)."""

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor("#475569" if self.isEnabled() else "#cbd5e1"), 2)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        painter.setPen(pen)
        x, y = self.width() - 20, self.height() // 2
        painter.drawPolyline([QPointF(x - 5, y - 2.5), QPointF(x, y + 2.5),
                              QPointF(x + 5, y - 2.5)])
        painter.end()


def _caption(text: str) -> QLabel:
    return named(QLabel(text), "auditFilterCaption")


class AuditFilterBar(QWidget):
    """Filter controls of the audit viewer.

    Signals:
        filters_changed(): the filters or the order changed (typing debounced).
    """

    filters_changed = Signal()

    def __init__(self, parent: QWidget | None = None, *, timezone: tzinfo | None = None
                 ) -> None:
        super().__init__(parent)
        self.setObjectName("auditFilterBar")
        self._zone = timezone
        self._type_names: dict[int, str] = {}
        self._staff_ids: dict[str, int] = {}
        self._typing = QTimer(self)
        self._typing.setSingleShot(True)
        self._typing.setInterval(TYPING_DELAY_MS)
        self._typing.timeout.connect(self.filters_changed)

        today = datetime.combine(self._now().date(), time())
        self.from_check = named(QCheckBox("From"), "auditDateCheck")
        self.from_check.setAccessibleName("Only entries from this time")
        self.from_edit = self._date_edit(today, "Start of the date range")
        self.to_check = named(QCheckBox("To"), "auditDateCheck")
        self.to_check.setAccessibleName("Only entries before this time")
        self.to_edit = self._date_edit(today + timedelta(days=1), "End of the date range")
        self.action_combo = named(Combo(), "auditCombo")
        self.action_combo.setAccessibleName("Action")
        self.action_combo.addItem("Any action", None)
        for code, label in ACTION_LABELS.items():
            self.action_combo.addItem(label, code)
        self.type_combo = named(Combo(), "auditCombo")
        self.type_combo.setAccessibleName("Ticket type")
        self.type_combo.addItem("Any ticket type", None)
        self.type_combo.setMinimumContentsLength(18)
        self.type_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.order_combo = named(Combo(), "auditCombo")
        self.order_combo.setAccessibleName("Order")
        self.order_combo.addItem("Newest first", "desc")
        self.order_combo.addItem("Oldest first", "asc")
        self.terminal_edit = self._line_edit("any", "Terminal number", digits=True)
        self.staff_edit = self._line_edit("number or name", "Staff number or name")
        self.shift_edit = self._line_edit("any", "Shift number", digits=True)
        self.search_edit = self._line_edit("reason, reference or action",
                                           "Search the reason, reference or action",
                                           wide=True)
        self.search_edit.setMaxLength(200)
        self.search_edit.setClearButtonEnabled(True)
        self.clear_button = named(QPushButton("Clear filters"), "auditClearButton")
        self.clear_button.setAccessibleName("Clear every filter")
        self.problem_label = named(QLabel(), "auditFilterProblem")
        self.problem_label.setAccessibleName("Filter problem")
        self.problem_label.hide()

        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(6)
        dates = QHBoxLayout()
        dates.setSpacing(8)
        for widget in (self.from_check, self.from_edit, self.to_check, self.to_edit):
            dates.addWidget(widget)
        grid.addWidget(_caption("Date range"), 0, 0)
        grid.addLayout(dates, 1, 0)
        grid.addWidget(_caption("Action"), 0, 1)
        grid.addWidget(self.action_combo, 1, 1)
        grid.addWidget(_caption("Ticket type"), 0, 2)
        grid.addWidget(self.type_combo, 1, 2)
        grid.addWidget(_caption("Order"), 0, 3)
        grid.addWidget(self.order_combo, 1, 3)
        second = QHBoxLayout()
        second.setSpacing(8)
        for text, edit in (("Terminal", self.terminal_edit), ("Staff", self.staff_edit),
                           ("Shift", self.shift_edit), ("Search", self.search_edit)):
            caption = _caption(text)
            caption.setBuddy(edit)
            second.addSpacing(4)
            second.addWidget(caption)
            second.addWidget(edit, 1 if edit is self.search_edit else 0)
        second.addSpacing(4)
        second.addWidget(self.clear_button)
        grid.addLayout(second, 2, 0, 1, 4)
        grid.addWidget(self.problem_label, 3, 0, 1, 4)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(2, 1)

        for check in (self.from_check, self.to_check):
            check.toggled.connect(self.on_date_check_toggled)
        for date_edit in (self.from_edit, self.to_edit):
            date_edit.dateTimeChanged.connect(self.on_date_edit_changed)
        for combo in (self.action_combo, self.type_combo, self.order_combo):
            combo.currentIndexChanged.connect(self.on_combo_changed)
        for line in (self.terminal_edit, self.staff_edit, self.shift_edit, self.search_edit):
            line.textEdited.connect(self.on_line_edit_text_edited)
        self.clear_button.clicked.connect(self.clear)
        self.sync_dates()

    # --- building -------------------------------------------------------------------------------

    def _now(self) -> datetime:
        now = datetime.now(self._zone) if self._zone is not None else datetime.now().astimezone()
        return now.replace(tzinfo=None)

    def _date_edit(self, value: datetime, name: str) -> QDateTimeEdit:
        edit = named(_DateEdit(), "auditDate")
        edit.setDisplayFormat(_DATE_FORMAT)
        edit.setCalendarPopup(True)
        edit.setDateTime(_qdatetime(value))
        edit.setAccessibleName(name)
        edit.setMinimumWidth(170)
        return edit

    def _line_edit(self, placeholder: str, name: str, *, digits: bool = False,
                   wide: bool = False) -> QLineEdit:
        edit = named(QLineEdit(), "auditFilterEdit")
        edit.setPlaceholderText(placeholder)
        edit.setAccessibleName(name)
        if digits:
            edit.setValidator(QIntValidator(0, 2**31 - 1, edit))
            edit.setFixedWidth(100)
        elif not wide:
            edit.setFixedWidth(180)
        return edit

    @property
    def zone(self) -> tzinfo | None:
        """The zone dates are typed in (``None``: the computer's)."""
        return self._zone

    # --- what the caller gives ----------------------------------------------------------------

    def set_ticket_types(self, choices: Iterable[tuple[int, str]]) -> None:
        """Offer these ticket types (``(id, label)``, e.g. "Grand Hall · GA") in the list,
        keeping the chosen one when it is still offered; no signal."""
        chosen = self.type_combo.currentData()
        self.type_combo.blockSignals(True)
        self.type_combo.clear()
        self.type_combo.addItem("Any ticket type", None)
        for type_id, label in choices:
            self.type_combo.addItem(label, type_id)
            self._type_names[type_id] = label
        index = self.type_combo.findData(chosen)
        self.type_combo.setCurrentIndex(max(0, index))
        self.type_combo.blockSignals(False)

    def set_staff_names(self, names: Mapping[str, int]) -> None:
        """Names (display names or usernames, any case) the staff box accepts for an id."""
        self._staff_ids = {name.casefold(): staff_id for name, staff_id in names.items()}

    def set_order(self, order: Order) -> None:
        """Show ``order`` as chosen and announce it (when it changed)."""
        index = self.order_combo.findData(order)
        if index >= 0 and index != self.order_combo.currentIndex():
            self.order_combo.setCurrentIndex(index)

    # --- reading ------------------------------------------------------------------------------

    @property
    def order(self) -> Order:
        return "asc" if self.order_combo.currentData() == "asc" else "desc"

    def _aware(self, edit: QDateTimeEdit) -> datetime:
        value = edit.dateTime()
        date, clock = value.date(), value.time()
        naive = datetime(date.year(), date.month(), date.day(), clock.hour(), clock.minute())
        if self._zone is not None:
            return naive.replace(tzinfo=self._zone)
        return naive.astimezone()  # the computer's zone

    def _staff_id(self) -> int | None:
        text = self.staff_edit.text().strip()
        if not text:
            return None
        if text.isdigit():
            return int(text)
        return self._staff_ids.get(text.casefold())

    def problem(self) -> str | None:
        """Why these filters cannot be asked for, as a sentence, or ``None``."""
        staff = self.staff_edit.text().strip()
        if staff and self._staff_id() is None:
            return (f"No staff member called \u201c{staff}\u201d is known on this terminal: "
                    "type their staff number.")
        if (self.from_check.isChecked() and self.to_check.isChecked()
                and self._aware(self.to_edit) <= self._aware(self.from_edit)):
            return "The end of the date range must be after its start."
        return None

    def filters(self) -> AuditQuery:
        """The filters as ``GET /v1/audit`` names them (only those set)."""
        query: AuditQuery = {}
        if self.from_check.isChecked():
            query["from"] = self._aware(self.from_edit)
        if self.to_check.isChecked():
            query["to"] = self._aware(self.to_edit)
        for name, edit in (("terminal_id", self.terminal_edit), ("shift_id", self.shift_edit)):
            if edit.text().strip().isdigit():
                query[name] = int(edit.text().strip())
        staff = self._staff_id()
        if staff is not None:
            query["staff_id"] = staff
        if self.action_combo.currentData():
            query["action"] = str(self.action_combo.currentData())
        if self.type_combo.currentData() is not None:
            query["ticket_type_id"] = int(self.type_combo.currentData())
        text = self.search_edit.text().strip()
        if text:
            query["q"] = text
        return query

    def describe(self) -> str:
        """The filters in words for an export's header, e.g. ``"action Sale; terminal 3;
        text \u201cmarshal\u201d"``, or ``"none (every entry)"``."""
        query = self.filters()
        parts: list[str] = []
        stamp = "%Y-%m-%d %H:%M"
        if "from" in query or "to" in query:
            start = query.get("from")
            end = query.get("to")
            span = (f"from {start.strftime(stamp)}" if isinstance(start, datetime) else "")
            if isinstance(end, datetime):
                span += (" " if span else "") + f"before {end.strftime(stamp)}"
            parts.append(f"{span} ({zone_name(self._zone)})")
        if "action" in query:
            parts.append(f"action {self.action_combo.currentText()}")
        if "ticket_type_id" in query:
            parts.append(f"ticket type {self.type_combo.currentText()} "
                         f"(#{query['ticket_type_id']})")
        for key, word in (("terminal_id", "terminal"), ("staff_id", "staff"),
                          ("shift_id", "shift")):
            if key in query:
                parts.append(f"{word} {query[key]}")
        if "q" in query:
            parts.append(f"text \u201c{query['q']}\u201d")
        return "; ".join(parts) if parts else "none (every entry)"

    # --- changes --------------------------------------------------------------------------------

    def clear(self) -> None:
        """Every filter off (the order stays); announced at once."""
        widgets = (self.from_check, self.to_check, self.action_combo, self.type_combo,
                   self.terminal_edit, self.staff_edit, self.shift_edit, self.search_edit)
        for widget in widgets:
            widget.blockSignals(True)
        self.from_check.setChecked(False)
        self.to_check.setChecked(False)
        self.action_combo.setCurrentIndex(0)
        self.type_combo.setCurrentIndex(0)
        for edit in (self.terminal_edit, self.staff_edit, self.shift_edit, self.search_edit):
            edit.clear()
        for widget in widgets:
            widget.blockSignals(False)
        self.sync_dates()
        self._typing.stop()
        self.filters_changed.emit()

    def sync_dates(self) -> None:
        """Enable each date box as its tick says."""
        self.from_edit.setEnabled(self.from_check.isChecked())
        self.to_edit.setEnabled(self.to_check.isChecked())

    def on_date_check_toggled(self, _checked: bool) -> None:
        self.sync_dates()
        self._typing.stop()
        self.filters_changed.emit()

    def on_date_edit_changed(self, _value: QDateTime) -> None:
        edit = self.sender()
        if (edit is self.from_edit and self.from_check.isChecked()) or (
                edit is self.to_edit and self.to_check.isChecked()):
            self._typing.start()

    def on_combo_changed(self, _index: int) -> None:
        self._typing.stop()
        self.filters_changed.emit()

    def on_line_edit_text_edited(self, _text: str) -> None:
        self._typing.start()


def set_bar_filters(bar: AuditFilterBar, filters: Mapping[str, object]) -> None:
    """Put ``filters`` (query names, as :meth:`AuditFilterBar.filters` gives them) into
    ``bar``'s controls, every other filter cleared, without announcing anything.

    Raises ``ValueError`` for an action or ticket type the lists do not offer."""
    widgets: list[QWidget] = [bar.from_check, bar.to_check, bar.from_edit, bar.to_edit,
                              bar.action_combo, bar.type_combo, bar.terminal_edit,
                              bar.staff_edit, bar.shift_edit, bar.search_edit]
    for widget in widgets:
        widget.blockSignals(True)
    try:
        for check, edit, key in ((bar.from_check, bar.from_edit, "from"),
                                 (bar.to_check, bar.to_edit, "to")):
            value = filters.get(key)
            check.setChecked(isinstance(value, datetime))
            if isinstance(value, datetime):
                local = value.astimezone(bar.zone) if bar.zone is not None \
                    else value.astimezone()
                edit.setDateTime(_qdatetime(local))
        for combo, key in ((bar.action_combo, "action"), (bar.type_combo, "ticket_type_id")):
            index = combo.findData(filters.get(key)) if filters.get(key) is not None else 0
            if index < 0:
                raise ValueError(f"{key} {filters.get(key)!r} is not offered")
            combo.setCurrentIndex(index)
        for line, key in ((bar.terminal_edit, "terminal_id"), (bar.staff_edit, "staff_id"),
                          (bar.shift_edit, "shift_id"), (bar.search_edit, "q")):
            value = filters.get(key)
            line.setText("" if value is None else str(value))
    finally:
        for widget in widgets:
            widget.blockSignals(False)
    bar.sync_dates()
