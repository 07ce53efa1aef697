from __future__ import annotations

import sqlite3
import threading
from datetime import UTC
from pathlib import Path

import pytest

from pos_app.journal import (
    EntryNotFound,
    EntryState,
    InvalidTransition,
    Journal,
    JournalCorrupt,
)

BODY = {"lines": [{"ticket_type_id": 1, "quantity": 2}],
        "payment": {"method": "cash", "tendered": 5000}}
S = EntryState


@pytest.fixture
def journal(tmp_path: Path) -> Journal:
    with Journal(tmp_path / "journal.sqlite3") as opened:
        yield opened  # type: ignore[misc]


def test_begin_commits_a_pending_entry_visible_to_other_connections(journal: Journal) -> None:
    entry = journal.begin("sale", BODY, staff_id=1, terminal_id=7)
    assert entry.state is S.PENDING and len(entry.key) == 36
    with Journal(journal.path) as other:
        seen = other.get(entry.key)
    assert seen is not None and seen.state is S.PENDING and seen.body == BODY
    raw = sqlite3.connect(journal.path)
    try:
        assert raw.execute("SELECT state FROM journal_entries WHERE key = ?",
                           (entry.key,)).fetchone() == ("pending",)
    finally:
        raw.close()


def test_each_begin_gets_a_fresh_key(journal: Journal) -> None:
    keys = {journal.begin("sale", BODY, staff_id=1, terminal_id=7).key for _ in range(5)}
    assert len(keys) == 5


def test_the_journal_is_wal_with_full_synchronous_writes(journal: Journal) -> None:
    assert journal.pragma("journal_mode") == "wal"
    assert journal.pragma("synchronous") == 2


@pytest.mark.parametrize(("path", "target"), [
    ((), S.CONFIRMED), ((), S.REFUSED), ((), S.UNKNOWN), ((), S.VOIDED),
    ((S.UNKNOWN,), S.CONFIRMED), ((S.UNKNOWN,), S.REFUSED), ((S.UNKNOWN,), S.VOIDED),
])
def test_allowed_transitions(journal: Journal, path: tuple[EntryState, ...],
                             target: EntryState) -> None:
    key = journal.begin("sale", BODY, staff_id=1, terminal_id=7).key
    for step in path:
        journal.settle(key, step)
    settled = journal.settle(key, target, response={"error": "x", "message": "y"},
                             error_code="x", reference="1001")
    assert settled.state is target
    assert (settled.response, settled.error_code, settled.reference) == (
        {"error": "x", "message": "y"}, "x", "1001")
    assert journal.get(key) == settled


@pytest.mark.parametrize(("path", "target"), [
    ((), S.PENDING), ((S.UNKNOWN,), S.UNKNOWN), ((S.UNKNOWN,), S.PENDING),
    ((S.CONFIRMED,), S.REFUSED), ((S.CONFIRMED,), S.UNKNOWN), ((S.REFUSED,), S.CONFIRMED),
    ((S.REFUSED,), S.UNKNOWN), ((S.VOIDED,), S.CONFIRMED), ((S.CONFIRMED,), S.CONFIRMED),
])
def test_forbidden_transitions_raise_and_change_nothing(
        journal: Journal, path: tuple[EntryState, ...], target: EntryState) -> None:
    key = journal.begin("sale", BODY, staff_id=1, terminal_id=7).key
    for step in path:
        journal.settle(key, step)
    before = journal.get(key)
    with pytest.raises(InvalidTransition):
        journal.settle(key, target)
    assert journal.get(key) == before


def test_settling_an_unknown_key_raises(journal: Journal) -> None:
    with pytest.raises(EntryNotFound):
        journal.settle("no-such-key", S.CONFIRMED)
    assert journal.get("no-such-key") is None


def test_entries_are_newest_first_and_filter_by_state(journal: Journal) -> None:
    first = journal.begin("sale", BODY, staff_id=1, terminal_id=7)
    second = journal.begin("sale", BODY, staff_id=1, terminal_id=7)
    journal.settle(first.key, S.CONFIRMED)
    assert [e.key for e in journal.entries()] == [second.key, first.key]
    assert [e.key for e in journal.entries(state="confirmed")] == [first.key]
    assert [e.key for e in journal.entries(state=S.PENDING)] == [second.key]
    assert len(journal.entries(limit=1)) == 1


def test_timestamps_are_aware_utc_and_settle_moves_updated_at(journal: Journal) -> None:
    entry = journal.begin("sale", BODY, staff_id=1, terminal_id=7)
    settled = journal.settle(entry.key, S.UNKNOWN)
    assert entry.created_at.tzinfo is UTC and settled.updated_at.tzinfo is UTC
    assert settled.created_at == entry.created_at <= settled.updated_at


def test_worker_threads_can_write_at_once(journal: Journal) -> None:
    keys: list[str] = []

    def work() -> None:
        for _ in range(10):
            key = journal.begin("sale", BODY, staff_id=1, terminal_id=7).key
            journal.settle(key, S.CONFIRMED)
            keys.append(key)

    threads = [threading.Thread(target=work) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(keys) == 60
    assert len(journal.entries(state=S.CONFIRMED, limit=1000)) == 60


def test_reopening_keeps_entries_and_the_migration_head(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with Journal(path) as journal:
        key = journal.begin("sale", BODY, staff_id=1, terminal_id=7).key
    with Journal(path) as journal:
        assert journal.get(key) is not None
        assert journal.pragma("user_version") == 0
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("SELECT version_num FROM alembic_version").fetchall() == [("j0003",)]
    finally:
        raw.close()


def test_a_file_that_is_not_a_database_is_reported_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    path.write_bytes(b"this is not sqlite" * 500)
    with pytest.raises(JournalCorrupt):
        Journal(path)


def test_a_damaged_journal_fails_the_integrity_check(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    with Journal(path) as journal:
        for _ in range(200):
            journal.begin("sale", BODY, staff_id=1, terminal_id=7)
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = raw.execute("PRAGMA page_size").fetchone()[0]
    raw.close()
    data = bytearray(path.read_bytes())
    for page in range(2, len(data) // page_size):  # keep page 1 (header and schema)
        start = page * page_size + 8
        data[start:start + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    with pytest.raises(JournalCorrupt):
        Journal(path)
