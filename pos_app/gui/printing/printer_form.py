"""The fields of the printer settings dialog (:mod:`pos_app.gui.printing.printer_settings`): the
three destination buttons, each destination's own page of fields, the paper rows every printing
destination shares, and the dialog's stylesheet.

:func:`build_form` makes them, filled from the settings in force; the dialog lays them out,
wires them and reads them back. Nothing here blocks: the system printer list arrives later
from a worker (:func:`system_printers`) and goes in with :func:`fill_system_printers`.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtPrintSupport import QPrinterInfo
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from pos_app.gui.core.styles import style_sheet
from pos_app.gui.core.widgets import Combo, named
from pos_app.gui.printing.printer_config import PAPER_WIDTHS_MM, THERMAL_PROFILES, PrinterSettings

__all__ = ["DIALOG_STYLE", "LEVELS", "URL_HINT", "PrinterForm", "build_form",
           "fill_system_printers", "system_printers"]

URL_HINT = "tcp://192.168.1.50:9100  ·  usb://04b8:0202  ·  serial:///dev/ttyUSB0?baudrate=19200"
DIALOG_STYLE = style_sheet("printer_settings")
LEVELS = {"ok": "ok", "paper_low": "warning", "unknown": "info", "no_printer": "info",
          "offline": "error", "paper_out": "error", "cover_open": "error"}
"""The result box's colour level (``DIALOG_STYLE``) for each ``Readiness`` value."""


def system_printers() -> tuple[list[str], str]:
    """The system's printer names and its default printer's name (``""``: none). Blocking
    (CUPS): call it on a worker."""
    return QPrinterInfo.availablePrinterNames(), QPrinterInfo.defaultPrinterName()


@dataclass(frozen=True, slots=True)
class PrinterForm:
    """The settings form's widgets (see :func:`build_form`); ``pages`` shows one page per
    destination, in the order system, thermal, PDF."""

    system_choice: QPushButton
    thermal_choice: QPushButton
    pdf_choice: QPushButton
    choices: QHBoxLayout
    """The three destination buttons in a row."""
    system_combo: Combo
    url_edit: QLineEdit
    profile_combo: Combo
    drawer_check: QCheckBox
    pages: QStackedWidget
    paper_combo: Combo
    paper_caption: QLabel
    tickets_check: QCheckBox
    box: QFrame
    """The chosen destination's page above the paper rows every destination shares."""


