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

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit, QTableView, QWidget

from pos_app.gui.holds.hold_finder import FILTERS

__all__ = ["HoldDeskKeys"]

_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)
_COMMAND = (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
            | Qt.KeyboardModifier.MetaModifier)


class HoldDeskKeys(QObject):
    """Installs the key map above on ``desk``: filters the key presses of its ``search_edit``
    and ``table``, and the desk's own (keys its children did not use reach it). What a key
    asks of the desk is said by a signal, which the desk connects.

    Signals:
        table_focus_requested(): Down in the search box.
        search_edited(str): typing in the table went to the search box (its new text).
        refresh_requested(): F5, or Esc clearing the search box.
        payment_requested(): Enter on the table.
        release_requested(): Delete on the table.
        reprint_requested(): Ctrl+P.
        sell_again_requested(): Ctrl+S.
        filter_chosen(object): Ctrl+1..5, the status filter (``str``, or ``None``: all).
    """

    table_focus_requested = Signal()
    search_edited = Signal(str)
    refresh_requested = Signal()
    payment_requested = Signal()
    release_requested = Signal()
    reprint_requested = Signal()
    sell_again_requested = Signal()
    filter_chosen = Signal(object)

    def __init__(self, desk: QWidget, search_edit: QLineEdit, table: QTableView) -> None:
        super().__init__(desk)
        self._desk = desk
        self._search_edit = search_edit
        self._table = table
        for watched in (search_edit, table, desk):
            watched.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        if watched is self._search_edit:
            return self._search_key(event)
        if watched is self._table:
            return self._table_key(event)
        if watched is self._desk:
            return self._desk_key(event)
        return False

    def _search_key(self, event: QKeyEvent) -> bool:
        search, key = self._search_edit, event.key()
        if event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        if key == Qt.Key.Key_Down:
            self.table_focus_requested.emit()
            return True
        if key == Qt.Key.Key_Escape and search.text():
            search.clear()
            self.refresh_requested.emit()
            return True
        return False

    def _table_key(self, event: QKeyEvent) -> bool:
        search, key = self._search_edit, event.key()
        if event.modifiers() & _COMMAND:
            return False
        plain = not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
        if key in _ENTER and plain:
            self.payment_requested.emit()
            return True
        if key == Qt.Key.Key_Delete and plain:
            self.release_requested.emit()
            return True
        if key == Qt.Key.Key_Up and plain and self._table.currentIndex().row() <= 0:
            search.setFocus(Qt.FocusReason.OtherFocusReason)
            return True
        text = event.text()
        if text.isprintable() and text.strip():  # typing in the table searches
            search.setFocus(Qt.FocusReason.OtherFocusReason)
            search.insert(text)
            self.search_edited.emit(search.text())
            return True
        return False

    def _desk_key(self, event: QKeyEvent) -> bool:
        key = event.key()
        control = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if key == Qt.Key.Key_F5:
            self.refresh_requested.emit()
        elif control and key == Qt.Key.Key_P:
            self.reprint_requested.emit()
        elif control and key == Qt.Key.Key_S:
            self.sell_again_requested.emit()
        elif control and Qt.Key.Key_1 <= key < Qt.Key.Key_1 + len(FILTERS):
            self.filter_chosen.emit(FILTERS[key - Qt.Key.Key_1][0])
        else:
            return False
        return True
