"""``pos-app shift open|status|close`` as a venue's script runs them, against a live server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import run_cli
from tests.support.live_server import LiveServer


@pytest.fixture
def signed_in(live_server: LiveServer, pos_home: Path) -> Path:
    code = live_server.add_terminal("CLI shift till")
    run_cli("pair", live_server.base_url, code, "--ca-file", str(live_server.ca_file))
    run_cli("login", "alex", stdin="1234\n")
    return pos_home


def test_open_sell_and_close_a_shift_from_the_command_line(
        live_server: LiveServer, signed_in: Path) -> None:
    event = live_server.small_event(capacity=10, price=4500)
    refused = run_cli("sell", "--event", event, "--type", "GA=1", "--tendered", "50",
                      check=False)
    assert refused.returncode == 1
    assert "shift" in refused.stderr.lower()

    opened = run_cli("shift", "open", "--float", "200")
    assert "opened with a float of $200.00" in opened.stdout
    again = run_cli("shift", "open", "--float", "200", check=False)
    assert again.returncode == 1 and "already open" in again.stderr

    run_cli("sell", "--event", event, "--type", "GA=2", "--tendered", "100")
    status = json.loads(run_cli("shift", "status", "--json").stdout)
    assert status["status"] == "open"
    # the count is blind: a cashier reads no money totals while the shift is open
    assert (status["blind"], status["sales"], status["opening_float"]) == (True, None, None)
    said = run_cli("shift", "status").stdout
    assert "Money totals are not shown while the shift is open" in said
    assert "$90.00" not in said and "$200.00" not in said
    run_cli("login", "morgan", stdin="2468\n")  # a manager sees them
    assert "Cash sales: 1 ($90.00)" in run_cli("shift", "status").stdout
    run_cli("login", "alex", stdin="1234\n")

    closed = json.loads(run_cli("shift", "close", "--counted", "289.50", "--note",
                                "50 cents short", "--json").stdout)
    assert (closed["status"], closed["expected_cash"], closed["counted_cash"],
            closed["variance"]) == ("closed", 29_000, 28_950, -50)
    assert closed["note"] == "50 cents short"

    journal = json.loads(run_cli("journal", "--json").stdout)
    assert [(e["operation"], e["state"]) for e in journal] == [
        ("shift_close", "confirmed"), ("sale", "confirmed"), ("shift_open", "refused"),
        ("shift_open", "confirmed"), ("sale", "refused")]
    assert json.loads(run_cli("shift", "status", "--json").stdout) == {"shift": None}
    nothing = run_cli("shift", "close", "--counted", "0", check=False)
    assert nothing.returncode == 1 and "no shift is open" in nothing.stderr


def test_bad_amounts_are_usage_errors_and_journal_nothing(
        live_server: LiveServer, signed_in: Path) -> None:
    out = run_cli("shift", "open", "--float", "two hundred", check=False)
    assert out.returncode == 2 and "not an amount" in out.stderr
    out = run_cli("shift", "open", "--float", "-5", check=False)
    assert out.returncode == 2
    assert json.loads(run_cli("journal", "--json").stdout) == []
    assert run_cli("shift", check=False).returncode == 2  # a subcommand is required


def test_shift_commands_need_a_signed_in_terminal(live_server: LiveServer,
                                                  pos_home: Path) -> None:
    code = live_server.add_terminal()
    run_cli("pair", live_server.base_url, code, "--ca-file", str(live_server.ca_file))
    out = run_cli("shift", "open", "--float", "100", check=False)
    assert out.returncode == 4
    assert "sign in" in out.stderr


def test_a_count_beyond_the_threshold_closes_with_a_managers_pin_on_stdin(
        live_server: LiveServer, signed_in: Path) -> None:
    run_cli("shift", "open", "--float", "100")
    short = run_cli("shift", "close", "--counted", "80", check=False)
    assert short.returncode == 1 and "manager must approve" in short.stderr
    no_note = run_cli("shift", "close", "--counted", "80", "--manager", "morgan",
                      stdin="2468\n", check=False)
    assert no_note.returncode == 2 and "--note" in no_note.stderr
    wrong = run_cli("shift", "close", "--counted", "80", "--manager", "morgan", "--note",
                    "till short", stdin="9999\n", check=False)
    assert wrong.returncode == 1
    closed = json.loads(run_cli("shift", "close", "--counted", "80", "--manager", "morgan",
                                "--note", "till short", "--json", stdin="2468\n").stdout)
    assert (closed["status"], closed["variance"], closed["approved_by_name"]) == (
        "closed", -2_000, "Morgan Lee")
    journal = run_cli("journal", "--json").stdout
    assert "2468" not in journal and "9999" not in journal
