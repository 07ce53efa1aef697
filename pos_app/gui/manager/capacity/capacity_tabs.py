"""The two tabs of :class:`~pos_app.gui.manager.capacity.capacity_dialog.CapacityDialog`: seats to
add or remove (or the capacity to set) with a required reason, and the online limit, thresholds
and alert levels with an optional reason.

Each tab turns its fields into a :class:`PendingChange` with :meth:`change`, or raises
:class:`InputProblem` (a sentence and the field to fix) before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from pos_app.api.schemas import (
    MAX_CAPACITY_DELTA,
    MAX_REASON_LENGTH,
    ThresholdsIn,
    TicketType,
    TicketTypePatch,
)
from pos_app.gui.core.form_style import caption, spin_box
from pos_app.gui.core.widgets import named
from pos_app.gui.manager.capacity.capacity_preview import (
    below_committed_sentence,
    ladder_text,
    parse_ladder,
)

__all__ = ["InputProblem", "LimitsTab", "PendingChange", "SeatsTab"]

MAX_COUNT = 2_000_000_000
"""Largest capacity or public limit the server accepts."""


@dataclass(frozen=True, slots=True)
class PendingChange:
    """A change to confirm: a capacity ``delta`` (``patch`` is ``None``) or a ticket type
    edit ``patch`` (``delta`` 0), with its ``reason`` (may be blank for an edit)."""

    delta: int
    reason: str
    patch: TicketTypePatch | None = None


class InputProblem(ValueError):
    """The fields do not make a change: ``str(self)`` says why; ``focus`` is the field."""

    def __init__(self, text: str, focus: QWidget) -> None:
        super().__init__(text)
        self.focus = focus


class SeatsTab(QWidget):
    """"Add / Remove seats": a signed number of seats, or the capacity to set (the delta is
    computed from it), and a required reason."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.capacity = 0
        self._ticket_type: TicketType | None = None
        self.add_mode_button = named(QPushButton("Add or remove seats"), "choiceButton")
        self.set_mode_button = named(QPushButton("Set capacity to…"), "choiceButton")
        self.mode_group = QButtonGroup(self)
        for button in (self.add_mode_button, self.set_mode_button):
            button.setCheckable(True)
            button.setAutoDefault(False)
            self.mode_group.addButton(button)
        self.add_mode_button.setAccessibleName("Add or remove a number of seats")
        self.set_mode_button.setAccessibleName("Set the capacity to a number")
        self.add_mode_button.setChecked(True)
        self.delta_spin = spin_box(-MAX_CAPACITY_DELTA, MAX_CAPACITY_DELTA,
                                   "Seats to add; negative removes", suffix=" seats")
        self.target_spin = spin_box(0, MAX_COUNT, "New capacity")
        self.target_spin.setEnabled(False)
        self.preview_label = named(QLabel(), "changePreview")
        self.preview_label.setAccessibleName("Capacity after the change")
        self.reason_edit = QLineEdit()
        self.reason_edit.setMaxLength(MAX_REASON_LENGTH)
        self.reason_edit.setPlaceholderText("Required, e.g. balcony opened, fire marshal")
        self.reason_edit.setAccessibleName("Reason for the capacity change")
        modes = QHBoxLayout()
        modes.addWidget(self.add_mode_button)
        modes.addWidget(self.set_mode_button)
        grid = QGridLayout()
        grid.addWidget(caption("&Seats (+/-)", self.delta_spin), 0, 0)
        grid.addWidget(self.delta_spin, 0, 1)
        grid.addWidget(caption("&New capacity", self.target_spin), 1, 0)
        grid.addWidget(self.target_spin, 1, 1)
        grid.addWidget(caption("&Reason", self.reason_edit), 2, 0)
        grid.addWidget(self.reason_edit, 2, 1, 1, 2)
        grid.setColumnStretch(2, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 16)
        layout.setSpacing(12)
        layout.addLayout(modes)
        layout.addLayout(grid)
        layout.addWidget(self.preview_label)
        layout.addStretch(1)
        self.mode_group.buttonToggled.connect(self.on_mode_group_button_toggled)
        self.delta_spin.valueChanged.connect(self.on_delta_spin_value_changed)
        self.target_spin.valueChanged.connect(self.on_target_spin_value_changed)

    def set_ticket_type(self, tt: TicketType) -> None:
        """Start again from ``tt``'s capacity (no change; the reason is kept)."""
        self._ticket_type = tt
        self.capacity = tt.capacity
        self.delta_spin.setValue(0)
        self.target_spin.setValue(tt.capacity)
        self._show_preview()

    @property
    def setting(self) -> bool:
        """``True`` in "Set capacity to" mode."""
        return self.set_mode_button.isChecked()

    @property
    def delta(self) -> int:
        """Seats to add (negative: remove), whichever mode they were entered in."""
        return self.delta_spin.value()

    @property
    def number_spin(self) -> QSpinBox:
        """The spin box the manager types in, in the current mode."""
        return self.target_spin if self.setting else self.delta_spin

    def on_mode_group_button_toggled(self, _button: object, _checked: bool) -> None:
        self.target_spin.setEnabled(self.setting)
        self.delta_spin.setEnabled(not self.setting)
        self.number_spin.setFocus()
        self._show_preview()

    def on_delta_spin_value_changed(self, value: int) -> None:
        if not self.setting:
            self.target_spin.blockSignals(True)
            self.target_spin.setValue(max(0, self.capacity + value))
            self.target_spin.blockSignals(False)
        self._show_preview()

    def on_target_spin_value_changed(self, value: int) -> None:
        if self.setting:
            self.delta_spin.blockSignals(True)
            self.delta_spin.setValue(value - self.capacity)
            self.delta_spin.blockSignals(False)
        self._show_preview()

    def _show_preview(self) -> None:
        delta = self.delta
        self.preview_label.setText(
            f"Capacity {self.capacity} → {self.capacity + delta} ({delta:+d} seats)" if delta
            else f"Capacity stays {self.capacity}.")

    def change(self) -> PendingChange:
        """The change entered. Raises :class:`InputProblem` for no change, a blank reason or
        fewer seats than are sold and held (the server refuses that too)."""
        delta, reason = self.delta, self.reason_edit.text().strip()
        if delta == 0:
            raise InputProblem("Enter the seats to add or remove (or the new capacity) first.",
                               self.number_spin)
        if not reason:
            raise InputProblem("Give a reason: it is kept in the audit log.", self.reason_edit)
        problem = (below_committed_sentence(self._ticket_type, delta)
                   if self._ticket_type is not None else None)
        if problem is not None:
            raise InputProblem(problem, self.number_spin)
        return PendingChange(delta, reason)


