"""A server database holding 1,000,000 audit entries with a valid hash chain, for
``bench_audit.py``: built once and cached under ``/tmp`` (keyed by :data:`DATA_VERSION`).

The database is made by the real server (``pos-app serve --demo`` on an empty data folder:
migrations, demo catalog and staff, TLS files), stopped; then the entries are appended with
``sqlite3`` ``executemany`` in one transaction, continuing the chain from its tail with the
hash :func:`pos_app.server.audit.entry_hash` computes under the folder's audit key, and the
chain's head row is moved to the new tail, so ``GET /v1/audit/verify`` passes. The log looks
like a venue's: sales most of the time, holds, releases, refunds, stock alerts, sign-ins,
shifts, capacity changes, spread over 90 days across 20 terminals, 40 staff and the demo's
ticket types (plus 200 others).
"""

from __future__ import annotations

import random
import shutil
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pos_app.server.audit import entry_hash
from pos_app.server.chain_key import ChainKey
from pos_app.server.secrets_dir import AUDIT_KEY, SECRETS_DIRNAME, read_key
from tests.support.live_server import LiveServer, free_port

DATA_VERSION = "audit-1m-v2-keyed"
"""Change it when the generated data or the server's schema changes: a new cache folder."""
ENTRIES = 1_000_000
START = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
SPAN = timedelta(days=90)
TERMINALS = 20
STAFF = 40
SEED = 20260101
RARE_REASON = "fire marshal"  # in ~1 entry of 20,000: the free-text search's needle

_FIELDS = ("seq", "at", "action", "staff_id", "terminal_id", "channel", "shift_id",
           "approved_by", "ticket_type_id", "quantity", "before_capacity", "before_sold",
           "before_held", "after_capacity", "after_sold", "after_held", "ref_type", "ref_id",
           "reason", "prev_hash")
# (action, weight): roughly a busy box office's mix.
_MIX = (("sale", 600), ("hold", 100), ("release", 50), ("expire", 30), ("refund", 20),
        ("stock_alert", 50), ("login", 50), ("login_failed", 5), ("shift_open", 10),
        ("cash_movement", 10), ("shift_close", 10), ("capacity_increase", 8),
        ("capacity_decrease", 4), ("denied", 3))


class _Row:
    """The attributes :func:`entry_hash` reads (duck-typing ``AuditEntry``, much faster)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def cache_dir() -> Path:
    """Where the built data folder lives: ``/tmp/pos-bench-<DATA_VERSION>``."""
    return Path("/tmp") / f"pos-bench-{DATA_VERSION}"


def _entries(first_seq: int, prev_hash: str, ticket_types: list[int],
             counts: dict[int, list[int]], key: ChainKey) -> Iterator[tuple[Any, ...]]:
    """The entries; ``counts`` (ticket type id -> [capacity, sold, held], the demo's from the
    log) is carried on, so each change starts where the last one left its ticket type, as
    ``audit verify``'s count check asks."""
    rng = random.Random(SEED)
    actions = [a for a, _ in _MIX]
    weights = [w for _, w in _MIX]
    step = SPAN / ENTRIES
    others = list(range(1000, 1200))  # ticket types of events long gone
    for n in range(ENTRIES):
        seq = first_seq + n
        at = START + step * n
        action = rng.choices(actions, weights)[0]
        terminal = rng.randint(1, TERMINALS)
        day = (at - START).days
        values: dict[str, Any] = dict.fromkeys(_FIELDS)
        values.update(seq=seq, at=at, action=action, staff_id=rng.randint(1, STAFF),
                      terminal_id=terminal, channel="box_office",
                      shift_id=day * TERMINALS + terminal, prev_hash=prev_hash)
        if action in ("sale", "hold", "release", "expire", "refund", "stock_alert",
                      "capacity_increase", "capacity_decrease"):
            tt = rng.choice(ticket_types) if rng.random() < 0.8 else rng.choice(others)
            quantity = rng.randint(1, 6)
            state = counts.setdefault(tt, [1000, 0, 0])
            before = tuple(state)
            _move(state, action, quantity)
            values.update(ticket_type_id=tt, quantity=quantity, before_capacity=before[0],
                          before_sold=before[1], before_held=before[2],
                          after_capacity=state[0], after_sold=state[1], after_held=state[2],
                          ref_type="sale", ref_id=f"{rng.getrandbits(64):016x}")
        if action in ("capacity_increase", "capacity_decrease", "refund", "cash_movement",
                      "login_failed", "denied"):
            values["reason"] = (RARE_REASON if rng.random() < 0.05
                                else rng.choice(("Balcony opened", "Stage moved",
                                                 "Customer ill", "Float top-up",
                                                 "wrong PIN for 'alex'", "Re-plan")))
        if action.startswith("shift_") or action == "cash_movement":
            values.update(ref_type="shift", ref_id=str(values["shift_id"]))
        values["hash"] = prev_hash = entry_hash(_Row(values), key)  # type: ignore[arg-type]
        values["at"] = at.replace(tzinfo=None).isoformat(" ", "microseconds")
        yield tuple(values[name] for name in (*_FIELDS, "hash"))


