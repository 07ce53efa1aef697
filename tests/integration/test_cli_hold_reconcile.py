"""``pos-app hold``, ``hold pay``, ``hold release`` and ``reconcile`` (shared/CLI.md), run as a
venue's script would run them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import run_cli
from tests.support.live_server import LiveServer, pos_app


@pytest.fixture
def signed_in(live_server: LiveServer, pos_home: Path) -> Path:
    code = live_server.add_terminal("Hold till")
    run_cli("pair", live_server.base_url, code, "--ca-file", str(live_server.ca_file))
    run_cli("login", "alex", stdin="1234\n")
    run_cli("shift", "open", "--float", "200")
    return pos_home


def journal(operation: str | None = None) -> list[dict[str, Any]]:
    entries = json.loads(run_cli("journal", "--json").stdout)
    return [e for e in entries if operation is None or e["operation"] == operation]


def test_a_hold_prints_its_code_and_is_paid_later_as_a_sale(
        live_server: LiveServer, signed_in: Path) -> None:
    event = live_server.small_event(capacity=5, price=4500)
    held = run_cli("hold", "--event", event, "--type", "GA=2", "--customer", "Jane Doe",
                   "--phone", "555-0100")
    code = held.stdout.strip().splitlines()[-1]
    assert "Jane Doe" in held.stdout and "$90.00" in held.stdout
    assert [(e["state"], e["reference"]) for e in journal("hold")] == [("confirmed", code)]

    paid = run_cli("hold", "pay", code.lower(), "--tendered", "100", "--json")
    sale = json.loads(paid.stdout)["sale"]
    assert sale["total"] == 9000 and sale["payment"]["change"] == 1000
    assert [e["state"] for e in journal("sale")] == ["confirmed"]

    again = run_cli("hold", "pay", code, "--tendered", "100", check=False)
    assert again.returncode == 1  # converted: the server refuses a second payment


def test_a_released_hold_gives_its_tickets_back(live_server: LiveServer,
                                                signed_in: Path) -> None:
    event = live_server.small_event(capacity=2)
    held = run_cli("hold", "--json", "--event", event, "--type", "GA=2", "--customer", "Sam")
    code = json.loads(held.stdout)["hold"]["code"]
    sold_out = run_cli("sell", "--event", event, "--type", "GA=1", "--tendered", "25",
                       check=False)
    assert sold_out.returncode == 1

    released = run_cli("hold", "release", code, "--reason", "customer called")
    assert "released" in released.stdout
    run_cli("sell", "--event", event, "--type", "GA=2", "--tendered", "50")
    assert [e["state"] for e in journal("hold_release")] == ["confirmed"]

    twice = run_cli("hold", "release", code, check=False)
    assert twice.returncode == 1


@pytest.mark.parametrize("args", [
    ["hold", "--event", "x", "--type", "GA=1"],  # no customer
    ["hold", "pay", "ABC"],  # no --tendered
    ["hold", "frobnicate", "ABC"],
    ["reconcile", "--void-after", "-1"],
])
def test_bad_hold_and_reconcile_usage_exits_2(signed_in: Path, args: list[str]) -> None:
    assert run_cli(*args, check=False).returncode == 2


def test_reconcile_with_nothing_to_settle_exits_0(live_server: LiveServer,
                                                  signed_in: Path) -> None:
    event = live_server.small_event(capacity=5)
    run_cli("sell", "--event", event, "--type", "GA=1", "--tendered", "25")
    out = run_cli("reconcile", "--json")
    assert json.loads(out.stdout)["unresolved"] == 0


def test_reconcile_settles_a_sale_whose_process_crashed_after_the_request(
        live_server: LiveServer, signed_in: Path) -> None:
    event = live_server.small_event(capacity=5)
    crashed = pos_app("sell", "--event", event, "--type", "GA=1", "--tendered", "25",
                      env={"POS_APP_CRASH_AT": "after_response"}, check=False)  # killed
    assert crashed.returncode == -9
    assert [e["state"] for e in journal("sale")] == ["pending"]

    out = run_cli("reconcile", "--json", "--void-after", "0")
    report = json.loads(out.stdout)
    assert report["unresolved"] == 0 and len(report["flagged"]) == 1
    [entry] = journal("sale")
    assert entry["state"] == "confirmed" and entry["flagged_for_manager"]
    assert "FLAGGED" in run_cli("journal").stdout


def test_reconcile_leaves_a_recent_pending_entry_and_exits_3(
        live_server: LiveServer, signed_in: Path) -> None:
    event = live_server.small_event(capacity=5)
    pos_app("sell", "--event", event, "--type", "GA=1", "--tendered", "25",
            env={"POS_APP_CRASH_AT": "after_pending_commit"}, check=False)  # killed
    out = run_cli("reconcile", check=False)  # default: pending entries younger than 5 s stay
    assert out.returncode == 3
    assert [e["state"] for e in journal("sale")] == ["pending"]
    assert run_cli("reconcile", "--void-after", "0").returncode == 0
    assert [e["state"] for e in journal("sale")] == ["voided"]


def test_a_refund_with_a_managers_approval_is_journaled_without_the_pin(
        live_server: LiveServer, signed_in: Path) -> None:
    from pos_app.api.schemas import ManagerApproval
    from pos_app.journal import EntryState, open_register

    event = live_server.small_event(capacity=5, price=2500)
    sold = json.loads(run_cli("sell", "--json", "--event", event, "--type", "GA=2",
                              "--tendered", "50").stdout)["sale"]
    with open_register() as register:
        refused = register.refund(str(sold["number"]), reason="changed plans")
        assert refused.state is EntryState.REFUSED  # a cashier needs a manager's approval
        outcome = register.refund(str(sold["number"]), reason="changed plans",
                                  ticket_codes=[sold["tickets"][0]["code"]],
                                  manager=ManagerApproval(username="morgan", pin="2468"))
        assert outcome.state is EntryState.CONFIRMED and outcome.refund is not None
        assert outcome.refund.amount == 2500 and "$25.00" in outcome.message
        entry = register.journal.get(outcome.key)
        assert entry is not None and entry.reference == outcome.refund.id
        assert entry.body["manager"] == {"username": "morgan"}
        assert "2468" not in json.dumps(entry.body)
