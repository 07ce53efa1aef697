"""Typing a PIN: the masked, digits-only field and the touch keypad beside it, as the sign-in
screen and the lock screen show them."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import QGridLayout, QLineEdit, QPushButton, QWidget

from pos_app.gui.core.widgets import named

__all__ = ["PIN_PATTERN", "PinPad", "pin_edit"]

PIN_PATTERN = r"\d{0,12}"
"""What a PIN field accepts while typing: up to 12 digits (the server wants 4 to 12)."""

_KEYS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "Clear", "0", "⌫"]
_KEY_NAMES = {"Clear": "Clear PIN", "⌫": "Delete last digit"}


def pin_edit(object_name: str = "pinEdit") -> QLineEdit:
    """A PIN field: masked, digits only (a touch keyboard offers digits), "PIN" as its
    placeholder and accessible name."""
    edit = named(QLineEdit(), object_name)
    edit.setPlaceholderText("PIN")
    edit.setAccessibleName("PIN")
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    edit.setValidator(QRegularExpressionValidator(PIN_PATTERN, edit))
    edit.setInputMethodHints(Qt.InputMethodHint.ImhDigitsOnly
                             | Qt.InputMethodHint.ImhSensitiveData)
    return edit


class PinPad(QWidget):
    """Digits, Clear and ⌫ typing into ``target`` (a :func:`pin_edit`); the buttons never
    take the focus, so the field keeps it. ``buttons`` maps each key's label to its button."""

    def __init__(self, target: QLineEdit, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._target = target
        self.buttons: dict[str, QPushButton] = {}
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(10)
        for position, key in enumerate(_KEYS):
            button = named(QPushButton(key), "keypadButton")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setAccessibleName(_KEY_NAMES.get(key, f"Digit {key}"))
            button.clicked.connect(lambda _c=False, k=key: self.press(k))
            grid.addWidget(button, *divmod(position, 3))
            self.buttons[key] = button

    def press(self, key: str) -> None:
        """What pressing ``key`` does: a digit is typed, Clear empties, ⌫ deletes one."""
        target = self._target
        if target.isReadOnly():
            return
        if key == "Clear":
            target.clear()
        elif key == "⌫":
            target.backspace()
        else:
            target.insert(key)
        target.setFocus(Qt.FocusReason.OtherFocusReason)

    def set_busy(self, busy: bool) -> None:
        """Disable the keys while the PIN is with the server."""
        for button in self.buttons.values():
            button.setEnabled(not busy)
