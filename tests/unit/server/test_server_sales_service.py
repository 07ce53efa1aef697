"""The sale service against an in-process SQLite database (no HTTP): the guard in SQL and
idempotent replays."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update

from pos_app.api import schemas
from pos_app.server import audit
from pos_app.server.db import Database
from pos_app.server.errors import ApiError
from pos_app.server.models import AuditEntry, IdempotencyKey, Sale, TicketType
from pos_app.server.services import sales
from pos_app.server.services.principal import Principal

NOW = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
CASHIER = Principal(session_id=1, staff_id=1, username="sam", display_name="Sam",
                    role="cashier", terminal_id=1, terminal_name="till")


@pytest.fixture
def database(seeded: Callable[..., Database]) -> Database:
    return seeded(now=NOW, ticket_types=[{"name": "GA", "price": 2500, "capacity": 3,
                                          "thresholds": {"low": 2, "critical": 1}},
                                         {"name": "VIP", "price": 9000, "capacity": 2}],
                  staff=[("sam", "cashier", "1111", "Sam")], terminals=["till"],
                  shift_for=CASHIER)  # box-office cash sales need an open shift


@pytest.fixture
def principal() -> Principal:
    return CASHIER


def _ids(database: Database) -> dict[str, int]:
    with database.read() as session:
        return {t.name: t.id for t in session.scalars(select(TicketType)).all()}


def _body(lines: dict[int, int], tendered: int = 100_000) -> schemas.SaleCreate:
    return schemas.SaleCreate.model_validate({
        "lines": [{"ticket_type_id": i, "quantity": q} for i, q in lines.items()],
        "payment": {"method": "cash", "tendered": tendered}})


def _sold(database: Database) -> dict[str, int]:
    with database.read() as session:
        return {t.name: t.sold for t in session.scalars(select(TicketType)).all()}


def _sell(database: Database, principal: Principal, body: schemas.SaleCreate,
          key: str) -> sales.SaleOutcome:
    return sales.create_sale(database, principal, body, key=key, path="/v1/sales", now=NOW)


def test_a_sale_moves_sold_and_replays_by_key(database: Database,
                                              principal: Principal) -> None:
    ga = _ids(database)["GA"]
    first = _sell(database, principal, _body({ga: 2}), "a")
    again = _sell(database, principal, _body({ga: 2}), "a")
    assert (first.status, first.replayed) == (201, False)
    assert (again.status, again.replayed) == (201, True)
    assert again.body == first.body
    assert first.body["number"] == 1
    assert _sold(database)["GA"] == 2


def test_the_guard_refuses_past_capacity_and_rolls_every_line_back(
        database: Database, principal: Principal) -> None:
    ids = _ids(database)
    outcome = _sell(database, principal, _body({ids["GA"]: 1, ids["VIP"]: 3}), "b")
    assert outcome.status == 409
    assert outcome.body["lines"] == [{"ticket_type_id": ids["VIP"], "requested": 3,
                                      "available": 2}]
    assert _sold(database) == {"GA": 0, "VIP": 0}
    with database.read() as session:
        assert session.scalars(select(Sale)).all() == []
        key = session.scalars(select(IdempotencyKey).where(IdempotencyKey.key == "b")).one()
        assert (key.status, key.response_status) == ("completed", 409)


def test_the_guard_reads_the_row_not_a_python_copy(database: Database,
                                                   principal: Principal) -> None:
    """Stock sold behind the service's back (another process) is still respected."""
    ga = _ids(database)["GA"]
    with database.write() as session:
        session.execute(update(TicketType).where(TicketType.id == ga).values(sold=3))
    outcome = _sell(database, principal, _body({ga: 1}), "c")
    assert outcome.status == 409


def test_a_reused_key_with_another_body_changes_nothing(database: Database,
                                                        principal: Principal) -> None:
    ga = _ids(database)["GA"]
    assert _sell(database, principal, _body({ga: 1}), "d").status == 201
    with pytest.raises(ApiError) as refused:
        _sell(database, principal, _body({ga: 2}), "d")
    assert refused.value.code == "idempotency_key_reused"
    assert _sold(database)["GA"] == 1


def test_too_little_cash_is_a_stored_refusal(database: Database,
                                             principal: Principal) -> None:
    ga = _ids(database)["GA"]
    outcome = _sell(database, principal, _body({ga: 2}, tendered=4999), "e")
    assert (outcome.status, outcome.body["error"]) == (422, "insufficient_tender")
    assert _sell(database, principal, _body({ga: 2}, tendered=4999), "e").replayed
    assert _sold(database)["GA"] == 0


def test_an_unknown_ticket_type_is_refused_and_the_key_is_not_kept(
        database: Database, principal: Principal) -> None:
    with pytest.raises(ApiError) as refused:
        _sell(database, principal, _body({424242: 1}), "f")
    assert (refused.value.status, refused.value.code) == (422, "invalid_request")
    with database.read() as session:
        assert session.scalars(select(IdempotencyKey)
                               .where(IdempotencyKey.key == "f")).all() == []


def test_sales_append_a_verifiable_audit_chain_and_tampering_breaks_it(
        database: Database, principal: Principal) -> None:
    ids = _ids(database)
    sale = _sell(database, principal, _body({ids["GA"]: 2, ids["VIP"]: 1}), "g").body
    with database.read() as session:
        rows = session.scalars(select(AuditEntry).where(AuditEntry.action == "sale")
                               .order_by(AuditEntry.seq)).all()
        assert [(r.ticket_type_id, r.before_sold, r.after_sold, r.ref_id) for r in rows] == [
            (ids["GA"], 0, 2, sale["id"]), (ids["VIP"], 0, 1, sale["id"])]
        # 2 imports + the shift's opening + 2 sale lines
        assert audit.verify(session) == (True, 5, None, None, 0)
    with database.write() as session:
        session.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(quantity=5))
    with database.read() as session:
        assert audit.verify(session) == (False, 3, 3, "hash", 0)
