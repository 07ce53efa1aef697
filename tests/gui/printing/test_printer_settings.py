"""The printer settings dialog, opened from the header's printer status: chosen and saved from
the keyboard, read back when reopened, a bad address refused with nothing saved, the status
check and test print on a loopback ESC/POS printer.

Also refreshes ``docs/screenshots/printer-settings.png``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from pos_app.gui.core.task_runner import TaskRunner
from pos_app.gui.printing.printer_config import PrinterSettings, load_printer_settings
from pos_app.gui.printing.printer_settings import PrinterSettingsDialog
from pos_app.gui.printing.printing import ReceiptPrinter
from pos_app.gui.shell.main_window import MainWindow
from tests.gui.helpers import sign_in
from tests.unit.receipts.escpos_reader import read_job
from tests.unit.receipts.printer_server import LoopbackPrinter, closed_port
from tests.unit.receipts.test_thermal_printer import OFFLINE, PAPER_OUT

SCREENSHOTS = Path(__file__).resolve().parents[3] / "docs" / "screenshots"


def open_dialog(qtbot: QtBot, win: MainWindow) -> PrinterSettingsDialog:
    """Tab to the header's printer status and press Space: the printer settings."""
    status = win.printer_status
    status.setFocus(Qt.FocusReason.TabFocusReason)
    qtbot.keyClick(status, Qt.Key.Key_Space)
    dialog = win.printer_dialog
    assert dialog is not None
    qtbot.waitExposed(dialog)
    qtbot.waitUntil(lambda: dialog.system_combo.itemText(0) != "Looking for printers…")
    return dialog


def test_choosing_a_thermal_printer_by_keyboard_saves_it_and_reopening_shows_it(
        qtbot: QtBot, window: MainWindow, tmp_path: Path) -> None:
    sign_in(qtbot, window)
    settings_file = tmp_path / "printer.json"
    assert window.printer_settings_file == settings_file
    url = f"tcp://127.0.0.1:{closed_port()}"
    dialog = open_dialog(qtbot, window)
    assert dialog.system_choice.isChecked()  # no settings saved yet: the system printer

    assert dialog.focusWidget() is dialog.system_choice  # the destination in force
    qtbot.keyClick(dialog.system_choice, Qt.Key.Key_Right)  # one group: arrows move in it
    assert dialog.focusWidget() is dialog.thermal_choice
    qtbot.keyClick(dialog.thermal_choice, Qt.Key.Key_Space)
    assert dialog.destination == "thermal"
    assert dialog.pages.currentWidget().isAncestorOf(dialog.url_edit)
    qtbot.keyClicks(dialog.url_edit, url)
    with qtbot.waitSignal(dialog.settings_saved, timeout=10_000) as saved, \
            qtbot.waitSignal(window.printer_status.readiness_changed, timeout=10_000):
        qtbot.keyClick(dialog.url_edit, Qt.Key.Key_Return)

    expected = PrinterSettings(destination="thermal", thermal_url=url)
    assert saved.args[0] == expected
    assert load_printer_settings(settings_file) == expected
    assert window.printer.settings == expected
    assert window.printer_dialog is None  # closed
    # The header checked the new printer at once: nothing listens there.
    assert window.printer_status.text() == "Printer offline"
    assert window.printer.last_readiness is not None
    assert window.printer.last_readiness.needs_attention

    again = open_dialog(qtbot, window)
    assert again.thermal_choice.isChecked()
    assert again.url_edit.text() == url
    assert again.drawer_check.isChecked()
    qtbot.keyClick(again, Qt.Key.Key_Escape)
    assert window.printer_dialog is None


@pytest.mark.parametrize("typed", ["lpd://printer", "tcp://host:99999", ""])
def test_a_bad_address_is_refused_with_a_message_and_nothing_is_saved(
        qtbot: QtBot, window: MainWindow, tmp_path: Path, typed: str) -> None:
    sign_in(qtbot, window)
    before = window.printer.settings
    dialog = open_dialog(qtbot, window)
    qtbot.keyClick(dialog.thermal_choice, Qt.Key.Key_Space)
    qtbot.keyClicks(dialog.url_edit, typed)

    with qtbot.assertNotEmitted(dialog.settings_saved, wait=300):
        qtbot.keyClick(dialog.url_edit, Qt.Key.Key_Return)

    assert dialog.isVisible()
    assert dialog.hint_label.property("warning") is True
    assert "printer address" in dialog.hint_label.text()
    assert "tcp://192.168.1.50:9100" in dialog.hint_label.text()  # what to type instead
    assert dialog.focusWidget() is dialog.url_edit
    assert not (tmp_path / "printer.json").exists()
    assert window.printer.settings == before
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)


def test_check_status_shows_what_the_printer_in_the_form_says(qtbot: QtBot,
                                                              tmp_path: Path) -> None:
    runner = TaskRunner()
    printer = ReceiptPrinter(settings=PrinterSettings(destination="pdf"))
    dialog = PrinterSettingsDialog(printer, runner, tmp_path / "printer.json")
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.status_button.isEnabled()  # PDF only: nothing to ask
    with LoopbackPrinter({1: OFFLINE, 4: PAPER_OUT}) as server:
        qtbot.mouseClick(dialog.thermal_choice, Qt.MouseButton.LeftButton)
        qtbot.keyClicks(dialog.url_edit, server.url)
        qtbot.keyClick(dialog.status_button, Qt.Key.Key_Space)
        qtbot.waitUntil(lambda: dialog.result_label.isVisible(), timeout=10_000)
        assert runner.wait_idle()

    assert dialog.result_label.text() == "Out of paper: Printer is out of paper"
    assert dialog.result_label.property("level") == "error"
    assert printer.settings.destination == "pdf"  # only tried, not saved or applied
    assert not (tmp_path / "printer.json").exists()


