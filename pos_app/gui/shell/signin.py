"""The sign-in screen: username, PIN (typed or on a touch keypad), Sign in.

``register.sign_in`` runs on the TaskRunner's journal thread; while it runs the button reads
"Signing in…" and is disabled. A wrong PIN shows "Wrong username or PIN." and clears the PIN.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
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

from pos_app.api.schemas import SessionResponse
from pos_app.gui.core.pin_entry import PinPad, pin_edit
from pos_app.gui.core.ports import RegisterPort
from pos_app.gui.core.task_runner import Task, TaskRunner
from pos_app.gui.core.widgets import named

__all__ = ["WRONG_CREDENTIALS", "SignInScreen", "sign_in_error_text"]

WRONG_CREDENTIALS = "Wrong username or PIN."


def sign_in_error_text(exc: BaseException) -> str:
    """The sentence shown for a failed sign-in."""
    from pos_app.client import ServerUnreachable, TooManyAttempts, Unauthorized

    if isinstance(exc, Unauthorized):
        return WRONG_CREDENTIALS
    if isinstance(exc, TooManyAttempts):
        wait = getattr(exc, "retry_after", None)
        minutes = f" Try again in {max(1, round(wait / 60))} min." if wait else ""
        return f"Too many wrong PINs for this user.{minutes}"
    if isinstance(exc, ServerUnreachable):
        return f"Cannot reach the box-office server: {exc}"
    return str(exc) or type(exc).__name__


class SignInScreen(QWidget):
    """Username, PIN, keypad and Sign in.

    Signals:
        signed_in(object): the register accepted the credentials (``SessionResponse``).
        sign_in_failed(object): the attempt raised this exception (message already shown).
    """

    signed_in = Signal(object)
    sign_in_failed = Signal(object)

    def __init__(self, register: RegisterPort, runner: TaskRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("signInScreen")
        self._register = register
        self._runner = runner
        self._task: Task | None = None

        card = named(QFrame(), "signInCard")
        card.setFixedWidth(460)
        card.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Maximum)
        brand = named(QLabel("BOX OFFICE"), "signInBrand")
        title = named(QLabel("Sign in to sell"), "signInTitle")
        self.terminal_label = named(QLabel(), "signInTerminal")
        self.username_edit = named(QLineEdit(), "usernameEdit")
        self.username_edit.setPlaceholderText("Username")
        self.username_edit.setAccessibleName("Username")
        self.pin_edit = pin_edit()
        self.error_label = named(QLabel(), "signInError")
        self.error_label.setWordWrap(True)
        self.error_label.setAccessibleName("Sign-in error")
        self.error_label.hide()
        self.sign_in_button = named(QPushButton("Sign in"), "signInButton")
        self.sign_in_button.setAccessibleName("Sign in")

        self.keypad = PinPad(self.pin_edit)
        self.keypad_buttons = self.keypad.buttons

        layout = QVBoxLayout(card)
        layout.setContentsMargins(36, 32, 36, 32)
        layout.setSpacing(12)
        layout.addWidget(brand)
        layout.addWidget(title)
        layout.addWidget(self.terminal_label)
        layout.addSpacing(8)
        layout.addWidget(self.username_edit)
        layout.addWidget(self.pin_edit)
        layout.addWidget(self.error_label)
        layout.addWidget(self.keypad)
        layout.addSpacing(6)
        layout.addWidget(self.sign_in_button)

        outer = QHBoxLayout(self)
        outer.addStretch(1)
        column = QVBoxLayout()
        column.addStretch(1)
        column.addWidget(card)
        column.addStretch(1)
        outer.addLayout(column)
        outer.addStretch(1)

        self.setTabOrder(self.username_edit, self.pin_edit)
        self.setTabOrder(self.pin_edit, self.sign_in_button)
        self.username_edit.returnPressed.connect(self.on_username_edit_return_pressed)
        self.pin_edit.returnPressed.connect(self.on_sign_in_button_clicked)
        self.sign_in_button.clicked.connect(self.on_sign_in_button_clicked)

    @property
    def busy(self) -> bool:
        """``True`` while a sign-in is with the register."""
        return self._task is not None

    def set_terminal_name(self, name: str) -> None:
        self.terminal_label.setText(f"Terminal: {name}" if name else "")

    def reset(self, message: str | None = None) -> None:
        """Ready for the next cashier: PIN cleared, ``message`` (if any) shown."""
        self.pin_edit.clear()
        self.show_error(message)
        self.username_edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def show_error(self, message: str | None) -> None:
        self.error_label.setText(message or "")
        self.error_label.setVisible(bool(message))

    def on_username_edit_return_pressed(self) -> None:
        if self.pin_edit.text():
            self.on_sign_in_button_clicked()
        else:
            self.pin_edit.setFocus(Qt.FocusReason.TabFocusReason)

    def on_sign_in_button_clicked(self) -> None:
        if self.busy:
            return
        username = self.username_edit.text().strip()
        pin = self.pin_edit.text()
        if not username or not pin:
            self.show_error("Enter your username and PIN.")
            return
        self.show_error(None)
        self._set_busy(True)
        self._task = self._runner.write(self._register.sign_in, username, pin)
        self._task.finished.connect(self.on_sign_in_task_finished)
        self._task.failed.connect(self.on_sign_in_task_failed)

    def on_sign_in_task_finished(self, session: SessionResponse) -> None:
        self._task = None
        self._set_busy(False)
        self.pin_edit.clear()
        self.signed_in.emit(session)

    def on_sign_in_task_failed(self, exc: BaseException) -> None:
        from pos_app.client import Unauthorized

        self._task = None
        self._set_busy(False)
        if isinstance(exc, Unauthorized):
            self.pin_edit.clear()
        self.show_error(sign_in_error_text(exc))
        self.pin_edit.setFocus(Qt.FocusReason.OtherFocusReason)
        self.sign_in_failed.emit(exc)

    def _set_busy(self, busy: bool) -> None:
        self.sign_in_button.setEnabled(not busy)
        self.sign_in_button.setText("Signing in…" if busy else "Sign in")
        self.username_edit.setReadOnly(busy)
        self.pin_edit.setReadOnly(busy)
        self.keypad.set_busy(busy)
