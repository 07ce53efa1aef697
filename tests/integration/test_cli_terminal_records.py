"""The terminal's records from the command line (in-process): every receipt is kept in the
receipts folder, ``--print`` says when nothing was printed, amounts are plain decimal money,
and ``reconcile`` says why it left a just-journaled entry alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from pos_app.client import TerminalPaths
from pos_app.gui.printing.printer_config import PrinterSettings, save_printer_settings
from pos_app.journal import EntryState, Journal
from tests.support.live_server import LiveServer
from tests.support.terminal_cli import TerminalCli


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> TerminalCli:
    return TerminalCli(monkeypatch, capsys)


@pytest.fixture
def till(live_server: LiveServer, pos_home: Path, cli: TerminalCli) -> Path:
    """A paired terminal home, signed in as alex, with an open shift."""
    steps = [("pair", live_server.base_url, live_server.add_terminal("Records till"),
              "--ca-file", str(live_server.ca_file)), ("shift", "open", "--float", "50")]
    assert cli(pos_home, *steps[0]).code == 0
    assert cli(pos_home, "login", "alex", stdin="1234\n").code == 0
    assert cli(pos_home, *steps[1]).code == 0
    return pos_home


def receipts(home: Path) -> list[str]:
    return sorted(p.name for p in TerminalPaths.under(home).receipts_dir.iterdir())


def sales(cli: TerminalCli, home: Path) -> list[dict[str, Any]]:
    entries = json.loads(cli(home, "journal", "--json").stdout)
    return [e for e in entries if e["operation"] == "sale"]


def test_sell_with_pdf_also_keeps_the_receipt_in_the_receipts_folder(
        live_server: LiveServer, till: Path, cli: TerminalCli, tmp_path: Path) -> None:
    event = live_server.small_event(capacity=5, price=2000)
    wanted = tmp_path / "for-the-customer.pdf"

    sold = cli(till, "sell", "--event", event, "--type", "GA=1", "--tendered", "20",
               "--pdf", str(wanted))

    assert sold.code == 0, sold.stderr
    [kept] = receipts(till)
    assert kept.startswith("receipt-") and kept.endswith(".pdf")
    assert wanted.read_bytes() == (TerminalPaths.under(till).receipts_dir / kept).read_bytes()
    assert f"kept in {TerminalPaths.under(till).receipts_dir / kept}" in sold.stdout


def test_sell_with_print_and_no_printer_says_nothing_was_printed_and_exits_0(
        live_server: LiveServer, till: Path, cli: TerminalCli) -> None:
    paths = TerminalPaths.under(till)
    save_printer_settings(paths.home / "printer.json", PrinterSettings(destination="pdf"))
    event = live_server.small_event(capacity=5, price=2000)

    sold = cli(till, "sell", "--event", event, "--type", "GA=1", "--tendered", "20", "--print")

    assert sold.code == 0  # the sale went through
    [kept] = receipts(till)
    assert sold.stderr.count("\n") == 1
    assert "nothing was printed" in sold.stderr
    assert str(paths.receipts_dir / kept) in sold.stderr
    assert "confirmed" in sold.stdout and "(not printed)" in sold.stdout


@pytest.mark.parametrize("tendered", ["1e3", "inf", "nan", "-20", "+20", "20.001"])
def test_a_tender_that_is_not_plain_decimal_money_is_refused_with_exit_2_and_one_line(
        live_server: LiveServer, till: Path, cli: TerminalCli, tendered: str) -> None:
    event = live_server.small_event(capacity=5, price=2000)

    sold = cli(till, "sell", "--event", event, "--type", "GA=1", "--tendered", tendered)

    assert sold.code == 2
    assert sold.stderr.count("\n") == 1 and sold.stderr.startswith("pos-app: ")
    assert sales(cli, till) == [] and receipts(till) == []


def test_reconcile_says_a_just_journaled_entry_is_left_for_a_few_seconds(
        till: Path, cli: TerminalCli) -> None:
    # What a crash right after journaling leaves: a pending entry that never left the till.
    with Journal(TerminalPaths.under(till).journal_file) as journal:
        journal.begin("sale", {"lines": []}, staff_id=None, terminal_id=None)

    run = cli(till, "reconcile")

    assert run.code == 3
    assert ("1 entry is younger than 5 s (a request may still be in flight): try again in a "
            "few seconds") in run.stdout
    document = json.loads(cli(till, "reconcile", "--json").stdout)
    assert len(document["recent"]) == 1 and document["unresolved"] == 1


def test_the_journal_listing_names_the_server_once_the_home_has_seen_two(
        live_server: LiveServer, till: Path, cli: TerminalCli) -> None:
    paths = TerminalPaths.under(till)
    event = live_server.small_event(capacity=5, price=2000)
    assert cli(till, "sell", "--event", event, "--type", "GA=1", "--tendered", "20").code == 0
    listed = cli(till, "journal").stdout
    assert " on " not in listed  # one server: nothing to tell apart

    # The home was paired with another server before: its "sale 1" is in the same journal.
    other = "https://box-office.test:8443 CA 0A:0B:0C:0D"
    with Journal(paths.journal_file, server=other) as journal:
        journal.settle(journal.begin("sale", {}, staff_id=1, terminal_id=1).key,
                       EntryState.CONFIRMED, reference="1")

    lines = cli(till, "journal", "--state", "confirmed").stdout.splitlines()
    assert f"on {other}" in lines[0]
    assert all(f"on {live_server.base_url} CA " in line for line in lines[1:]) and lines[1:]
    servers = {e["server"] for e in json.loads(cli(till, "journal", "--json").stdout)}
    assert other in servers and len(servers) == 2


def test_without_a_usable_keyring_a_command_says_what_to_do_with_exit_4(
        till: Path, cli: TerminalCli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POS_APP_ALLOW_INSECURE_KEYRING")  # the tests' keyring is plain text

    listed = cli(till, "journal")

    assert listed.code == 4  # the README's "not paired / not signed in" row says keyring too
    assert listed.stderr.count("\n") == 1 and "Traceback" not in listed.stderr
    assert "SecretService" in listed.stderr and "POS_APP_ALLOW_INSECURE_KEYRING=1" in listed.stderr
    assert "make run" in listed.stderr