def test_test_print_sends_a_test_page_to_the_printer_in_the_form(qtbot: QtBot,
                                                                 tmp_path: Path) -> None:
    runner = TaskRunner()
    dialog = PrinterSettingsDialog(ReceiptPrinter(), runner, tmp_path / "printer.json")
    qtbot.addWidget(dialog)
    dialog.show()
    with LoopbackPrinter() as server:
        qtbot.mouseClick(dialog.thermal_choice, Qt.MouseButton.LeftButton)
        qtbot.keyClicks(dialog.url_edit, server.url)
        qtbot.mouseClick(dialog.test_button, Qt.MouseButton.LeftButton)
        [received] = server.wait_for_jobs(1)
        qtbot.waitUntil(lambda: dialog.result_label.isVisible(), timeout=10_000)
        assert runner.wait_idle()

    job = read_job(received)
    assert "TEST PRINT" in job.text
    assert server.url in job.text
    assert len(job.named("GS V")) == 1
    assert dialog.result_label.text() == f"Printed on {server.url}"


def test_closing_the_dialog_during_a_check_leaves_the_check_to_finish_harmlessly(
        qtbot: QtBot, window: MainWindow) -> None:
    sign_in(qtbot, window)
    before = window.printer.settings
    with LoopbackPrinter() as server:  # connects, then never answers a status request
        dialog = open_dialog(qtbot, window)
        qtbot.mouseClick(dialog.thermal_choice, Qt.MouseButton.LeftButton)
        qtbot.keyClicks(dialog.url_edit, server.url)
        qtbot.mouseClick(dialog.status_button, Qt.MouseButton.LeftButton)
        assert dialog.busy and not dialog.save_button.isEnabled()
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # only a save keeps the dialog open
        assert window.printer_dialog is None
        assert window.runner.wait_idle()

    assert window.printer.settings == before


def test_without_system_printers_the_header_says_receipts_are_saved_as_pdf(
        qtbot: QtBot, window: MainWindow) -> None:
    from PySide6.QtPrintSupport import QPrinterInfo

    if QPrinterInfo.availablePrinterNames():
        pytest.skip("this machine has a printer")
    sign_in(qtbot, window)

    qtbot.waitUntil(lambda: window.printer_status.readiness is not None)
    assert window.printer_status.text() == "PDF receipts"
    assert window.printer_status.accessibleName() == "Printer: PDF receipts"
    dialog = open_dialog(qtbot, window)
    assert dialog.system_combo.itemText(0) == "Default printer (none installed)"
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)


def test_an_unreadable_settings_file_is_said_and_the_defaults_are_used(
        qtbot: QtBot, styled_app: object, tmp_path: Path) -> None:
    from pos_app.gui import create_main_window
    from tests.fakes import FakeRegister

    (tmp_path / "printer.json").write_text("{not json", encoding="utf-8")
    win = create_main_window(FakeRegister(tmp_path / "receipts"), runner=TaskRunner())
    qtbot.addWidget(win)

    assert win.printer.settings == PrinterSettings()
    assert "Printer settings not read" in win.statusBar().currentMessage()
    assert "printer.json is not valid JSON" in win.statusBar().currentMessage()
    win.runner.wait_idle()


def test_every_control_has_an_accessible_name_and_the_dialog_looks_right(
        qtbot: QtBot, styled_app: object, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QAbstractButton, QComboBox, QLineEdit

    settings_file = tmp_path / "printer.json"
    dialog = PrinterSettingsDialog(ReceiptPrinter(), TaskRunner(), settings_file,
                                   receipts_dir=Path("/var/lib/pos-app/receipts"))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.keyClick(dialog.system_choice, Qt.Key.Key_Right)
    qtbot.keyClick(dialog.thermal_choice, Qt.Key.Key_Space)
    qtbot.keyClicks(dialog.url_edit, "tcp://192.168.1.50:9100")
    dialog.profile_combo.setCurrentIndex(dialog.profile_combo.findData("TM-T88V"))

    controls = [w for w in dialog.findChildren(QAbstractButton)
                + dialog.findChildren(QComboBox) + dialog.findChildren(QLineEdit)
                if w.parent() is not None and not isinstance(w.parent(), QComboBox)]
    assert controls
    assert all(control.accessibleName() for control in controls), [
        type(c).__name__ for c in controls if not c.accessibleName()]
    assert dialog.form_settings() == PrinterSettings(
        destination="thermal", thermal_url="tcp://192.168.1.50:9100", thermal_profile="TM-T88V")
    dialog.url_edit.setFocus(Qt.FocusReason.OtherFocusReason)
    qtbot.wait(50)  # the dialog fits the thermal page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    assert dialog.grab().save(str(SCREENSHOTS / "printer-settings.png"))
    assert json.dumps(dialog.form_settings().to_json())  # still a plain JSON document
