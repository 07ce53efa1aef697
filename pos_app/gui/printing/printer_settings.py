"""The printer settings dialog: where receipts print, checked and saved without blocking.

Destination (one group: Tab reaches the chosen one, the arrow keys move within the group,
Space picks; or Alt+S system printer, Alt+T thermal printer, Alt+D PDF only), then what that
destination needs: the system printer and paper width, or the thermal printer's address,
model, paper width and cash drawer. "Check status" and "Test print" try the settings as they
stand in the form, before saving. Enter saves, Esc closes without saving.

Nothing here waits on a printer or the disk: the printer list, checks, test pages and the
save run on the :class:`~pos_app.gui.core.task_runner.TaskRunner`; the dialog only shows results.
The fields themselves are made in :mod:`pos_app.gui.printing.printer_form`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from pos_app.gui.core.task_runner import TaskRunner
from pos_app.gui.core.widgets import named, restyle
from pos_app.gui.printing.printer_config import (
    Destination,
    PrinterReadiness,
    PrinterSettings,
    PrinterSettingsError,
    save_printer_settings,
)
from pos_app.gui.printing.printer_form import (
    DIALOG_STYLE,
    LEVELS,
    build_form,
    fill_system_printers,
    system_printers,
)
from pos_app.gui.printing.printer_status import short_text
from pos_app.gui.printing.printing import ReceiptPrinter

__all__ = ["PrinterSettingsDialog"]


class PrinterSettingsDialog(QDialog):
    """Choose and try this terminal's receipt printer; Save writes ``settings_file`` on a
    worker, then hands the settings to ``printer`` (:meth:`ReceiptPrinter.apply`).

    Args:
        printer: the window's receipt printer; its settings fill the form.
        runner: runs the printer list, checks, test prints and the save.
        settings_file: where the settings are saved (``printer.json``).
        receipts_dir: the receipts folder, named in the text (``None``: not named).

    Signals:
        settings_saved(object): the settings were written and applied
            (:class:`~pos_app.gui.printing.printer_config.PrinterSettings`); the dialog then closes.
    """

    settings_saved = Signal(object)

    def __init__(self, printer: ReceiptPrinter, runner: TaskRunner, settings_file: Path,
                 parent: QWidget | None = None, *, receipts_dir: Path | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("printerSettingsDialog")
        self.setWindowTitle("Printer settings")
        self.setModal(True)
        self.setStyleSheet(DIALOG_STYLE)
        self.setMinimumWidth(600)
        self._printer = printer
        self._runner = runner
        self._settings_file = settings_file
        self._saving: PrinterSettings | None = None
        self._printers_listed = False
        self.busy = False
        current = printer.settings

        title = named(QLabel("Receipt printer"), "panelTitle")
        folder = f" in {receipts_dir}" if receipts_dir is not None else ""
        text = named(QLabel(f"Where this terminal prints receipts, tickets and hold slips. "
                            f"Every one is also saved as a PDF{folder}."), "sectionSubtitle")
        text.setWordWrap(True)

        form = build_form(current)
        self.system_choice = form.system_choice
        self.thermal_choice = form.thermal_choice
        self.pdf_choice = form.pdf_choice
        self.destinations = QButtonGroup(self)
        for choice in (self.system_choice, self.thermal_choice, self.pdf_choice):
            self.destinations.addButton(choice)
        self.system_combo = form.system_combo
        self.url_edit = form.url_edit
        self.url_edit.textEdited.connect(self._clear_result)
        self.profile_combo = form.profile_combo
        self.drawer_check = form.drawer_check
        self.pages = form.pages
        self.paper_combo = form.paper_combo
        self.paper_caption = form.paper_caption
        self.tickets_check = form.tickets_check

        self.status_button = named(QPushButton("Check status"), "secondaryButton")
        self.status_button.setAccessibleName("Check the printer's status")
        self.test_button = named(QPushButton("Test print"), "secondaryButton")
        self.test_button.setAccessibleName("Print a test page")
        self.result_label = named(QLabel(), "checkResult")
        self.result_label.setWordWrap(True)
        self.result_label.setAccessibleName("Printer check result")
        self.result_label.hide()
        tries = QHBoxLayout()
        tries.setSpacing(10)
        tries.addWidget(self.status_button)
        tries.addWidget(self.test_button)
        tries.addStretch(1)

        self.hint_label = named(QLabel("Enter saves · Esc closes without saving"), "hintLabel")
        self.hint_label.setWordWrap(True)
        self.hint_label.setAccessibleName("Message")
        self.save_button = named(QPushButton("Save"), "primaryButton")
        self.save_button.setAccessibleName("Save the printer settings")
        self.save_button.setDefault(True)
        self.cancel_button = named(QPushButton("Cancel"), "secondaryButton")
        self.cancel_button.setAccessibleName("Cancel")
        for push in (self.save_button, self.cancel_button):
            push.setMinimumWidth(120)
        buttons = QHBoxLayout()
        buttons.setSpacing(12)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.save_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(28, 24, 28, 24)
        layout.setSpacing(14)
        layout.addWidget(title)
        layout.addWidget(text)
        layout.addWidget(named(QLabel("PRINT TO"), "settingsHeading"))
        layout.addLayout(form.choices)
        layout.addWidget(form.box)
        layout.addLayout(tries)
        layout.addWidget(self.result_label)
        layout.addWidget(self.hint_label)
        layout.addLayout(buttons)

        for first, second in ((self.system_choice, self.thermal_choice),
                              (self.thermal_choice, self.pdf_choice),
                              (self.pdf_choice, self.system_combo),
                              (self.system_combo, self.url_edit),
                              (self.url_edit, self.profile_combo),
                              (self.profile_combo, self.drawer_check),
                              (self.drawer_check, self.paper_combo),
                              (self.paper_combo, self.tickets_check),
                              (self.tickets_check, self.status_button),
                              (self.status_button, self.test_button),
                              (self.test_button, self.cancel_button),
                              (self.cancel_button, self.save_button)):
            self.setTabOrder(first, second)

        self.destinations.buttonToggled.connect(self.on_destinations_button_toggled)
        self.status_button.clicked.connect(self.check_status)
        self.test_button.clicked.connect(self.print_test_page)
        self.save_button.clicked.connect(self.save)
        self.cancel_button.clicked.connect(self.reject)
        chosen = {"system": self.system_choice, "thermal": self.thermal_choice,
                  "pdf": self.pdf_choice}[current.destination]
        chosen.setChecked(True)
        self._show_destination()
        self._wanted_system_printer = current.system_printer
        self._run(system_printers, self.on_printers_task_finished, self.on_printers_task_failed)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        # The keyboard starts on the destination in force.
        checked = self.destinations.checkedButton()
        if checked is not None:
            checked.setFocus(Qt.FocusReason.ActiveWindowFocusReason)

    # --- the form ------------------------------------------------------------------------------

    @property
    def destination(self) -> Destination:
        """The destination chosen in the form."""
        if self.thermal_choice.isChecked():
            return "thermal"
        return "pdf" if self.pdf_choice.isChecked() else "system"

    def on_destinations_button_toggled(self, _button: QPushButton, checked: bool) -> None:
        if checked:
            self._show_destination()
            self._clear_result()

    def _show_destination(self) -> None:
        destination = self.destination
        shown = ("system", "thermal", "pdf").index(destination)
        self.pages.setCurrentIndex(shown)
        # The box is as tall as the page shown, not as the tallest page.
        for index in range(self.pages.count()):
            page = self.pages.widget(index)
            policy = (QSizePolicy.Policy.Preferred if index == shown
                      else QSizePolicy.Policy.Ignored)
            if page is not None:
                page.setSizePolicy(policy, policy)
        self.pages.updateGeometry()
        if self.isVisible():  # fit the new page once the layout has taken it in
            QTimer.singleShot(0, self.adjustSize)
        printing = destination != "pdf"
        self.paper_combo.setVisible(printing)  # PDFs keep their own size
        self.paper_caption.setVisible(printing)
        self.status_button.setEnabled(printing and not self.busy)
        self.test_button.setEnabled(printing and not self.busy)

    def form_settings(self) -> PrinterSettings:
        """The settings as they stand in the form.

        Raises:
            ValueError: the thermal printer's address is missing or not one (the message
                says why, with the forms accepted).
        """
        destination = self.destination
        url = self.url_edit.text().strip()
        if destination == "thermal":
            from pos_app.receipts import parse_printer_url

            url = str(parse_printer_url(url))  # raises ValueError with the reason
        # Until the list arrives, keep the printer chosen before rather than the default.
        system = (self.system_combo.currentData() if self._printers_listed
                  else self._wanted_system_printer)
        try:
            return PrinterSettings(
                destination=destination,
                system_printer=system if isinstance(system, str) else None,
                thermal_url=url,
                thermal_profile=str(self.profile_combo.currentData()),
                paper_width_mm=int(self.paper_combo.currentData()),
                separate_tickets=self.tickets_check.isChecked(),
                kick_drawer=self.drawer_check.isChecked())
        except PrinterSettingsError as error:  # a URL that parse_printer_url did not see
            raise ValueError(str(error)) from None

    def _checked_settings(self) -> PrinterSettings | None:
        """:meth:`form_settings`, or ``None`` with the reason shown and the address field
        focused."""
        try:
            return self.form_settings()
        except ValueError as error:
            reason = str(error)
            self.show_hint(f"{reason[:1].upper()}{reason[1:]}. Use an address like "
                           f"tcp://192.168.1.50:9100, usb://04b8:0202 or "
                           f"serial:///dev/ttyUSB0.", warning=True)
            self.url_edit.setFocus(Qt.FocusReason.OtherFocusReason)
            self.url_edit.selectAll()
            return None

    # --- printers found ------------------------------------------------------------------------

    def on_printers_task_finished(self, found: tuple[list[str], str]) -> None:
        names, default = found
        self._printers_listed = True
        fill_system_printers(self.system_combo, names, default, self._wanted_system_printer)

    def on_printers_task_failed(self, exc: BaseException) -> None:
        self.system_combo.setItemText(0, "Default printer")
        self.show_hint(f"Could not list the printers: {exc}", warning=True)

    # --- check, test, save ---------------------------------------------------------------------

    def check_status(self) -> None:
        """Ask the printer in the form whether it is ready (on a worker)."""
        settings = self._checked_settings()
        if settings is None:
            return
        self._set_busy(True, "Asking the printer…")
        self._run(ReceiptPrinter(settings=settings).readiness, self.on_status_task_finished,
                  self.on_try_task_failed)

    def on_status_task_finished(self, readiness: PrinterReadiness) -> None:
        self._set_busy(False)
        self.show_result(f"{short_text(readiness)}: {readiness.message}",
                         LEVELS[readiness.state.value])

    def print_test_page(self) -> None:
        """Print a test page on the printer in the form (on a worker)."""
        settings = self._checked_settings()
        if settings is None:
            return
        self._set_busy(True, "Printing a test page…")
        self._run(ReceiptPrinter(settings=settings).print_test_page,
                  self.on_test_task_finished, self.on_try_task_failed)

    def on_test_task_finished(self, sentence: str) -> None:
        self._set_busy(False)
        self.show_result(sentence, "info" if sentence.startswith("No printer") else "ok")

    def on_try_task_failed(self, exc: BaseException) -> None:
        self._set_busy(False)
        self.show_result(f"Did not print: {exc}", "error")

    def save(self) -> None:
        """Write the form's settings on a worker; on success apply them, emit
        ``settings_saved`` and close. A bad address is refused here, nothing written."""
        if self.busy:
            return
        settings = self._checked_settings()
        if settings is None:
            return
        self._saving = settings
        self._set_busy(True, "Saving…")
        self._run(save_printer_settings, self.on_save_task_finished, self.on_save_task_failed,
                  self._settings_file, settings)

    def on_save_task_finished(self, _result: object) -> None:
        saved, self._saving = self._saving, None
        self._set_busy(False)
        assert saved is not None
        self._printer.apply(saved)
        self.settings_saved.emit(saved)
        self.accept()

    def on_save_task_failed(self, exc: BaseException) -> None:
        self._saving = None
        self._set_busy(False)
        self.show_hint(f"The settings were not saved: {exc}", warning=True)

    # --- helpers -------------------------------------------------------------------------------

    def _run(self, fn: Callable[..., Any], done: Callable[[Any], None],
             failed: Callable[[Any], None], *args: Any) -> None:
        task = self._runner.read(fn, *args)
        task.finished.connect(done)
        task.failed.connect(failed)

    def _set_busy(self, busy: bool, text: str = "") -> None:
        self.busy = busy
        for push in (self.save_button, self.status_button, self.test_button):
            push.setEnabled(not busy)
        self.url_edit.setReadOnly(busy)
        if busy:
            self.show_hint(text)
        else:
            self.show_hint("Enter saves · Esc closes without saving")
            self._show_destination()

    def show_hint(self, text: str, *, warning: bool = False) -> None:
        """Show ``text`` beside the buttons (red when ``warning``)."""
        self.hint_label.setProperty("warning", warning)
        restyle(self.hint_label)
        self.hint_label.setText(text)
        self.hint_label.setAccessibleDescription(text)

    def show_result(self, text: str, level: str) -> None:
        """Show a check's or test print's outcome in the coloured result box."""
        self.result_label.setText(text)
        self.result_label.setAccessibleDescription(text)
        self.result_label.setProperty("level", level)
        restyle(self.result_label)
        self.result_label.show()

    def _clear_result(self, *_args: object) -> None:
        self.result_label.hide()
        if self.hint_label.property("warning"):
            self.show_hint("Enter saves · Esc closes without saving")

    def reject(self) -> None:
        # Never while the settings are being written; a check or test print may be left
        # to finish on its own.
        if self._saving is None:
            super().reject()
