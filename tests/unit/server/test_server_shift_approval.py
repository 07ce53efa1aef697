"""A cash-up variance beyond the threshold needs a manager's PIN and a note: the shift service
against an in-process SQLite database. The refusal changes nothing and keeps the count blind;
the PIN is never stored anywhere in the database."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from pos_app.api import schemas
from pos_app.server import audit
from pos_app.server.db import Database
from pos_app.server.errors import ApiError
from pos_app.server.models import AuditEntry, IdempotencyKey, Shift, TicketType
from pos_app.server.services import identity, sales, shifts
from pos_app.server.services.principal import Principal
from tests.support import approvals

NOW = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
MANAGER_PIN = "7391826540"  # long and odd enough that finding it in the file bytes means it
SAM_PIN = "1111"


def seed(seeded: Callable[..., Database], url: str | None = None) -> Database:
    return seeded(now=NOW, ticket_types=[{"name": "GA", "price": 2500, "capacity": 10}],
                  staff=[("sam", "cashier", SAM_PIN, "Sam Cashier"),
                         ("max", "manager", MANAGER_PIN, "Max Manager")],
                  terminals=["till 1"], url=url)


@pytest.fixture
def database(seeded: Callable[..., Database]) -> Database:
    return seed(seeded)


@pytest.fixture
def either_database(seeded: Callable[..., Database], dialect_url: str | None) -> Database:
    """The same data on SQLite and (marked ``postgres``) on PostgreSQL."""
    return seed(seeded, dialect_url)


def staff(role: str = "cashier") -> Principal:
    staff_id = 1 if role == "cashier" else 2
    return Principal(session_id=staff_id, staff_id=staff_id, username="x", display_name="X",
                     role=role, terminal_id=1, terminal_name="till 1")


CASHIER = staff()
MANAGER = staff("manager")


def open_with_a_sale(db: Database) -> int:
    """A shift with a $200.00 float and one $25.00 cash sale: $225.00 expected."""
    opened = shifts.open_shift(db, CASHIER, schemas.ShiftOpen(opening_float=20_000),
                               key=uuid.uuid4().hex, path="/v1/shifts", currency="USD", now=NOW)
    with db.read() as session:
        ga = session.scalars(select(TicketType.id)).one()
    body = schemas.SaleCreate.model_validate({
        "lines": [{"ticket_type_id": ga, "quantity": 1}],
        "payment": {"method": "cash", "tendered": 2500}})
    assert sales.create_sale(db, CASHIER, body, key=uuid.uuid4().hex, path="/v1/sales",
                             now=NOW).status == 201
    return int(opened.body["id"])


def close(db: Database, shift_id: int, counted: int, *, who: Principal = CASHIER,
          note: str | None = None, manager: tuple[str, str] | None = None,
          key: str | None = None, threshold: int = 500) -> shifts.ShiftOutcome:
    approval = (schemas.ManagerApproval(username=manager[0], pin=manager[1])
                if manager is not None else None)
    return approvals.close_shift(
        db, who, shift_id, schemas.ShiftClose(counted_cash=counted, note=note,
                                              manager=approval),
        key=key or uuid.uuid4().hex, path=f"/v1/shifts/{shift_id}/close", now=NOW,
        variance_threshold=threshold)


def stored_shift(db: Database, shift_id: int) -> Shift:
    with db.read() as session:
        shift = session.get(Shift, shift_id)
        assert shift is not None
        session.expunge(shift)
        return shift


def keys(db: Database) -> list[IdempotencyKey]:
    with db.read() as session:
        return list(session.scalars(select(IdempotencyKey)).all())


def test_a_count_within_the_threshold_closes_without_a_manager(database: Database) -> None:
    shift_id = open_with_a_sale(database)
    closed = close(database, shift_id, 22_000)  # $5.00 short: exactly the threshold
    assert closed.status == 200
    assert (closed.body["variance"], closed.body["approved_by"]) == (-500, None)


def test_beyond_the_threshold_without_approval_is_refused_changing_nothing_and_blind(
        database: Database) -> None:
    shift_id = open_with_a_sale(database)
    keys_before = len(keys(database))
    with database.read() as session:
        audit_before = len(session.scalars(select(AuditEntry.seq)).all())

    for note in (None, "short, no idea why"):  # a note alone is not enough
        with pytest.raises(ApiError) as refused:
            close(database, shift_id, 21_999, note=note, key="same-key")
        error = refused.value
        assert (error.status, str(error.code)) == (409, "variance_needs_approval")
        body = str(error.body())
        for leak in ("22500", "22_500", "225.00", "-501", "501", "5.01", "expected"):
            assert leak not in body  # neither the expected cash nor the variance

    shift = stored_shift(database, shift_id)
    assert (shift.status, shift.counted_cash, shift.expected_cash, shift.variance) == (
        "open", None, None, None)
    assert len(keys(database)) == keys_before  # the refusal was not stored
    with database.read() as session:
        assert len(session.scalars(select(AuditEntry.seq)).all()) == audit_before


def test_an_approval_without_a_note_is_refused(database: Database) -> None:
    shift_id = open_with_a_sale(database)
    with pytest.raises(ApiError) as refused:
        close(database, shift_id, 30_000, note="   ", manager=("max", MANAGER_PIN))
    assert str(refused.value.code) == "variance_needs_approval"
    assert stored_shift(database, shift_id).status == "open"


@pytest.mark.parametrize(("manager", "cause"), [
    (("sam", SAM_PIN), "'sam' is not a manager"),
    (("max", "0000"), "wrong PIN for 'max'"),
    (("nobody", MANAGER_PIN), "unknown username 'nobody'"),
])
def test_a_cashier_or_a_wrong_pin_cannot_approve_and_only_the_audit_says_why(
        database: Database, manager: tuple[str, str], cause: str) -> None:
    shift_id = open_with_a_sale(database)
    with pytest.raises(ApiError) as refused:
        close(database, shift_id, 10_000, note="drawer short", manager=manager)
    assert (refused.value.status, str(refused.value.code)) == (403, "approval_refused")
    assert refused.value.body() == {"error": "approval_refused",
                                    "message": identity.APPROVAL_REFUSED}
    assert stored_shift(database, shift_id).status == "open"
    with database.read() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert entry is not None and entry.action == "approval_failed"
    assert entry.reason == f"cash-up variance approval refused: {cause}"
    assert manager[1] not in str(entry.reason)


def test_a_managers_pin_and_a_note_close_it_and_the_audit_keeps_who_and_why(
        database: Database, tmp_path: Path) -> None:
    shift_id = open_with_a_sale(database)
    closed = close(database, shift_id, 21_000, note=" a twenty went to the caterer ",
                   manager=("max", MANAGER_PIN), key="approved-close")
    assert closed.status == 200
    shift = closed.body
    assert (shift["expected_cash"], shift["counted_cash"], shift["variance"]) == (
        22_500, 21_000, -1_500)
    assert (shift["approved_by"], shift["approved_by_name"]) == (2, "Max Manager")
    assert shift["note"] == "a twenty went to the caterer"
    assert (shift["closed_by_name"], shift["opened_by_name"]) == ("Sam Cashier", "Sam Cashier")
    assert shift["terminal_name"] == "till 1"
    with database.read() as session:
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "shift_close")).one()
        assert (entry.shift_id, entry.approved_by, entry.staff_id) == (shift_id, 2, 1)
        assert entry.reason is not None and "a twenty went to the caterer" in entry.reason
        assert "Max Manager" in entry.reason
        assert audit.verify(session).ok
        reread = shifts.get_shift(session, CASHIER, shift_id, NOW)
    assert reread.approved_by == 2 and reread.approved_by_name == "Max Manager"

    # The same key and body (same PIN or not: it is not part of the request) replays.
    again = close(database, shift_id, 21_000, note=" a twenty went to the caterer ",
                  manager=("max", MANAGER_PIN), key="approved-close")
    assert again.replayed and again.body == closed.body

    # Nowhere in the database: not the file, its WAL, the keys' hashes or stored bodies.
    database.dispose()
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("pos.sqlite3*"))
    assert stored and MANAGER_PIN.encode() not in stored
    assert b"approved-close" in stored  # the key itself is there: the search does work


def test_a_manager_closing_approves_themselves_but_still_needs_a_note(
        either_database: Database) -> None:
    database = either_database
    shift_id = open_with_a_sale(database)
    with pytest.raises(ApiError) as refused:
        close(database, shift_id, 0, who=MANAGER)
    assert str(refused.value.code) == "variance_needs_approval"
    closed = close(database, shift_id, 0, who=MANAGER, note="drawer taken to the office")
    assert closed.status == 200 and closed.body["approved_by"] == 2
    assert closed.body["approved_by_name"] == closed.body["closed_by_name"] == "Max Manager"
    with database.read() as session:
        [listed] = shifts.list_shifts(session, MANAGER, terminal_id=None, status=None,
                                      opened_from=None, opened_to=None, limit=10, cursor=None,
                                      now=NOW).shifts
    assert (listed.approved_by, listed.first_sale_number) == (2, closed.body["first_sale_number"])


def test_the_threshold_is_the_servers_setting(database: Database) -> None:
    shift_id = open_with_a_sale(database)
    with pytest.raises(ApiError):
        close(database, shift_id, 22_400, threshold=0)  # $1.00 off with no leeway: refused
    closed = close(database, shift_id, 12_500, threshold=10_000)  # $100.00 off, allowed
    assert closed.status == 200 and closed.body["approved_by"] is None


def test_first_and_last_sale_numbers_are_the_shifts_own(database: Database) -> None:
    shift_id = open_with_a_sale(database)
    with database.read() as session:
        shift = shifts.get_shift(session, CASHIER, shift_id, NOW)
    assert shift.first_sale_number is not None
    assert shift.first_sale_number == shift.last_sale_number
    assert shift.status == "open" and shift.approved_by is None
