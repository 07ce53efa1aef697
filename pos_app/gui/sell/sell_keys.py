"""The sell screen's keyboard: a queue of 200 people is served without the mouse.

=====================  =====================================================================
Key                    Does
=====================  =====================================================================
F1 .. F12              add one ticket of the type on that tile (tiles show their key)
``+`` / ``-``          one more / one fewer of the selected basket line
digits, ``.``          type the cash tendered, wherever the focus is on the sell screen
Enter                  charge the typed tender (from the tender field, a tile or the basket)
Ctrl+Enter             charge exact cash (tendered = total), as the "Exact cash" button
Backspace              edit the tendered amount
=====================  =====================================================================

A two-ticket exact-cash sale is F1, F1, Ctrl+Enter: three key presses. A barcode scanner's
trailing Enter cannot charge twice: a charge in flight locks the basket and the panel, and a
confirmed sale leaves the basket empty, so the second Enter finds nothing to charge.

The keys work only while the sell screen's window is active and the focus is inside it. When
a dialog over the screen (the opening float, a hold, Cash, ...) closes, nothing promises the
window gets the keyboard back: without a window manager (Xvfb, a kiosk session) no window is
active any more, and the keys went nowhere until the cashier clicked. So the screen takes the
keyboard back itself once the last dialog over it has closed.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QDialog,
    QLineEdit,
    QListView,
    QWidget,
)

from pos_app.gui.sell.basket_panel import BasketPanel
from pos_app.gui.sell.ticket_tiles import FUNCTION_KEYS, TicketTile

__all__ = ["SellKeys"]

_TENDER_TEXT = set("0123456789.,")
_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class SellKeys(QObject):
    """Installs the key map above on ``screen`` (shortcuts live while the focus is inside it),
    routes digits and Enter typed outside the tender field to it, and gives the keyboard back
    to it when a dialog over it closes (:meth:`restore_focus`).

    ``panel`` is the screen's basket panel (tender field, Charge, exact cash, + and -),
    ``event_list`` the widget that takes the focus when the tender field cannot, and
    ``add_tile_at`` adds one ticket of the tile at a 0-based position (F1 is 0)."""

    def __init__(self, screen: QWidget, panel: BasketPanel, event_list: QWidget,
                 add_tile_at: Callable[[int], None]) -> None:
        super().__init__(screen)
        self._screen = screen
        self._panel = panel
        self._event_list = event_list
        context = Qt.ShortcutContext.WidgetWithChildrenShortcut
        self.shortcuts: list[QShortcut] = []
        for position, key in enumerate(FUNCTION_KEYS):
            self._bind(QKeySequence(key), context,
                       lambda p=position: add_tile_at(p))
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._bind(QKeySequence(Qt.KeyboardModifier.ControlModifier | key), context,
                       panel.on_exact_button_clicked)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def _bind(self, sequence: QKeySequence, context: Qt.ShortcutContext,
              slot: object) -> None:
        shortcut = QShortcut(sequence, self._screen)
        shortcut.setContext(context)
        shortcut.setAutoRepeat(False)  # a held key must not add a ticket per repeat
        shortcut.activated.connect(slot)
        self.shortcuts.append(shortcut)

    def restore_focus(self) -> None:
        """Activate the screen's window and put the focus back inside the screen (where it
        was, else the tender field, else the event list), unless the screen is hidden, a
        modal dialog is still up, or another window has the keyboard."""
        screen = self._screen
        window = screen.window()
        active = QApplication.activeWindow()
        if (not screen.isVisible() or QApplication.activeModalWidget() is not None
                or active not in (None, window)):
            return
        window.activateWindow()
        focus = window.focusWidget()
        if focus is not None and screen.isAncestorOf(focus) and focus.isEnabled() \
                and focus.isVisible():
            focus.setFocus(Qt.FocusReason.ActiveWindowFocusReason)
            return
        for fallback in (self._panel.tendered_edit, self._event_list):
            if fallback.isEnabled() and fallback.isVisible():
                fallback.setFocus(Qt.FocusReason.ActiveWindowFocusReason)
                return

    def _dialog_hidden(self, dialog: QDialog) -> None:
        parent = dialog.parentWidget()
        if parent is not None and parent.window() is self._screen.window():
            # Next turn of the event loop: the dialog has left the modal stack by then.
            QTimer.singleShot(0, self, self.restore_focus)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Hide and isinstance(watched, QDialog) \
                and watched.isWindow():
            self._dialog_hidden(watched)
            return False
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        screen = self._screen
        focus = QApplication.focusWidget()
        if (watched is not focus or focus is None or not screen.isVisible()
                or not screen.isAncestorOf(focus)):
            return False
        tender = self._panel.tendered_edit
        modifiers = event.modifiers() & ~(Qt.KeyboardModifier.KeypadModifier
                                          | Qt.KeyboardModifier.ShiftModifier)
        if modifiers != Qt.KeyboardModifier.NoModifier:
            return False
        # + and - change the basket even from the tender field (an amount has no sign); as
        # keys, not shortcuts, because a line edit claims printable keys before shortcuts.
        if event.text() == "+":
            self._panel.on_plus_button_clicked()
            return True
        if event.text() == "-":
            self._panel.on_minus_button_clicked()
            return True
        if isinstance(focus, QLineEdit):
            return False  # the tender field (and any other field) types as usual
        if (event.text() and event.text() in _TENDER_TEXT) or event.key() == Qt.Key.Key_Backspace:
            # Digits go to the tender field from anywhere on the screen, as typed there.
            if not tender.isEnabled() or tender.isReadOnly():
                return True
            tender.setFocus(Qt.FocusReason.ShortcutFocusReason)
            QApplication.sendEvent(tender, QKeyEvent(event.type(), event.key(),
                                                     event.modifiers(), event.text()))
            return True
        if event.key() in _ENTER and not _activates(focus):
            self._panel.on_charge_button_clicked()
            return True
        return False


def _activates(widget: QWidget) -> bool:
    """Enter means something of its own here: choose an event in the list, press a button
    of the header or a banner (Retry, Abandon, New sale)."""
    if isinstance(widget, QListView):
        return True
    return isinstance(widget, QAbstractButton) and not isinstance(widget, TicketTile)