def _move(state: list[int], action: str, quantity: int) -> None:
    """``state`` ([capacity, sold, held]) after ``action`` of ``quantity`` tickets, kept
    within capacity (a sold-out type gets more capacity, an emptied one sells again)."""
    capacity, sold, held = state
    if action in ("sale", "hold") and sold + held + quantity > capacity:
        capacity += 500  # sold out: the venue opened more
    if action == "sale":
        sold += quantity
    elif action == "hold":
        held += quantity
    elif action in ("release", "expire"):
        held -= min(quantity, held)
    elif action == "refund":
        sold -= min(quantity, sold)
    elif action == "capacity_increase":
        capacity += quantity
    elif action == "capacity_decrease":
        capacity = max(sold + held, capacity - quantity)
    state[:] = [capacity, sold, held]  # stock_alert: repeats the counts as they are


def _append(database: Path) -> None:
    # the server's audit key (the data folder's secrets), as the server chains with it
    key = ChainKey(read_key(database.parent / SECRETS_DIRNAME, AUDIT_KEY))
    with sqlite3.connect(database, isolation_level=None) as db:
        db.execute("PRAGMA journal_mode = WAL")
        db.execute("PRAGMA synchronous = OFF")
        db.execute("PRAGMA cache_size = -200000")
        seq, prev = db.execute("SELECT seq, hash FROM audit_log ORDER BY seq DESC "
                               "LIMIT 1").fetchone()
        ticket_types = [int(r[0]) for r in db.execute("SELECT id FROM ticket_types")]
        counts = {int(r[0]): [int(r[1]), int(r[2]), int(r[3])] for r in db.execute(
            "SELECT id, capacity, sold, held FROM ticket_types")}
        columns = (*_FIELDS, "hash")
        sql = (f"INSERT INTO audit_log ({', '.join(columns)}) "
               f"VALUES ({', '.join('?' for _ in columns)})")
        db.execute("BEGIN")
        last: tuple[Any, ...] | None = None

        def tracked() -> Iterator[tuple[Any, ...]]:
            nonlocal last
            for row in _entries(int(seq) + 1, str(prev), ticket_types, counts, key):
                last = row
                yield row

        db.executemany(sql, tracked())
        assert last is not None
        db.execute("UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", (last[0], last[-1]))
        db.execute("COMMIT")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def ensure_database() -> tuple[Path, float]:
    """The cached data folder with :data:`ENTRIES` more entries than the demo's, building it
    when missing; returns ``(folder, seconds spent building, 0 when reused)``."""
    folder = cache_dir()
    done = folder / "built.ok"
    if done.exists():
        return folder, 0.0
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    started = time.perf_counter()
    server = LiveServer(data_dir=folder, port=free_port(), demo=True)
    server.start()  # migrations, the demo catalog and staff, the TLS files
    server.stop()
    _append(folder / "pos.sqlite3")
    done.write_text(DATA_VERSION, encoding="utf-8")
    return folder, time.perf_counter() - started
