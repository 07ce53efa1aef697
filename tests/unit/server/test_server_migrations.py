"""The Alembic chain builds exactly the tables the models describe."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
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


def _downgrade(database: Database, revision: str) -> None:
    config = migrate.alembic_config()
    with database.write_connection_engine().connect() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
        connection.commit()


def _diff(database: Database) -> list[object]:
    """Differences between the database's schema and the models (none once at head)."""
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def test_the_webhook_tables_upgrade_and_downgrade_on_both_databases(
        tmp_path: Path, dialect_url: str | None) -> None:
    database = Database(dialect_url or f"sqlite:///{tmp_path / 'pos.sqlite3'}")
    webhook_tables = {"webhooks", "webhook_deliveries"}
    try:
        migrate.upgrade(database, "0004")
        assert not webhook_tables & set(inspect(database.engine).get_table_names())
        migrate.upgrade(database)
        assert webhook_tables <= set(inspect(database.engine).get_table_names())
        assert _diff(database) == []
        _downgrade(database, "0004")
        assert not webhook_tables & set(inspect(database.engine).get_table_names())
        migrate.upgrade(database)
        assert _diff(database) == []
    finally:
        database.dispose()


def test_the_head_read_from_the_files_is_alembics_and_a_current_database_skips_alembic(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert migrate.head_revision() == ScriptDirectory.from_config(
        migrate.alembic_config()).get_current_head()
    database = Database(f"sqlite:///{tmp_path / 'pos.sqlite3'}")
    try:
        assert migrate.current_revision(database) is None  # a new database
        migrate.upgrade(database)
        assert migrate.current_revision(database) == migrate.head_revision()
        # Current already: Alembic is not asked (not even imported by a fresh process).
        monkeypatch.setattr(command, "upgrade", _must_not_run)
        migrate.upgrade(database)
        _downgrade(database, "0007")
        with pytest.raises(AssertionError, match="alembic was asked"):
            migrate.upgrade(database)  # behind: Alembic runs
    finally:
        database.dispose()


def _must_not_run(*_args: object, **_kwargs: object) -> None:
    raise AssertionError("alembic was asked to upgrade")
