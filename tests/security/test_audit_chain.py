"""Issue 16, attack 4: someone who can write the database (a copy of it, or the live one)
but not the data folder's secrets rewrites the audit log. Each test is the attack, then
``pos-app audit verify --database-url URL --data-dir DIR``, on SQLite and PostgreSQL."""

from __future__ import annotations

import hashlib
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, select, update

from pos_app import cli
from pos_app.server import audit, migrate
from pos_app.server.audit_anchors import ANCHOR_FILE, read_anchors
from pos_app.server.chain_key import ChainKey
from pos_app.server.db import Database
from pos_app.server.models import AuditEntry, AuditHead
from pos_app.server.secrets_dir import SECRETS_DIRNAME
from pos_app.server.services import anchoring
from pos_app.server.services.live import install_session_hooks
from tests.security.conftest import _url

NOW = datetime(2026, 3, 14, 18, 0, tzinfo=UTC)


@dataclass
class Chained:
    """A venue's database and data folder with 12 entries, the first 8 anchored."""

    db: Database
    data_dir: Path

    @property
    def anchor_file(self) -> Path:
        return self.data_dir / SECRETS_DIRNAME / ANCHOR_FILE


def _append(db: Database, count: int, at: datetime) -> None:
    with db.write() as session:
        audit.append(session, [audit.AuditRecord(action="sale", staff_id=1, terminal_id=1,
                                                 ref_type="sale", ref_id=f"s{at:%H%M}-{i}",
                                                 reason="door sale")
                               for i in range(count)], at)


@pytest.fixture
def chained(request: pytest.FixtureRequest, dialect: str, tmp_path: Path) -> Iterator[Chained]:
    data_dir = tmp_path / "data"
    db = Database(_url(request, tmp_path), chain=anchoring.load_chain(data_dir, create=True),
                  write_hooks=[install_session_hooks])
    try:
        migrate.upgrade(db)
        anchoring.prepare_chain(db, NOW)
        _append(db, 8, NOW)
        assert anchoring.anchor_head(db, NOW + timedelta(minutes=1)) is not None  # seq 8
        _append(db, 4, NOW + timedelta(minutes=1, seconds=10))  # not anchored yet
        yield Chained(db, data_dir)
    finally:
        db.dispose()


def _verify(chained: Chained, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    code = cli.main(["audit", "verify", "--database-url", chained.db.url,
                     "--data-dir", str(chained.data_dir), "--json"])
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert code == (cli.EXIT_OK if result["ok"] else cli.EXIT_REFUSED)
    return result


def _recompute(db: Database, start: int, hash_of: Any) -> None:
    """The attack: change entry ``start``'s reason, then recompute its hash and every later
    one's (and the head) with ``hash_of(entry)``, as the database alone allows."""
    with db.write() as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == start)
                        .values(reason="no sale"))
    with db.write() as session:
        entries = list(session.scalars(select(AuditEntry).where(AuditEntry.seq >= start)
                                       .order_by(AuditEntry.seq)))
        prev = session.scalar(select(AuditEntry.hash).where(AuditEntry.seq == start - 1))
        for entry in entries:
            entry.prev_hash = prev if prev is not None else audit.GENESIS_HASH
            entry.hash = prev = hash_of(entry)
            session.flush()
        session.execute(update(AuditHead).where(AuditHead.id == 1)
                        .values(seq=entries[-1].seq, hash=prev))


def test_the_untouched_chain_verifies(chained: Chained,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert _verify(chained, capsys)["ok"] is True


def test_a_chain_recomputed_with_plain_sha256_is_reported_rewritten(
        chained: Chained, capsys: pytest.CaptureFixture[str]) -> None:
    _recompute(chained.db, 5, lambda entry: audit.entry_hash(entry, None))
    result = _verify(chained, capsys)
    assert (result["ok"], result["problem"], result["first_bad_seq"]) == (False, "rewritten", 5)


def test_a_chain_recomputed_under_a_wrong_key_is_reported_rewritten(
        chained: Chained, capsys: pytest.CaptureFixture[str]) -> None:
    guessed = ChainKey(hashlib.sha256(b"guess").digest())
    _recompute(chained.db, 10, lambda entry: audit.entry_hash(entry, guessed))  # unanchored
    result = _verify(chained, capsys)
    assert (result["ok"], result["problem"], result["first_bad_seq"]) == (False, "rewritten", 10)


def test_newest_entries_deleted_and_the_head_moved_back_are_reported_truncated(
        chained: Chained, capsys: pytest.CaptureFixture[str]) -> None:
    with chained.db.write() as session:
        session.execute(delete(AuditEntry).where(AuditEntry.seq > 6))
        tail = session.execute(select(AuditEntry.seq, AuditEntry.hash)
                               .where(AuditEntry.seq == 6)).one()
        session.execute(update(AuditHead).where(AuditHead.id == 1)
                        .values(seq=tail[0], hash=tail[1]))
    result = _verify(chained, capsys)
    assert (result["ok"], result["problem"], result["first_bad_seq"]) == (False, "truncated", 7)


def test_an_entry_edited_in_place_is_reported_hash(
        chained: Chained, capsys: pytest.CaptureFixture[str]) -> None:
    with chained.db.write() as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(staff_id=2))
    result = _verify(chained, capsys)
    assert (result["ok"], result["problem"], result["first_bad_seq"]) == (False, "hash", 3)


