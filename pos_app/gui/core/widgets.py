"""Small widget helpers shared by the screens."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import (
    QAccessible,
    QAccessibleAnnouncementEvent,
    QColor,
    QFontMetrics,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QComboBox, QWidget

__all__ = ["Combo", "announce", "named", "restyle", "two_lines"]

W = TypeVar("W", bound=QWidget)


def named(widget: W, object_name: str) -> W:
    """``widget`` with its ``objectName`` set (the stylesheet's ``#id`` selector)."""
    widget.setObjectName(object_name)
    return widget


def two_lines(metrics: QFontMetrics, text: str, width: int) -> list[str]:
    """``text`` on at most two lines of ``width`` pixels in ``metrics``' font, broken between
    words; only what does not fit on a line is elided with "…", never cut off (event and
    ticket type names are long: "6FB Methodologies Workshop - Dallas")."""
    if metrics.horizontalAdvance(text) <= width:
        return [text]
    words = text.split()
    first = words[0] if words else text
    for count in range(len(words), 0, -1):
        candidate = " ".join(words[:count])
        if metrics.horizontalAdvance(candidate) <= width:
            first = candidate
            break
    rest = text[len(first):].strip()
    if not rest:
        return [metrics.elidedText(text, Qt.TextElideMode.ElideRight, width)]
    return [metrics.elidedText(first, Qt.TextElideMode.ElideRight, width),
            metrics.elidedText(rest, Qt.TextElideMode.ElideRight, width)]


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


class Combo(QComboBox):
    """A combo box whose drop-down arrow is a chevron drawn here: the stylesheet gives the
    box its border, which leaves Qt no arrow to draw, and no image file is shipped for one."""

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        pen = QPen(QColor("#475569" if self.isEnabled() else "#94a3b8"), 2)
        pen.setCapStyle(Qt.PenCapStyle.RoundCap)
        pen.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        painter.setPen(pen)
        x, y = self.width() - 22, self.height() // 2
        painter.drawPolyline([QPointF(x - 5, y - 2.5), QPointF(x, y + 2.5),
                              QPointF(x + 5, y - 2.5)])
        painter.end()
