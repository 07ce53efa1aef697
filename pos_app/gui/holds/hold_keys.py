"""The hold desk's keyboard: find a hold and take payment without the mouse.

=========  ==================================================================================
Key        Does
=========  ==================================================================================
typing     search by hold code, customer name or phone (the server is asked as you type)
Down       from the search box into the table; Up on the first row goes back
Enter      take payment for the selected hold (in the search box: go to the first match)
Delete     release the selected hold (asks for a reason)
Ctrl+P     reprint the selected hold's slip
Ctrl+S     an expired hold: put its tickets in the basket to sell them now
Ctrl+1..5  filter: active, converted, released, expired, all
F5         refresh
Esc        in the search box: clear it
=========  ==================================================================================

A returning customer says "K7Q X2M": the cashier types it, presses Down and Enter, types the
cash and presses Enter again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent

if TYPE_CHECKING:
    from pos_app.gui.holds.hold_desk import HoldDesk

__all__ = ["HoldDeskKeys"]

_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
_COMMAND = (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
            | Qt.KeyboardModifier.MetaModifier)


class HoldDeskKeys(QObject):
    """Installs the key map above on ``desk``: filters the search box's and the table's key
    presses, and the desk's own (keys its children did not use reach it)."""

    def __init__(self, desk: HoldDesk) -> None:
        super().__init__(desk)
        self._desk = desk
        for watched in (desk.search_edit, desk.table, desk):
            watched.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        desk = self._desk
        if watched is desk.search_edit:
            return self._search_key(event)
        if watched is desk.table:
            return self._table_key(event)
        if watched is desk:
            return self._desk_key(event)
        return False

    def _search_key(self, event: QKeyEvent) -> bool:
        desk, key = self._desk, event.key()
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        if key == Qt.Key.Key_Down:
            desk.focus_table()
            return True
        if key == Qt.Key.Key_Escape and desk.search_edit.text():
            desk.search_edit.clear()
            desk.refresh()
            return True
        return False

    def _table_key(self, event: QKeyEvent) -> bool:
        desk, key = self._desk, event.key()
        if event.modifiers() & _COMMAND:
            return False
        plain = not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if key in _ENTER and plain:
            desk.take_payment()
            return True
        if key == Qt.Key.Key_Delete and plain:
            desk.release_selected()
            return True
        if key == Qt.Key.Key_Up and plain and desk.table.currentIndex().row() <= 0:
            desk.search_edit.setFocus(Qt.FocusReason.OtherFocusReason)
            return True
        text = event.text()
        if text.isprintable() and text.strip():  # typing in the table searches
            desk.search_edit.setFocus(Qt.FocusReason.OtherFocusReason)
            desk.search_edit.insert(text)
            desk.on_search_edit_text_edited(desk.search_edit.text())
            return True
        return False

    def _desk_key(self, event: QKeyEvent) -> bool:
        from pos_app.gui.holds.hold_finder import FILTERS

        desk, key = self._desk, event.key()
        control = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if key == Qt.Key.Key_F5:
            desk.refresh()
        elif control and key == Qt.Key.Key_P:
            desk.reprint_slip()
        elif control and key == Qt.Key.Key_S:
            desk.sell_again()
        elif control and Qt.Key.Key_1 <= key < Qt.Key.Key_1 + len(FILTERS):
            desk.set_status_filter(FILTERS[key - Qt.Key.Key_1][0])
        else:
            return False
        return True
