"""The Alembic chain builds exactly the tables the models describe."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from pos_app.server import migrate
from pos_app.server.db import Database
from pos_app.server.models import Base


def test_upgrade_head_matches_the_models(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'pos.sqlite3'}")
    try:
        migrate.upgrade(database)
        with database.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
            tables = set(inspect(connection).get_table_names())
        assert set(Base.metadata.tables) <= tables
    finally:
        database.dispose()


def test_upgrading_twice_is_harmless(tmp_path: Path) -> None:
    database = Database(f"sqlite:///{tmp_path / 'pos.sqlite3'}")
    try:
        migrate.upgrade(database)
        migrate.upgrade(database)
        with database.read() as session:
            from pos_app.server.services.inventory import inventory_version

            assert inventory_version(session) == 0
    finally:
        database.dispose()
