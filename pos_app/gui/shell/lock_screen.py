"""The lock screen: the window locked itself after the cashier left it idle (issue 16).

It covers the whole window: nothing of the basket, its amounts or a customer's name shows
behind it. It names who is signed in and since when the till is locked, and asks for that
cashier's PIN (typed or on the keypad). "Another cashier" asks for a username and PIN
instead: that cashier takes the till over. Either way the PIN goes to the server
(``register.replace_session`` on the TaskRunner's journal thread: a fresh sign-in, then the
earlier session ends there), so the server's throttling holds here as at sign-in; a refusal
is said in a sentence and the till stays locked.
"""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from pos_app.api.schemas import SessionResponse, StaffOut
from pos_app.gui.core.pin_entry import PinPad, pin_edit
from pos_app.gui.core.ports import RegisterPort
from pos_app.gui.core.task_runner import Task, TaskRunner
from pos_app.gui.core.widgets import announce, named
from pos_app.gui.shell.signin import sign_in_error_text

__all__ = ["SESSION_ENDED_WHILE_LOCKED", "WRONG_PIN", "LockScreen"]

WRONG_PIN = "Wrong PIN."
SESSION_ENDED_WHILE_LOCKED = ("The session ended on the server meanwhile; your PIN signs you "
                              "in again.")


