"""The hold desk's right-hand panel: the selected hold in large type, with its actions.

It only shows a hold and offers Take payment / Release / Reprint slip; the desk
(:mod:`pos_app.gui.holds.hold_desk`) connects the buttons and runs the register calls.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLayoutItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pos_app.api.schemas import Hold
from pos_app.domain.money import format_money
from pos_app.gui.core.formatting import local_clock_time
from pos_app.gui.core.styles import style_sheet
from pos_app.gui.core.widgets import named, restyle
from pos_app.gui.holds.holds_model import Urgency, countdown_text, status_label, urgency

__all__ = ["HoldDetailPanel"]

_PANEL_STYLE = style_sheet("hold_detail")
# Urgency -> the ticket tiles' stock-level chip colours (resources/styles/pos.qss).
_LEVELS = {Urgency.CALM: "in_stock", Urgency.SOON: "low", Urgency.URGENT: "critical",
           Urgency.ENDED: "sold_out"}
KEY_HINTS = ("Enter  take payment   ·   Delete  release\nCtrl+P  reprint slip   ·   "
             "F5  refresh\nCtrl+S  sell an expired hold's tickets again")


def _right(label: QLabel) -> QLabel:
    label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return label


class HoldDetailPanel(QFrame):
    """Code, status, customer, lines, total, times and countdown of one hold, above Take
    payment (green, Enter), Release (Delete) and Reprint slip (Ctrl+P)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("holdDetail")
        self.setStyleSheet(_PANEL_STYLE)
        self.hold: Hold | None = None
        caption = named(QLabel("Hold code"), "fieldCaption")
        self.code_label = named(QLabel(), "holdCode")
        self.code_label.setAccessibleName("Hold code")
        self.code_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status_chip = named(QLabel(), "tileLevel")
        self.status_chip.setAccessibleName("Hold status")
        self.customer_label = named(QLabel(), "holdCustomer")
        self.customer_label.setAccessibleName("Customer")
        self.customer_label.setWordWrap(True)
        self.phone_label = named(QLabel(), "holdPhone")
        self.phone_label.setAccessibleName("Customer phone")
        self.lines_grid = QGridLayout()
        self.lines_grid.setHorizontalSpacing(12)
        self.lines_grid.setVerticalSpacing(4)
        self.lines_grid.setColumnStretch(0, 1)
        self.total_label = _right(named(QLabel(), "totalAmount"))
        self.total_label.setAccessibleName("Total to pay")
        self.placed_label = _right(named(QLabel(), "holdTimeValue"))
        self.placed_label.setAccessibleName("Placed at")
        self.pay_by_caption = named(QLabel("Pay by"), "holdTime")
        self.pay_by_label = _right(named(QLabel(), "holdTimeValue"))
        self.pay_by_label.setAccessibleName("Pay by")
        self.countdown_caption = named(QLabel("Time left"), "holdTime")
        self.countdown_label = _right(named(QLabel(), "holdCountdown"))
        self.countdown_label.setAccessibleName("Time left")
        self.note_label = named(QLabel(), "holdPhone")
        self.note_label.setAccessibleName("Release reason")
        self.note_label.setWordWrap(True)
        self.empty_label = named(QLabel("Select a hold to see it here.\n\nType a hold code, "
                                        "a name or a phone number in the search box, then "
                                        "press Down to pick it."), "holdEmpty")
        self.empty_label.setWordWrap(True)
        self.pay_button = named(QPushButton("Take payment"), "chargeButton")
        self.pay_button.setAccessibleName("Take payment for the selected hold")
        self.pay_button.setToolTip("Enter")
        self.release_button = named(QPushButton("Release"), "secondaryButton")
        self.release_button.setAccessibleName("Release the selected hold")
        self.release_button.setToolTip("Delete")
        self.reprint_button = named(QPushButton("Reprint slip"), "secondaryButton")
        self.reprint_button.setAccessibleName("Reprint the selected hold's slip")
        self.reprint_button.setToolTip("Ctrl+P")
        self.sell_again_button = named(QPushButton("Sell these tickets again"), "primaryButton")
        self.sell_again_button.setAccessibleName(
            "Put the expired hold's tickets in the basket to sell them now")
        self.sell_again_button.setToolTip("Ctrl+S: the tickets go back in the basket if they "
                                          "are still there")
        self.keys_label = named(QLabel(KEY_HINTS), "hintLabel")
        self.keys_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.keys_label.setAccessibleName("Keyboard shortcuts")

        code_row = QHBoxLayout()
        code_row.addWidget(self.code_label, 1)
        code_row.addWidget(self.status_chip, 0, Qt.AlignmentFlag.AlignVCenter)
        times = QGridLayout()
        times.setHorizontalSpacing(12)
        times.setVerticalSpacing(6)
        times.addWidget(named(QLabel("Placed"), "holdTime"), 0, 0)
        times.addWidget(self.placed_label, 0, 1)
        times.addWidget(self.pay_by_caption, 1, 0)
        times.addWidget(self.pay_by_label, 1, 1)
        times.addWidget(self.countdown_caption, 2, 0)
        times.addWidget(self.countdown_label, 2, 1)
        times.setColumnStretch(1, 1)
        total_row = QHBoxLayout()
        total_row.addWidget(named(QLabel("Total"), "totalCaption"))
        total_row.addWidget(self.total_label, 1)
        actions = QHBoxLayout()
        actions.setSpacing(10)
        actions.addWidget(self.release_button, 1)
        actions.addWidget(self.reprint_button, 1)

        self.details = QWidget()
        details = QVBoxLayout(self.details)
        details.setContentsMargins(0, 0, 0, 0)
        details.setSpacing(8)
        details.addWidget(caption)
        details.addLayout(code_row)
        details.addSpacing(4)
        details.addWidget(self.customer_label)
        details.addWidget(self.phone_label)
        details.addWidget(self._rule())
        details.addLayout(self.lines_grid)
        details.addWidget(self._rule())
        details.addLayout(total_row)
        details.addWidget(self._rule())
        details.addLayout(times)
        details.addWidget(self.note_label)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 20)
        layout.setSpacing(10)
        layout.addWidget(named(QLabel("Selected hold"), "panelTitle"))
        layout.addWidget(self.details)
        layout.addWidget(self.empty_label)
        layout.addStretch(1)
        layout.addWidget(self.pay_button)
        layout.addWidget(self.sell_again_button)
        layout.addLayout(actions)
        layout.addWidget(self.keys_label)
        self._shown: Hold | None = None
        self.show_hold(None, "", None, None)

    @staticmethod
    def _rule() -> QFrame:
        rule = named(QFrame(), "rule")
        rule.setFrameShape(QFrame.Shape.HLine)
        return rule

    def show_hold(self, hold: Hold | None, status: str, zone: str | None,
                  now: datetime | None) -> None:
        """Show ``hold`` with its effective ``status`` at ``now`` (times in IANA ``zone``),
        or the empty state for ``None``. Take payment and Release need an active hold.
        Called each second by the desk: only the changing texts are set again."""
        self.hold = hold
        self.details.setVisible(hold is not None)
        self.empty_label.setVisible(hold is None)
        active = hold is not None and status == "active"
        self.pay_button.setEnabled(active)
        self.release_button.setEnabled(active)
        self.reprint_button.setEnabled(hold is not None and hold.customer is not None)
        self.sell_again_button.setVisible(hold is not None and status == "expired")
        if hold is None or now is None:
            self._shown = None
            self.pay_button.setText("Take payment")
            return
        if hold != self._shown:
            self._show_fixed(hold, zone, now)
        band = urgency(hold, now)
        level = _LEVELS[band]
        chip = "Expires soon" if band in (Urgency.SOON, Urgency.URGENT) else status_label(status)
        self.status_chip.setText(chip)
        self.status_chip.setAccessibleDescription(status_label(status))
        if self.status_chip.property("level") != level:
            self.status_chip.setProperty("level", level)
            restyle(self.status_chip)
            self.countdown_label.setProperty("level", level)
            restyle(self.countdown_label)
        money = format_money(hold.total, hold.currency)
        self.pay_button.setText(f"Take payment  {money}" if active else "Take payment")
        expires = local_clock_time(hold.expires_at, zone, now, with_zone=True)
        if status == "active":
            self.pay_by_caption.setText("Pay by")
            self.pay_by_label.setText(expires)
            self.countdown_caption.setText("Time left")
            self.countdown_label.setText(countdown_text(hold.expires_at - now))
        elif status == "expired":
            self.pay_by_caption.setText("Expired")
            self.pay_by_label.setText(expires)
            self.countdown_caption.setText("Tickets")
            self.countdown_label.setText("Back on sale")
        else:
            ended = hold.ended_at
            self.pay_by_caption.setText(status_label(status))
            self.pay_by_label.setText(local_clock_time(ended, zone, now, with_zone=True)
                                      if ended else "—")
            self.countdown_caption.setText("")
            self.countdown_label.setText("")
        self.note_label.setText(f"Reason: {hold.release_reason}" if hold.release_reason
                                else "")
        self.note_label.setVisible(bool(hold.release_reason))

    def _show_fixed(self, hold: Hold, zone: str | None, now: datetime) -> None:
        self._shown = hold
        self.code_label.setText(hold.code)
        self.code_label.setAccessibleDescription(" ".join(hold.code))
        customer = hold.customer
        self.customer_label.setText(customer.name if customer else "No customer")
        self.phone_label.setText((customer.phone or "No phone given") if customer else "")
        while self.lines_grid.count():
            item: QLayoutItem | None = self.lines_grid.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for row, line in enumerate(hold.lines):
            name = named(QLabel(f"{line.quantity} × {line.name}"), "holdLine")
            name.setWordWrap(True)
            amount = _right(named(QLabel(format_money(line.amount, hold.currency)),
                                  "holdLine"))
            self.lines_grid.addWidget(name, row, 0)
            self.lines_grid.addWidget(amount, row, 1)
        self.total_label.setText(format_money(hold.total, hold.currency))
        self.placed_label.setText(local_clock_time(hold.created_at, zone, now, with_zone=True))