def build_form(current: PrinterSettings) -> PrinterForm:
    """The form's widgets, filled from ``current``; the system printer list says "Looking
    for printers…" until :func:`fill_system_printers`. A thermal profile not offered (set
    by hand in the file) is added to the model list, so it is kept."""
    system_choice = _choice("&System printer", "System printer")
    thermal_choice = _choice("&Thermal printer", "Thermal receipt printer")
    pdf_choice = _choice("P&DF only", "PDF only, no printer")
    choices = QHBoxLayout()
    choices.setSpacing(10)
    for choice in (system_choice, thermal_choice, pdf_choice):
        choices.addWidget(choice, 1)

    # System printer page.
    system_combo = Combo()
    system_combo.setAccessibleName("System printer")
    system_combo.addItem("Looking for printers…", None)
    system_page = _page(("Printer", system_combo))
    # Thermal printer page.
    url_edit = QLineEdit(current.thermal_url)
    url_edit.setAccessibleName("Thermal printer address")
    url_edit.setAccessibleDescription(f"For example {URL_HINT}")
    url_edit.setPlaceholderText("tcp://192.168.1.50:9100")
    url_edit.setToolTip(URL_HINT)
    profile_combo = Combo()
    profile_combo.setAccessibleName("Thermal printer model")
    for profile, label in THERMAL_PROFILES:
        profile_combo.addItem(label, profile)
    if profile_combo.findData(current.thermal_profile) < 0:  # set by hand in the file
        profile_combo.addItem(current.thermal_profile, current.thermal_profile)
    profile_combo.setCurrentIndex(profile_combo.findData(current.thermal_profile))
    drawer_check = QCheckBox("Open the cash drawer as a cash sale confirms")
    drawer_check.setAccessibleName("Open the cash drawer on cash sales")
    drawer_check.setChecked(current.kick_drawer)
    thermal_page = _page(("Address", url_edit), ("Model", profile_combo), (None, drawer_check))
    # PDF page.
    pdf_text = named(QLabel("Nothing prints. Receipts, tickets and slips are saved as "
                            "PDF files for printing later or sending to the customer."),
                     "destinationText")
    pdf_text.setWordWrap(True)
    pdf_page = _page((None, pdf_text))
    pages = QStackedWidget()
    for page in (system_page, thermal_page, pdf_page):
        pages.addWidget(page)

    paper_combo = Combo()
    paper_combo.setAccessibleName("Paper width")
    for width in PAPER_WIDTHS_MM:
        paper_combo.addItem(f"{width} mm roll", width)
    paper_combo.setCurrentIndex(paper_combo.findData(current.paper_width_mm))
    tickets_check = QCheckBox("Print each admission ticket on its own piece")
    tickets_check.setAccessibleName("Print each admission ticket separately")
    tickets_check.setToolTip("Off: one receipt with every ticket's QR code on it")
    tickets_check.setChecked(current.separate_tickets)
    paper_caption = named(QLabel("Paper"), "fieldCaption")
    paper_caption.setBuddy(paper_combo)
    common = _grid()
    common.addWidget(paper_caption, 0, 0)
    common.addWidget(paper_combo, 0, 1)
    common.addWidget(tickets_check, 1, 1)
    # One box: the destination's own fields, then what every destination shares.
    box = named(QFrame(), "destinationBox")
    box_layout = QVBoxLayout(box)
    box_layout.setContentsMargins(18, 16, 18, 14)
    box_layout.setSpacing(10)
    box_layout.addWidget(pages)
    box_layout.addLayout(common)
    return PrinterForm(system_choice, thermal_choice, pdf_choice, choices, system_combo,
                       url_edit, profile_combo, drawer_check, pages, paper_combo,
                       paper_caption, tickets_check, box)


def fill_system_printers(combo: QComboBox, names: list[str], default: str,
                         wanted: str | None) -> None:
    """Offer the default printer (item data ``None``, its name in the text) then ``names``
    in ``combo``; select ``wanted`` (a printer name; ``None``: the default), added as
    "(not found)" when the system does not have it, so that saving keeps it."""
    combo.clear()
    combo.addItem(f"Default printer ({default})" if default
                  else "Default printer (none installed)", None)
    for name in names:
        combo.addItem(name, name)
    if wanted is not None and combo.findData(wanted) < 0:
        combo.addItem(f"{wanted} (not found)", wanted)
    combo.setCurrentIndex(max(0, combo.findData(wanted)) if wanted is not None else 0)


def _choice(text: str, accessible: str) -> QPushButton:
    choice = named(QPushButton(text), "destinationChoice")
    choice.setCheckable(True)
    choice.setAutoDefault(False)  # Space picks it; Enter still saves
    choice.setAccessibleName(accessible)
    return choice


def _grid(parent: QWidget | None = None) -> QGridLayout:
    """Caption and field columns, aligned across the pages and the shared rows."""
    grid = QGridLayout(parent)
    grid.setContentsMargins(0, 0, 0, 0)
    grid.setHorizontalSpacing(16)
    grid.setVerticalSpacing(10)
    grid.setColumnMinimumWidth(0, 84)
    grid.setColumnStretch(1, 1)
    return grid


def _page(*rows: tuple[str | None, QWidget]) -> QWidget:
    page = QWidget()
    grid = _grid(page)
    for row, (caption, field) in enumerate(rows):
        if caption is not None:
            label = named(QLabel(caption), "fieldCaption")
            label.setBuddy(field)
            grid.addWidget(label, row, 0)
        if caption is None and isinstance(field, QLabel):
            grid.addWidget(field, row, 0, 1, 2)  # a sentence, not a field
        else:
            grid.addWidget(field, row, 1)
    return page
