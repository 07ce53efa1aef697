"""An in-process venue for the attacks of issue 16: a migrated database (SQLite, or a fresh
PostgreSQL database with ``dialect``), the app on a clock the test controls, and two tills.

The venue-wide PIN delay is waited out with :class:`ClockSleep`, which moves the clock
instead of sleeping, and keeps every wait, so tests assert how long a real server would have
made the caller wait without taking that long. Requests go through Starlette's TestClient
without its lifespan (no sweeper or purger running behind the test's back); each till has
its own client address.
"""

from __future__ import annotations

import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from pos_app.domain.clock import FixedClock
from pos_app.server import migrate
from pos_app.server.app import create_app
from pos_app.server.catalog import parse_catalog
from pos_app.server.db import Database
from pos_app.server.models import Staff
from pos_app.server.services import catalog_import, identity, live, sealing_keys
from pos_app.server.settings import ServerSettings
from tests.support.postgres import PostgresServer

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

NOW = datetime(2026, 3, 14, 18, 0, tzinfo=UTC)
MANAGER_PIN = "2468"
CASHIER_PIN = "1234"

_EVENT = {"id": "gig", "name": "Gig", "venue": "Hall", "starts_at": "2026-03-14T19:30:00",
          "timezone": "America/Chicago", "currency": "USD",
          "ticket_types": [{"name": "GA", "price": 2500, "capacity": 50}]}


class ClockSleep:
    """``ServerSettings.sleep`` for tests: moves ``clock`` by the seconds asked, at once."""

    def __init__(self, clock: FixedClock) -> None:
        self.clock = clock
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.clock.advance(timedelta(seconds=seconds))


@dataclass
class Venue:
    """The database, settings and clock, and a client per till (``till1`` at 10.0.0.1,
    ``till2`` at 10.0.0.2) carrying that terminal's token. ``data_dir`` is the venue's data
    folder: its secrets seal the database's PIN hashes and webhook secrets, so admin commands
    given ``--data-dir data_dir`` work on it as on a server's."""

    db: Database
    settings: ServerSettings
    clock: FixedClock
    sleep: ClockSleep
    data_dir: Path
    tills: dict[str, TestClient] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def sign_in(self, till: str, username: str, pin: str) -> dict[str, str]:
        """Sign ``username`` in at ``till``; returns the session's auth header."""
        answer = self.tills[till].post("/v1/sessions", json={"username": username, "pin": pin},
                                       headers=self.terminal_auth(till))
        assert answer.status_code == 201, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}

    def terminal_auth(self, till: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[till]}"}

    def post(self, till: str, path: str, body: dict[str, Any],
             auth: dict[str, str]) -> Any:
        return self.tills[till].post(path, json=body,
                                     headers={**auth, "Idempotency-Key": uuid.uuid4().hex})


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def dialect(request: pytest.FixtureRequest) -> str:
    """Parametrises a test over SQLite and PostgreSQL (where the database matters)."""
    return str(request.param)


def _url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    dialect = request.getfixturevalue("dialect") if "dialect" in request.fixturenames else None
    if dialect == "postgresql":
        server: PostgresServer = request.getfixturevalue("postgres")  # tests/conftest.py
        return server.create_database(f"s_{uuid.uuid4().hex[:12]}")
    return f"sqlite:///{tmp_path / 'pos.sqlite3'}"


@pytest.fixture
def venue(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Venue]:
    """A venue with the demo staff (``alex`` cashier, ``morgan`` manager), a cashier
    ``sam`` and a manager ``pat`` who has left (inactive), and two paired tills."""
    data_dir = tmp_path / "data"
    db = Database(_url(request, tmp_path),
                  keys=sealing_keys.load_keys(data_dir, create=True),
                  write_hooks=[live.install_session_hooks])
    migrate.upgrade(db)
    tokens: dict[str, str] = {}
    with db.write() as session:
        catalog_import.import_catalog(session, parse_catalog({"events": [_EVENT]}), now=NOW)
        for username, role, pin in (("alex", "cashier", CASHIER_PIN),
                                    ("morgan", "manager", MANAGER_PIN),
                                    ("sam", "cashier", "1111"), ("pat", "manager", "3579")):
            identity.add_staff(session, username, role=role, pin=pin, display_name=username)
        for name in ("till1", "till2"):
            code = identity.create_terminal(session, name, now=NOW,
                                            ttl=timedelta(minutes=10)).pairing_code
            tokens[name] = identity.pair_terminal(session, code, now=NOW).terminal_token
    with db.write() as session:
        pat = session.scalars(select(Staff).where(Staff.username == "pat")).one()
        pat.active = False
    clock = FixedClock(NOW)
    sleep = ClockSleep(clock)
    settings = ServerSettings(database_url=db.url, clock=clock, sleep=sleep,
                              sweeper_interval=timedelta(0), webhook_interval=timedelta(0))
    with warnings.catch_warnings():  # Starlette's TestClient asks for "httpx2"; not ours
        warnings.simplefilter("ignore")
        from fastapi.testclient import TestClient
    app = create_app(settings, database=db)
    venue = Venue(db, settings, clock, sleep, data_dir, tokens=tokens)
    for number, name in enumerate(("till1", "till2"), start=1):
        venue.tills[name] = TestClient(app, base_url="https://testserver",
                                       client=(f"10.0.0.{number}", 40000))
    try:
        yield venue
    finally:
        for client in venue.tills.values():
            client.close()
        db.dispose()
