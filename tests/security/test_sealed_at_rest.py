"""Issue 16, attack 6 (a copy of the database): what the copy gives away.

The database held each PIN as a plain Argon2id hash (a 4-digit PIN falls to an offline
search in minutes) and each webhook secret in plain text. Now both are sealed with keys kept
in the data folder's secrets (``pin.key``, the pepper; ``webhook.key``), so the database
alone gives neither. Each test is the attack, or the upgrade of an old database, on SQLite
and PostgreSQL; the admin calls are those of ``pos-app admin`` with ``--data-dir``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError
from sqlalchemy import create_engine, select, text, update

from pos_app import cli
from pos_app.api import schemas
from pos_app.domain.clock import FixedClock
from pos_app.server import admin, migrate, security
from pos_app.server.app import create_app
from pos_app.server.db import Database
from pos_app.server.models import Staff, TicketType, Webhook
from pos_app.server.runner import ServeOptions, serve
from pos_app.server.sealing import PIN_PREFIX, WEBHOOK_PREFIX
from pos_app.server.secrets_dir import PIN_KEY, SECRETS_DIRNAME, WEBHOOK_KEY, SecretsError
from pos_app.server.services import anchoring, capacity, live, sealing_keys, webhooks
from pos_app.server.services.principal import Principal
from pos_app.server.services.webhook_dispatcher import WebhookDispatcher
from pos_app.server.services.webhook_http import Reply
from pos_app.server.settings import ServerSettings
from tests.security.conftest import ClockSleep, _url

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

pytestmark = pytest.mark.filterwarnings(  # Starlette's TestClient asks for "httpx2"; not ours
    "ignore:Using `httpx` with `starlette.testclient` is deprecated")

NOW = datetime(2026, 3, 14, 18, 0, tzinfo=UTC)
CATALOG = {"events": [{
    "id": "gig", "name": "Gig", "venue": "Hall", "starts_at": "2026-03-14T19:30:00",
    "timezone": "America/Chicago", "currency": "USD",
    "ticket_types": [{"name": "GA", "price": 2500, "capacity": 10, "public_limit": 10,
                      "alert_ladder": [8]}]}]}
MANAGER = Principal(session_id=1, staff_id=1, username="morgan", display_name="morgan",
                    role="manager", terminal_id=1, terminal_name="till")


@pytest.fixture
def url(request: pytest.FixtureRequest, dialect: str, tmp_path: Path) -> str:
    """A fresh database of ``dialect`` (SQLite ``tmp_path/pos.sqlite3``)."""
    return _url(request, tmp_path)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "data"


def _enrol(url: str, data_dir: Path, *staff: tuple[str, str, str]) -> None:
    """``pos-app admin add-staff`` for each ``(username, role, pin)``."""
    for username, role, pin in staff:
        admin.add_staff(url, username, role=role, pin=pin, display_name=username,
                        data_dir=data_dir)


def _stored(url: str) -> dict[str, str]:
    """What the database alone says: username -> ``staff.pin_hash``, read with a plain
    engine that has no key."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT username, pin_hash FROM staff")).all()
    finally:
        engine.dispose()
    return {str(username): str(pin_hash) for username, pin_hash in rows}


def _file_bytes(url: str) -> bytes:
    """Every byte of a SQLite database: the file and what its write-ahead log holds."""
    path = Path(url.removeprefix("sqlite:///"))
    return b"".join(p.read_bytes() for p in (path, path.with_name(path.name + "-wal"))
                    if p.exists())


def _database(url: str, data_dir: Path) -> Database:
    """A server process's database: the data folder's audit chain and sealing keys."""
    return Database(url, chain=anchoring.load_chain(data_dir, create=False),
                    keys=sealing_keys.load_keys(data_dir, create=False),
                    write_hooks=[live.install_session_hooks])


Till = tuple["TestClient", dict[str, str]]
"""A paired till of an in-process server: its client and its terminal's auth header."""


