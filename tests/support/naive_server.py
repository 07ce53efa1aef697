"""A deliberately WRONG sale endpoint, to prove the oversell storm can fail.

It speaks just enough of ``shared/API.md`` for the storm harness (``GET /v1/health``,
``GET /v1/events``, ``POST /v1/sales``, ``GET /v1/sales/{id}``) but sells by
read-then-write on its own SQLite file::

    SELECT sold FROM ticket_types WHERE id = :id      -- read
    if sold + q <= capacity:                           -- check
        sleep a few ms                                 -- (the window a real server also has)
        UPDATE ticket_types SET sold = :new            -- write what was read, plus q

with every statement in its own autocommit transaction, so concurrent requests read the same
``sold``, all pass the check and issue tickets: an oversell (and lost updates of ``sold``).
It lives in the test tree on purpose; nothing in ``pos_app`` imports it.

Run: ``python -m tests.support.naive_server --db FILE --port P [--certfile C --keyfile K]``;
``POST /naive/ticket-types {"capacity": N}`` creates a fresh ticket type (no auth anywhere).
:func:`start_naive_server` does that in a subprocess and waits for ``/v1/health``.
"""

from __future__ import annotations

import argparse
import base64
import json
import secrets
import signal
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.responses import JSONResponse

from tests.support.live_server import ROOT, free_port

