"""Every inventory change is audited, raises stock alerts on downward ladder crossings and
bumps the inventory version (pos_app.server.services.changes)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from pos_app.api import schemas
from pos_app.server import audit
from pos_app.server.db import Database
from pos_app.server.models import AuditEntry, StockAlert, TicketType
from pos_app.server.services import changes, sales
from pos_app.server.services.inventory import inventory_version
from pos_app.server.services.principal import Principal

NOW = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
CASHIER = Principal(session_id=1, staff_id=1, username="sam", display_name="Sam",
                    role="cashier", terminal_id=1, terminal_name="till")


def test_every_rung_between_before_and_after_is_crossed_highest_first() -> None:
    assert changes.crossed_rungs([25, 15, 10, 5, 2, 0], 26, 9) == [25, 15, 10]


def test_landing_exactly_on_a_rung_crosses_it() -> None:
    assert changes.crossed_rungs([25, 15, 10, 5, 2, 0], 11, 10) == [10]
    assert changes.crossed_rungs([25, 15, 10, 5, 2, 0], 1, 0) == [0]


def test_staying_above_a_rung_or_going_up_crosses_nothing() -> None:
    assert changes.crossed_rungs([25, 15, 10], 30, 26) == []
    assert changes.crossed_rungs([25, 15, 10], 9, 30) == []


@pytest.fixture
def database(seeded: Callable[..., Database]) -> Database:
    return seeded(now=NOW, ticket_types=[{"name": "GA", "price": 2500, "capacity": 12,
                                          "thresholds": {"low": 5, "critical": 2},
                                          "alert_ladder": [10, 5, 2, 0]}],
                  staff=[("sam", "cashier", "1111", "Sam")], terminals=["till"],
                  shift_for=CASHIER)  # box-office cash sales need an open shift


def _sell(db: Database, quantity: int, key: str) -> int:
    with db.read() as session:
        tt_id = session.scalars(select(TicketType.id)).one()
    body = schemas.SaleCreate.model_validate({
        "lines": [{"ticket_type_id": tt_id, "quantity": quantity}],
        "payment": {"method": "cash", "tendered": 1_000_000}})
    return sales.create_sale(db, CASHIER, body, key=key, path="/v1/sales", now=NOW).status


def test_a_sale_crossing_rungs_raises_one_stock_alert_per_rung(database: Database) -> None:
    assert _sell(database, 8, "k1") == 201  # 12 -> 4 available: crosses 10 and 5
    with database.read() as session:
        alerts = session.scalars(select(StockAlert).order_by(StockAlert.seq)).all()
        assert [(a.level, a.available) for a in alerts] == [(10, 4), (5, 4)]
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)).all()
        assert actions[-3:] == ["sale", "stock_alert", "stock_alert"]
        assert audit.verify(session).ok


def test_a_rung_already_crossed_is_not_raised_again(database: Database) -> None:
    _sell(database, 3, "k1")  # 12 -> 9: crosses 10
    _sell(database, 1, "k2")  # 9 -> 8: nothing new
    with database.read() as session:
        assert [a.level for a in session.scalars(select(StockAlert)).all()] == [10]


def test_each_committed_change_bumps_the_inventory_version_once(database: Database) -> None:
    with database.read() as session:
        before = inventory_version(session)
    _sell(database, 1, "k1")
    with database.read() as session:
        assert inventory_version(session) == before + 1


def test_deleting_the_newest_audit_entries_breaks_verification(database: Database) -> None:
    _sell(database, 1, "k1")
    with database.read() as session:
        result = audit.verify(session)
        assert result.ok
        newest = session.scalars(select(AuditEntry.seq).order_by(AuditEntry.seq.desc())).first()
    with database.write() as session:
        session.execute(AuditEntry.__table__.delete().where(AuditEntry.seq == newest))
    with database.read() as session:
        broken = audit.verify(session)
    assert (broken.ok, broken.first_bad_seq) == (False, newest)
