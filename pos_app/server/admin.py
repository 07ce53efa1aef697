"""``pos-app admin ...``: short transactions against the server database, safe while the
server runs (SQLite waits for the server's write lock through ``busy_timeout``).

``database`` is an absolute data folder (SQLite at ``DIR/pos.sqlite3``) or a SQLAlchemy URL,
as for :class:`pos_app.server.runner.ServeOptions`. Each call upgrades the schema first,
keys the audit chain and seals PIN hashes and webhook secrets with the data folder's secrets
(``database`` itself, or ``data_dir`` with a URL: :func:`open_database`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from pos_app.api import schemas
from pos_app.domain.clock import Clock, SystemClock
from pos_app.server import migrate
from pos_app.server.catalog import parse_catalog
from pos_app.server.db import Database
from pos_app.server.db_errors import WriteConflict
from pos_app.server.errors import ApiError
from pos_app.server.models import Event
from pos_app.server.services import (
    anchoring,
    catalog_import,
    channels,
    identity,
    live,
    sealing_keys,
    webhooks,
)
from pos_app.server.services.inventory import bump_counters
from pos_app.server.settings import ServerSettings, database_url_for

__all__ = ["DEMO_CATALOG", "add_channel_token", "add_staff", "add_terminal", "add_webhook",
           "demo_catalog", "import_catalog", "list_webhooks", "load_demo", "open_database",
           "remove_webhook"]

DEMO_CATALOG = Path(__file__).resolve().parents[2] / "resources" / "demo_catalog.json"


@contextmanager
def open_database(database: str, data_dir: Path | None = None) -> Iterator[Database]:
    """A migrated :class:`Database` for ``database`` (folder or URL), disposed on exit, with
    the audit chain keyed and anchored and PIN hashes and webhook secrets sealed with the
    data folder's secrets (``data_dir``, or ``database`` itself when it is a folder:
    :mod:`pos_app.server.services.anchoring`, :mod:`pos_app.server.services.sealing_keys`).
    Its writes carry the live inventory's hooks, as a server's do: what they change gets a
    new inventory version, which a server on the same database picks up.

    A URL without ``data_dir`` (tests only: the CLI always has a data folder) gets a
    throwaway audit key and this process's throwaway sealing keys: what it appends does not
    verify anywhere else, and what it seals opens in this process only.

    Raises:
        pos_app.server.secrets_dir.SecretsError: the data folder's audit key is missing or
            not a key, or its anchor file is missing for a chain keyed before; the
            database's sealed PIN hashes or webhook secrets do not open with its keys.
        pos_app.server.audit_anchors.AnchorFileError: its anchor file is not one.
    """
    folder = data_dir or (Path(database) if "://" not in database else None)
    chain = keys = None
    if folder is not None:
        database_url_for(str(folder))  # a relative folder is refused; the folder made 0700
        chain = anchoring.load_chain(folder, create=True)
        keys = sealing_keys.load_keys(folder, create=True)
    db = Database(database_url_for(database), chain=chain, keys=keys,
                  write_hooks=[live.install_session_hooks])
    try:
        migrate.upgrade(db)
        anchoring.prepare_chain(db, SystemClock().now())
        sealing_keys.prepare_keys(db)
        yield db
    finally:
        db.dispose()


def add_terminal(database: str, name: str, *,
                 clock: Clock | None = None,
                 data_dir: Path | None = None) -> schemas.TerminalCreated:
    """Create terminal ``name``; returns its id and single-use pairing code (10 minutes).

    Raises:
        ValueError: an empty name.
    """
    clock = clock or SystemClock()
    ttl = ServerSettings(database_url="").pairing_code_ttl
    with open_database(database, data_dir) as db:
        try:
            with db.write() as session:
                return identity.create_terminal(session, name, now=clock.now(), ttl=ttl)
        except (ApiError, WriteConflict) as exc:
            raise ValueError(str(exc)) from None


def add_channel_token(database: str, channel: str, name: str | None = None, *,
                      clock: Clock | None = None,
                      data_dir: Path | None = None) -> tuple[int, str]:
    """Create a token for sales channel ``channel`` (e.g. ``online``) called ``name``
    (defaults to the channel); returns ``(id, token)``. The token is shown only now: the
    database keeps its SHA-256. It may hold and sell as ``channel``, nothing else.

    Raises:
        ValueError: a bad channel or name.
    """
    clock = clock or SystemClock()
    with open_database(database, data_dir) as db:
        try:
            with db.write() as session:
                return channels.create_channel_token(session, channel, name=name,
                                                     now=clock.now())
        except (ApiError, WriteConflict) as exc:
            raise ValueError(str(exc)) from None


def add_webhook(database: str, url: str, *, clock: Clock | None = None,
                allow_private: bool = False,
                data_dir: Path | None = None) -> schemas.WebhookCreated:
    """Add a webhook posting every stock alert raised from now on to ``url`` (``https://``,
    or ``http://`` to a loopback host; a loopback or private address only with
    ``allow_private``, and the server then needs ``--allow-private-webhooks`` to post to
    it); returns it with its signing secret, shown only now
    (:mod:`pos_app.server.services.webhooks` describes the signature). A running server
    starts posting to it within its ``webhook_interval``.

    Raises:
        ValueError: a URL that cannot receive webhooks (a sentence saying why).
    """
    clock = clock or SystemClock()
    with open_database(database, data_dir) as db:
        try:
            with db.write() as session:
                return webhooks.create_webhook(session, url, now=clock.now(),
                                               allow_private=allow_private)
        except (ApiError, WriteConflict) as exc:
            raise ValueError(str(exc)) from None


def list_webhooks(database: str, *, data_dir: Path | None = None) -> schemas.WebhookList:
    """Every webhook (removed ones too, oldest first) with its full URL and delivery state;
    no secrets."""
    with open_database(database, data_dir) as db, db.read() as session:
        return webhooks.list_webhooks(session, full_urls=True)


def remove_webhook(database: str, webhook_id: int, *,
                   clock: Clock | None = None,
                   data_dir: Path | None = None) -> schemas.WebhookOut:
    """Stop posting to webhook ``webhook_id`` and erase its secret (its delivery log stays);
    returns it as it is now. Removing it again changes nothing.

    Raises:
        LookupError: there is no such webhook.
    """
    clock = clock or SystemClock()
    with open_database(database, data_dir) as db:
        try:
            with db.write() as session:
                return webhooks.remove_webhook(session, webhook_id, now=clock.now())
        except (ApiError, WriteConflict) as exc:
            raise LookupError(str(exc)) from None


def add_staff(database: str, username: str, *, role: str, pin: str,
              display_name: str, data_dir: Path | None = None) -> schemas.StaffOut:
    """Create a staff member (``role`` cashier/manager/admin, ``pin`` 4-12 digits).

    Raises:
        ValueError: a bad role or PIN, or the username is taken.
    """
    with open_database(database, data_dir) as db:
        try:
            with db.write() as session:
                return identity.add_staff(session, username, role=role, pin=pin,
                                          display_name=display_name)
        except (ApiError, WriteConflict) as exc:
            raise ValueError(str(exc)) from None


def import_catalog(database: str, catalog: dict[str, Any], *,
                   clock: Clock | None = None,
                   data_dir: Path | None = None) -> catalog_import.ImportReport:
    """Import events (and staff, if listed) from a catalog document (the format is in
    ``docs/cli.md`` and :mod:`pos_app.server.catalog`); returns what was created, what was
    already there and what was skipped. An event whose id exists is never changed: it is
    reported unchanged when it matches the file, else skipped with the differences. Existing
    usernames are left alone (PINs are never reset or reported).

    Raises:
        ValueError: the catalog is malformed (a sentence naming the problem); nothing is
            imported then.
    """
    parsed = parse_catalog(catalog)
    clock = clock or SystemClock()
    with open_database(database, data_dir) as db, db.write() as session:
        return catalog_import.import_catalog(session, parsed, now=clock.now())


def demo_catalog(now: datetime) -> dict[str, Any]:
    """``resources/demo_catalog.json`` with its events dated in the weeks after ``now``
    (timezone-aware), so the demo has events to sell whenever it starts.

    Event ``n`` of the file (0-based, in the file's order) moves to the first day on its own
    weekday that is at least ``7 n + 1`` days after ``now``'s date in the event's time zone,
    at its own local time: the file's first event is always the soonest (the server lists
    events soonest first, so the window opens on it), and each comes in its own week. Ids,
    names and everything else stay as written; the dates in the file only give the weekday
    and the time of day.
    """
    raw: dict[str, Any] = json.loads(DEMO_CATALOG.read_text(encoding="utf-8"))
    for n, event in enumerate(raw.get("events", [])):
        written = datetime.fromisoformat(event["starts_at"])
        today = now.astimezone(ZoneInfo(event["timezone"])).date()
        earliest = today + timedelta(days=7 * n + 1)
        day = earliest + timedelta(days=(written.weekday() - earliest.weekday()) % 7)
        event["starts_at"] = datetime.combine(day, written.timetz()).isoformat()
    return raw


def load_demo(database: str, *, clock: Clock | None = None,
              data_dir: Path | None = None) -> bool:
    """Load the demo catalog (:func:`demo_catalog`: events in the coming weeks, staff
    alex/1234 and morgan/2468) when the database holds no events and no staff; returns True
    when it loaded.

    Otherwise only the demo's events (by id) that have already started are moved to their
    date from :func:`demo_catalog`, counts and sales untouched, so a demo started again weeks
    later still has events to sell; returns False.
    """
    clock = clock or SystemClock()
    now = clock.now()
    parsed = parse_catalog(demo_catalog(now))
    with open_database(database, data_dir) as db, db.write() as session:
        if not catalog_import.is_empty(session):
            moved = False
            for item in parsed.events:
                event = session.get(Event, item.id)
                if event is not None and event.starts_at <= now:
                    event.starts_at = item.starts_at
                    moved = True
            if moved:
                bump_counters(session)  # a new events ETag: terminals read the new dates
            return False
        catalog_import.import_catalog(session, parsed, now=now)
        return True
