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
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

__all__ = ["PRIVATE_DIR", "PRIVATE_FILE", "atomic_file", "atomic_write", "flushed_temp",
           "fsync_folder", "private_dir", "private_sqlite"]

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


def flushed_temp(folder: Path, name: str, data: bytes) -> Path:
    """A temporary file beside ``folder/name`` (hidden, owner-only as :func:`tempfile.mkstemp`
    makes it) holding ``data``, flushed to disk; the caller renames or links it into place
    and removes it.

    Raises:
        OSError: the folder does not exist or is not writable (no file is left behind).
    """
    fd, temp_name = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as temp:
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return Path(temp_name)


def atomic_write(path: Path, data: bytes) -> Path:
    """Replace ``path`` with ``data`` as :func:`atomic_file` does; returns ``path``.

    Raises:
        OSError: the folder does not exist or is not writable (no file is left behind).
    """
    with atomic_file(path) as handle:
        handle.write(data)
    return path


@contextlib.contextmanager
def atomic_file(path: Path, *, encoding: str | None = None,
                newline: str | None = None) -> Iterator[IO[Any]]:
    """A file to write that replaces ``path`` when the block ends without an error, so a
    reader or a crash sees the old file or the new one, never half of one: a temporary file
    beside it (hidden, owner-only 0600) is flushed to disk, renamed over ``path``
    (:func:`os.replace`), then the folder flushed so the rename survives a power cut. An
    error in the block leaves ``path`` as it was and no temporary file. Binary, or text with
    ``encoding`` (and ``newline`` as :func:`open` takes it).

    Raises:
        OSError: the folder does not exist or is not writable.
    """
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with (os.fdopen(fd, "wb") if encoding is None
              else os.fdopen(fd, "w", encoding=encoding, newline=newline)) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)


def fsync_folder(folder: Path) -> None:
    """Make a file created or renamed in ``folder`` survive a crash (POSIX; elsewhere, where
    a folder cannot be opened, a no-op)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open folders
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
