"""What the capacity and refund dialogs share: the look of controls the window's stylesheet
does not cover (spin boxes, tabs, check boxes, before/after figures), captions tied to their
fields, the status line, and the sentence for a call that failed on the runner.

Used by :mod:`pos_app.gui.manager.capacity.capacity_dialog`,
:mod:`pos_app.gui.manager.capacity.bulk_capacity_dialog` and
:mod:`pos_app.gui.refunds.refund_dialog`.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QLineEdit, QSpinBox, QWidget

from pos_app.gui.core.styles import style_sheet
from pos_app.gui.core.widgets import announce, named, restyle

__all__ = ["FORM_STYLE", "caption", "say", "spin_box"]

FORM_STYLE = style_sheet("forms")
"""Set on each dialog (``setStyleSheet``); the window's own stylesheet still applies."""


def caption(text: str, buddy: QWidget) -> QLabel:
    """A field caption (``&`` marks its Alt key) that moves the focus to ``buddy``."""
    label = named(QLabel(text), "fieldCaption")
    label.setBuddy(buddy)
    return label


def spin_box(low: int, high: int, name: str, *, suffix: str = "") -> QSpinBox:
    """A touch-sized spin box from ``low`` to ``high`` whose screen-reader name is ``name``
    (its inner line edit, which takes the focus, too)."""
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setSuffix(suffix)
    spin.setAccessibleName(name)
    inner = spin.findChild(QLineEdit)
    if inner is not None:
        inner.setAccessibleName(name)
    return spin


def say(label: QLabel, text: str, *, warning: bool = False, ok: bool = False) -> None:
    """Show ``text`` on the status ``label`` (red when ``warning``, green when ``ok``) and
    have a screen reader say it."""
    label.setProperty("warning", warning)
    label.setProperty("ok", ok and not warning)
    restyle(label)
    label.setText(text)
    label.setAccessibleDescription(text)
    if text:
        announce(label, text)
