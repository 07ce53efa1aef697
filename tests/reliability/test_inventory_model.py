"""A Hypothesis state machine drives the real server (in-process ASGI app, real SQLite, the
server's own clock injected) through sales, holds, releases, conversions, refunds, capacity
changes and the passing of time, against a pure-Python model of the counts.

After every step: the server's counts equal the model's, ``sold + held + available ==
capacity``, no count is negative, each change left exactly its audit entries, and the audit
chain verifies.
"""

from __future__ import annotations

import tempfile
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    rule,
    run_state_machine_as_test,
)

from pos_app.domain.clock import FixedClock
from pos_app.server import admin
from pos_app.server.app import create_app
from pos_app.server.db import Database
from pos_app.server.services import anchoring, live, sealing_keys
from pos_app.server.settings import ServerSettings, database_url_for
from tests.support.postgres import PostgresServer

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient` is deprecated"),
]

START = datetime(2026, 3, 14, 18, 0, tzinfo=UTC)
CAPACITY = {"GA": 6, "VIP": 3}
PRICE = 2500
COUNTED_ACTIONS = ("sale", "hold", "release", "refund", "capacity_increase",
                   "capacity_decrease")


@dataclass
class ModelHold:
    id: str
    lines: dict[str, int]
    expires_at: datetime
    status: str = "active"  # active | converted | released (expiry is derived from time)


@dataclass
class ModelSale:
    id: str
    tickets: dict[str, str]  # code -> ticket type name
    refunded: set[str] = field(default_factory=set)


class InventoryMachine(RuleBasedStateMachine):
    holds = Bundle("holds")
    sales = Bundle("sales")

    #: Where each example's server keeps its data: ``None`` for a fresh SQLite folder, or a
    #: callable returning a fresh database URL (PostgreSQL, see the test at the end).
    new_database: Callable[[], str] | None = None

    def __init__(self) -> None:
        super().__init__()
        from fastapi.testclient import TestClient

        self.clock = FixedClock(START)
        make = type(self).new_database
        data_dir = make() if make is not None else tempfile.mkdtemp(prefix="pos-model-")
        # The server's data folder (secrets: the audit key and anchors, the keys sealing PINs
        # and webhook secrets): the SQLite folder itself, or one beside a PostgreSQL
        # database, shared by the admin calls and the app so that what each appends verifies
        # as one chain and the demo staff's sealed PINs open in the app.
        folder = Path(tempfile.mkdtemp(prefix="pos-model-secrets-") if make is not None
                      else data_dir)
        admin.load_demo(data_dir, data_dir=folder)
        self.event_id = f"model-{uuid.uuid4().hex[:8]}"
        admin.import_catalog(data_dir, {"events": [{
            "id": self.event_id, "name": "Model night", "venue": "Hall",
            "starts_at": "2026-12-31T20:00:00", "timezone": "America/Chicago",
            "currency": "USD",
            "ticket_types": [{"name": n, "price": PRICE, "capacity": c, "public_limit": c,
                              "thresholds": {"low": 2, "critical": 1},
                              "alert_ladder": [2, 0]} for n, c in CAPACITY.items()]}]},
            data_dir=folder)
        code = admin.add_terminal(data_dir, "Model till", data_dir=folder).pairing_code
        settings = ServerSettings(
            database_url=database_url_for(data_dir), clock=self.clock,
            sweeper_interval=timedelta(days=365),  # expiry must not wait for the sweeper
            session_ttl=timedelta(days=3650),
            session_idle_timeout=timedelta(days=3650))  # time runs for days; the session must not
        self.database = Database(settings.database_url,
                                 chain=anchoring.load_chain(folder, create=False),
                                 keys=sealing_keys.load_keys(folder, create=False),
                                 write_hooks=[live.install_session_hooks])
        self.app = create_app(settings, database=self.database)
        self.client = TestClient(self.app)
        self.client.__enter__()
        token = self.client.post("/v1/terminals/pair",
                                 json={"pairing_code": code}).json()["terminal_token"]
        session = self.client.post("/v1/sessions", json={"username": "morgan", "pin": "2468"},
                                   headers={"Authorization": f"Bearer {token}"}).json()
        self.client.headers["Authorization"] = f"Bearer {session['token']}"
        assert self._post("/v1/shifts", {"opening_float": 0}).status_code == 201
        self.ids = {t["name"]: t["id"] for t in self._ticket_types()}
        self.capacity = dict(CAPACITY)
        self.sold = Counter[str]()
        self.model_holds: dict[str, ModelHold] = {}
        self.expected_entries = Counter[str]()
        self.baseline = self._audit_counts()

    def teardown(self) -> None:
        self.client.__exit__(None, None, None)
        self.database.dispose()

    # --- helpers --------------------------------------------------------------------------

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        return self.client.post(path, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})

    def _ticket_types(self) -> list[dict[str, Any]]:
        events = self.client.get("/v1/events").json()["events"]
        return list(next(e for e in events if e["id"] == self.event_id)["ticket_types"])

    def _audit_counts(self) -> Counter[str]:
        counts = Counter[str]()
        cursor: str | None = None
        ids = set(getattr(self, "ids", {}).values())
        while True:
            params: dict[str, Any] = {"limit": 1000}
            if cursor:
                params["cursor"] = cursor
            page = self.client.get("/v1/audit", params=params).json()
            for entry in page["entries"]:
                if entry["action"] in (*COUNTED_ACTIONS, "expire") and (not ids
                                                           or entry["ticket_type_id"] in ids):
                    counts[entry["action"]] += 1
            cursor = page.get("next_cursor")
            if not cursor:
                return counts

    def _held(self, name: str) -> int:
        now = self.clock.now()
        return sum(h.lines.get(name, 0) for h in self.model_holds.values()
                   if h.status == "active" and h.expires_at > now)

    def _available(self, name: str) -> int:
        return self.capacity[name] - self.sold[name] - self._held(name)

    def _lines(self, lines: dict[str, int]) -> list[dict[str, int]]:
        return [{"ticket_type_id": self.ids[n], "quantity": q} for n, q in lines.items()]

    def _lapsed_lines(self) -> int:
        """Lines of holds whose time is up: the most ``expire`` entries there can be."""
        now = self.clock.now()
        return sum(len(h.lines) for h in self.model_holds.values()
                   if h.status in ("active", "expired") and h.expires_at <= now)

    # --- rules ----------------------------------------------------------------------------

    @rule(target=sales, name=st.sampled_from(sorted(CAPACITY)), quantity=st.integers(1, 4))
    def sell(self, name: str, quantity: int) -> Any:
        fits = quantity <= self._available(name)
        response = self._post("/v1/sales", {"lines": self._lines({name: quantity}),
                                            "payment": {"method": "cash",
                                                        "tendered": PRICE * quantity}})
        if not fits:
            assert response.status_code == 409, response.text
            assert response.json()["error"] == "insufficient_inventory"
            return None
        assert response.status_code == 201, response.text
        sale = response.json()
        assert len(sale["tickets"]) == quantity
        self.sold[name] += quantity
        self.expected_entries["sale"] += 1
        return ModelSale(sale["id"], {t["code"]: name for t in sale["tickets"]})

    @rule(target=holds, kind=st.sampled_from(["checkout", "cash"]),
          lines=st.dictionaries(st.sampled_from(sorted(CAPACITY)), st.integers(1, 3),
                                min_size=1, max_size=2))
    def hold(self, kind: str, lines: dict[str, int]) -> Any:
        fits = all(q <= self._available(n) for n, q in lines.items())
        body: dict[str, Any] = {"kind": kind, "lines": self._lines(lines)}
        if kind == "cash":
            body["customer"] = {"name": "Dana Customer"}
        response = self._post("/v1/holds", body)
        if not fits:
            assert response.status_code == 409, response.text
            return None
        assert response.status_code == 201, response.text
        hold = response.json()
        ttl = timedelta(minutes=15) if kind == "checkout" else timedelta(hours=4)
        assert datetime.fromisoformat(hold["expires_at"]) == self.clock.now() + ttl
        self.model_holds[hold["id"]] = ModelHold(hold["id"], dict(lines),
                                                 self.clock.now() + ttl)
        self.expected_entries["hold"] += len(lines)
        return hold["id"]

    @rule(hold_id=consumes(holds))
    def release(self, hold_id: str | None) -> None:
        if hold_id is None:
            return
        hold = self.model_holds[hold_id]
        lapsed = hold.status == "active" and hold.expires_at <= self.clock.now()
        response = self._post(f"/v1/holds/{hold_id}/release", {"reason": "changed mind"})
        if lapsed:
            assert response.status_code == 409 and response.json()["error"] == "hold_expired"
            return
        assert response.status_code == 200, response.text
        hold.status = "released"
        self.expected_entries["release"] += len(hold.lines)

    @rule(target=holds, hold_id=consumes(holds),
          lines=st.dictionaries(st.sampled_from(sorted(CAPACITY)), st.integers(1, 4),
                                min_size=1, max_size=2))
    def replace(self, hold_id: str | None, lines: dict[str, int]) -> Any:
        """A basket changed: a checkout hold takes the place of ``hold_id`` in one
        transaction, counting the old hold's tickets as its own; refused, the old one stands."""
        if hold_id is None:
            return None
        old = self.model_holds[hold_id]
        lapsed = old.expires_at <= self.clock.now()
        fits = all(q <= self._available(n) + (0 if lapsed else old.lines.get(n, 0))
                   for n, q in lines.items())
        response = self._post("/v1/holds", {"kind": "checkout", "lines": self._lines(lines),
                                            "replaces": hold_id})
        if lapsed:
            assert response.status_code == 409 and response.json()["error"] == "hold_expired"
            return None
        if not fits:
            assert response.status_code == 409, response.text
            assert response.json()["error"] == "insufficient_inventory"
            return hold_id  # still active, still the basket's
        assert response.status_code == 201, response.text
        old.status = "released"
        self.expected_entries["release"] += len(old.lines)
        hold = response.json()
        self.model_holds[hold["id"]] = ModelHold(hold["id"], dict(lines),
                                                 self.clock.now() + timedelta(minutes=15))
        self.expected_entries["hold"] += len(lines)
        return hold["id"]

    @rule(target=sales, hold_id=consumes(holds))
    def convert(self, hold_id: str | None) -> Any:
        if hold_id is None:
            return None
        hold = self.model_holds[hold_id]
        lapsed = hold.expires_at <= self.clock.now()
        total = PRICE * sum(hold.lines.values())
        response = self._post("/v1/sales", {"hold_id": hold_id,
                                            "payment": {"method": "cash", "tendered": total}})
        if lapsed:
            assert response.status_code == 409 and response.json()["error"] == "hold_expired"
            return None
        assert response.status_code == 201, response.text
        hold.status = "converted"
        for name, quantity in hold.lines.items():
            self.sold[name] += quantity
        self.expected_entries["sale"] += len(hold.lines)
        sale = response.json()
        by_id = {v: k for k, v in self.ids.items()}
        return ModelSale(sale["id"], {t["code"]: by_id[t["ticket_type_id"]]
                                      for t in sale["tickets"]})

    @rule(sale=sales, data=st.data())
    def refund(self, sale: ModelSale | None, data: st.DataObject) -> None:
        if sale is None:
            return
        valid = sorted(set(sale.tickets) - sale.refunded)
        if not valid:
            return
        codes = data.draw(st.lists(st.sampled_from(valid), min_size=1, unique=True))
        response = self._post(f"/v1/sales/{sale.id}/refunds",
                              {"ticket_codes": codes, "reason": "customer cannot come"})
        assert response.status_code == 201, response.text
        sale.refunded.update(codes)
        names = Counter(sale.tickets[c] for c in codes)
        for name, quantity in names.items():
            self.sold[name] -= quantity
        self.expected_entries["refund"] += len(names)

    @rule(name=st.sampled_from(sorted(CAPACITY)), delta=st.integers(-4, 4).filter(bool))
    def change_capacity(self, name: str, delta: int) -> None:
        committed = self.sold[name] + self._held(name)
        fits = self.capacity[name] + delta >= committed
        response = self._post(f"/v1/ticket-types/{self.ids[name]}/capacity",
                              {"delta": delta, "reason": "model test"})
        if not fits:
            assert response.status_code == 409, response.text
            assert response.json()["error"] == "capacity_below_committed"
            return
        assert response.status_code == 200, response.text
        self.capacity[name] += delta
        self.expected_entries["capacity_increase" if delta > 0 else "capacity_decrease"] += 1

    @rule(minutes=st.sampled_from([1, 14, 16, 60, 239, 241]))
    def time_passes(self, minutes: int) -> None:
        self.clock.advance(timedelta(minutes=minutes))

    # --- invariants -----------------------------------------------------------------------

    @invariant()
    def counts_match_the_model(self) -> None:
        for tt in self._ticket_types():
            name = tt["name"]
            assert tt["capacity"] == self.capacity[name]
            assert tt["sold"] == self.sold[name]
            assert tt["held"] == self._held(name)
            assert tt["available"] == max(0, self._available(name))
            assert tt["sold"] + tt["held"] + tt["available"] == tt["capacity"]
            assert min(tt["sold"], tt["held"], tt["available"]) >= 0

    @invariant()
    def every_change_left_its_audit_entries_and_the_chain_verifies(self) -> None:
        counts = self._audit_counts()
        for action in COUNTED_ACTIONS:
            assert counts[action] - self.baseline[action] == self.expected_entries[action], (
                action, counts, self.expected_entries)
        # A lapsed hold is expired lazily by the next write touching its ticket types (or the
        # sweeper): at most one entry per line of a lapsed hold, never one for a live hold.
        assert counts["expire"] - self.baseline["expire"] <= self._lapsed_lines()
        assert self.client.get("/v1/audit/verify").json()["ok"] is True


InventoryMachine.TestCase.settings = settings(
    max_examples=25, stateful_step_count=30, deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
test_inventory_matches_the_model = InventoryMachine.TestCase


@pytest.mark.postgres
def test_inventory_matches_the_model_on_postgresql(postgres: PostgresServer) -> None:
    """The same machine, each example on a fresh PostgreSQL database."""

    class OnPostgres(InventoryMachine):
        new_database = staticmethod(
            lambda: postgres.create_database(f"model_{uuid.uuid4().hex[:12]}"))

    run_state_machine_as_test(OnPostgres, settings=InventoryMachine.TestCase.settings)
