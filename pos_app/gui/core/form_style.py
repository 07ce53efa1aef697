"""What the capacity and refund dialogs share: the look of controls the window's stylesheet
does not cover (spin boxes, tabs, check boxes, before/after figures), captions tied to their
fields, the status line, and the sentence for a call that failed on the runner.

Used by :mod:`pos_app.gui.manager.capacity.capacity_dialog`,
:mod:`pos_app.gui.manager.capacity.bulk_capacity_dialog` and
:mod:`pos_app.gui.refunds.refund_dialog`.
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QLineEdit, QSpinBox, QWidget

from pos_app.gui.core.widgets import announce, named, restyle

__all__ = ["FORM_STYLE", "caption", "say", "spin_box"]

FORM_STYLE = """
QDialog { background: #eef1f5; color: #0f172a; font-size: 15px; }
QSpinBox {
    background: #ffffff; border: 2px solid #cbd5e1; border-radius: 10px;
    padding-left: 12px; min-height: 44px; font-size: 18px; min-width: 140px;
}
QSpinBox:focus { border-color: #2563eb; }
QSpinBox:disabled { background: #f1f5f9; color: #94a3b8; }
QSpinBox::up-button, QSpinBox::down-button { width: 28px; }
QCheckBox { font-size: 15px; spacing: 10px; min-height: 32px; }
QCheckBox::indicator { width: 22px; height: 22px; }
QTabWidget::pane { border: 1px solid #e2e8f0; border-radius: 12px; background: #ffffff;
                   top: -1px; }
QTabBar::tab {
    background: #e2e8f0; color: #334155; border: 1px solid #cbd5e1; border-bottom: none;
    border-top-left-radius: 10px; border-top-right-radius: 10px;
    padding: 10px 18px; min-height: 24px; font-weight: 700; margin-right: 4px;
}
QTabBar::tab:selected { background: #ffffff; color: #0f172a; }
QTabBar::tab:focus { color: #1d4ed8; }
QFrame#figuresCard, QFrame#approvalCard, QFrame#payBackCard {
    background: #ffffff; border: 1px solid #e2e8f0; border-radius: 12px;
}
QFrame#approvalCard { background: #fffbeb; border: 2px solid #fcd34d; }
QFrame#payBackCard { background: #ecfdf5; border: 2px solid #16a34a; }
QLabel#figureCaption { font-size: 12px; font-weight: 700; color: #64748b; }
QLabel#figureValue { font-size: 20px; font-weight: 800; color: #0f172a; }
QLabel#figureBefore { font-size: 18px; color: #475569; }
QLabel#figureArrow { font-size: 18px; color: #94a3b8; }
QLabel#figureAfter { font-size: 18px; font-weight: 800; color: #0f172a; }
QLabel#figureAfter[changed="true"] { color: #1d4ed8; }
QLabel#figureAfter[warning="true"] { color: #b91c1c; }
QLabel#payBackAmount { font-size: 40px; font-weight: 800; color: #14532d; }
QLabel#payBackCaption { font-size: 15px; font-weight: 700; color: #166534; }
QLabel#hintLabel[ok="true"] { color: #166534; font-weight: 700; }
QTableView {
    background: #ffffff; alternate-background-color: #f8fafc; border: 1px solid #e2e8f0;
    border-radius: 10px; font-size: 15px; selection-background-color: #dbeafe;
    selection-color: #0f172a; outline: none;
}
QTableView::indicator { width: 22px; height: 22px; }
QTableView QHeaderView::section {
    background: #f1f5f9; color: #475569; font-size: 12px; font-weight: 700; border: none;
    border-bottom: 1px solid #e2e8f0; padding: 8px 10px;
}
"""
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
