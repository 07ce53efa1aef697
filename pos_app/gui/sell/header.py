"""The dark bar across the top of the sell screen: where, the printer's state, who, and
Sign out."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QBoxLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pos_app.gui.core.widgets import named

__all__ = ["WHERE_WIDTH", "HeaderBar"]

WHERE_WIDTH = 180
"""Widest the terminal and venue names may be (pixels): the header's buttons come first on a
1280-pixel screen, a long venue name is cut with "…"."""


def _fit(label: QLabel, text: str) -> None:
    label.ensurePolished()  # the stylesheet's font, not the default, decides the width
    shown = label.fontMetrics().elidedText(text, Qt.TextElideMode.ElideRight, WHERE_WIDTH)
    label.setText(shown)
    label.setToolTip(text if shown != text else "")
    label.setAccessibleName(text)


class HeaderBar(QFrame):
    """Terminal and venue on the left, the signed-in cashier and Sign out on the right; the
    printer's state (:meth:`install_printer_status`) just left of the cashier.

    Signals:
        sign_out_clicked(): the cashier pressed Sign out.
    """

    sign_out_clicked = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("headerBar")
        self.brand_label = named(QLabel("BOX OFFICE"), "brand")
        self.terminal_label = named(QLabel(), "headerTitle")
        self.venue_label = named(QLabel(), "headerSubtitle")
        self.staff_label = named(QLabel(), "headerStaff")
        self.staff_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.role_label = named(QLabel(), "headerRole")
        self.role_label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.sign_out_button = named(QPushButton("Sign out"), "headerButton")
        self.sign_out_button.setAccessibleName("Sign out")
        self.sign_out_button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.sign_out_button.clicked.connect(self.sign_out_clicked)

        where = QVBoxLayout()
        where.setSpacing(0)
        where.addWidget(self.terminal_label)
        where.addWidget(self.venue_label)
        who = QVBoxLayout()
        who.setSpacing(0)
        self._who = who
        who.addWidget(self.staff_label)
        who.addWidget(self.role_label)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(24, 8, 16, 8)
        layout.setSpacing(8)
        layout.addWidget(self.brand_label)
        layout.addLayout(where)
        layout.addStretch(1)
        layout.addLayout(who)
        layout.addWidget(self.sign_out_button)

    def set_where(self, terminal_name: str, venue: str | None) -> None:
        """Show the terminal's name and the venue of the selected event, each cut to
        :data:`WHERE_WIDTH` pixels with "…" (the whole text in its tooltip)."""
        _fit(self.terminal_label, terminal_name)
        _fit(self.venue_label, venue or "No event selected")

    def set_who(self, display_name: str, role: str) -> None:
        """Show the signed-in staff member."""
        self.staff_label.setText(display_name)
        self.role_label.setText(role.capitalize())

    def install_printer_status(self, button: QPushButton) -> None:
        """Put ``button`` (``pos_app.gui.printing.printer_status.PrinterStatusButton``: the
        printer's state, pressed for the printer settings) between the venue and the cashier."""
        layout = self.layout()
        assert isinstance(layout, QBoxLayout)
        # Right of the stretch and left of the cashier: the buttons other screens add go
        # after the cashier, so this index does not move.
        layout.insertWidget(layout.indexOf(self._who), button)
        layout.insertSpacing(layout.indexOf(self._who), 6)
