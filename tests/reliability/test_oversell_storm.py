"""Oversell storm: 32 HTTPS clients hammer the last 10 tickets of a ticket type, several
trials, on SQLite (the session's live server) and on PostgreSQL (a second ``pos-app serve
--database-url``). Exactly the 10 tickets left are sold, every refusal is
``insufficient_inventory``, and the server's own records (sales, tickets, audit entries)
agree with what the clients were told.

The same storm pointed at ``tests/support/naive_server.py`` (read-then-write) must see an
oversell: proof that this harness can fail.

Clients: cashiers (alex) at six terminals paired through the API, the manager (morgan) at two
more, and - once ``pos-app admin add-channel-token`` exists - the online channel paying
``{method: external}``: 24 box-office threads + 8 online threads (32 box-office threads
before that).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.reliability.storm import (
    Buyer,
    PgLiveServer,
    Verdict,
    cash,
    cashier_at_new_terminal,
    channel_token,
    database_url,
    external,
    judge,
    run_storm,
    ticket_type_by_id,
)
from tests.support.api import StaffClient, staff_client
from tests.support.live_server import LiveServer, free_port
from tests.support.naive_server import start_naive_server
from tests.support.postgres import postgres_bin_dir, start_postgres

pytestmark = pytest.mark.slow

CLIENTS = 32
ATTEMPTS = 10  # per client: 320 attempts per trial at 10 tickets
LEFT = 10
TRIALS = 3
PRICE = 2500
MAX_SECONDS = 20


@dataclass
class Site:
    """A server ready for storms: who buys, and a manager client for setup and checks."""

    server: LiveServer
    manager: StaffClient
    buyers: list[Buyer]
    online: bool
    others: list[StaffClient]

    def close(self) -> None:
        for client in [self.manager, *self.others]:
            client.close()


def _token(client: StaffClient) -> str:
    return str(client.http.headers["Authorization"]).removeprefix("Bearer ")


def make_site(server: LiveServer, *, checkout: bool = False) -> Site:
    """Terminals and buyers on ``server``; with ``checkout`` the box office buys as the till
    does (a checkout hold, then its payment) while the online channel sells lines."""
    manager = staff_client(server, "morgan", "2468")
    cashiers = [cashier_at_new_terminal(server, manager, "alex", "1234") for _ in range(6)]
    managers = [cashier_at_new_terminal(server, manager, "morgan", "2468") for _ in range(2)]
    terminals = [*cashiers, *managers]
    online_token = channel_token(server, "online")
    box_office_threads = CLIENTS - 8 if online_token else CLIENTS
    buyers = [Buyer(label=f"{c.staff['username']}@terminal{c.terminal_id}", kind="box_office",
                    token=_token(c), payment=cash(PRICE), checkout=checkout)
              for c in (terminals[i % len(terminals)] for i in range(box_office_threads))]
    if online_token:
        buyers += [Buyer(label="online", kind="online", token=online_token, payment=external)
                   for _ in range(CLIENTS - box_office_threads)]
    return Site(server=server, manager=manager, buyers=buyers, online=online_token is not None,
                others=terminals)


def _fresh_ticket_type(site: Site, presold: int) -> int:
    """A new event with one ticket type of capacity ``presold + LEFT``; the manager sells
    ``presold`` first, so exactly ``LEFT`` remain."""
    event_id = site.server.small_event(capacity=presold + LEFT, price=PRICE)
    events = site.manager.http.get("/v1/events").json()["events"]
    tt_id = int(next(e for e in events if e["id"] == event_id)["ticket_types"][0]["id"])
    if presold:
        first = site.manager.sell({tt_id: presold}, tendered=PRICE * presold)
        assert first.status_code == 201, first.text
    return tt_id


def _server_records(site: Site, tt_id: int) -> dict[str, Any]:
    """What the server recorded for ``tt_id``: straight from its database (sales, tickets,
    audit entries), plus ``GET /v1/audit`` and ``/v1/audit/verify`` once they are served."""
    engine = create_engine(database_url(site.server))
    try:
        with engine.connect() as conn:
            sale_ids = {row[0] for row in conn.execute(text(
                "SELECT DISTINCT sale_id FROM sale_lines WHERE ticket_type_id = :t"),
                {"t": tt_id})}
            codes = [row[0] for row in conn.execute(text(
                "SELECT code FROM tickets WHERE ticket_type_id = :t"), {"t": tt_id})]
            moves = [dict(row._mapping) for row in conn.execute(text(
                "SELECT seq, action, quantity, before_capacity, before_sold, before_held, "
                "after_capacity, after_sold, after_held, ref_id FROM audit_log "
                "WHERE ticket_type_id = :t AND action <> 'stock_alert' ORDER BY seq"),
                {"t": tt_id})]
    finally:
        engine.dispose()
    records: dict[str, Any] = {
        "sale_ids": sale_ids, "codes": codes, "moves": moves,
        "audit": [m for m in moves if m["action"] == "sale"], "api_audit": None,
        "verify": None}
    listed = site.manager.http.get("/v1/audit", params={"action": "sale",
                                                        "ticket_type_id": tt_id})
    if listed.status_code == 200:
        body = listed.json()
        records["api_audit"] = next((v for v in body.values() if isinstance(v, list)), [])
    verified = site.manager.http.get("/v1/audit/verify")
    if verified.status_code == 200:
        records["verify"] = verified.json()
    return records


def storm_trial(site: Site, trial: int) -> Verdict:
    """One trial: a fresh ticket type with ``LEFT`` tickets left, the storm, and every check
    of the responses against the counts and the server's records (asserted here)."""
    presold = 5 * trial  # 0, 5, 10: the last 10 of a fresh type and of part-sold ones
    tt_id = _fresh_ticket_type(site, presold)
    before = ticket_type_by_id(site.manager.http, tt_id)
    result = run_storm(site.server.base_url, site.server.ca_file, site.buyers, tt_id,
                       clients=CLIENTS, attempts=ATTEMPTS, max_seconds=MAX_SECONDS,
                       seed=trial)
    final = ticket_type_by_id(site.manager.http, tt_id)
    verdict = judge(result, left_before=before["available"], final_ticket_type=final)
    print(f"trial {trial} ({type(site.server).__name__}, online={site.online}): "
          f"{verdict.line()} in {result.wall_seconds:.2f}s")

    assert before["available"] == LEFT
    assert verdict.attempts >= 300, "the storm must make hundreds of attempts"
    assert verdict.problems() == []
    assert verdict.issued == LEFT and final["sold"] == presold + LEFT
    assert final["sold"] + final["held"] <= final["capacity"]
    assert final["available"] == 0
    if site.online:
        assert verdict.by_kind.get("online", {}).get("attempts", 0) > 0

    # The server's records agree with the responses.
    sold = result.sales
    records = _server_records(site, tt_id)
    presale = 1 if presold else 0
    assert len(records["sale_ids"]) == len(sold) + presale
    assert {a.body["id"] for a in sold} <= records["sale_ids"]
    assert len(records["codes"]) == presold + LEFT
    assert {t["code"] for t in result.tickets} <= set(records["codes"])
    assert len(records["audit"]) == len(sold) + presale, records["audit"]
    assert {e["ref_id"] for e in records["audit"]} == records["sale_ids"]
    for entry in records["audit"]:
        assert entry["after_sold"] - entry["before_sold"] == entry["quantity"]
        assert entry["after_sold"] <= entry["after_capacity"]
    moves = records["moves"]  # sales, holds, payments, releases, expiries, in seq order
    for previous, entry in itertools.pairwise(moves):
        # each change starts where the one before it ended
        assert ((entry["before_capacity"], entry["before_sold"], entry["before_held"])
                == (previous["after_capacity"], previous["after_sold"],
                    previous["after_held"])), (previous, entry)
    assert moves[-1]["after_sold"] == presold + LEFT
    if records["api_audit"] is not None:
        assert len(records["api_audit"]) == len(sold) + presale
    if records["verify"] is not None:  # the hash chain, and the counts following on
        assert records["verify"]["ok"] is True, records["verify"]
        assert records["verify"]["problem"] is None, records["verify"]
    for attempt in sold:  # what GET /v1/sales/{id} says matches the 201
        stored = site.manager.http.get(f"/v1/sales/{attempt.body['id']}")
        assert stored.status_code == 200, stored.text
        assert ({t["code"] for t in stored.json()["tickets"]}
                == {t["code"] for t in attempt.body["tickets"]})
    return verdict


