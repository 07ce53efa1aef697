"""Confirmed sales per second through the HTTPS API, on SQLite and on PostgreSQL, against the
same sale called directly (no HTTP): the ceiling.

Run ``python tests/benchmarks/bench_sales.py`` from the repository root (``make bench``). In one
run it:

1. starts ``pos-app serve --demo`` on SQLite (a temporary data folder), imports a hot event
   (one ticket type, capacity 10,000,000) and a spread event (100 ticket types), pairs two
   terminals through the API, signs the cashier in at each and opens a shift when shifts are
   served;
2. drives ``POST /v1/sales`` with ``wrk -t2 -c32 -d10s --latency`` and
   ``tests/benchmarks/wrk/sale.lua`` (unique ``Idempotency-Key`` per request, one session per
   wrk thread): first all on the hot ticket type, then spread over the 100 types; the Lua
   ``response`` hook counts statuses, so "confirmed" means HTTP 201;
3. stops the server and awaits ``pos_app.server.services.sales.create_sale_async`` directly
   from 32 concurrent tasks against the same database, with the same principals: the
   server's sale path (group commit included) without HTTP, JSON, TLS and authentication,
   the ceiling;
4. does the same on a fresh PostgreSQL cluster (``start_postgres()``, fsync on);
5. prints the figures, the targets (>= 400 confirmed sales/s on the hot type on each database,
   HTTPS >= 1/3 of direct) and the floor figures of ``shared/MEASUREMENTS.md``.

No timing is asserted. Importable: :func:`main` returns the figures. Needs ``/usr/bin/wrk``.
Environment: ``BENCH_SECONDS`` (default 10) per wrk run, ``BENCH_DIRECT_SECONDS`` (default 5),
``BENCH_ONLY=sqlite|postgres``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.reliability.storm import PgLiveServer, cashier_at_new_terminal, database_url
from tests.support.api import StaffClient, staff_client
from tests.support.live_server import LiveServer, free_port
from tests.support.postgres import postgres_bin_dir, start_postgres

WRK = shutil.which("wrk") or "/usr/bin/wrk"
LUA = Path(__file__).resolve().parent / "wrk" / "sale.lua"
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
DIRECT_SECONDS = float(os.environ.get("BENCH_DIRECT_SECONDS", "5"))
CONNECTIONS = 32
WRK_THREADS = 2
SPREAD_TYPES = 100
CAPACITY = 10_000_000
PRICE = 2500
TARGET_HOT = 400.0
TARGET_RATIO = 1 / 3

FLOOR = """\
Floor figures (shared/MEASUREMENTS.md, bare programs on this kind of machine, 2 cores):
  PostgreSQL, pgbench, one conditional UPDATE on one hot row   ~1,700-2,500 tx/s
  PostgreSQL, INSERT + hot-row UPDATE, two round trips, 32 cl.  ~300 tx/s (collapses)
  PostgreSQL, same as one statement (CTE), 32 clients           ~1,100-1,900 tx/s
  PostgreSQL, spread over 100 rows, 32 clients                  ~14,000 tx/s
  SQLite WAL, BEGIN IMMEDIATE + UPDATE + INSERT, sync=FULL      ~2,000-4,000 tx/s
  HTTP: no-op endpoint, uvicorn+TLS, wrk 16 conns               ~3,500 req/s
  HTTP: bare SQLite sale endpoint (FULL), wrk 16 conns          ~650-1,400 req/s"""


@dataclass
class WrkRun:
    workload: str
    requests_per_s: float
    confirmed_per_s: float
    n201: int
    n409: int
    other: int
    first_other: str
    p50_ms: float
    p99_ms: float
    socket_errors: int


@dataclass
class DirectRun:
    workload: str
    threads: int
    sales_per_s: float
    sales: int
    refusals: int
    errors: list[str]


@dataclass
class Site:
    """A serving server with its hot and spread ticket type ids and two signed-in cashiers."""

    name: str
    server: LiveServer
    hot: list[int]
    spread: list[int]
    cashiers: list[StaffClient]

    @property
    def tokens(self) -> list[str]:
        return [str(c.http.headers["Authorization"]).removeprefix("Bearer ")
                for c in self.cashiers]


def _catalog() -> dict[str, Any]:
    def event(event_id: str, names: list[str]) -> dict[str, Any]:
        return {"id": event_id, "name": f"Bench {event_id[-6:]}", "venue": "Bench Hall",
                "starts_at": "2026-12-31T20:00:00", "timezone": "America/Chicago",
                "currency": "USD",
                "ticket_types": [{"name": n, "price": PRICE, "capacity": CAPACITY,
                                  "public_limit": CAPACITY,
                                  "thresholds": {"low": 2, "critical": 1},
                                  "alert_ladder": [2, 1, 0]} for n in names]}
    suffix = uuid.uuid4().hex[:8]
    return {"events": [event(f"bench-hot-{suffix}", ["GA"]),
                       event(f"bench-spread-{suffix}",
                             [f"Zone {i:03d}" for i in range(SPREAD_TYPES)])]}


def prepare(name: str, server: LiveServer) -> Site:
    catalog = _catalog()
    server.import_catalog(catalog)
    manager = staff_client(server, "morgan", "2468")
    try:
        events = {e["id"]: e for e in manager.http.get("/v1/events").json()["events"]}
        hot_id, spread_id = (e["id"] for e in catalog["events"])
        hot = [int(t["id"]) for t in events[hot_id]["ticket_types"]]
        spread = [int(t["id"]) for t in events[spread_id]["ticket_types"]]
        cashiers = [cashier_at_new_terminal(server, manager, "alex", "1234")
                    for _ in range(WRK_THREADS)]
    finally:
        manager.close()
    return Site(name=name, server=server, hot=hot, spread=spread, cashiers=cashiers)


def run_wrk(site: Site, workload: str, ids: list[int], seconds: int) -> WrkRun:
    env = {**os.environ, "SALE_TOKENS": ",".join(site.tokens),
           "SALE_TYPES": ",".join(map(str, ids)), "SALE_NONCE": uuid.uuid4().hex[:12],
           "SALE_TENDERED": str(PRICE)}
    args = [WRK, f"-t{WRK_THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency",
            "--timeout", "10s", "-s", str(LUA), f"{site.server.base_url}/v1/sales"]
    out = subprocess.run(args, env=env, capture_output=True, text=True, timeout=seconds + 60)
    text = out.stdout + out.stderr
    if out.returncode != 0 or "STATUS" not in text:
        raise RuntimeError(f"wrk failed ({out.returncode}):\n{text}")

    def number(pattern: str) -> float:
        found = re.search(pattern, text)
        if not found:
            raise RuntimeError(f"no {pattern!r} in wrk output:\n{text}")
        return float(found.group(1))

    duration = number(r"duration_us=(\d+)") / 1e6
    n201 = int(number(r"STATUS 201=(\d+)"))
    socket_errors = sum(int(number(rf"{k}=(\d+)")) for k in
                        ("connect_errors", "read_errors", "write_errors", "timeouts"))
    first_other = re.search(r"first_other=(.*)", text)
    return WrkRun(
        workload=workload, requests_per_s=number(r"requests=(\d+)") / duration,
        confirmed_per_s=n201 / duration, n201=n201, n409=int(number(r"409=(\d+)")),
        other=int(number(r"other=(\d+)")),
        first_other=first_other.group(1).strip() if first_other else "",
        p50_ms=number(r"p50_us=(\d+)") / 1000, p99_ms=number(r"p99_us=(\d+)") / 1000,
        socket_errors=socket_errors)


def run_direct(url: str, tokens: list[str], workload: str, ids: list[int], threads: int,
               seconds: float) -> DirectRun:
    """``create_sale_async`` awaited by ``threads`` concurrent tasks for ``seconds``: the
    server's own sale path (idempotency key, group commit, audit, live stamp) without HTTP,
    JSON over the wire, TLS or authentication; the same principals (authenticated once,
    from the session tokens)."""
    import asyncio
    import random

    from pos_app.api import schemas
    from pos_app.server.db import Database
    from pos_app.server.services import identity, live, sales

    db = Database(url, write_hooks=[live.install_session_hooks])
    try:
        now = datetime.now(UTC)
        with db.read() as session:
            principals = [identity.authenticate_bearer(session, t, now=now) for t in tokens]
        nonce = uuid.uuid4().hex[:12]
        counts = [[0, 0] for _ in range(threads)]
        errors: list[str] = []

        async def worker(index: int, stop_at: float) -> None:
            principal = principals[index % len(principals)]
            rng = random.Random(index)
            n = 0
            while time.monotonic() < stop_at:
                n += 1
                body = schemas.SaleCreate.model_validate({
                    "lines": [{"ticket_type_id": rng.choice(ids), "quantity": 1}],
                    "payment": {"method": "cash", "tendered": PRICE}})
                try:
                    outcome = await sales.create_sale_async(
                        db, principal, body, key=f"{nonce}-{index}-{n}", path="/v1/sales",
                        now=datetime.now(UTC))
                except Exception as exc:
                    if len(errors) < 5:
                        errors.append(repr(exc))
                    counts[index][1] += 1
                    continue
                counts[index][0 if outcome.status == 201 else 1] += 1

        async def drive() -> float:
            began = time.monotonic()
            await asyncio.gather(*(worker(i, began + seconds) for i in range(threads)))
            return time.monotonic() - began

        elapsed = asyncio.run(drive())
    finally:
        db.dispose()
    done = sum(c[0] for c in counts)
    return DirectRun(workload=workload, threads=threads, sales_per_s=done / elapsed,
                     sales=done, refusals=sum(c[1] for c in counts), errors=errors)


@contextmanager
def sqlite_server(root: Path) -> Iterator[LiveServer]:
    server = LiveServer(data_dir=root / "sqlite", port=free_port())
    server.data_dir.mkdir()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@contextmanager
def postgres_server(root: Path, stack: ExitStack) -> Iterator[tuple[LiveServer, str]]:
    """A PostgreSQL cluster (default fsync) and a server on its database ``pos``; yields the
    server and the URL of a scratch database for the calibration."""
    postgres = stack.enter_context(start_postgres())  # default fsync: on
    scratch = postgres.create_database("calibration")
    server = PgLiveServer(data_dir=root / "pg", port=free_port(), database_url=postgres.url)
    server.data_dir.mkdir()
    server.start()
    try:
        yield server, scratch
    finally:
        server.stop()


def calibrate_sqlite(folder: Path, seconds: float = 2.0) -> float:
    """Bare SQLite on this disk now: WAL, synchronous=FULL, ``BEGIN IMMEDIATE`` + UPDATE +
    INSERT + COMMIT in a loop (the MEASUREMENTS.md figure), transactions per second."""
    import sqlite3

    path = folder / "calibration.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")
        conn.execute("CREATE TABLE tt (id INTEGER PRIMARY KEY, sold INTEGER NOT NULL)")
        conn.execute("CREATE TABLE sale (id INTEGER PRIMARY KEY, tt INTEGER, q INTEGER)")
        conn.execute("INSERT INTO tt VALUES (1, 0)")
        n, began = 0, time.monotonic()
        while time.monotonic() - began < seconds:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE tt SET sold = sold + 1 WHERE id = 1 AND sold + 1 <= 1000000000")
            conn.execute("INSERT INTO sale (tt, q) VALUES (1, 1)")
            conn.execute("COMMIT")
            n += 1
        return n / (time.monotonic() - began)
    finally:
        conn.close()


def calibrate_postgres(url: str, seconds: float = 2.0) -> float:
    """Bare PostgreSQL now, one client: ``BEGIN; INSERT; UPDATE hot row; COMMIT`` in a loop
    through psycopg (the MEASUREMENTS.md two-round-trip shape), transactions per second."""
    import psycopg

    dsn = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as conn:
        conn.execute("CREATE TABLE tt (id int PRIMARY KEY, sold int NOT NULL)")
        conn.execute("CREATE TABLE sale (id serial PRIMARY KEY, tt int, q int)")
        conn.execute("INSERT INTO tt VALUES (1, 0)")
        conn.commit()
        n, began = 0, time.monotonic()
        while time.monotonic() - began < seconds:
            conn.execute("INSERT INTO sale (tt, q) VALUES (1, 1)")
            conn.execute("UPDATE tt SET sold = sold + 1 WHERE id = 1 AND sold + 1 <= 1000000000")
            conn.commit()
            n += 1
        return n / (time.monotonic() - began)


def bench_database(name: str, server: LiveServer, direct_threads: int,
                   calibration: float) -> dict[str, Any]:
    print(f"-- {name}: bare database now: {calibration:.0f} tx/s (1 client); load average "
          f"{os.getloadavg()[0]:.1f}", flush=True)
    print(f"-- {name}: preparing (catalog, 2 terminals, sessions, shifts)", flush=True)
    site = prepare(name, server)
    try:
        run_wrk(site, "warm-up", site.hot, 2)
        hot = run_wrk(site, "hot", site.hot, SECONDS)
        print(f"   wrk hot:    {hot.confirmed_per_s:7.0f} confirmed/s", flush=True)
        spread = run_wrk(site, "spread", site.spread, SECONDS)
        print(f"   wrk spread: {spread.confirmed_per_s:7.0f} confirmed/s", flush=True)
    finally:
        for cashier in site.cashiers:
            cashier.close()
    server.stop()  # the direct ceiling gets the machine to itself
    url = database_url(server)
    direct_hot = run_direct(url, site.tokens, "hot", site.hot, direct_threads, DIRECT_SECONDS)
    print(f"   direct hot: {direct_hot.sales_per_s:7.0f} sales/s", flush=True)
    direct_spread = run_direct(url, site.tokens, "spread", site.spread, direct_threads,
                               DIRECT_SECONDS)
    print(f"   direct spread: {direct_spread.sales_per_s:4.0f} sales/s", flush=True)
    return {"hot": (hot, direct_hot), "spread": (spread, direct_spread),
            "bare_tx_per_s": calibration, "load_average": os.getloadavg()[0]}


def report(results: dict[str, dict[str, Any]]) -> None:
    print()
    print(f"POST /v1/sales over HTTPS: wrk -t{WRK_THREADS} -c{CONNECTIONS} -d{SECONDS}s; "
          f"direct = create_sale_async() from {CONNECTIONS} tasks, no HTTP")
    header = (f"{'database':10} {'workload':8} {'req/s':>7} {'201/s':>7} {'409':>5} "
              f"{'other':>5} {'p50 ms':>7} {'p99 ms':>7} {'direct/s':>9} {'tasks':>5} "
              f"{'ratio':>6}  targets")
    print(header)
    print("-" * len(header))
    for database, figures in results.items():
        for workload in ("hot", "spread"):
            http, direct = figures[workload]
            ratio = http.confirmed_per_s / direct.sales_per_s if direct.sales_per_s else 0.0
            checks = [f"ratio>=1/3 {'OK' if ratio >= TARGET_RATIO else 'MISS'}"]
            if workload == "hot":
                checks.insert(0, f">={TARGET_HOT:.0f}/s "
                              f"{'OK' if http.confirmed_per_s >= TARGET_HOT else 'MISS'}")
            print(f"{database:10} {workload:8} {http.requests_per_s:7.0f} "
                  f"{http.confirmed_per_s:7.0f} {http.n409:5d} {http.other:5d} "
                  f"{http.p50_ms:7.1f} {http.p99_ms:7.1f} {direct.sales_per_s:9.0f} "
                  f"{direct.threads:5d} {ratio:6.2f}  {', '.join(checks)}")
            if http.other or http.socket_errors:
                print(f"   !! {http.other} non-201/409 answers, {http.socket_errors} socket "
                      f"errors; first: {http.first_other[:200]}")
            if direct.errors:
                print(f"   !! direct errors: {direct.errors}")
    print()
    for database, figures in results.items():
        print(f"Calibration {database}: bare 1-client transactions now "
              f"{figures['bare_tx_per_s']:.0f} tx/s (load average "
              f"{figures['load_average']:.1f}); compare with the floor below to judge how "
              f"loaded this machine was.")
    print(FLOOR)


def main() -> dict[str, dict[str, Any]]:
    if not Path(WRK).exists():
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    only = os.environ.get("BENCH_ONLY", "")
    results: dict[str, dict[str, Any]] = {}
    root = Path(tempfile.mkdtemp(prefix="pos-bench-sales-"))
    began = time.monotonic()
    try:
        if only in ("", "sqlite"):
            with sqlite_server(root) as server:
                results["sqlite"] = bench_database("sqlite", server, direct_threads=CONNECTIONS,
                                                   calibration=calibrate_sqlite(root))
        if only in ("", "postgres"):
            if postgres_bin_dir() is None:
                print("-- postgres: skipped (PostgreSQL server binaries not installed)")
            else:
                with ExitStack() as stack, postgres_server(root, stack) as (server, scratch):
                    results["postgres"] = bench_database(
                        "postgres", server, direct_threads=CONNECTIONS,
                        calibration=calibrate_postgres(scratch))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    report(results)
    print(f"\n(bench_sales.py took {time.monotonic() - began:.0f} s)")
    return results


if __name__ == "__main__":
    main()
