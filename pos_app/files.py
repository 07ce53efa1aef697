"""Files that hold a venue's data are private to the account that runs the program.

The server's data folder holds PIN hashes, webhook secrets, customer names and the TLS key;
a terminal's home holds its journal (customers, amounts) and receipts. Another account on the
machine must not read them: folders 0700, database files 0600, tightened when they already
exist (a folder made by an older version, or by hand, with the usual 0755/0644). SQLite
creates its ``-wal`` and ``-shm`` files with the database file's permissions, so creating the
database file 0600 first keeps those private too. POSIX only: on Windows ``chmod`` sets the
read-only flag at most, and a user's profile folder is private already.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

__all__ = ["PRIVATE_DIR", "PRIVATE_FILE", "private_dir", "private_sqlite"]

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


def private_dir(folder: Path) -> Path:
    """Create ``folder`` (and its parents) owner-only, or make an existing one owner-only;
    returns it.

    Raises:
        OSError: it cannot be created, or it is not ours to change.
    """
    folder.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    if os.name == "posix" and folder.stat().st_mode & 0o777 != PRIVATE_DIR:
        os.chmod(folder, PRIVATE_DIR)
    return folder


def private_sqlite(database: Path) -> Path:
    """Make the SQLite file ``database`` owner-only before anything opens it: its folder
    (:func:`private_dir`), the file itself (created empty, 0600, when missing: SQLite takes
    an empty file as a new database) and any ``-wal``/``-shm``/``-journal`` beside it;
    returns ``database``.

    Raises:
        OSError: as :func:`private_dir`, or the file cannot be created or changed.
    """
    private_dir(database.parent)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(database, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE))
    if os.name == "posix":
        for path in (database, *(database.with_name(database.name + suffix)
                                 for suffix in ("-wal", "-shm", "-journal"))):
            with contextlib.suppress(FileNotFoundError):
                if path.stat().st_mode & 0o777 != PRIVATE_FILE:
                    os.chmod(path, PRIVATE_FILE)
    return database