def _storms(server: LiveServer) -> None:
    """The trials on ``server``: the first ones sell lines at every till, the last one pays
    checkout holds at the box office while the online channel sells lines (every Charge at
    the till pays the basket's hold): the payments share the writer's batches with sales."""
    site = make_site(server)
    try:
        for trial in range(TRIALS - 1):
            storm_trial(site, trial)
    finally:
        site.close()
    site = make_site(server, checkout=True)
    try:
        verdict = storm_trial(site, TRIALS - 1)
        assert verdict.by_kind["box_office"]["201"] > 0  # hold payments confirmed
    finally:
        site.close()


def test_storm_on_sqlite_sells_exactly_the_last_ten(live_server: LiveServer) -> None:
    _storms(live_server)


@pytest.fixture(scope="module")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgLiveServer]:
    if postgres_bin_dir() is None:
        pytest.skip("PostgreSQL server binaries not installed")
    with start_postgres(fsync=False) as postgres:
        url = postgres.create_database("storm")
        server = PgLiveServer(data_dir=tmp_path_factory.mktemp("pg-serve"), port=free_port(),
                              database_url=url)
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.mark.postgres
def test_storm_on_postgres_sells_exactly_the_last_ten(pg_server: PgLiveServer) -> None:
    _storms(pg_server)


def test_the_storm_catches_a_read_then_write_seller(tmp_path: Path) -> None:
    """The same storm against the naive server: it must oversell, and the verdict says so."""
    buyers = [Buyer(label=f"naive-{i}", kind="box_office", token="none", payment=cash(PRICE))
              for i in range(CLIENTS)]
    with start_naive_server(tmp_path / "naive") as naive:
        for trial in range(TRIALS):
            tt_id = naive.new_ticket_type(LEFT)
            result = run_storm(naive.base_url, naive.ca_file, buyers, tt_id, clients=CLIENTS,
                               attempts=ATTEMPTS, max_seconds=MAX_SECONDS, seed=trial)
            with naive.client() as http:
                final = ticket_type_by_id(http, tt_id)
            verdict = judge(result, left_before=LEFT, final_ticket_type=final)
            print(f"naive trial {trial}: {verdict.line()}")
            assert not verdict.crashes, verdict.crashes
            assert verdict.oversold > 0, verdict.line()
            assert verdict.problems() != []
