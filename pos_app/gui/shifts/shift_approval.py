"""The manager's approval of a cash-up variance, as a page of the close dialog
(:class:`~pos_app.gui.shifts.shift_count_dialogs.CloseShiftDialog`).

The server refused the blind count with ``variance_needs_approval``: the count is off by more
than the venue allows, and the server does not say by how much. A manager types their
username and PIN (echoed as dots) and a note says why; the dialog then sends the same count
again with them. A wrong PIN is said in the server's words, the PIN field is cleared and the
rest is kept, so they try again.
"""

from __future__ import annotations

from PySide6.QtCore import QRegularExpression, Qt, Signal
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from pos_app.gui.core.pin_entry import PIN_PATTERN
from pos_app.gui.core.widgets import named, restyle

__all__ = ["VarianceApprovalPanel"]


class VarianceApprovalPanel(QWidget):
    """Manager username, PIN and a required note, with "Approve and close", "Recount" and
    "Cancel". Enter in the PIN or note field submits (a missing field gets the focus and a
    hint instead).

    Signals:
        approval_entered(str, str, str): username, PIN and note, all present.
        recount_requested(): "Recount": back to the count.
        cancel_requested(): "Cancel": the shift stays open.
    """

    approval_entered = Signal(str, str, str)
    recount_requested = Signal()
    cancel_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("varianceApproval")
        self.text_label = named(QLabel(), "sectionSubtitle")
        self.text_label.setWordWrap(True)
        self.text_label.setAccessibleName("Why a manager must approve")
        self.counted_label = named(QLabel(), "fieldCaption")
        self.counted_label.setAccessibleName("Counted cash sent")
        self.manager_edit = QLineEdit()
        self.manager_edit.setAccessibleName("Manager username")
        self.manager_edit.setPlaceholderText("The manager's username")
        self.manager_edit.setMaxLength(64)
        self.pin_edit = named(QLineEdit(), "pinEdit")
        self.pin_edit.setAccessibleName("Manager PIN")
        self.pin_edit.setPlaceholderText("The manager types their PIN")
        self.pin_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin_edit.setValidator(QRegularExpressionValidator(
            QRegularExpression(PIN_PATTERN), self.pin_edit))
        self.pin_edit.setInputMethodHints(Qt.InputMethodHint.ImhDigitsOnly
                                          | Qt.InputMethodHint.ImhSensitiveData)
        self.note_edit = QLineEdit()
        self.note_edit.setAccessibleName("Note, required")
        self.note_edit.setPlaceholderText("Required: why is the count off?")
        self.note_edit.setMaxLength(1000)
        form = QGridLayout()
        for row, (caption, edit) in enumerate((("Manager", self.manager_edit),
                                               ("PIN", self.pin_edit),
                                               ("Note", self.note_edit))):
            label = named(QLabel(caption), "fieldCaption")
            label.setBuddy(edit)
            form.addWidget(label, row, 0)
            form.addWidget(edit, row, 1)
        self.hint_label = named(QLabel(), "hintLabel")
        self.hint_label.setWordWrap(True)
        self.hint_label.setAccessibleName("Approval message")
        self.approve_button = named(QPushButton("Approve and close"), "primaryButton")
        self.approve_button.setAccessibleName("Approve and close the shift")
        self.recount_button = named(QPushButton("Recount"), "secondaryButton")
        self.recount_button.setAccessibleName("Back to the count")
        self.cancel_button = named(QPushButton("Cancel"), "secondaryButton")
        self.cancel_button.setAccessibleName("Cancel, the shift stays open")
        self.approve_button.clicked.connect(self.submit)
        self.recount_button.clicked.connect(self.recount_requested)
        self.cancel_button.clicked.connect(self.cancel_requested)
        for edit in (self.pin_edit, self.note_edit):
            edit.returnPressed.connect(self.submit)
        buttons = QHBoxLayout()
        buttons.addWidget(self.recount_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.approve_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text_label)
        layout.addWidget(self.counted_label)
        layout.addLayout(form)
        layout.addWidget(self.hint_label)
        layout.addLayout(buttons)

    def start(self, message: str, counted_text: str, note: str) -> None:
        """Show ``message`` (why; never an amount) and the cashier's own count, prefill the
        note with ``note`` when none is typed yet, clear the PIN and focus the first empty
        field."""
        self.text_label.setText(message)
        self.counted_label.setText(f"Your count: {counted_text}")
        if not self.note_edit.text().strip():
            self.note_edit.setText(note)
        self.pin_edit.clear()
        self.set_busy(False)
        self.say("The manager types their username and PIN; the note says why.")
        first = self.manager_edit if not self.manager_edit.text().strip() else self.pin_edit
        first.setFocus(Qt.FocusReason.OtherFocusReason)

    def submit(self) -> None:
        """Point at a missing field, or emit ``approval_entered`` and turn busy."""
        if not self.isVisible() or not self.approve_button.isEnabled():
            return
        username = self.manager_edit.text().strip()
        pin = self.pin_edit.text()
        note = self.note_edit.text().strip()
        for value, edit, hint in ((username, self.manager_edit, "Type the manager's username."),
                                  (pin, self.pin_edit, "The manager types their PIN."),
                                  (note, self.note_edit, "Write a note: why is the count off? "
                                                         "The manager signs it off.")):
            if not value:
                self.say(hint, warning=True)
                edit.setFocus(Qt.FocusReason.OtherFocusReason)
                return
        self.set_busy(True)
        self.say("Checking the approval…")
        self.approval_entered.emit(username, pin, note)

    def refused(self, message: str) -> None:
        """The approval was refused (e.g. a wrong PIN): say ``message`` as a warning, clear
        the PIN, keep the username and note, focus the PIN."""
        self.set_busy(False)
        self.pin_edit.clear()
        self.say(message, warning=True)
        self.pin_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def set_busy(self, busy: bool) -> None:
        """While the register works: fields read-only, buttons disabled."""
        for edit in (self.manager_edit, self.pin_edit, self.note_edit):
            edit.setReadOnly(busy)
        for button in (self.approve_button, self.recount_button, self.cancel_button):
            button.setEnabled(not busy)

    def forget_pin(self) -> None:
        """Clear the PIN (it is never kept longer than one attempt)."""
        self.pin_edit.clear()

    def say(self, text: str, *, warning: bool = False) -> None:
        """``text`` in the hint line, red when ``warning``."""
        self.hint_label.setProperty("warning", warning)
        restyle(self.hint_label)
        self.hint_label.setText(text)
