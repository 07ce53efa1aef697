"""Small widget helpers shared by the screens."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent
from PySide6.QtWidgets import QWidget

__all__ = ["announce", "named", "restyle"]

W = TypeVar("W", bound=QWidget)


def named(widget: W, object_name: str) -> W:
    """``widget`` with its ``objectName`` set (the stylesheet's ``#id`` selector)."""
    widget.setObjectName(object_name)
    return widget


def restyle(widget: QWidget) -> None:
    """Re-apply the stylesheet after a dynamic property used by a selector changed."""
    widget.style().unpolish(widget)
    widget.style().polish(widget)


def announce(widget: QWidget, text: str) -> None:
    """Have a screen reader say ``text`` now (a polite announcement from ``widget``: sale and
    payment state changes); also kept as ``widget``'s ``lastAnnouncement`` property for tests.
    Nothing happens without an assistive technology listening."""
    widget.setProperty("lastAnnouncement", text)
    if QAccessible.isActive():
        QAccessible.updateAccessibility(QAccessibleAnnouncementEvent(widget, text))