class LimitsTab(QWidget):
    """"Online limit & alerts": the public limit (or none), the low and critical thresholds,
    the alert levels (a comma list, highest first) and an optional reason."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._ticket_type: TicketType | None = None
        self.limit_spin = spin_box(0, MAX_COUNT,
                                   "Public limit: tickets the online shop may sell")
        self.no_limit_check = QCheckBox("No limit (online sells the whole capacity)")
        self.no_limit_check.setAccessibleName("No public limit")
        self.low_spin = spin_box(0, MAX_CAPACITY_DELTA, "Low stock at or below")
        self.critical_spin = spin_box(0, MAX_CAPACITY_DELTA, "Critical stock at or below")
        self.ladder_edit = QLineEdit()
        self.ladder_edit.setPlaceholderText("e.g. 20, 10, 0")
        self.ladder_edit.setAccessibleName("Alert levels, highest first, separated by commas")
        self.reason_edit = QLineEdit()
        self.reason_edit.setMaxLength(MAX_REASON_LENGTH)
        self.reason_edit.setPlaceholderText("Optional, kept in the audit log")
        self.reason_edit.setAccessibleName("Reason for the edit (optional)")
        grid = QGridLayout()
        grid.setVerticalSpacing(10)
        grid.addWidget(caption("&Public limit", self.limit_spin), 0, 0)
        grid.addWidget(self.limit_spin, 0, 1)
        grid.addWidget(self.no_limit_check, 0, 2)
        grid.addWidget(caption("&Low at or below", self.low_spin), 1, 0)
        grid.addWidget(self.low_spin, 1, 1)
        grid.addWidget(caption("&Critical at or below", self.critical_spin), 2, 0)
        grid.addWidget(self.critical_spin, 2, 1)
        grid.addWidget(caption("&Alert levels", self.ladder_edit), 3, 0)
        grid.addWidget(self.ladder_edit, 3, 1, 1, 2)
        grid.addWidget(caption("R&eason", self.reason_edit), 4, 0)
        grid.addWidget(self.reason_edit, 4, 1, 1, 2)
        grid.setColumnStretch(2, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 16)
        layout.addLayout(grid)
        layout.addStretch(1)
        self.no_limit_check.toggled.connect(self.on_no_limit_check_toggled)

    def set_ticket_type(self, tt: TicketType) -> None:
        """Fill the fields with ``tt``'s current values (the reason is kept)."""
        self._ticket_type = tt
        self.no_limit_check.setChecked(tt.public_limit is None)
        self.limit_spin.setValue(tt.public_limit if tt.public_limit is not None else tt.capacity)
        self.limit_spin.setEnabled(tt.public_limit is not None)
        self.low_spin.setValue(tt.thresholds.low)
        self.critical_spin.setValue(tt.thresholds.critical)
        self.ladder_edit.setText(", ".join(str(rung) for rung in tt.alert_ladder))

    def on_no_limit_check_toggled(self, checked: bool) -> None:
        self.limit_spin.setEnabled(not checked)

    def change(self) -> PendingChange:
        """The edit entered, as a patch of the fields that differ. Raises
        :class:`InputProblem` for nothing changed, critical above low, or alert levels that
        are not whole numbers from highest to lowest."""
        tt = self._ticket_type
        if tt is None:
            raise InputProblem("The ticket type is not loaded yet.", self.limit_spin)
        fields: dict[str, object] = {}
        limit = None if self.no_limit_check.isChecked() else self.limit_spin.value()
        if limit != tt.public_limit:
            fields["public_limit"] = limit
        low, critical = self.low_spin.value(), self.critical_spin.value()
        if critical > low:
            raise InputProblem("The critical level must not be above the low level.",
                               self.critical_spin)
        if (low, critical) != (tt.thresholds.low, tt.thresholds.critical):
            fields["thresholds"] = ThresholdsIn(low=low, critical=critical)
        try:
            ladder = parse_ladder(self.ladder_edit.text())
        except ValueError as exc:
            raise InputProblem(str(exc), self.ladder_edit) from None
        if ladder != tt.alert_ladder:
            fields["alert_ladder"] = ladder
        if not fields:
            raise InputProblem("Nothing to save: change the limit, the thresholds or the alert "
                               f"levels ({ladder_text(tt.alert_ladder)}) first.",
                               self.limit_spin)
        reason = self.reason_edit.text().strip()
        if reason:
            fields["reason"] = reason
        return PendingChange(0, reason, TicketTypePatch.model_validate(fields))
