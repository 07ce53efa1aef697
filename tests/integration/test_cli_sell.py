"""The headless terminal commands of shared/CLI.md, run as a venue's script would run them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from tests.support.cli import run_cli
from tests.support.live_server import LiveServer, pos_app


@pytest.fixture
def signed_in(live_server: LiveServer, pos_home: Path) -> Path:
    code = live_server.add_terminal("CLI till")
    run_cli("pair", live_server.base_url, code, "--ca-file", str(live_server.ca_file))
    run_cli("login", "alex", stdin="1234\n")
    run_cli("shift", "open", "--float", "200")  # box-office cash sales need an open shift
    return pos_home


def sale_entries(*args: str) -> list[dict[str, Any]]:
    """The journal's sale entries (the fixture's shift opening is an entry too)."""
    entries = json.loads(run_cli("journal", "--json", *args).stdout)
    return [e for e in entries if e["operation"] == "sale"]


def test_a_scripted_sale_prints_change_due_and_writes_a_receipt(
        live_server: LiveServer, signed_in: Path) -> None:
    event = live_server.small_event(capacity=10, price=4500, types=("GA", "VIP"))
    pdf = signed_in / "sale.pdf"
    out = run_cli("sell", "--event", event, "--type", "GA=2", "--tendered", "100",
                  "--pdf", str(pdf))
    assert "change due $10.00" in out.stdout
    number = out.stdout.split("Sale #")[1].split()[0].rstrip(":")
    assert number in PdfReader(pdf).pages[0].extract_text()

    journal = sale_entries("--state", "confirmed")
    assert [e["reference"] for e in journal] == [number]


def test_json_output_carries_the_servers_sale(live_server: LiveServer, signed_in: Path) -> None:
    event = live_server.small_event(capacity=10, price=4500)
    out = run_cli("sell", "--json", "--event", event, "--type", "GA=1", "--tendered", "45.00")
    document = json.loads(out.stdout)
    sale = document["sale"]
    assert sale["total"] == 4500 and sale["payment"]["change"] == 0
    assert len(sale["tickets"]) == 1
    assert Path(document["receipt"]).is_file()


def test_selling_more_than_is_left_is_refused_with_exit_1_and_nothing_confirmed(
        live_server: LiveServer, signed_in: Path) -> None:
    event = live_server.small_event(capacity=1)
    out = run_cli("sell", "--event", event, "--type", "GA=2", "--tendered", "100", check=False)
    assert out.returncode == 1
    assert "GA" in out.stderr
    states = [e["state"] for e in sale_entries()]
    assert states == ["refused"]


@pytest.mark.parametrize(("types", "tendered", "says"), [
    (["Balcony=1"], "100", "no ticket type"),
    (["GA=0"], "100", "at least 1"),
    (["GA=-1"], "100", "at least 1"),
    (["GA=2"], "ten", "not an amount"),
])
def test_bad_input_is_refused_with_exit_2_before_anything_is_journaled(
        live_server: LiveServer, signed_in: Path, types: list[str], tendered: str,
        says: str) -> None:
    event = live_server.small_event(capacity=5)
    args = ["sell", "--event", event, "--tendered", tendered]
    for t in types:
        args += ["--type", t]
    out = run_cli(*args, check=False)
    assert out.returncode == 2
    assert says in out.stderr
    assert sale_entries() == []


def test_tender_below_the_total_is_refused_by_the_server_and_not_confirmed(
        live_server: LiveServer, signed_in: Path) -> None:
    event = live_server.small_event(capacity=5, price=4500)
    out = run_cli("sell", "--event", event, "--type", "GA=2", "--tendered", "50", check=False)
    assert out.returncode == 1
    entries = sale_entries()
    assert [e["state"] for e in entries] == ["refused"]
    assert entries[0]["error_code"] == "insufficient_tender"


def test_a_wrong_pin_is_refused_and_leaves_the_terminal_signed_out(
        live_server: LiveServer, pos_home: Path) -> None:
    code = live_server.add_terminal()
    run_cli("pair", live_server.base_url, code, "--ca-file", str(live_server.ca_file))
    out = run_cli("login", "alex", stdin="9999\n", check=False)
    assert out.returncode == 1
    assert "wrong username or PIN" in out.stderr
    event = live_server.small_event()
    out = run_cli("sell", "--event", event, "--type", "GA=1", "--tendered", "100", check=False)
    assert out.returncode == 4


def test_an_unpaired_terminal_is_told_to_pair(pos_home: Path) -> None:
    out = run_cli("login", "alex", stdin="1234\n", check=False)
    assert out.returncode == 4
    assert "pair" in out.stderr.lower()


def test_print_without_a_printer_keeps_the_receipt_in_the_receipts_folder(
        live_server: LiveServer, signed_in: Path) -> None:
    event = live_server.small_event(capacity=5, price=4500)
    env = {"QT_QPA_PLATFORM": ""}  # as on a headless till: no display, no platform chosen
    out = pos_app("sell", "--event", event, "--type", "GA=1", "--tendered", "50", "--print",
                  env=env)  # its own process: Qt picks its platform once per process
    saved = out.stdout.strip().splitlines()[-1]
    assert saved.startswith("Receipt: ") and saved.endswith(" (not printed)")
    receipt = Path(saved.removeprefix("Receipt: ").removesuffix(" (not printed)"))
    assert receipt.parent == signed_in / "receipts" and receipt.is_file()
    assert "nothing was printed" in out.stderr and str(receipt) in out.stderr