def test_a_plain_sha256_chain_from_before_the_upgrade_is_re_anchored_and_still_guarded(
        request: pytest.FixtureRequest, dialect: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    url = _url(request, tmp_path)
    old = Database(url)  # the old version: plain SHA-256, no secrets folder
    migrate.upgrade(old)
    _append(old, 6, NOW)
    _recompute(old, 1, lambda entry: audit.entry_hash(entry, None))  # as it wrote them
    with old.write() as session:  # as migration 0008 leaves it: not re-anchored yet
        session.execute(update(AuditHead).values(keyed_from_seq=None))
    old.dispose()

    data_dir = tmp_path / "data"
    db = Database(url, chain=anchoring.load_chain(data_dir, create=True))  # first new start
    try:
        migrate.upgrade(db)
        anchoring.prepare_chain(db, NOW + timedelta(hours=1))
        _append(db, 2, NOW + timedelta(hours=1))
        chained = Chained(db, data_dir)
        anchors = read_anchors(chained.anchor_file)
        assert anchors is not None and (anchors[0].kind, anchors[0].seq) == ("upgrade", 6)
        with db.read() as session:
            rekeyed = session.scalars(select(AuditEntry).where(AuditEntry.seq == 7)).one()
        assert rekeyed.action == audit.REKEYED and "1 to 6" in (rekeyed.reason or "")
        result = _verify(chained, capsys)
        assert (result["ok"], result["entries_checked"]) == (True, 9)

        # the old, plain part recomputed from an edit on: the upgrade's anchor catches it
        _recompute(db, 2, lambda entry: audit.entry_hash(entry, None))
        result = _verify(chained, capsys)
        assert (result["ok"], result["problem"]) == (False, "rewritten")
    finally:
        db.dispose()


def _sqlite_venue(folder: Path) -> Database:
    db = Database(f"sqlite:///{folder / 'pos.sqlite3'}",
                  chain=anchoring.load_chain(folder, create=True),
                  write_hooks=[install_session_hooks])
    migrate.upgrade(db)
    anchoring.prepare_chain(db, NOW)
    return db


def test_a_backup_carries_its_anchors_so_a_restored_copy_verifies_to_its_own_head(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A backup is the database with its secrets folder (docs/api.md, The audit chain):
    restored together they verify; the old database under today's anchors is reported
    truncated (its newest entries are gone), and without its secrets it is refused."""
    live, backup = tmp_path / "live", tmp_path / "backup"
    db = _sqlite_venue(live)
    _append(db, 5, NOW)
    anchoring.anchor_head(db, NOW + timedelta(minutes=1))
    db.dispose()
    shutil.copytree(live, backup)  # the night's backup: database and secrets folder
    db = _sqlite_venue(live)
    _append(db, 3, NOW + timedelta(hours=1))  # the next day, anchored as it goes
    anchoring.anchor_head(db, NOW + timedelta(hours=1, minutes=1))
    db.dispose()

    restored = Chained(Database(f"sqlite:///{backup / 'pos.sqlite3'}"), backup)
    try:
        assert _verify(restored, capsys)["ok"] is True
    finally:
        restored.db.dispose()
    # the old database file put back under today's secrets: its newest entries are missing
    shutil.copy(backup / "pos.sqlite3", live / "pos.sqlite3")
    mixed = Chained(Database(f"sqlite:///{live / 'pos.sqlite3'}"), live)
    try:
        result = _verify(mixed, capsys)
        assert (result["ok"], result["problem"]) == (False, "truncated")
    finally:
        mixed.db.dispose()

    # Restored without its secrets folder: the server and admin commands refuse to start.
    shutil.rmtree(backup / SECRETS_DIRNAME)
    code = cli.main(["admin", "add-terminal", "till 9", "--data-dir", str(backup)])
    assert code == cli.EXIT_BAD_INPUT
    said = capsys.readouterr().err
    assert "secrets" in said and "restore" in said
