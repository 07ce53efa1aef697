"""Issue 16, attack 6: files holding a venue's data are private. Another account on the
machine used to read the server's SQLite files (0644 in a 0755 folder: PIN hashes, webhook
secrets, customer names) and a terminal's journal; now folders are 0700 and database files,
with their WAL and shared memory, 0600, tightened when an older version left them open."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from pos_app.client import TerminalPaths
from pos_app.journal import Journal
from pos_app.server import migrate
from pos_app.server.db import Database
from pos_app.server.settings import SQLITE_FILENAME, database_url_for

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _left_open(folder: Path, *files: str) -> None:
    """A folder and files as an older version (or a umask of 022) left them."""
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o755)
    for name in files:
        (folder / name).touch()
        os.chmod(folder / name, 0o644)


@pytest.mark.parametrize("existing", [False, True], ids=["new", "left-open"])
def test_the_server_data_folder_and_database_are_owner_only(tmp_path: Path,
                                                            existing: bool) -> None:
    folder = tmp_path / "data"
    if existing:
        _left_open(folder, SQLITE_FILENAME)
    database = Database(database_url_for(str(folder)))
    try:
        migrate.upgrade(database)  # writes: the WAL and shared-memory files exist now
        with database.read() as session:
            session.connection()
        assert _mode(folder) == 0o700
        files = [folder / f"{SQLITE_FILENAME}{suffix}" for suffix in ("", "-wal", "-shm")]
        assert all(path.exists() for path in files)
        assert {path.name: _mode(path) for path in files} == {path.name: 0o600
                                                              for path in files}
    finally:
        database.dispose()


@pytest.mark.parametrize("existing", [False, True], ids=["new", "left-open"])
def test_the_terminal_home_and_journal_are_owner_only(tmp_path: Path, existing: bool) -> None:
    home = tmp_path / "terminal"
    if existing:
        _left_open(home, "journal.sqlite3")
        _left_open(home / "receipts")
    paths = TerminalPaths.under(home).ensure()
    journal = Journal(paths.journal_file)
    try:
        assert {p.name: _mode(p) for p in (paths.home, paths.receipts_dir, paths.logs_dir)} \
            == {"terminal": 0o700, "receipts": 0o700, "logs": 0o700}
        assert _mode(paths.journal_file) == 0o600
        for suffix in ("-wal", "-shm"):
            side = paths.journal_file.with_name(paths.journal_file.name + suffix)
            if side.exists():
                assert _mode(side) == 0o600, side
    finally:
        journal.close()
