"""Alembic environment of the server database.

Run programmatically by :func:`pos_app.server.migrate.upgrade`, which passes an open
connection in ``config.attributes["connection"]``; with only ``sqlalchemy.url`` set, a
connection is opened here through :class:`pos_app.server.db.Database` (same SQLite pragmas).
"""

from __future__ import annotations

from alembic import context

from pos_app.server.models import Base

config = context.config
target_metadata = Base.metadata


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        transactional_ddl=True,  # db.Database emits BEGIN itself, so DDL is transactional
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate through the given connection, or one opened from ``sqlalchemy.url``."""
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from pos_app.server.db import Database

    database = Database(config.get_main_option("sqlalchemy.url") or "")
    try:
        with database.write_connection_engine().connect() as conn:
            _run(conn)
            conn.commit()
    finally:
        database.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run_migrations_online()
