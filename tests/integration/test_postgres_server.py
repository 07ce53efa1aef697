"""Several ``pos-app serve`` processes on one PostgreSQL database: a subscriber of one sees
the sales made through another (LISTEN/NOTIFY), the race for the last tickets sells exactly
as many as there are, and the audit chain stays one unbroken chain."""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from pos_app.server import audit
from pos_app.server.models import Sale
from tests.integration import test_concurrency as race
from tests.integration.test_live_inventory import SseReader
from tests.support.api import StaffClient, staff_client
from tests.support.live_server import LiveServer, free_port, pos_app
from tests.support.postgres import PostgresServer, start_postgres

pytestmark = pytest.mark.postgres


PostgresLiveServer = LiveServer  # with database_url= it serves from PostgreSQL


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    with start_postgres(fsync=False) as server:
        yield server


def _server(postgres: PostgresServer, data_dir: Path, *, workers: int = 1,
            demo: bool = True) -> PostgresLiveServer:
    return PostgresLiveServer(data_dir=data_dir, port=free_port(), demo=demo,
                              database_url=postgres.url, workers=workers,
                              extra_env={"POS_APP_SSE_KEEPALIVE": "1"})


@pytest.fixture(scope="module")
def two_servers(postgres: PostgresServer, tmp_path_factory: pytest.TempPathFactory,
                ) -> Iterator[tuple[PostgresLiveServer, PostgresLiveServer]]:
    """Two separate ``serve`` processes on two ports, one database (the first loads the demo)."""
    first = _server(postgres, tmp_path_factory.mktemp("pg-a"))
    second = _server(postgres, tmp_path_factory.mktemp("pg-b"))
    first.start()
    try:
        # one venue: the second host gets the first's secrets (deployment secrets)
        shutil.copytree(first.data_dir / "secrets", second.data_dir / "secrets")
        second.start()
        try:
            yield first, second
        finally:
            second.stop()
    finally:
        first.stop()


def _token(client: StaffClient) -> str:
    return str(client.http.headers["Authorization"]).removeprefix("Bearer ")


def _ga(client: StaffClient, event_id: str) -> int:
    event = next(e for e in client.http.get("/v1/events").json()["events"]
                 if e["id"] == event_id)
    return int(event["ticket_types"][0]["id"])


def _wait_for_sold(reader: SseReader, tt_id: int, sold: int) -> float:
    while True:
        message = reader.next_event(timeout=10)
        assert message.data is not None
        if any(t["id"] == tt_id and t["sold"] == sold for t in message.data["ticket_types"]):
            return message.at


def test_a_subscriber_of_one_server_sees_sales_made_through_another(
        two_servers: tuple[PostgresLiveServer, PostgresLiveServer]) -> None:
    a, b = two_servers
    event_id = a.small_event(capacity=40)
    watcher = staff_client(a, open_shift=False)
    seller = staff_client(b)
    ga = _ga(seller, event_id)
    on_a = SseReader(a, _token(watcher))
    on_b = SseReader(b, _token(seller))
    delays = []
    try:
        for n in range(1, 21):
            sale = seller.sell({ga: 1}, tendered=2500)
            answered = time.perf_counter()
            assert sale.status_code == 201, sale.text
            delays.append(max(0.0, _wait_for_sold(on_a, ga, n) - answered))
            _wait_for_sold(on_b, ga, n)
        # ... and the other way round.
        assert watcher.http.post("/v1/shifts", json={"opening_float": 0},
                                 headers={"Idempotency-Key": uuid.uuid4().hex}
                                 ).status_code in (201, 404, 405)
        assert watcher.sell({ga: 2}, tendered=5000).status_code == 201
        _wait_for_sold(on_b, ga, 22)
    finally:
        on_a.close()
        on_b.close()
        watcher.close()
        seller.close()
    delays.sort()
    print(f"\ncross-process propagation (NOTIFY) after the sale's 201: "
          f"p50 {delays[len(delays) // 2] * 1000:.1f} ms, max {delays[-1] * 1000:.1f} ms")
    assert delays[-1] < 1.0


def test_sixteen_terminals_racing_for_the_last_five_tickets_sell_exactly_five_on_postgresql(
        two_servers: tuple[PostgresLiveServer, PostgresLiveServer],
        postgres: PostgresServer) -> None:
    a, _ = two_servers
    race.test_sixteen_terminals_racing_for_the_last_five_tickets_sell_exactly_five(a)

    database = a.open_database()
    try:
        with database.read() as session:
            verified = audit.verify(session)
            numbers = session.scalars(Sale.__table__.select().with_only_columns(
                Sale.number)).all()
    finally:
        database.dispose()
    assert verified.ok, verified
    assert verified.entries_checked > 0
    assert len(numbers) == len(set(numbers))  # sale numbers from the sequence never repeat


def test_workers_serve_one_database_and_share_live_inventory(
        postgres: PostgresServer, tmp_path: Path) -> None:
    url = postgres.create_database(f"w{uuid.uuid4().hex[:8]}")
    server = PostgresLiveServer(data_dir=tmp_path, port=free_port(), database_url=url,
                                workers=2, extra_env={"POS_APP_SSE_KEEPALIVE": "1"})
    server.start()
    try:
        event_id = server.small_event(capacity=30)
        seller = staff_client(server)
        watcher = staff_client(server, open_shift=False)
        readers = [SseReader(server, _token(watcher)) for _ in range(4)]
        try:
            ga = _ga(seller, event_id)
            for n in range(1, 6):
                assert seller.sell({ga: 1}, tendered=2500).status_code == 201
                for reader in readers:  # whichever worker each stream landed on
                    _wait_for_sold(reader, ga, n)
        finally:
            for reader in readers:
                reader.close()
            seller.close()
            watcher.close()
    finally:
        server.stop()


def test_several_workers_on_sqlite_are_refused_with_a_reason(tmp_path: Path) -> None:
    result = pos_app("serve", "--data-dir", str(tmp_path), "--port", str(free_port()),
                     "--workers", "2", check=False, timeout=60)
    assert result.returncode == 2
    assert "needs PostgreSQL" in result.stderr


def test_admin_given_a_postgresql_servers_data_folder_uses_its_database(
        two_servers: tuple[PostgresLiveServer, PostgresLiveServer],
        capsys: pytest.CaptureFixture[str]) -> None:
    from pos_app.cli import main

    first, second = two_servers
    assert main(["admin", "add-terminal", "Till PG", "--data-dir", str(first.data_dir)]) == 0
    code = capsys.readouterr().out.strip().splitlines()[-1]
    assert not (first.data_dir / "pos.sqlite3").exists()  # no stray SQLite database
    paired = httpx.post(f"{second.base_url}/v1/terminals/pair", json={"pairing_code": code},
                        verify=second.tls_context(), timeout=10)
    assert paired.status_code == 201, paired.text
