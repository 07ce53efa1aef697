"""When the window locks itself: minutes without the cashier's input, and the keys held back
while it is locked.

An unattended till must not stay open to whoever walks up to it (issue 16). The window locks
after :data:`DEFAULT_LOCK_MINUTES` minutes (5) in which nobody pressed a key, clicked, moved
the mouse, scrolled or touched the screen anywhere in the application (its dialogs too);
``POS_APP_LOCK_MINUTES`` sets another time for this terminal, 1 to 60 minutes. There is no
way to turn the lock off: a value outside that range locks after the default, and the window
says so in its status bar. The setting is the machine's, never the window's: a cashier cannot
change it at the till.

While locked, :class:`IdleWatch` also keeps every keyboard shortcut of the application from
acting (F-keys, Ctrl+D, Ctrl+R, ...): a key goes only to the field that has the focus, on the
lock screen.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import timedelta

from PySide6.QtCore import QEvent, QObject, QPointF, QTimer, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

__all__ = ["DEFAULT_LOCK_MINUTES", "ENV_LOCK_MINUTES", "MAX_LOCK_MINUTES", "IdleWatch",
           "lock_after_from_environment"]

ENV_LOCK_MINUTES = "POS_APP_LOCK_MINUTES"
DEFAULT_LOCK_MINUTES = 5
MAX_LOCK_MINUTES = 60
"""Longest idle time accepted: the server ends an unused session after 30 minutes anyway
(``POS_APP_SESSION_IDLE_MINUTES``), but only while nothing asks it anything, and an open
window reads the events every 15 s."""

# What a person at the till does; a key that triggers a shortcut arrives as ShortcutOverride
# (and Shortcut) only, never as a KeyPress.
_INPUT = frozenset({
    QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride, QEvent.Type.Shortcut,
    QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonDblClick, QEvent.Type.Wheel,
    QEvent.Type.TouchBegin, QEvent.Type.TouchUpdate, QEvent.Type.TabletPress,
    QEvent.Type.InputMethod,
})


def lock_after_from_environment(environ: Mapping[str, str]) -> tuple[timedelta, str | None]:
    """The idle time after which the window locks, from ``POS_APP_LOCK_MINUTES`` in
    ``environ`` (whole minutes, 1 to :data:`MAX_LOCK_MINUTES`), and ``None``; or, unset,
    the default and ``None``; or, any other value, the default and a sentence for the
    cashier saying it was not used."""
    default = timedelta(minutes=DEFAULT_LOCK_MINUTES)
    value = environ.get(ENV_LOCK_MINUTES, "").strip()
    if not value:
        return default, None
    if value.isascii() and value.isdigit() and 1 <= int(value) <= MAX_LOCK_MINUTES:
        return timedelta(minutes=int(value)), None
    return default, (f"{ENV_LOCK_MINUTES}={value[:20]!r} is not 1 to {MAX_LOCK_MINUTES} "
                     f"minutes - the window locks after {DEFAULT_LOCK_MINUTES} minutes "
                     f"without input")


class IdleWatch(QObject):
    """Says when the application has had no input for ``lock_after``; holds shortcuts back
    while :attr:`guarding`.

    An application-wide event filter notes the time of each input (cheaply: no timer is
    restarted per event); one single-shot timer wakes at the earliest moment the idle time
    could be reached and sleeps again for what is left when input came meanwhile. A mouse
    move counts only when the pointer really moved (Qt sends moves of its own when a widget
    under a still pointer changes). ``clock`` is a monotonic clock in seconds (tests pass
    their own and call :meth:`on_timer_timeout`).

    Signals:
        timed_out(): ``lock_after`` passed without input since :meth:`start` (once; call
            :meth:`start` again to watch again).
    """

    timed_out = Signal()

    def __init__(self, lock_after: timedelta, parent: QObject | None = None, *,
                 clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self.lock_after = lock_after
        self.clock = clock
        self.guarding = False
        self._last_input = clock()
        self._pointer: QPointF | None = None
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.on_timer_timeout)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)  # removed by Qt when this object is deleted

    @property
    def watching(self) -> bool:
        """``True`` between :meth:`start` and :meth:`stop` (or the time out)."""
        return self.timer.isActive()

    def idle_seconds(self) -> float:
        """Seconds since the last input (or the last :meth:`start`)."""
        return max(0.0, self.clock() - self._last_input)

    def start(self) -> None:
        """Watch from now: :attr:`timed_out` after ``lock_after`` without input."""
        self._last_input = self.clock()
        self._arm(self.lock_after.total_seconds())

    def stop(self) -> None:
        """Stop watching (nobody signed in, or already locked)."""
        self.timer.stop()

    def note_input(self) -> None:
        """Someone is at the till now."""
        self._last_input = self.clock()

    def on_timer_timeout(self) -> None:
        left = self.lock_after.total_seconds() - self.idle_seconds()
        if left > 0:
            self._arm(left)
            return
        self.timer.stop()
        self.timed_out.emit()

    def _arm(self, seconds: float) -> None:
        self.timer.start(max(1, int(seconds * 1000) + 1))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.MouseMove and isinstance(event, QMouseEvent):
            where = event.globalPosition()
            if self._pointer is not None and where != self._pointer:
                self.note_input()
            self._pointer = where
        elif kind in _INPUT:
            self.note_input()
            if self.guarding and kind == QEvent.Type.ShortcutOverride:
                # Accepted: no shortcut acts; the key goes on to the focused field as typed.
                event.accept()
                return True
        return False
