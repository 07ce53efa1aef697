"""Alembic migrations of the server database (one chain; run by :mod:`pos_app.server.migrate`)."""
