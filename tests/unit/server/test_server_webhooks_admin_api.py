"""Webhooks around the dispatcher: the ``pos-app admin`` commands, the managers' read-only
API (``GET /v1/webhooks``, the delivery log), the dispatcher's life in the app, and the one
sending process among several on PostgreSQL."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from pos_app import cli
from pos_app.api import schemas
from pos_app.domain.clock import FixedClock
from pos_app.server.app import create_app
from pos_app.server.db import Database
from pos_app.server.models import TicketType, Webhook
from pos_app.server.services import capacity, identity, live, webhooks
from pos_app.server.services.principal import Principal
from pos_app.server.services.webhook_dispatcher import WebhookDispatcher, start_dispatcher
from pos_app.server.settings import ServerSettings
from tests.support.postgres import PostgresServer
from tests.support.webhook_receiver import WebhookReceiver, webhook_receiver

if TYPE_CHECKING:
    from fastapi.testclient import TestClient

NOW = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
MANAGER = Principal(session_id=2, staff_id=2, username="max", display_name="Max",
                    role="manager", terminal_id=1, terminal_name="till")
GA = {"name": "GA", "price": 2500, "capacity": 10, "alert_ladder": [8, 6, 4, 2, 0]}

# Starlette's TestClient asks for "httpx2"; its deprecation of plain httpx is not ours to fix.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Using `httpx` with `starlette.testclient` is deprecated")


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with webhook_receiver() as started:
        yield started


@pytest.fixture
def database(seeded: Callable[..., Database], tmp_path: Path) -> Database:
    # sealed with the data folder the admin commands are given (_admin), as a server's are
    return seeded(now=NOW, ticket_types=[GA], terminals=["till"], data_dir=tmp_path / "data",
                  staff=[("sam", "cashier", "1111", "Sam"), ("max", "manager", "2222", "Max")])


def _cross(database: Database, times: int = 1) -> None:
    """Cut GA's capacity by 2, ``times`` times: each cut crosses the next rung down."""
    with database.read() as session:
        ga = session.scalars(select(TicketType).where(TicketType.name == "GA")).one()
    for _ in range(times):
        done = capacity.change_capacity(
            database, MANAGER, ga.id, schemas.CapacityChange(delta=-2, reason="fire marshal"),
            key=uuid.uuid4().hex, path=f"/v1/ticket-types/{ga.id}/capacity", now=NOW)
        assert done.status == 200, done.body


def _add(database: Database, url: str) -> schemas.WebhookCreated:
    with database.write() as session:
        # The receivers of these tests listen on 127.0.0.1: a private target, allowed here.
        return webhooks.create_webhook(session, url, now=NOW, allow_private=True)


def _tick(dispatcher: WebhookDispatcher) -> int:
    return asyncio.run(dispatcher.run_once())


def _admin(capsys: pytest.CaptureFixture[str], database: Database,
           *args: str) -> tuple[int, str, str]:
    # The data folder beside the test's database holds the secrets admin commands need.
    data_dir = Path(str(database.url).removeprefix("sqlite:///")).parent / "data"
    code = cli.main(["admin", *args, "--database-url", database.url,
                     "--data-dir", str(data_dir)])
    out, err = capsys.readouterr()
    return code, out, err


# --- pos-app admin ----------------------------------------------------------------------------


