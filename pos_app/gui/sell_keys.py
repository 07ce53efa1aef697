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
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractButton, QApplication, QLineEdit, QListView, QWidget

if TYPE_CHECKING:
    from pos_app.gui.sell_screen import SellScreen

__all__ = ["FUNCTION_KEYS", "SellKeys", "tile_key_name"]

FUNCTION_KEYS = [getattr(Qt.Key, f"Key_F{n}") for n in range(1, 13)]
_TENDER_TEXT = set("0123456789.,")
_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


def tile_key_name(position: int) -> str | None:
    """The key shown on the tile at ``position`` (0-based): ``"F1"`` .. ``"F12"``, else None."""
    return f"F{position + 1}" if 0 <= position < len(FUNCTION_KEYS) else None


class SellKeys(QObject):
    """Installs the key map above on ``screen`` (shortcuts live while the focus is inside it)
    and routes digits and Enter typed outside the tender field to it."""

    def __init__(self, screen: SellScreen) -> None:
        super().__init__(screen)
        self._screen = screen
        context = Qt.ShortcutContext.WidgetWithChildrenShortcut
        self.shortcuts: list[QShortcut] = []
        for position, key in enumerate(FUNCTION_KEYS):
            self._bind(QKeySequence(key), context,
                       lambda p=position: screen.add_tile_at(p))
        for key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._bind(QKeySequence(Qt.KeyboardModifier.ControlModifier | key), context,
                       screen.panel.on_exact_button_clicked)
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

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        screen = self._screen
        focus = QApplication.focusWidget()
        if (watched is not focus or focus is None or not screen.isVisible()
                or not screen.isAncestorOf(focus)):
            return False
        tender = screen.panel.tendered_edit
        modifiers = event.modifiers() & ~(Qt.KeyboardModifier.KeypadModifier
                                          | Qt.KeyboardModifier.ShiftModifier)
        if modifiers != Qt.KeyboardModifier.NoModifier:
            return False
        # + and - change the basket even from the tender field (an amount has no sign); as
        # keys, not shortcuts, because a line edit claims printable keys before shortcuts.
        if event.text() == "+":
            screen.panel.on_plus_button_clicked()
            return True
        if event.text() == "-":
            screen.panel.on_minus_button_clicked()
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
            screen.panel.on_charge_button_clicked()
            return True
        return False


def _activates(widget: QWidget) -> bool:
    """Enter means something of its own here: choose an event in the list, press a button
    of the header or a banner (Retry, Abandon, New sale)."""
    if isinstance(widget, QListView):
        return True
    from pos_app.gui.ticket_tiles import TicketTile

    return isinstance(widget, QAbstractButton) and not isinstance(widget, TicketTile)