class LockScreen(QWidget):
    """The locked till: the signed-in cashier's PIN, or another cashier's username and PIN.

    Signals:
        unlocked(object): the server accepted the PIN; the ``SessionResponse`` now in use
            (the same staff member, or the one who took over).
        unlock_failed(object): the server refused or could not be asked (the exception;
            the sentence is already shown). The till stays locked.
    """

    unlocked = Signal(object)
    unlock_failed = Signal(object)

    def __init__(self, register: RegisterPort, runner: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lockScreen")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self._register = register
        self._runner = runner
        self._task: Task | None = None
        self._staff: StaffOut | None = None
        self.locked_at: datetime | None = None
        self.another = False  # "Another cashier" is showing

        card = named(QFrame(), "signInCard")
        card.setFixedWidth(460)
        card.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Maximum)
        brand = named(QLabel("BOX OFFICE"), "signInBrand")
        self.title_label = named(QLabel("Locked"), "signInTitle")
        self.who_label = named(QLabel(), "lockWho")
        self.who_label.setWordWrap(True)
        self.hint_label = named(QLabel(), "signInTerminal")
        self.hint_label.setWordWrap(True)
        self.notice_label = named(QLabel(), "lockNotice")
        self.notice_label.setWordWrap(True)
        self.notice_label.hide()
        self.username_edit = named(QLineEdit(), "usernameEdit")
        self.username_edit.setPlaceholderText("Username")
        self.username_edit.setAccessibleName("Username of the cashier taking over")
        self.username_edit.setMaxLength(64)
        self.username_edit.hide()
        self.pin_edit = pin_edit()
        self.error_label = named(QLabel(), "signInError")
        self.error_label.setWordWrap(True)
        self.error_label.setAccessibleName("Unlock error")
        self.error_label.hide()
        self.keypad = PinPad(self.pin_edit)
        self.unlock_button = named(QPushButton("Unlock"), "signInButton")
        self.another_button = named(QPushButton("Another cashier"), "lockAnotherButton")

        layout = QVBoxLayout(card)
        layout.setContentsMargins(36, 28, 36, 28)
        layout.setSpacing(10)
        layout.addWidget(brand)
        layout.addWidget(self.title_label)
        layout.addWidget(self.who_label)
        layout.addWidget(self.hint_label)
        layout.addWidget(self.notice_label)
        layout.addSpacing(4)
        layout.addWidget(self.username_edit)
        layout.addWidget(self.pin_edit)
        layout.addWidget(self.error_label)
        layout.addWidget(self.keypad)
        layout.addSpacing(6)
        buttons = QHBoxLayout()
        buttons.setSpacing(10)
        buttons.addWidget(self.another_button, 2)
        buttons.addWidget(self.unlock_button, 3)
        layout.addLayout(buttons)

        outer = QHBoxLayout(self)
        outer.addStretch(1)
        column = QVBoxLayout()
        column.addStretch(1)
        column.addWidget(card)
        column.addStretch(1)
        outer.addLayout(column)
        outer.addStretch(1)

        self.setTabOrder(self.username_edit, self.pin_edit)
        self.setTabOrder(self.pin_edit, self.unlock_button)
        self.setTabOrder(self.unlock_button, self.another_button)
        self.username_edit.returnPressed.connect(self.on_username_edit_return_pressed)
        self.pin_edit.returnPressed.connect(self.on_unlock_button_clicked)
        self.unlock_button.clicked.connect(self.on_unlock_button_clicked)
        self.another_button.clicked.connect(self.on_another_button_clicked)

    # --- state ------------------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """``True`` while a PIN is with the server."""
        return self._task is not None

    @property
    def staff(self) -> StaffOut | None:
        """Who was signed in when the till locked."""
        return self._staff

    def lock(self, staff: StaffOut, since: datetime) -> None:
        """Show the till locked by ``staff``'s session since ``since`` (aware): that
        cashier's PIN asked for, nothing typed, no message."""
        self._staff = staff
        self.locked_at = since
        self.show_notice(None)
        self.show_same_cashier()
        announce(self, f"{self.title_label.text()}. {self.who_label.text()} "
                       f"{self.hint_label.text()}")

    def show_notice(self, text: str | None) -> None:
        """A sentence for the signed-in cashier about the till's state (not an error; not
        shown to another cashier), ``None`` to clear it."""
        self.notice_label.setText(text or "")
        self.notice_label.setVisible(bool(text) and not self.another)

    def show_error(self, text: str | None) -> None:
        self.error_label.setText(text or "")
        self.error_label.setVisible(bool(text))

    def show_same_cashier(self) -> None:
        """Ask for the signed-in cashier's PIN."""
        self.another = False
        name = self._staff.display_name if self._staff is not None else "the cashier"
        since = f" since {self.locked_at.astimezone():%H:%M}" if self.locked_at else ""
        self.title_label.setText(f"Locked{since}")
        self.who_label.setText(f"{name} is signed in.")
        self.hint_label.setText("Enter your PIN to carry on. The basket is kept.")
        self.username_edit.hide()
        self.username_edit.clear()
        self.notice_label.setVisible(bool(self.notice_label.text()))
        self.unlock_button.setText("Unlock")
        self.unlock_button.setAccessibleName(f"Unlock with {name}'s PIN")
        self.another_button.setText("Another cashier")
        self.another_button.setAccessibleName("Another cashier: sign in with your own "
                                              "username and PIN")
        self.pin_edit.setAccessibleName(f"PIN of {name}")
        self._reset_entry()
        self.pin_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def show_another_cashier(self) -> None:
        """Ask for another cashier's username and PIN (Esc or the button goes back)."""
        self.another = True
        name = self._staff.display_name if self._staff is not None else "the cashier"
        self.title_label.setText("Another cashier")
        self.who_label.setText(f"Sign in to take over from {name}.")
        self.hint_label.setText(f"{name} will be signed out; the basket and the shift stay.")
        self.username_edit.show()
        self.notice_label.hide()
        self.unlock_button.setText("Sign in")
        self.unlock_button.setAccessibleName("Sign in and take over this till")
        self.another_button.setText(f"← {name}")
        self.another_button.setAccessibleName(f"Back: {name}'s PIN")
        self.pin_edit.setAccessibleName("PIN")
        self._reset_entry()
        self.username_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def _reset_entry(self) -> None:
        self.pin_edit.clear()
        self.show_error(None)

    # --- input ------------------------------------------------------------------------------

    def on_another_button_clicked(self) -> None:
        if self.busy:
            return
        if self.another:
            self.show_same_cashier()
        else:
            self.show_another_cashier()

    def on_username_edit_return_pressed(self) -> None:
        if self.pin_edit.text():
            self.on_unlock_button_clicked()
        else:
            self.pin_edit.setFocus(Qt.FocusReason.TabFocusReason)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape and self.another and not self.busy:
            self.show_same_cashier()
            return
        super().keyPressEvent(event)

    def on_unlock_button_clicked(self) -> None:
        if self.busy or self._staff is None:
            return
        username = (self.username_edit.text().strip() if self.another
                    else self._staff.username)
        pin = self.pin_edit.text()
        if not username or not pin:
            self.show_error("Enter your username and PIN." if self.another
                            else "Enter your PIN.")
            return
        self.show_error(None)
        self._set_busy(True)
        self._task = self._runner.write(self._register.replace_session, username, pin)
        self._task.finished.connect(self.on_replace_task_finished)
        self._task.failed.connect(self.on_replace_task_failed)

    def on_replace_task_finished(self, session: SessionResponse) -> None:
        self._task = None
        self._set_busy(False)
        self.pin_edit.clear()
        self.unlocked.emit(session)

    def on_replace_task_failed(self, exc: BaseException) -> None:
        from pos_app.client import Unauthorized

        self._task = None
        self._set_busy(False)
        if isinstance(exc, Unauthorized):
            self.pin_edit.clear()
            self.show_error(sign_in_error_text(exc) if self.another else WRONG_PIN)
        else:  # too many tries (wait), the server unreachable, ...
            self.show_error(sign_in_error_text(exc))
        self.pin_edit.setFocus(Qt.FocusReason.OtherFocusReason)
        self.unlock_failed.emit(exc)

    def _set_busy(self, busy: bool) -> None:
        self.unlock_button.setEnabled(not busy)
        self.unlock_button.setText("Checking…" if busy
                                   else "Sign in" if self.another else "Unlock")
        self.another_button.setEnabled(not busy)
        self.username_edit.setReadOnly(busy)
        self.pin_edit.setReadOnly(busy)
        self.keypad.set_busy(busy)
