"""Upgrade the server database to the newest Alembic revision, from code (no alembic.ini).

Every server start and admin command calls :func:`upgrade`; almost always the database is
current already. So the current revision is read with one plain query and compared with the
newest revision of the migrations folder (:func:`head_revision`, read from the files'
``revision``/``down_revision`` lines), and Alembic (about half a second of imports here) is
loaded only when there is something to upgrade.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from pos_app.server.db import Database

if TYPE_CHECKING:
    from alembic.config import Config

__all__ = ["MIGRATIONS_DIR", "alembic_config", "current_revision", "head_revision", "upgrade"]

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
_REVISION = re.compile(r'^revision\b[^=]*=\s*["\']([^"\']+)["\']', re.MULTILINE)
_DOWN = re.compile(r'^down_revision\b[^=]*=\s*(?:["\']([^"\']+)["\']|None)', re.MULTILINE)


def alembic_config(url: str | None = None) -> Config:
    """An Alembic :class:`Config` pointing at this package's migrations folder."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url is not None:
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


@cache
def head_revision() -> str:
    """The newest revision of the migrations folder: the one no other revision names as its
    ``down_revision`` (one chain, no branches).

    Raises:
        RuntimeError: the folder does not hold exactly one head.
    """
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        found = _REVISION.search(source)
        if found is None:
            continue
        revisions.add(found.group(1))
        down = _DOWN.search(source)
        if down is not None and down.group(1):
            parents.add(down.group(1))
    heads = revisions - parents
    if len(heads) != 1:
        raise RuntimeError(f"the migrations folder has heads {sorted(heads)}, not one")
    return heads.pop()


def current_revision(database: Database) -> str | None:
    """The revision ``database`` is at, or ``None`` when it has none yet (a new database)."""
    try:
        with database.engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:  # no alembic_version table: never migrated
        return None


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring ``database`` to ``revision`` (default: the newest) in one write transaction.

    Safe to call on every start and from admin commands; a no-op when already current
    (without loading Alembic when ``revision`` is the head).
    """
    if revision in ("head", head_revision()) and current_revision(database) == head_revision():
        return
    from alembic import command

    config = alembic_config()
    with database.write_connection_engine().connect() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
        connection.commit()
