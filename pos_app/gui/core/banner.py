"""The message banner: one full-width line telling the cashier what went wrong or what to know,
shared by the sell screen, the hold desk and the dialogs that report an outcome."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from pos_app.gui.core.widgets import named, restyle

__all__ = ["MessageBanner"]


class MessageBanner(QFrame):
    """A full-width message: ``error`` (red), ``warning`` (amber) or ``info`` (blue).

    Signals:
        dismissed(): the cashier closed the banner.
    """

    dismissed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageBanner")
        self.setProperty("kind", "error")
        self.label = named(QLabel(), "bannerText")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = named(QPushButton("Dismiss"), "bannerButton")
        self.close_button.setAccessibleName("Dismiss message")
        self.close_button.clicked.connect(self.on_close_button_clicked)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(20, 10, 12, 10)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.close_button)
        self.hide()

    @property
    def kind(self) -> str:
        return str(self.property("kind"))

    def text(self) -> str:
        return self.label.text()

    def show_message(self, text: str, kind: str = "error") -> None:
        """Show ``text``; ``kind`` picks the colour."""
        self.setProperty("kind", kind)
        restyle(self)
        self.label.setText(text)
        self.label.setAccessibleName(text)
        self.show()

    def clear(self) -> None:
        self.label.clear()
        self.hide()

    def on_close_button_clicked(self) -> None:
        self.clear()
        self.dismissed.emit()
