"""Printer settings: saved as JSON in the terminal's home, read back the same, and a broken
file refused with a message that names it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pos_app.client import TerminalPaths
from pos_app.gui.printing.printer_config import (
    DEFAULT_THERMAL_PROFILE,
    THERMAL_PROFILES,
    PrinterReadiness,
    PrinterSettings,
    PrinterSettingsError,
    Readiness,
    load_printer_settings,
    paper_dots,
    printer_settings_path,
    save_printer_settings,
)

THERMAL = PrinterSettings(destination="thermal", thermal_url="tcp://192.168.1.50:9100",
                          thermal_profile="POS-5890", paper_width_mm=58,
                          separate_tickets=False, kick_drawer=False)


@pytest.mark.parametrize("settings", [
    PrinterSettings(),
    PrinterSettings(destination="system", system_printer="Star_TSP143"),
    PrinterSettings(destination="pdf"),
    THERMAL,
])
def test_saved_settings_read_back_the_same(tmp_path: Path, settings: PrinterSettings) -> None:
    path = tmp_path / "printer.json"

    save_printer_settings(path, settings)

    assert load_printer_settings(path) == settings
    assert [p.name for p in tmp_path.iterdir()] == ["printer.json"]  # no temporary left


def test_the_file_is_plain_json_a_person_can_read(tmp_path: Path) -> None:
    path = tmp_path / "printer.json"
    save_printer_settings(path, THERMAL)

    assert json.loads(path.read_text(encoding="utf-8")) == {
        "destination": "thermal", "system_printer": None,
        "thermal_url": "tcp://192.168.1.50:9100", "thermal_profile": "POS-5890",
        "paper_width_mm": 58, "separate_tickets": False, "kick_drawer": False}


def test_saving_again_replaces_the_settings(tmp_path: Path) -> None:
    path = tmp_path / "printer.json"
    save_printer_settings(path, THERMAL)
    save_printer_settings(path, PrinterSettings(destination="pdf"))

    assert load_printer_settings(path).destination == "pdf"


def test_without_a_file_the_defaults_print_on_the_system_default_printer(
        tmp_path: Path) -> None:
    settings = load_printer_settings(tmp_path / "printer.json")

    assert settings == PrinterSettings()
    assert settings.destination == "system"
    assert settings.system_printer is None
    assert settings.kick_drawer is True


def test_missing_keys_take_defaults_and_unknown_keys_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "printer.json"
    path.write_text('{"destination": "pdf", "added_in_a_later_version": 3}', encoding="utf-8")

    assert load_printer_settings(path) == PrinterSettings(destination="pdf")


def test_a_file_that_is_not_json_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "printer.json"
    path.write_text('{"destination": "thermal",', encoding="utf-8")

    with pytest.raises(PrinterSettingsError, match=r"printer\.json is not valid JSON"):
        load_printer_settings(path)


@pytest.mark.parametrize(("document", "words"), [
    ("[]", "JSON object"),
    ('{"destination": "fax"}', "unknown printer destination 'fax'"),
    ('{"paper_width_mm": 57}', "57"),
    ('{"paper_width_mm": "80"}', "'paper_width_mm' must be a int"),
    ('{"paper_width_mm": true}', "'paper_width_mm' must be a int"),
    ('{"kick_drawer": "yes"}', "'kick_drawer' must be a bool"),
    ('{"system_printer": 7}', "'system_printer' must be a name or null"),
    ('{"destination": "thermal"}', "needs its address"),
    ('{"destination": "thermal", "thermal_url": "   "}', "needs its address"),
])
def test_a_bad_value_is_refused_with_the_setting_named(tmp_path: Path, document: str,
                                                       words: str) -> None:
    path = tmp_path / "printer.json"
    path.write_text(document, encoding="utf-8")

    with pytest.raises(PrinterSettingsError, match=words) as caught:
        load_printer_settings(path)
    assert str(path) in str(caught.value)


def test_the_settings_live_in_the_terminal_home(tmp_path: Path) -> None:
    paths = TerminalPaths.under(tmp_path / "home")

    assert printer_settings_path(paths) == paths.home / "printer.json"
    assert printer_settings_path(paths).parent == paths.config_file.parent


def test_paths_without_a_home_keep_the_settings_beside_the_receipts_folder(
        tmp_path: Path) -> None:
    class ReceiptsOnly:
        receipts_dir = tmp_path / "receipts"

    assert printer_settings_path(ReceiptsOnly()) == tmp_path / "printer.json"


def test_a_roll_is_printed_at_203_dpi_across_its_printable_width() -> None:
    assert paper_dots(80) == 576
    assert paper_dots(58) == 384
    with pytest.raises(ValueError, match="57 mm"):
        paper_dots(57)


def test_only_a_printer_that_would_not_print_needs_the_cashiers_attention() -> None:
    attention = {state for state in Readiness
                 if PrinterReadiness(state, "").needs_attention}

    assert attention == {Readiness.OFFLINE, Readiness.PAPER_OUT, Readiness.COVER_OPEN}


def test_every_offered_printer_model_is_a_python_escpos_profile_that_prints_a_sale() -> None:
    from pos_app.receipts.thermal import DEFAULT_PROFILE, sale_commands
    from tests.unit.receipts.samples import sale

    assert DEFAULT_THERMAL_PROFILE == DEFAULT_PROFILE
    assert DEFAULT_THERMAL_PROFILE in dict(THERMAL_PROFILES)
    for profile, label in THERMAL_PROFILES:
        assert label and b"Sale #000042" in sale_commands(sale(), profile=profile), profile


def test_reading_the_settings_needs_neither_qt_nor_the_receipt_renderer() -> None:
    code = ("import sys, pos_app.gui.printing.printer_config as c; "
            "print(sorted(m for m in ('PySide6', 'reportlab', 'escpos', 'httpx') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60)

    assert result.stdout.strip() == "[]"