def test_add_webhook_prints_the_secret_alone_on_the_last_line(
        database: Database, receiver: WebhookReceiver,
        capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = _admin(capsys, database, "add-webhook", receiver.url,
                          "--allow-private-webhooks")
    assert code == cli.EXIT_OK
    *said, secret = out.strip().splitlines()
    assert receiver.url in said[0] and "only once" in said[0]
    assert secret.startswith("whsec_") and " " not in secret
    with database.read() as session:
        stored = session.scalars(select(Webhook)).one()
    assert (stored.url, stored.active) == (receiver.url, True)
    assert stored.secret is not None and secret not in stored.secret  # sealed at rest
    assert database.keys.webhooks.open(stored.secret, str(stored.id)) == secret

    code, out, _ = _admin(capsys, database, "list-webhooks")
    assert code == cli.EXIT_OK
    assert receiver.url in out and "active" in out and secret not in out
    code, out, _ = _admin(capsys, database, "list-webhooks", "--json")
    [listed] = json.loads(out)["webhooks"]
    assert listed["id"] == stored.id and "secret" not in listed

    code, out, _ = _admin(capsys, database, "remove-webhook", str(stored.id))
    assert code == cli.EXIT_OK and "removed" in out
    code, out, _ = _admin(capsys, database, "list-webhooks")
    assert "removed" in out


@pytest.mark.parametrize(("args", "says"), [
    (["add-webhook", "http://hooks.example.com/pos"], "https"),
    (["remove-webhook", "42"], "no webhook 42"),
    (["remove-webhook", "99999999999"], "no webhook"),
])
def test_the_webhook_commands_refuse_bad_input_with_a_sentence(
        database: Database, capsys: pytest.CaptureFixture[str], args: list[str],
        says: str) -> None:
    code, out, err = _admin(capsys, database, *args)
    assert code == cli.EXIT_BAD_INPUT
    assert says in err and out == ""


# --- the managers' API ------------------------------------------------------------------------


@pytest.fixture
def client(database: Database) -> Iterator[TestClient]:
    from fastapi.testclient import TestClient

    # The app's own dispatcher is off: these tests post with their own, tick by tick.
    settings = ServerSettings(database_url=database.url, clock=FixedClock(NOW),
                              sweeper_interval=timedelta(0), webhook_interval=timedelta(0))
    with TestClient(create_app(settings, database=database),
                    base_url="https://testserver") as test_client:
        yield test_client


def _bearer(client: TestClient, database: Database, username: str, pin: str) -> dict[str, str]:
    with database.write() as session:
        code = identity.create_terminal(session, f"till-{username}", now=NOW,
                                        ttl=timedelta(minutes=10)).pairing_code
        terminal_token = identity.pair_terminal(session, code, now=NOW).terminal_token
    signed_in = client.post("/v1/sessions", json={"username": username, "pin": pin},
                            headers={"Authorization": f"Bearer {terminal_token}"})
    assert signed_in.status_code == 201, signed_in.text
    return {"Authorization": f"Bearer {signed_in.json()['token']}"}


def test_managers_read_the_webhooks_and_their_delivery_log_page_by_page(
        client: TestClient, database: Database, receiver: WebhookReceiver) -> None:
    hook = _add(database, receiver.url)
    _cross(database, times=2)
    receiver.script([500])
    clock = FixedClock(NOW)
    dispatcher = WebhookDispatcher(database, clock=clock, rng=lambda: 0.0,
                                   allow_private_targets=True)
    _tick(dispatcher)
    clock.advance(timedelta(seconds=1))
    _tick(dispatcher)  # 3 attempts: 500, then both alerts delivered
    manager = _bearer(client, database, "max", "2222")

    listed = client.get("/v1/webhooks", headers=manager)
    assert listed.status_code == 200
    [shown] = listed.json()["webhooks"]
    assert shown == {"id": hook.id, "url": f"http://127.0.0.1:{receiver.port}/...",
                     "active": True,
                     "created_at": "2026-03-01T18:00:00Z", "removed_at": None,
                     "last_seq": hook.last_seq + 2, "pending": 0, "attempts": 0,
                     "next_attempt_at": None}
    assert hook.secret not in listed.text
    assert "/hooks/stock" not in listed.text  # a path may be the receiver's credential

    path = f"/v1/webhooks/{hook.id}/deliveries"
    first = client.get(path, params={"limit": 2}, headers=manager).json()
    assert [(d["alert_seq"], d["attempt"], d["status_code"], d["outcome"])
            for d in first["deliveries"]] == [(hook.last_seq + 2, 1, 200, "delivered"),
                                              (hook.last_seq + 1, 2, 200, "delivered")]
    rest = client.get(path, params={"limit": 2, "cursor": first["next_cursor"]},
                      headers=manager).json()
    assert [(d["attempt"], d["status_code"], d["outcome"]) for d in rest["deliveries"]] == [
        (1, 500, "retrying")]
    assert rest["next_cursor"] is None
    delivery_ids = {r.headers["x-pos-delivery"] for r in receiver.requests()}
    assert {d["delivery_id"] for d in first["deliveries"] + rest["deliveries"]} == delivery_ids


def test_the_webhook_routes_are_for_managers_and_refuse_bad_input(
        client: TestClient, database: Database, receiver: WebhookReceiver) -> None:
    hook = _add(database, receiver.url)
    cashier = _bearer(client, database, "sam", "1111")
    manager = _bearer(client, database, "max", "2222")
    for path in ("/v1/webhooks", f"/v1/webhooks/{hook.id}/deliveries"):
        refused = client.get(path, headers=cashier)
        assert (refused.status_code, refused.json()["error"]) == (403, "forbidden")
        anonymous = client.get(path)
        assert (anonymous.status_code, anonymous.json()["error"]) == (401, "unauthorized")
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        ("/v1/webhooks/999/deliveries", {}, 404, "not_found"),
        ("/v1/webhooks/0/deliveries", {}, 422, "invalid_request"),
        (f"/v1/webhooks/{hook.id}/deliveries", {"cursor": "not-a-cursor"}, 422,
         "invalid_request"),
        (f"/v1/webhooks/{hook.id}/deliveries", {"limit": 0}, 422, "invalid_request"),
    ]
    for path, params, status, error in cases:
        answer = client.get(path, params=params, headers=manager)
        assert (answer.status_code, answer.json()["error"]) == (status, error), path


