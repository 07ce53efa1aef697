"""Refunds against an in-process SQLite database (no HTTP): tickets back to inventory in one
transaction, manager approval, and no ticket refunded twice."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from pos_app.api import schemas
from pos_app.server import audit
from pos_app.server.db import Database
from pos_app.server.errors import ApiError
from pos_app.server.models import AuditEntry, IdempotencyKey, Refund, Sale, Ticket, TicketType
from pos_app.server.services import identity, refunds, sales
from pos_app.server.services.principal import Principal
from tests.support import approvals

NOW = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)

CASHIER = Principal(session_id=1, staff_id=1, username="sam", display_name="Sam",
                    role="cashier", terminal_id=1, terminal_name="till")
MANAGER = Principal(session_id=2, staff_id=2, username="mia", display_name="Mia",
                    role="manager", terminal_id=1, terminal_name="till")
CHANNEL = Principal(session_id=None, staff_id=None, username="channel:web", display_name="web",
                    role="channel", terminal_id=None, terminal_name="", channel="online",
                    kind="channel", channel_token_id=1)


@pytest.fixture
def database(seeded: Callable[..., Database]) -> Database:
    return seeded(now=NOW, ticket_types=[{"name": "GA", "price": 2500, "capacity": 5},
                                         {"name": "VIP", "price": 9000, "capacity": 2}],
                  staff=[("sam", "cashier", "1111", "Sam"), ("mia", "manager", "2222", "Mia")],
                  terminals=["till"], shift_for=CASHIER)


def _ids(database: Database) -> dict[str, int]:
    with database.read() as session:
        return {t.name: t.id for t in session.scalars(select(TicketType))}


def _sold(database: Database) -> dict[str, int]:
    with database.read() as session:
        return {t.name: t.sold for t in session.scalars(select(TicketType))}


def _sell(database: Database, lines: dict[int, int]) -> dict[str, Any]:
    body = schemas.SaleCreate.model_validate({
        "lines": [{"ticket_type_id": i, "quantity": q} for i, q in lines.items()],
        "payment": {"method": "cash", "tendered": 1_000_000}})
    outcome = sales.create_sale(database, CASHIER, body, key=f"sale-{lines}", path="/v1/sales",
                                now=NOW)
    assert outcome.status == 201, outcome.body
    return outcome.body


def _refund(database: Database, sale_ref: str, *, principal: Principal = MANAGER,
            key: str = "r1", **body: Any) -> refunds.RefundOutcome:
    request = schemas.RefundCreate.model_validate({"reason": "customer ill", **body})
    return approvals.refund(database, principal, sale_ref, request, key=key,
                            path=f"/v1/sales/{sale_ref}/refunds", now=NOW)


def _sale_status(database: Database, sale_id: str) -> str:
    with database.read() as session:
        sale = session.get(Sale, sale_id)
        assert sale is not None
        return sale.status


def test_refunding_a_whole_sale_puts_every_ticket_back(database: Database) -> None:
    ids = _ids(database)
    sale = _sell(database, {ids["GA"]: 2, ids["VIP"]: 1})
    outcome = _refund(database, str(sale["number"]))
    assert outcome.status == 201
    assert outcome.body["amount"] == 2 * 2500 + 9000
    assert outcome.body["approved_by"] == MANAGER.staff_id
    assert outcome.body["method"] == "cash"
    assert len(outcome.body["tickets"]) == 3
    assert _sold(database) == {"GA": 0, "VIP": 0}
    assert _sale_status(database, sale["id"]) == "refunded"
    with database.read() as session:
        assert {t.status for t in session.scalars(select(Ticket))} == {"refunded"}
        refund = session.get(Refund, outcome.body["id"])
        assert refund is not None and refund.shift_id is not None  # the till's open shift
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "refund")
                                  .order_by(AuditEntry.seq)).all()
        assert [(e.ticket_type_id, e.before_sold, e.after_sold, e.approved_by, e.reason,
                 e.ref_type, e.ref_id) for e in entries] == [
            (ids["GA"], 2, 0, MANAGER.staff_id, "customer ill", "refund", refund.id),
            (ids["VIP"], 1, 0, MANAGER.staff_id, "customer ill", "refund", refund.id)]
        assert audit.verify(session).ok


def test_refunding_chosen_tickets_leaves_the_sale_partially_refunded(
        database: Database) -> None:
    ga = _ids(database)["GA"]
    sale = _sell(database, {ga: 3})
    code = sale["tickets"][0]["code"]
    outcome = _refund(database, sale["id"], ticket_codes=[code])
    assert outcome.status == 201
    assert outcome.body["amount"] == 2500
    assert [t["code"] for t in outcome.body["tickets"]] == [code]
    assert _sold(database)["GA"] == 2
    assert _sale_status(database, sale["id"]) == "partially_refunded"
    # The rest later: the default is every ticket still valid.
    rest = _refund(database, sale["id"], key="r2")
    assert rest.status == 201 and len(rest.body["tickets"]) == 2
    assert _sale_status(database, sale["id"]) == "refunded"
    assert _sold(database)["GA"] == 0


def test_a_ticket_is_never_refunded_twice_even_with_another_key(database: Database) -> None:
    ga = _ids(database)["GA"]
    sale = _sell(database, {ga: 2})
    code = sale["tickets"][0]["code"]
    first = _refund(database, sale["id"], ticket_codes=[code], key="a")
    again = _refund(database, sale["id"], ticket_codes=[code], key="a")
    second = _refund(database, sale["id"], ticket_codes=[code], key="b")
    assert first.status == 201
    assert (again.status, again.replayed, again.body) == (201, True, first.body)
    assert (second.status, second.body["error"]) == (409, "already_refunded")
    assert second.body["ticket_codes"] == [code]
    assert _sold(database)["GA"] == 1
    with database.read() as session:
        assert len(session.scalars(select(Refund)).all()) == 1
        stored = session.scalars(select(IdempotencyKey).where(IdempotencyKey.key == "b")).one()
        assert stored.response_status == 409  # a business refusal is stored and replayed


def test_refunding_a_fully_refunded_sale_again_is_refused(database: Database) -> None:
    sale = _sell(database, {_ids(database)["VIP"]: 1})
    assert _refund(database, sale["id"], key="a").status == 201
    again = _refund(database, sale["id"], key="b")
    assert (again.status, again.body["error"]) == (409, "already_refunded")


def test_tickets_of_another_sale_are_invalid_and_change_nothing(database: Database) -> None:
    ga = _ids(database)["GA"]
    mine, other = _sell(database, {ga: 1}), _sell(database, {ga: 2})
    with pytest.raises(ApiError) as refused:
        _refund(database, mine["id"], ticket_codes=[other["tickets"][0]["code"]])
    assert (refused.value.status, refused.value.code) == (422, "invalid_request")
    assert _sold(database)["GA"] == 3
    with database.read() as session:
        assert session.scalars(select(IdempotencyKey).where(IdempotencyKey.key == "r1")
                               ).first() is None


def test_an_unknown_sale_is_not_found(database: Database) -> None:
    with pytest.raises(ApiError) as refused:
        _refund(database, "999")
    assert refused.value.status == 404


def test_a_cashier_cannot_refund_without_a_manager_pin(database: Database) -> None:
    sale = _sell(database, {_ids(database)["GA"]: 1})
    with pytest.raises(ApiError) as refused:
        _refund(database, sale["id"], principal=CASHIER)
    assert (refused.value.status, refused.value.code) == (403, "forbidden")
    assert "manager" in refused.value.message
    assert _sold(database)["GA"] == 1


def test_a_cashier_with_a_wrong_manager_pin_is_refused(database: Database) -> None:
    sale = _sell(database, {_ids(database)["GA"]: 1})
    for manager in ({"username": "mia", "pin": "9999"}, {"username": "sam", "pin": "1111"},
                    {"username": "nobody", "pin": "2222"}):
        with pytest.raises(ApiError) as refused:
            _refund(database, sale["id"], principal=CASHIER, manager=manager)
        assert (refused.value.status, refused.value.code) == (403, "approval_refused")
        assert refused.value.message == identity.APPROVAL_REFUSED
    assert _sold(database)["GA"] == 1


def test_a_cashier_with_the_right_manager_pin_refunds_and_the_pin_is_not_stored(
        database: Database) -> None:
    sale = _sell(database, {_ids(database)["GA"]: 1})
    outcome = _refund(database, sale["id"], principal=CASHIER,
                      manager={"username": "mia", "pin": "2222"})
    assert outcome.status == 201
    assert outcome.body["approved_by"] == MANAGER.staff_id
    assert outcome.body["staff_id"] == CASHIER.staff_id
    assert _sold(database)["GA"] == 0
    with database.read() as session:
        key = session.scalars(select(IdempotencyKey).where(IdempotencyKey.key == "r1")).one()
        assert "2222" not in str(key.response_body)
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "refund")).one()
        assert (entry.staff_id, entry.approved_by) == (CASHIER.staff_id, MANAGER.staff_id)


def test_a_channel_token_cannot_refund(database: Database) -> None:
    sale = _sell(database, {_ids(database)["GA"]: 1})
    with pytest.raises(ApiError) as refused:
        _refund(database, sale["id"], principal=CHANNEL)
    assert refused.value.status == 403


def test_a_cash_refund_needs_an_open_shift_at_the_terminal(database: Database) -> None:
    sale = _sell(database, {_ids(database)["GA"]: 1})
    elsewhere = Principal(session_id=3, staff_id=2, username="mia", display_name="Mia",
                          role="manager", terminal_id=2, terminal_name="office")
    with database.write() as session:
        identity.create_terminal(session, "office", now=NOW, ttl=timedelta(minutes=10))
    outcome = _refund(database, sale["id"], principal=elsewhere)
    assert (outcome.status, outcome.body["error"]) == (409, "shift_not_open")
    assert _sold(database)["GA"] == 1