SLEEP_SECONDS = 0.005

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ticket_types (
    id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, price INTEGER NOT NULL,
    capacity INTEGER NOT NULL, sold INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS sales (
    id TEXT PRIMARY KEY, ticket_type_id INTEGER NOT NULL, quantity INTEGER NOT NULL,
    body TEXT NOT NULL);
"""


def create_app(db_path: Path) -> FastAPI:
    """The naive FastAPI app on SQLite file ``db_path`` (autocommit connections)."""
    local = threading.local()

    def conn() -> sqlite3.Connection:
        if getattr(local, "conn", None) is None:
            c = sqlite3.connect(db_path, isolation_level=None, timeout=30,
                                check_same_thread=False)
            c.execute("PRAGMA journal_mode = WAL")
            c.execute("PRAGMA synchronous = NORMAL")
            local.conn = c
        connection: sqlite3.Connection = local.conn
        return connection

    with sqlite3.connect(db_path) as setup:
        setup.executescript(_SCHEMA)

    app = FastAPI(title="naive read-then-write seller (test only)")

    def ticket_type_wire(row: tuple[int, str, int, int, int]) -> dict[str, Any]:
        tt_id, name, price, capacity, sold = row
        available = max(0, capacity - sold)
        return {"id": tt_id, "event_id": "naive", "name": name, "price": price,
                "currency": "USD", "capacity": capacity, "public_limit": capacity,
                "sold": sold, "held": 0, "available": available,
                "public_available": available}

    @app.get("/v1/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "version": "naive", "database": "sqlite"}

    @app.post("/naive/ticket-types", status_code=201)
    def create_ticket_type(body: dict[str, Any]) -> dict[str, Any]:
        cur = conn().execute("INSERT INTO ticket_types (name, price, capacity) VALUES "
                             "('GA', 2500, ?)", (int(body["capacity"]),))
        return {"id": cur.lastrowid}

    @app.get("/v1/events")
    def events() -> dict[str, Any]:
        rows = conn().execute("SELECT id, name, price, capacity, sold FROM ticket_types "
                              "ORDER BY id").fetchall()
        return {"inventory_version": 0, "events": [{
            "id": "naive", "name": "Naive night", "currency": "USD",
            "ticket_types": [ticket_type_wire(r) for r in rows]}]}

    @app.post("/v1/sales")
    def create_sale(body: dict[str, Any]) -> JSONResponse:
        line = body["lines"][0]
        tt_id, quantity = int(line["ticket_type_id"]), int(line["quantity"])
        c = conn()
        row = c.execute("SELECT sold, capacity, price FROM ticket_types WHERE id = ?",
                        (tt_id,)).fetchone()
        if row is None:
            return JSONResponse({"error": "invalid_request", "message": "unknown"}, 422)
        sold, capacity, price = row
        if sold + quantity > capacity:  # the check ...
            return JSONResponse({"error": "insufficient_inventory",
                                 "message": "Not enough tickets left.",
                                 "lines": [{"ticket_type_id": tt_id, "requested": quantity,
                                            "available": max(0, capacity - sold)}]}, 409)
        time.sleep(SLEEP_SECONDS)  # ... and the write, far apart
        c.execute("UPDATE ticket_types SET sold = ? WHERE id = ?", (sold + quantity, tt_id))
        sale_id = uuid.uuid4().hex
        tickets = [{"code": base64.b32encode(secrets.token_bytes(16)).decode().rstrip("="),
                    "ticket_type_id": tt_id, "status": "valid"} for _ in range(quantity)]
        sale = {"id": sale_id, "number": 0, "status": "confirmed", "channel": "box_office",
                "lines": [{"ticket_type_id": tt_id, "name": "GA", "quantity": quantity,
                           "unit_price": price, "amount": price * quantity}],
                "total": price * quantity, "currency": "USD",
                "payment": body.get("payment"), "tickets": tickets}
        c.execute("INSERT INTO sales (id, ticket_type_id, quantity, body) VALUES (?, ?, ?, ?)",
                  (sale_id, tt_id, quantity, json.dumps(sale)))
        return JSONResponse(sale, 201)

    @app.get("/v1/sales/{ref}")
    def get_sale(ref: str) -> JSONResponse:
        row = conn().execute("SELECT body FROM sales WHERE id = ?", (ref,)).fetchone()
        if row is None:
            return JSONResponse({"error": "not_found", "message": "no such sale"}, 404)
        return JSONResponse(json.loads(row[0]), 200)

    return app


@dataclass
class NaiveServer:
    """A running naive server subprocess."""

    base_url: str
    ca_file: Path | None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def client(self) -> httpx.Client:
        verify: Any = (ssl.create_default_context(cafile=str(self.ca_file)) if self.ca_file
                       else False)
        return httpx.Client(base_url=self.base_url, verify=verify, timeout=30)

    def new_ticket_type(self, capacity: int) -> int:
        with self.client() as http:
            created = http.post("/naive/ticket-types", json={"capacity": capacity})
            created.raise_for_status()
            return int(created.json()["id"])


@contextmanager
def start_naive_server(folder: Path, *, tls: bool = True,
                       timeout: float = 30) -> Iterator[NaiveServer]:
    """Serve the naive app from ``folder`` (its SQLite file, log, TLS files) on a free port;
    HTTPS with a private CA made by ``pos_app.server.tls`` when ``tls``."""
    folder.mkdir(parents=True, exist_ok=True)
    port = free_port()
    args = [sys.executable, "-m", "tests.support.naive_server", "--db",
            str(folder / "naive.sqlite3"), "--port", str(port)]
    ca_file: Path | None = None
    if tls:
        from pos_app.server.tls import ensure_tls

        files = ensure_tls(folder / "tls", "127.0.0.1")
        ca_file = files.ca_file
        args += ["--certfile", str(files.certfile), "--keyfile", str(files.keyfile)]
    scheme = "https" if tls else "http"
    log = open(folder / "naive.log", "ab")  # noqa: SIM115 - lives with the process
    process = subprocess.Popen(args, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    server = NaiveServer(base_url=f"{scheme}://127.0.0.1:{port}", ca_file=ca_file,
                         process=process)
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                raise RuntimeError("naive server exited: "
                                   + (folder / "naive.log").read_text()[-3000:])
            try:
                with server.client() as http:
                    http.get("/v1/health", timeout=1).raise_for_status()
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    raise RuntimeError("naive server did not answer in time") from None
                time.sleep(0.1)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        log.close()


def main() -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--certfile")
    parser.add_argument("--keyfile")
    args = parser.parse_args()
    uvicorn.run(create_app(Path(args.db)), host="127.0.0.1", port=args.port,
                ssl_certfile=args.certfile, ssl_keyfile=args.keyfile, log_level="warning",
                access_log=False)


if __name__ == "__main__":
    main()