@contextmanager
def _till(url: str, data_dir: Path, *, database: Database | None = None) -> Iterator[Till]:
    """A paired till of an in-process server on ``url``, with ``data_dir``'s keys unless
    ``database`` is given (disposed with the till)."""
    from fastapi.testclient import TestClient

    code = admin.add_terminal(url, "till", clock=FixedClock(NOW), data_dir=data_dir)
    db = database or _database(url, data_dir)
    clock = FixedClock(NOW)
    settings = ServerSettings(database_url=url, clock=clock, sleep=ClockSleep(clock),
                              sweeper_interval=timedelta(0), webhook_interval=timedelta(0))
    client = TestClient(create_app(settings, database=db), base_url="https://testserver")
    try:
        paired = client.post("/v1/terminals/pair", json={"pairing_code": code.pairing_code})
        assert paired.status_code == 201, paired.text
        yield client, {"Authorization": f"Bearer {paired.json()['terminal_token']}"}
    finally:
        client.close()
        db.dispose()


def _sign_in(till: Till, username: str, pin: str) -> tuple[int, str]:
    client, auth = till
    answer = client.post("/v1/sessions", json={"username": username, "pin": pin},
                         headers=auth)
    return answer.status_code, answer.text


def test_a_copy_of_the_database_alone_holds_no_pin_hash_argon2_can_check(
        url: str, data_dir: Path, dialect: str) -> None:
    _enrol(url, data_dir, ("morgan", "manager", "2468"), ("alex", "cashier", "1234"))

    stored = _stored(url)
    for username, pin in (("morgan", "2468"), ("alex", "1234")):
        assert stored[username].startswith(PIN_PREFIX), stored[username][:12]
        assert "argon2" not in stored[username]
        with pytest.raises(InvalidHashError):  # the cracker's tool has nothing to work on
            PasswordHasher().verify(stored[username], pin)
    if dialect == "sqlite":  # the stolen files hold no Argon2 hash anywhere
        assert b"$argon2" not in _file_bytes(url)

    with _till(url, data_dir) as till:  # the server, with the data folder's key
        assert _sign_in(till, "morgan", "2468")[0] == 201
        assert _sign_in(till, "alex", "1234")[0] == 201
        assert _sign_in(till, "alex", "4321")[0] == 401


