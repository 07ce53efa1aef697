"""The manager's page in the POS window against the real server: only a manager sees
"Manage" (Ctrl+D); its tabs are built on first show (dashboard, audit log, shifts); a shift's
report prints from the Shifts tab; the capacity tools open from the page; Esc goes back.

Refreshes ``docs/screenshots/manager-shifts.png``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from pos_app.gui.printing.printer_config import PrinterSettings
from pos_app.gui.shell.main_window import MainWindow
from pos_app.journal import EntryState, Register
from tests.gui.helpers import sign_in
from tests.support.live_server import LiveServer

pytestmark = pytest.mark.slow

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def test_a_cashier_has_no_manage_button(qtbot: QtBot, real_window: MainWindow) -> None:
    win = real_window
    sign_in(qtbot, win, "alex", "1234")
    assert win.manage_button is not None and not win.manage_button.isVisible()
    win.activateWindow()
    qtbot.keyClick(win.sell.focusWidget() or win.sell, Qt.Key.Key_D,
                   Qt.KeyboardModifier.ControlModifier)
    assert win.stack.currentWidget() is win.sell and win.manager_page is None


def test_a_manager_opens_the_page_prints_a_shift_report_and_goes_back(
        qtbot: QtBot, real_window: MainWindow, register: Register,
        live_server: LiveServer) -> None:
    win = real_window
    win.printer.apply(PrinterSettings(destination="pdf"))
    live_server.small_event(capacity=5)
    sign_in(qtbot, win, "morgan", "2468")
    assert win.manage_button is not None and win.manage_button.isVisible()
    # Everything in the header, Manage included, still fits a 1280-pixel screen.
    assert win.minimumSizeHint().width() <= 1280

    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow, timeout=5_000)
    qtbot.keyClick(win.sell.focusWidget() or win.sell, Qt.Key.Key_D,
                   Qt.KeyboardModifier.ControlModifier)
    page = win.manager_page
    assert page is not None and win.stack.currentWidget() is page
    dashboard = page.tab(0)
    qtbot.waitUntil(lambda: dashboard.model.rowCount() > 0,  # type: ignore[attr-defined]
                    timeout=20_000)

    # The audit log's filters and list fit the same screen.
    page.tabs.setCurrentIndex(1)
    audit = page.tab(1)
    qtbot.waitUntil(lambda: audit.model.rowCount() > 0, timeout=20_000)  # type: ignore[attr-defined]
    assert win.minimumSizeHint().width() <= 1280

    # A shift opened and closed by this manager, then its Z-report from the Shifts tab.
    opened = register.open_shift(10_000)
    assert opened.state is EntryState.CONFIRMED and opened.shift is not None
    shift_id = opened.shift.id
    assert register.close_shift(shift_id, 10_000).state is EntryState.CONFIRMED
    page.tabs.setCurrentIndex(2)
    shifts = page.tab(2)
    qtbot.waitUntil(lambda: shifts.model.rowCount() > 0, timeout=20_000)  # type: ignore[attr-defined]
    assert shifts.selected_shift().id == shift_id  # type: ignore[attr-defined]
    win.resize(1280, 800)
    win.grab().save(str(SCREENSHOTS / "manager-shifts.png"))
    qtbot.mouseClick(shifts.report_button, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]
    job = page.report_job
    assert job is not None
    with qtbot.waitSignal(job.delivered, timeout=20_000) as delivered:  # type: ignore[attr-defined]
        pass
    assert delivered.args[0].path.name == f"z-report-shift-{shift_id}.pdf"

    # Bulk capacity opens over the page with every event's ticket types.
    qtbot.mouseClick(page.bulk_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: page.dialog is not None and page.dialog.isVisible(),
                    timeout=20_000)
    dialog = page.dialog
    assert dialog is not None
    dialog.close()
    qtbot.waitUntil(lambda: page.dialog is None, timeout=5_000)

    # Capacity... without a selected ticket type says what to do.
    dashboard.table.clearSelection()  # type: ignore[attr-defined]
    qtbot.mouseClick(page.capacity_button, Qt.MouseButton.LeftButton)
    assert "Select a ticket type" in page.message_label.text()

    page.back_button.click()
    assert win.stack.currentWidget() is win.sell
