"""This terminal's receipt printer settings, kept as JSON beside ``config.json``, and what a
printer readiness check found.

Pure data and file handling (no Qt, no printer library): :class:`PrinterSettings`, read by
:func:`load_printer_settings` at start-up (before the window shows) and written by
:func:`save_printer_settings` on a worker when the cashier saves the settings dialog;
:class:`PrinterReadiness`, what ``ReceiptPrinter.readiness()`` returns.

The file, ``printer.json`` in the terminal's home folder::

    {"destination": "thermal", "thermal_url": "tcp://192.168.1.50:9100",
     "thermal_profile": "TM-T20II", "paper_width_mm": 80, "separate_tickets": true,
     "kick_drawer": true, "system_printer": null}

Every key may be left out (its default is used); an unknown key is ignored, so an older
terminal reads a newer file.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, Protocol, cast, get_args

from pos_app.files import atomic_write

__all__ = [
    "DEFAULT_THERMAL_PROFILE",
    "DOTS_PER_MM",
    "PAPER_WIDTHS_MM",
    "SETTINGS_FILE_NAME",
    "THERMAL_PROFILES",
    "Destination",
    "PrinterReadiness",
    "PrinterSettings",
    "PrinterSettingsError",
    "Readiness",
    "destination_of",
    "load_printer_settings",
    "paper_dots",
    "printer_settings_path",
    "save_printer_settings",
]

Destination = Literal["system", "thermal", "pdf"]
"""``system``: a Qt/CUPS printer; ``thermal``: an ESC/POS printer by URL; ``pdf``: save only."""

SETTINGS_FILE_NAME = "printer.json"
PAPER_WIDTHS_MM = (80, 58)
"""Thermal roll widths offered: 80 mm (72 mm printable) and 58 mm (48 mm printable)."""
DOTS_PER_MM = 8
"""203 dpi print heads: 8 dots per millimetre."""
_PRINTABLE_DOTS = {80: 576, 58: 384}

DEFAULT_THERMAL_PROFILE = "TM-T20II"
"""python-escpos profile used when none is chosen; the same as
``pos_app.receipts.thermal.DEFAULT_PROFILE`` (a unit test keeps them equal). Not imported
from there: that module pulls in reportlab, which start-up must not pay for."""

THERMAL_PROFILES: tuple[tuple[str, str], ...] = (
    ("TM-T20II", "Epson TM-T20II / TM-T20III (80 mm)"),
    ("TM-T88V", "Epson TM-T88V / TM-T88VI (80 mm)"),
    ("TM-T88IV", "Epson TM-T88IV (80 mm)"),
    ("TM-L90", "Epson TM-L90 (80 mm)"),
    ("TSP600", "Star TSP600 series (80 mm)"),
    ("CT-S651", "Citizen CT-S651 (80 mm)"),
    ("RP-F10-80mm", "Seiko RP-F10 (80 mm)"),
    ("NT-80-V-UL", "Netum NT-80-V-UL (80 mm)"),
    ("RP-F10-58mm", "Seiko RP-F10 (58 mm)"),
    ("POS-5890", "POS-5890 series (58 mm)"),
    ("NT-5890K", "Netum NT-5890K (58 mm)"),
    ("ZJ-5870", "Zjiang ZJ-5870 (58 mm)"),
)
"""python-escpos printer profiles offered in the settings dialog, with a label for people
(a unit test checks python-escpos knows every one)."""


class PrinterSettingsError(ValueError):
    """The printer settings file is not valid JSON, or holds a value of the wrong kind."""


@dataclass(frozen=True, slots=True)
class PrinterSettings:
    """Where this terminal's receipts go.

    Attributes:
        destination: ``"system"``, ``"thermal"`` or ``"pdf"`` (see :data:`Destination`).
            Whatever the destination, every document is also saved as a PDF in the
            receipts folder.
        system_printer: the Qt/CUPS printer's name (``QPrinterInfo.availablePrinterNames()``);
            ``None`` means the system's default printer at the time of printing.
        thermal_url: the ESC/POS printer's address (``tcp://host:9100``, ``usb://VID:PID``,
            ``serial:///dev/ttyUSB0?baudrate=19200``; checked by
            ``pos_app.receipts.parse_printer_url`` when saved from the dialog).
        thermal_profile: the python-escpos printer profile (columns, code pages).
        paper_width_mm: roll width, 80 or 58 (:data:`PAPER_WIDTHS_MM`); decides the width of
            PDFs rasterised for a thermal printer (:func:`paper_dots`).
        separate_tickets: print each admission ticket on its own cut piece after a receipt
            that lists the codes; ``False`` prints the receipt alone with each ticket's QR
            code on it (the receipt admits). The PDF kept in the receipts folder is that
            receipt either way.
        kick_drawer: open the cash drawer wired to a thermal printer as a cash sale
            confirms. Only thermal printers have a drawer port; ignored otherwise.
    """

    destination: Destination = "system"
    system_printer: str | None = None
    thermal_url: str = ""
    thermal_profile: str = DEFAULT_THERMAL_PROFILE
    paper_width_mm: int = 80
    separate_tickets: bool = True
    kick_drawer: bool = True

    def __post_init__(self) -> None:
        if self.destination not in get_args(Destination):
            raise PrinterSettingsError(
                f"unknown printer destination {self.destination!r}: use system, thermal or pdf")
        if self.paper_width_mm not in PAPER_WIDTHS_MM:
            raise PrinterSettingsError(
                f"paper width {self.paper_width_mm!r} mm is not offered: use 80 or 58")
        if self.destination == "thermal" and not self.thermal_url.strip():
            raise PrinterSettingsError("a thermal printer needs its address")
        if not self.thermal_profile.strip():
            raise PrinterSettingsError("the thermal printer profile is empty")

    def to_json(self) -> dict[str, Any]:
        """The settings as a JSON object (the file's shape, module docstring)."""
        return asdict(self)

    @classmethod
    def from_json(cls, raw: object) -> PrinterSettings:
        """Settings from a JSON object; missing keys take their defaults, unknown keys are
        ignored.

        Raises:
            PrinterSettingsError: ``raw`` is not an object, or a value has the wrong type or
                is not one of the allowed values.
        """
        if not isinstance(raw, dict):
            raise PrinterSettingsError("printer settings must be a JSON object")
        defaults = cls()
        values: dict[str, Any] = {}
        for name, kind in (("destination", str), ("thermal_url", str),
                           ("thermal_profile", str), ("paper_width_mm", int),
                           ("separate_tickets", bool), ("kick_drawer", bool)):
            value = raw.get(name, getattr(defaults, name))
            # ``bool`` is an ``int`` in Python: a ``true`` paper width is still wrong.
            if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
                raise PrinterSettingsError(
                    f"printer setting {name!r} must be a {kind.__name__}, not {value!r}")
            values[name] = value
        system_printer = raw.get("system_printer")
        if system_printer is not None and not isinstance(system_printer, str):
            raise PrinterSettingsError(
                f"printer setting 'system_printer' must be a name or null, not "
                f"{system_printer!r}")
        values["system_printer"] = system_printer or None
        return cls(**values)


class Readiness(StrEnum):
    """Whether the configured printer can print now (see :class:`PrinterReadiness`)."""

    OK = "ok"
    PAPER_LOW = "paper_low"
    """Prints, but the roll is nearly used up."""
    UNKNOWN = "unknown"
    """Reached, but it does not report its status; a job will probably print."""
    NO_PRINTER = "no_printer"
    """PDF mode, or no system printer: receipts are saved as PDF only."""
    OFFLINE = "offline"
    """Unreachable, switched off, stopped, or in an error state."""
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"


@dataclass(frozen=True, slots=True)
class PrinterReadiness:
    """A readiness check's outcome (``ReceiptPrinter.readiness()``): ``state`` and
    ``message``, a sentence for the cashier ("Printer is out of paper")."""

    state: Readiness
    message: str

    @property
    def needs_attention(self) -> bool:
        """``True`` when a receipt printed now would not come out (offline, paper out,
        cover open): ask the cashier before charging."""
        return self.state in (Readiness.OFFLINE, Readiness.PAPER_OUT, Readiness.COVER_OPEN)


def paper_dots(paper_width_mm: int) -> int:
    """Printable width in dots of a ``paper_width_mm`` roll on a 203 dpi head: 576 for 80 mm
    (72 mm printable), 384 for 58 mm (48 mm printable).

    Raises:
        ValueError: a width that is not in :data:`PAPER_WIDTHS_MM`.
    """
    try:
        return _PRINTABLE_DOTS[paper_width_mm]
    except KeyError:
        raise ValueError(f"no printable width known for {paper_width_mm} mm paper") from None


class _TerminalFolders(Protocol):
    @property
    def receipts_dir(self) -> Path: ...


def printer_settings_path(paths: _TerminalFolders) -> Path:
    """Where a terminal keeps its printer settings: ``printer.json`` in its home folder
    (``paths.home`` of ``pos_app.client.TerminalPaths``; for paths without one, the folder
    holding the receipts folder, which is the home folder in the standard layout)."""
    home = getattr(paths, "home", None)
    folder = Path(home) if home is not None else Path(paths.receipts_dir).parent
    return folder / SETTINGS_FILE_NAME


def load_printer_settings(path: Path) -> PrinterSettings:
    """The settings saved in ``path``, or the defaults when there is no such file. Blocking
    (disk): call it at start-up or on a worker.

    Raises:
        PrinterSettingsError: the file is not valid JSON or holds a bad value.
        OSError: the file exists but cannot be read.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return PrinterSettings()
    try:
        raw = json.loads(text)
    except ValueError as error:
        raise PrinterSettingsError(f"{path} is not valid JSON ({error})") from None
    try:
        return PrinterSettings.from_json(raw)
    except PrinterSettingsError as error:
        raise PrinterSettingsError(f"{path}: {error}") from None


def save_printer_settings(path: Path, settings: PrinterSettings) -> None:
    """Write ``settings`` to ``path`` atomically (a crash leaves the old or the new file).
    Blocking (disk): call it on a worker.

    Raises:
        OSError: the folder cannot be written.
    """
    document = json.dumps(settings.to_json(), indent=2) + "\n"
    atomic_write(path, document.encode("utf-8"))


def destination_of(text: str) -> Destination:
    """``text`` as a :data:`Destination`.

    Raises:
        PrinterSettingsError: ``text`` is not one.
    """
    if text not in get_args(Destination):
        raise PrinterSettingsError(f"unknown printer destination {text!r}")
    return cast(Destination, text)
