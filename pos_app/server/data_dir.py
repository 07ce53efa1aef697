"""Which database a server data folder belongs to: ``DIR/database.json``.

``pos-app serve`` writes the record when it starts (after migrating, so the database was
reachable): ``{"database_url": URL, "password_omitted": bool}``, the URL without any password
(a URL's password and any ``password`` query parameter are dropped, never written). The file
is owner-only (0600). ``pos-app admin ... --data-dir DIR`` and ``pos-app audit verify --data-dir
DIR`` read it through :func:`database_for_data_dir`, so they go to the database the server
uses instead of creating a new SQLite database beside a PostgreSQL server's TLS files.
"""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from pos_app.files import atomic_write
from pos_app.server.settings import SQLITE_FILENAME

__all__ = ["RECORD_FILENAME", "DataDirError", "database_for_data_dir", "read_record",
           "record_database", "without_password"]

RECORD_FILENAME = "database.json"


class DataDirError(ValueError):
    """A data folder that does not say which database to use (a sentence saying what to
    pass instead)."""


def without_password(url: str) -> tuple[str, bool]:
    """``url`` with its password (and any query parameter naming a password) removed;
    returns ``(url, whether anything was removed)``.

    Raises:
        ValueError: ``url`` is not a SQLAlchemy URL.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError(f"{url!r} is not a database URL") from None
    secret_keys = [key for key in parsed.query if "password" in key.lower()]
    omitted = parsed.password is not None or bool(secret_keys)
    # URL.set(password=None) leaves the password as it is: build the URL again without it
    cleaned = URL.create(parsed.drivername, username=parsed.username, host=parsed.host,
                         port=parsed.port, database=parsed.database,
                         query=parsed.query).difference_update_query(secret_keys)
    return cleaned.render_as_string(hide_password=False), omitted


def record_database(folder: Path, url: str) -> Path:
    """Write ``folder/database.json`` naming ``url`` without its password (owner-only,
    replaced atomically); returns its path."""
    clean, omitted = without_password(url)
    document = {"database_url": clean, "password_omitted": omitted}
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / RECORD_FILENAME
    return atomic_write(path, (json.dumps(document) + "\n").encode("utf-8"))


def read_record(folder: Path) -> tuple[str, bool] | None:
    """``(database_url, password_omitted)`` recorded in ``folder``, or None without a record.

    Raises:
        DataDirError: the record cannot be read or is not one.
    """
    path = folder / RECORD_FILENAME
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise DataDirError(f"cannot read {path} ({exc.__class__.__name__}): pass "
                           "--database-url") from None
    url = document.get("database_url") if isinstance(document, dict) else None
    if not isinstance(url, str) or not url:
        raise DataDirError(f"{path} does not name a database: pass --database-url")
    return url, bool(document.get("password_omitted"))


def database_for_data_dir(folder: Path) -> str:
    """What an admin command passes as ``database`` for data folder ``folder`` (absolute):
    the folder itself when it holds the server's SQLite database, else the URL the server
    recorded.

    Raises:
        DataDirError: the folder is served from a database whose password was not recorded
            ("DIR is served from PostgreSQL (URL): pass --database-url"), or it holds no
            server database at all (no record, no ``pos.sqlite3``, or no such folder): a new
            one would be one no server uses.
    """
    if not folder.is_dir():
        raise DataDirError(f"there is no data folder {folder}: give the --data-dir pos-app "
                           "serve uses, or pass --database-url")
    record = read_record(folder)
    if record is None:
        if (folder / SQLITE_FILENAME).is_file():  # served before the record existed
            return str(folder)
        raise DataDirError(f"{folder} holds no server database: start pos-app serve "
                           "--data-dir there first (it records which database it uses), or "
                           "pass --database-url")
    url, omitted = record
    if url == f"sqlite:///{folder / SQLITE_FILENAME}":
        return str(folder)
    if omitted:
        dialect = url.split(":", 1)[0].split("+", 1)[0]
        name = "PostgreSQL" if dialect.startswith("postgres") else dialect
        raise DataDirError(f"{folder} is served from {name} ({url}, password not recorded): "
                           "pass --database-url")
    return url
