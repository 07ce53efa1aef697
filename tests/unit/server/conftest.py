"""Shared fixtures of the server unit tests: an in-process database, migrated and seeded.

This folder has no ``__init__.py``: pytest (rootdir and ``testpaths`` from pyproject.toml,
default ``prepend`` import mode) imports this file as the top-level module ``conftest`` and
each test file by its own name. Test files therefore use these fixtures by name and do not
import from here; what they share as code lives in ``tests/support``.

A test module shapes its database with a fixture of its own, usually named ``database``::

    @pytest.fixture
    def database(seeded: Callable[..., Database]) -> Database:
        return seeded(now=NOW, ticket_types=[{"name": "GA", "price": 2500, "capacity": 5}],
                      staff=[("sam", "cashier", "1111", "Sam")], terminals=["till"])
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import pytest
from sqlalchemy.orm import Session

from pos_app.api import schemas
from pos_app.server import migrate
from pos_app.server.catalog import parse_catalog
from pos_app.server.db import Database
from pos_app.server.services import (
    anchoring,
    catalog_import,
    identity,
    live,
    sealing_keys,
    shifts,
)
from pos_app.server.services.principal import Principal
from tests.support.postgres import PostgresServer

GIG: dict[str, Any] = {
    "id": "gig", "name": "Gig", "venue": "Hall", "starts_at": "2026-03-14T19:30:00",
    "timezone": "America/Chicago", "currency": "USD"}
"""The event that sells a seeded catalog's ``ticket_types``; ``other_events`` take from it
whatever they leave out."""

StaffRow = tuple[str, str, str, str]
"""``(username, role, pin, display_name)`` of a staff member to add."""


class Seeder(Protocol):
    """What :func:`seeded` yields (test modules annotate it ``Callable[..., Database]``)."""

    def __call__(self, *, now: datetime, ticket_types: Sequence[dict[str, Any]] = (),
                 other_events: Sequence[dict[str, Any]] = (),
                 staff: Sequence[StaffRow] = (), terminals: Sequence[str] = (),
                 shift_for: Principal | None = None,
                 extra: Callable[[Session], None] | None = None,
                 url: str | None = None) -> Database: ...


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[Seeder]:
    """A factory of migrated databases, each disposed of after the test. A call returns a
    database (SQLite ``tmp_path/pos.sqlite3``, ``pos-2.sqlite3`` for a second call, unless
    ``url`` names another) seeded at ``now`` in one write transaction, in this order:

    - a catalog imported at ``now``: with ``ticket_types``, the event ``gig`` (``GIG``:
      "Gig" at "Hall", 2026-03-14 19:30 America/Chicago, USD) selling them; then each of
      ``other_events`` (partial events, completed from ``GIG``);
    - each of ``staff`` (:data:`StaffRow`), ids from 1 in that order;
    - each of ``terminals`` by name (pairing codes valid for ten minutes), ids from 1;
    - ``extra(session)``, after a flush, for rows of the test's own.

    With ``data_dir`` the audit chain is keyed and anchored, and PINs and webhook secrets
    sealed, with that folder's secrets, as a server there would
    (:mod:`pos_app.server.services.anchoring`, :mod:`pos_app.server.services.sealing_keys`);
    without, the database's audit key is a throwaway one and its sealing keys this
    process's throwaway ones. Then, with ``shift_for``, that principal opens a shift with no
    float (box-office cash sales need one), asserted to answer 201.
    """
    created: list[Database] = []

    def seed(*, now: datetime, ticket_types: Sequence[dict[str, Any]] = (),
             other_events: Sequence[dict[str, Any]] = (), staff: Sequence[StaffRow] = (),
             terminals: Sequence[str] = (), shift_for: Principal | None = None,
             extra: Callable[[Session], None] | None = None,
             url: str | None = None, data_dir: Path | None = None) -> Database:
        name = "pos.sqlite3" if not created else f"pos-{len(created) + 1}.sqlite3"
        chain = anchoring.load_chain(data_dir, create=True) if data_dir else None
        keys = sealing_keys.load_keys(data_dir, create=True) if data_dir else None
        db = Database(url or f"sqlite:///{tmp_path / name}", chain=chain, keys=keys,
                      write_hooks=[live.install_session_hooks])
        created.append(db)
        migrate.upgrade(db)
        anchoring.prepare_chain(db, now)
        sealing_keys.prepare_keys(db)
        with db.write() as session:
            if ticket_types or other_events:
                events = [{**GIG, "ticket_types": list(ticket_types)}] if ticket_types else []
                events += [{**GIG, **event} for event in other_events]
                catalog_import.import_catalog(session, parse_catalog({"events": events}),
                                              now=now)
            for username, role, pin, display_name in staff:
                identity.add_staff(session, username, role=role, pin=pin,
                                   display_name=display_name)
            for terminal in terminals:
                identity.create_terminal(session, terminal, now=now, ttl=timedelta(minutes=10))
            if extra is not None:
                session.flush()
                extra(session)
        if shift_for is not None:
            opened = shifts.open_shift(db, shift_for, schemas.ShiftOpen(opening_float=0),
                                       key="shift", path="/v1/shifts", currency="USD", now=now)
            assert opened.status == 201, opened.body
        return db

    yield seed
    for db in created:
        db.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def dialect_url(request: pytest.FixtureRequest) -> str | None:
    """Parametrises a test over both databases: None for SQLite (``seeded``'s default file),
    else the URL of a fresh database on the :func:`postgres` cluster; pass it to ``seeded``
    as ``url``."""
    if request.param == "sqlite":
        return None
    server: PostgresServer = request.getfixturevalue("postgres")  # tests/conftest.py
    return server.create_database(f"t_{uuid.uuid4().hex[:12]}")
