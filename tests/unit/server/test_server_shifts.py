"""The shift service against an in-process SQLite database (no HTTP): open with a float, cash
movements, close with the counted cash, the cash-up arithmetic and the shift a cash sale
needs."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from pos_app.api import schemas
from pos_app.server import audit
from pos_app.server.audit_anchors import ANCHOR_FILE, read_anchors
from pos_app.server.db import Database
from pos_app.server.errors import ApiError
from pos_app.server.models import AuditEntry, Hold, Refund, Sale, Shift, TicketType
from pos_app.server.secrets_dir import SECRETS_DIRNAME
from pos_app.server.services import sales, shifts
from pos_app.server.services.principal import Principal
from tests.support import approvals

NOW = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)


@pytest.fixture
def database(seeded: Callable[..., Database]) -> Database:
    return seeded(now=NOW, ticket_types=[{"name": "GA", "price": 2500, "capacity": 10},
                                         {"name": "VIP", "price": 9000, "capacity": 4}],
                  staff=[("sam", "cashier", "1111", "Sam"), ("max", "manager", "2222", "Max")],
                  terminals=["till 1", "till 2"])


def staff(*, terminal_id: int = 1, role: str = "cashier") -> Principal:
    staff_id = 1 if role == "cashier" else 2
    return Principal(session_id=staff_id, staff_id=staff_id, username="x", display_name="X",
                     role=role, terminal_id=terminal_id, terminal_name=f"till {terminal_id}")


CASHIER = staff()


def open_shift(db: Database, float_: int = 20_000, *, who: Principal = CASHIER,
               key: str | None = None) -> shifts.ShiftOutcome:
    return shifts.open_shift(db, who, schemas.ShiftOpen(opening_float=float_),
                             key=key or uuid.uuid4().hex, path="/v1/shifts", currency="USD",
                             now=NOW)


def move(db: Database, shift_id: int, kind: str, amount: int, *, who: Principal = CASHIER,
         key: str | None = None) -> shifts.ShiftOutcome:
    body = schemas.CashMovementCreate.model_validate(
        {"kind": kind, "amount": amount, "reason": f"{kind} for the test"})
    return shifts.add_cash_movement(db, who, shift_id, body, key=key or uuid.uuid4().hex,
                                    path=f"/v1/shifts/{shift_id}/cash-movements", now=NOW)


def close(db: Database, shift_id: int, counted: int, *, who: Principal = CASHIER,
          key: str | None = None, note: str | None = None) -> shifts.ShiftOutcome:
    return approvals.close_shift(db, who, shift_id,
                                 schemas.ShiftClose(counted_cash=counted, note=note),
                                 key=key or uuid.uuid4().hex,
                                 path=f"/v1/shifts/{shift_id}/close", now=NOW)


def sell(db: Database, lines: dict[str, int], *, key: str | None = None,
         tendered: int = 100_000) -> sales.SaleOutcome:
    with db.read() as session:
        ids = {t.name: t.id for t in session.scalars(select(TicketType)).all()}
    body = schemas.SaleCreate.model_validate({
        "lines": [{"ticket_type_id": ids[name], "quantity": q} for name, q in lines.items()],
        "payment": {"method": "cash", "tendered": tendered}})
    return sales.create_sale(db, CASHIER, body, key=key or uuid.uuid4().hex, path="/v1/sales",
                             now=NOW)


def sold(db: Database) -> dict[str, int]:
    with db.read() as session:
        return {t.name: t.sold for t in session.scalars(select(TicketType)).all()}


def test_opening_a_shift_answers_it_open_with_its_float_and_audits_it(
        database: Database) -> None:
    opened = open_shift(database, 15_000)
    assert opened.status == 201
    shift = opened.body
    assert (shift["status"], shift["opening_float"], shift["currency"]) == ("open", 15_000,
                                                                            "USD")
    assert (shift["terminal_id"], shift["opened_by"]) == (1, 1)
    assert shift["expected_cash"] is None and shift["variance"] is None
    with database.read() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
        assert entry is not None
        assert (entry.action, entry.shift_id, entry.ref_type, entry.ref_id) == (
            "shift_open", shift["id"], "shift", str(shift["id"]))
        assert audit.verify(session).ok


def test_a_second_open_at_the_same_terminal_is_refused_and_the_refusal_replays(
        database: Database) -> None:
    first = open_shift(database).body
    refused = open_shift(database, key="again")
    assert (refused.status, refused.body["error"]) == (409, "shift_already_open")
    assert refused.body["shift_id"] == first["id"]
    replay = open_shift(database, key="again")
    assert replay.replayed and replay.body == refused.body
    assert open_shift(database, who=staff(terminal_id=2)).status == 201  # another till may


def test_the_same_key_replays_the_opened_shift_without_opening_another(
        database: Database) -> None:
    first = open_shift(database, key="k")
    again = open_shift(database, key="k")
    assert again.replayed and again.body == first.body
    with database.read() as session:
        assert len(session.scalars(select(Shift)).all()) == 1


def test_closing_computes_expected_cash_and_variance_from_sales_refunds_and_movements(
        database: Database) -> None:
    shift_id = open_shift(database, 20_000).body["id"]
    sale = sell(database, {"GA": 2, "VIP": 1})  # 5000 + 9000
    assert sale.status == 201 and sale.body["shift_id"] == shift_id
    assert sell(database, {"GA": 1}).status == 201  # 2500
    with database.write() as session:  # a cash refund paid out of this drawer
        session.add(Refund(id=uuid.uuid4().hex, sale_id=sale.body["id"], amount=2500,
                           currency="USD", method="cash", reason="test", approved_by=2,
                           staff_id=1, terminal_id=1, shift_id=shift_id, channel="box_office",
                           created_at=NOW))
    assert move(database, shift_id, "pay_in", 5_000).status == 201
    assert move(database, shift_id, "pay_out", 1_200).status == 201
    assert move(database, shift_id, "drop", 10_000).status == 201

    closed = close(database, shift_id, 27_500, note="one note short")

    assert closed.status == 200
    shift = closed.body
    expected = 20_000 + 16_500 - 2_500 + 5_000 - 1_200 - 10_000
    assert (shift["expected_cash"], shift["counted_cash"], shift["variance"]) == (
        expected, 27_500, 27_500 - expected)
    assert shift["status"] == "closed" and shift["note"] == "one note short"
    assert shift["sales"] == {"count": 2, "amount": 16_500}
    assert shift["refunds"] == {"count": 1, "amount": 2_500}
    assert (shift["pay_ins"], shift["pay_outs"], shift["drops"]) == (5_000, 1_200, 10_000)
    assert [(t["name"], t["tickets"], t["amount"]) for t in shift["ticket_types"]] == [
        ("GA", 3, 7_500), ("VIP", 1, 9_000)]
    assert [m["kind"] for m in shift["cash_movements"]] == ["pay_in", "pay_out", "drop"]
    with database.read() as session:
        actions = session.scalars(select(AuditEntry.action).where(
            AuditEntry.shift_id == shift_id).order_by(AuditEntry.seq)).all()
        assert actions[0] == "shift_open" and actions[-1] == "shift_close"
        assert actions.count("cash_movement") == 3
        assert audit.verify(session).ok
    with database.read() as session:
        assert shifts.get_shift(session, CASHIER, shift_id, NOW).model_dump(mode="json") == shift


def test_a_closed_shift_refuses_movements_and_a_second_close(database: Database) -> None:
    shift_id = open_shift(database).body["id"]
    assert close(database, shift_id, 20_000).body["variance"] == 0
    refused = move(database, shift_id, "drop", 1_000, key="late-drop")
    assert (refused.status, refused.body["error"]) == (409, "shift_not_open")
    assert move(database, shift_id, "drop", 1_000, key="late-drop").replayed
    assert close(database, shift_id, 20_000).body["error"] == "shift_not_open"
    assert open_shift(database).status == 201  # the terminal may open its next shift


def test_a_cash_sale_without_an_open_shift_is_refused_sells_nothing_and_replays(
        database: Database) -> None:
    refused = sell(database, {"GA": 2}, key="no-shift")
    assert (refused.status, refused.body["error"]) == (409, "shift_not_open")
    replay = sell(database, {"GA": 2}, key="no-shift")
    assert replay.replayed and replay.body == refused.body
    assert sold(database) == {"GA": 0, "VIP": 0}
    with database.read() as session:
        assert session.scalars(select(Sale)).all() == []


def test_a_sale_after_the_shift_closed_is_refused(database: Database) -> None:
    shift_id = open_shift(database).body["id"]
    close(database, shift_id, 20_000)
    assert sell(database, {"GA": 1}).body["error"] == "shift_not_open"
    assert sold(database)["GA"] == 0


def test_sales_are_audited_with_the_shift(database: Database) -> None:
    shift_id = open_shift(database).body["id"]
    sale = sell(database, {"GA": 1}).body
    with database.read() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "sale")).one()
        assert (entry.shift_id, entry.ref_id) == (shift_id, sale["id"])


def test_a_cashier_may_not_touch_another_terminals_shift_but_a_manager_may(
        database: Database) -> None:
    other = open_shift(database, who=staff(terminal_id=2)).body["id"]
    with pytest.raises(ApiError) as refused:
        move(database, other, "pay_in", 100)
    assert refused.value.code == "forbidden"
    with database.read() as session, pytest.raises(ApiError):
        shifts.get_shift(session, CASHIER, other, NOW)
    manager = staff(terminal_id=1, role="manager")
    assert close(database, other, 20_000, who=manager).status == 200


def test_an_unknown_shift_is_not_found_and_the_key_is_not_kept(database: Database) -> None:
    with pytest.raises(ApiError) as missing:
        close(database, 999, 0, key="nothing")
    assert missing.value.code == "not_found"
    shift_id = open_shift(database).body["id"]
    assert shift_id != 999


def test_holds_are_counted_by_what_became_of_them_and_lapsed_ones_count_as_expired(
        database: Database) -> None:
    shift_id = open_shift(database).body["id"]
    with database.write() as session:
        for status, expires in (("active", NOW + timedelta(minutes=5)),
                                ("active", NOW - timedelta(seconds=1)),
                                ("converted", NOW), ("released", NOW), ("expired", NOW)):
            session.add(Hold(id=uuid.uuid4().hex, code=uuid.uuid4().hex[:8], kind="checkout",
                             status=status, channel="box_office", event_id="gig", total=0,
                             currency="USD", created_at=NOW, expires_at=expires,
                             terminal_id=1, staff_id=1, shift_id=shift_id))
    with database.read() as session:
        holds = shifts.get_shift(session, CASHIER, shift_id, NOW).holds
    assert (holds.placed, holds.active, holds.converted, holds.released, holds.expired) == (
        5, 1, 1, 1, 2)


def test_listing_pages_newest_first_and_cashiers_see_only_their_terminal(
        database: Database) -> None:
    for _ in range(3):
        close(database, open_shift(database).body["id"], 20_000)
    open_shift(database, who=staff(terminal_id=2))
    manager = staff(role="manager")
    with database.read() as session:
        first = shifts.list_shifts(session, manager, terminal_id=None, status=None,
                                   opened_from=None, opened_to=None, limit=2, cursor=None,
                                   now=NOW)
        assert [s.id for s in first.shifts] == [4, 3] and first.next_cursor
        rest = shifts.list_shifts(session, manager, terminal_id=None, status=None,
                                  opened_from=None, opened_to=None, limit=2,
                                  cursor=first.next_cursor, now=NOW)
        assert [s.id for s in rest.shifts] == [2, 1] and rest.next_cursor is None
        mine = shifts.list_shifts(session, CASHIER, terminal_id=None, status="closed",
                                  opened_from=None, opened_to=None, limit=100, cursor=None,
                                  now=NOW)
        assert {s.terminal_id for s in mine.shifts} == {1} and len(mine.shifts) == 3
        with pytest.raises(ApiError) as refused:
            shifts.list_shifts(session, CASHIER, terminal_id="2", status=None,
                               opened_from=None, opened_to=None, limit=100, cursor=None,
                               now=NOW)
        assert refused.value.code == "forbidden"
        open_now = shifts.list_shifts(session, CASHIER, terminal_id="me", status="open",
                                      opened_from=None, opened_to=None, limit=100,
                                      cursor=None, now=NOW)
        assert open_now.shifts == []


def test_closing_a_shift_anchors_the_audit_head_outside_the_database_at_once(
        seeded: Callable[..., Database], tmp_path: Path) -> None:
    """The cash-up's entries cannot be cut off in the minute before the anchoring task
    runs: the close itself appends the committed head to the data folder's anchor file."""
    data_dir = tmp_path / "data"
    db = seeded(now=NOW, ticket_types=[{"name": "GA", "price": 2500, "capacity": 10}],
                staff=[("sam", "cashier", "1111", "Sam")], terminals=["till 1"],
                data_dir=data_dir)
    anchors = data_dir / SECRETS_DIRNAME / ANCHOR_FILE
    before = read_anchors(anchors)
    shift_id = int(open_shift(db, 5000).body["id"])
    assert sell(db, {"GA": 1}, tendered=2500).status == 201
    assert read_anchors(anchors) == before  # sales wait for the minute's anchoring
    assert close(db, shift_id, 7500).status == 200
    with db.read() as session:
        head = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert head is not None and head.action == "shift_close"
    newest = read_anchors(anchors)[-1]
    assert (newest.seq, newest.hash) == (head.seq, head.hash)