# --- the dispatcher in the app ----------------------------------------------------------------


def test_the_server_posts_alerts_while_it_runs_and_stops_its_dispatcher_with_it(
        database: Database, receiver: WebhookReceiver) -> None:
    settings = ServerSettings(database_url=database.url, clock=FixedClock(NOW),
                              sweeper_interval=timedelta(0),
                              webhook_interval=timedelta(milliseconds=20),
                              allow_private_webhooks=True)
    app = create_app(settings, database=database)
    hook = _add(database, receiver.url)

    async def serve() -> None:
        async with app.router.lifespan_context(app):
            await asyncio.to_thread(_cross, database)
            for _ in range(500):
                await asyncio.sleep(0.01)
                if receiver.requests():
                    break
        running = [t for t in asyncio.all_tasks() if t.get_name() == "pos-webhook-dispatcher"]
        assert running == []

    asyncio.run(serve())
    [request] = receiver.requests()
    assert webhooks.verify_signature(hook.secret, request.body,
                                     timestamp=request.headers["x-pos-timestamp"],
                                     signature=request.headers["x-pos-signature"],
                                     now=NOW.timestamp())


def test_a_dispatcher_with_no_interval_is_switched_off(database: Database) -> None:
    settings = ServerSettings(database_url=database.url, webhook_interval=timedelta(0))

    async def start() -> object:
        return start_dispatcher(database, settings)

    assert asyncio.run(start()) is None


@pytest.mark.postgres
def test_only_the_process_holding_the_lock_posts_on_postgresql(
        seeded: Callable[..., Database], postgres: PostgresServer,
        receiver: WebhookReceiver) -> None:
    url = postgres.create_database(f"t_{uuid.uuid4().hex[:12]}")
    database = seeded(now=NOW, ticket_types=[GA], url=url)
    other_process = Database(url, write_hooks=[live.install_session_hooks])
    clock = FixedClock(NOW)
    first = WebhookDispatcher(database, clock=clock, allow_private_targets=True)
    second = WebhookDispatcher(other_process, clock=clock, allow_private_targets=True)
    try:
        hook = _add(database, receiver.url)
        _cross(database)
        assert _tick(first) == 1
        _cross(database)
        assert _tick(second) == 0  # the first process holds the dispatcher lock
        assert _tick(first) == 1
        _cross(database)
        first.close()  # that process stops: the lock is free
        assert _tick(second) == 1
        assert not first.leadership.held and second.leadership.held
        assert [r.json()["seq"] for r in receiver.requests()] == [
            hook.last_seq + n for n in (1, 2, 3)]
    finally:
        second.close()
        other_process.dispose()
