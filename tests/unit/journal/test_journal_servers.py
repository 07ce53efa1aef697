"""A terminal home paired with one server, then another, keeps one journal: each entry says
which server it went to, and reconciliation only ever settles entries with their own server."""

from __future__ import annotations

from pathlib import Path

from pos_app.client import TerminalConfig
from pos_app.journal import EntryState, Journal
from pos_app.journal._register import server_label
from tests.support.certs import make_ca

FIRST = "https://127.0.0.1:8443 CA 11:22:33:44"
SECOND = "https://127.0.0.1:8443 CA 55:66:77:88"


def test_entries_record_their_server_and_reconciliation_sees_only_its_own(
        tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite3"
    with Journal(path, server=FIRST) as first:
        left_behind = first.begin("sale", {"n": 1}, staff_id=1, terminal_id=1)
        first.settle(first.begin("sale", {"n": 2}, staff_id=1, terminal_id=1).key,
                     EntryState.CONFIRMED, reference="1")
    with Journal(path, server=SECOND) as second:
        mine = second.begin("sale", {"n": 3}, staff_id=1, terminal_id=7)

        assert [e.key for e in second.unresolved()] == [mine.key]  # never the first's key
        assert second.servers() == [FIRST, SECOND]
        assert [e.server for e in second.entries()] == [SECOND, FIRST, FIRST]
    with Journal(path, server=FIRST) as first_again:
        assert [e.key for e in first_again.unresolved()] == [left_behind.key]


def test_two_servers_at_one_url_are_told_apart_by_their_ca(tmp_path: Path) -> None:
    labels = set()
    for name in ("one", "two"):
        ca = tmp_path / f"{name}.pem"
        ca.write_bytes(make_ca(f"{name} CA").pem)
        config = TerminalConfig(server_url="https://127.0.0.1:8443", ca_file=ca,
                                terminal_id=1, terminal_name="till")
        labels.add(server_label(config))
    assert len(labels) == 2
    assert all(label.startswith("https://127.0.0.1:8443 CA ") for label in labels)