def test_a_database_served_with_another_pin_key_refuses_sign_in_with_401_and_logs_it_once(
        url: str, data_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    _enrol(url, data_dir, ("morgan", "manager", "2468"))
    other = tmp_path / "other-venue"  # another folder's pin.key, made for the occasion
    wrong = Database(url, keys=sealing_keys.load_keys(other, create=True),
                     write_hooks=[live.install_session_hooks])

    with caplog.at_level(logging.ERROR, "pos_app.server.sealing"), \
            _till(url, data_dir, database=wrong) as till:
        answers = [_sign_in(till, "morgan", "2468") for _ in range(2)]
    assert [status for status, _ in answers] == [401, 401]  # refused, not a 500
    assert all("Wrong username or PIN." in body for _, body in answers)
    [logged] = [r.getMessage() for r in caplog.records if "morgan" in r.getMessage()]
    assert "pin.key" in logged and "2468" not in logged


def test_a_cashier_who_pastes_their_own_sealed_hash_over_the_managers_gains_nothing(
        url: str, data_dir: Path) -> None:
    # An inside attacker who can write the database but not read the secrets folder.
    _enrol(url, data_dir, ("morgan", "manager", "2468"), ("alex", "cashier", "1234"))
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(update(Staff).where(Staff.username == "morgan")
                           .values(pin_hash=_stored(url)["alex"]))
    engine.dispose()

    with _till(url, data_dir) as till:  # the seal names its username: it opens for alex only
        assert _sign_in(till, "morgan", "1234")[0] == 401
        assert _sign_in(till, "alex", "1234")[0] == 201


def test_a_start_whose_pin_key_was_lost_is_refused_and_makes_no_new_key(
        url: str, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _enrol(url, data_dir, ("morgan", "manager", "2468"))
    pin_key = data_dir / SECRETS_DIRNAME / PIN_KEY
    pin_key.unlink()  # the secrets folder was not restored with the database

    code = cli.main(["admin", "add-terminal", "till", "--database-url", url,
                     "--data-dir", str(data_dir)])
    err = capsys.readouterr().err
    assert code == cli.EXIT_BAD_INPUT and "Traceback" not in err
    assert "PIN hashes are sealed, but none opens" in err and "Restore pin.key" in err
    assert not pin_key.exists()  # the key it made for a moment is gone again
    with pytest.raises(SecretsError, match="there is none"):
        admin.add_terminal(url, "till", data_dir=data_dir)
    assert _stored(url)["morgan"].startswith(PIN_PREFIX)  # and nothing was changed


def test_a_server_started_with_a_wrong_pin_key_is_refused_with_a_sentence(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data_dir = tmp_path / "data"
    _enrol(str(data_dir), data_dir, ("morgan", "manager", "2468"))
    pin_key = data_dir / SECRETS_DIRNAME / PIN_KEY
    pin_key.write_text("ab" * 32 + "\n", encoding="ascii")  # a key, but not this one

    with pytest.raises(SystemExit) as refused:
        serve(ServeOptions(database=str(data_dir), host="127.0.0.1", port=1, demo=False,
                           workers=1, certfile=None, keyfile=None, data_dir=None))
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert "it is not the key they were sealed with" in err and "Restore pin.key" in err
    assert pin_key.read_text(encoding="ascii") == "ab" * 32 + "\n"  # an existing key is kept


def test_an_old_database_with_plain_hashes_and_secrets_is_sealed_at_the_upgrade_and_nobody_re_enrolls(  # noqa: E501
        url: str, data_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    old = Database(url)  # the old version: plain Argon2 hashes and secrets in the database
    migrate.upgrade(old)
    plain_secret = webhooks.new_secret()
    with old.write() as session:
        for username, role, pin in (("morgan", "manager", "2468"), ("alex", "cashier", "1234")):
            session.add(Staff(username=username, display_name=username, role=role,
                              pin_hash=security.hash_pin(pin), active=True))
        session.add(Webhook(url="https://hooks.example.com/pos", secret=plain_secret,
                            active=True, created_at=NOW, cursor_seq=0, attempts=0))
    old.dispose()

    with caplog.at_level(logging.INFO, "pos_app.server.sealing"):
        admin.import_catalog(url, CATALOG, clock=FixedClock(NOW), data_dir=data_dir)  # 1st start
    said = [r.getMessage() for r in caplog.records]
    assert any("wrapped 2 PIN hashes with the pepper key" in m for m in said), said
    assert any("sealed 1 webhook secrets with webhook.key" in m for m in said), said
    stored = _stored(url)
    assert all(h.startswith(PIN_PREFIX) for h in stored.values()), stored

    caplog.clear()
    with caplog.at_level(logging.INFO, "pos_app.server.sealing"), \
            _till(url, data_dir) as till:  # a later start wraps nothing again
        assert _sign_in(till, "morgan", "2468")[0] == 201  # their old PINs
        assert _sign_in(till, "alex", "1234")[0] == 201
    assert not [r for r in caplog.records if "wrapped" in r.getMessage()]
    assert _stored(url) == stored

    sent = _deliver_one_alert(url, data_dir)
    assert webhooks.verify_signature(plain_secret, sent.body, now=NOW.timestamp(),
                                     timestamp=sent.headers["X-POS-Timestamp"],
                                     signature=sent.headers["X-POS-Signature"])


def test_a_webhook_secret_is_not_in_the_database_and_deliveries_verify_with_it(
        url: str, data_dir: Path, dialect: str) -> None:
    admin.import_catalog(url, CATALOG, clock=FixedClock(NOW), data_dir=data_dir)
    created = admin.add_webhook(url, "http://127.0.0.1:9/hook", allow_private=True,
                                clock=FixedClock(NOW), data_dir=data_dir)
    secret = created.secret

    db = _database(url, data_dir)
    try:
        with db.read() as session:
            stored = session.scalars(select(Webhook.secret)).one()
    finally:
        db.dispose()
    assert stored is not None and stored.startswith(WEBHOOK_PREFIX)
    assert secret not in stored and len(stored) <= 128  # fits webhooks.secret
    if dialect == "sqlite":
        assert secret.encode() not in _file_bytes(url)
        assert secret.removeprefix("whsec_").encode() not in _file_bytes(url)

    sent = _deliver_one_alert(url, data_dir)
    assert webhooks.verify_signature(secret, sent.body, now=NOW.timestamp(),
                                     timestamp=sent.headers["X-POS-Timestamp"],
                                     signature=sent.headers["X-POS-Signature"])


class _Sent:
    """One delivery as the receiver got it."""

    def __init__(self, body: bytes, headers: Mapping[str, str]) -> None:
        self.body = body
        self.headers = dict(headers)


def _deliver_one_alert(url: str, data_dir: Path) -> _Sent:
    """Cross GA's alert rung (10 -> 6 seats) and let a server process's dispatcher post it;
    returns what was posted."""
    sent: list[_Sent] = []

    def receive(_url: str, body: bytes, headers: Mapping[str, str], _timeout: float) -> Reply:
        sent.append(_Sent(body, headers))
        return Reply(status=200, error=None, duration_ms=1)

    db = _database(url, data_dir)
    try:
        with db.read() as session:
            ga = session.scalars(select(TicketType.id)).one()
        done = capacity.change_capacity(
            db, MANAGER, ga, schemas.CapacityChange(delta=-4, reason="blocked seats"),
            key="cut", path=f"/v1/ticket-types/{ga}/capacity", now=NOW)
        assert done.status == 200, done.body
        dispatcher = WebhookDispatcher(db, clock=FixedClock(NOW), sender=receive)
        assert asyncio.run(dispatcher.run_once()) == 1
        dispatcher.close()
    finally:
        db.dispose()
    [delivery] = sent
    return delivery


def test_a_start_whose_webhook_key_is_not_the_one_its_secrets_were_sealed_with_is_refused(
        url: str, data_dir: Path) -> None:
    admin.add_webhook(url, "https://hooks.example.com/pos", clock=FixedClock(NOW),
                      data_dir=data_dir)
    (data_dir / SECRETS_DIRNAME / WEBHOOK_KEY).write_text("cd" * 32 + "\n", encoding="ascii")

    with pytest.raises(SecretsError, match="webhook secrets are sealed, but none opens"):
        admin.list_webhooks(url, data_dir=data_dir)


def test_the_pepper_may_live_in_a_file_named_by_pos_app_pin_key_file(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data_dir = tmp_path / "data"
    mounted = tmp_path / "mounted" / "pin.key"  # a deployment secret outside the data folder
    mounted.parent.mkdir()
    mounted.write_text("ef" * 32 + "\n", encoding="ascii")
    mounted.chmod(0o644)
    monkeypatch.setenv(sealing_keys.ENV_PIN_KEY_FILE, str(mounted))
    url = f"sqlite:///{data_dir / 'pos.sqlite3'}"
    _enrol(url, data_dir, ("morgan", "manager", "2468"))

    assert not (data_dir / SECRETS_DIRNAME / PIN_KEY).exists()
    assert mounted.stat().st_mode & 0o777 == 0o600  # tightened when read
    with _till(url, data_dir) as till:
        assert _sign_in(till, "morgan", "2468")[0] == 201
    monkeypatch.delenv(sealing_keys.ENV_PIN_KEY_FILE)  # an admin command without it: refused
    with pytest.raises(SecretsError, match="PIN hashes are sealed, but none opens"):
        admin.add_terminal(url, "till", data_dir=data_dir)
    monkeypatch.setenv(sealing_keys.ENV_PIN_KEY_FILE, "relative/pin.key")
    with pytest.raises(SecretsError, match="must be an absolute path"):
        sealing_keys.load_keys(data_dir, create=False)
