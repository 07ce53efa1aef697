"""Capacity changes and ticket type settings against an in-process SQLite database: the
guard in SQL, all-or-nothing bulk changes, validations and the audit trail."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pydantic
import pytest
from sqlalchemy import select, update

from pos_app.api import schemas
from pos_app.server.db import Database
from pos_app.server.errors import ApiError
from pos_app.server.models import AuditEntry, Counters, TicketType
from pos_app.server.services import capacity
from pos_app.server.services.principal import Principal

NOW = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
MANAGER = Principal(session_id=2, staff_id=2, username="mia", display_name="Mia",
                    role="manager", terminal_id=1, terminal_name="till")


@pytest.fixture
def database(seeded: Callable[..., Database]) -> Database:
    return seeded(
        now=NOW,
        ticket_types=[{"name": "GA", "price": 2500, "capacity": 10, "public_limit": 10,
                       "thresholds": {"low": 3, "critical": 1}, "alert_ladder": [5, 2, 0]}],
        other_events=[{"id": "show", "name": "Show", "starts_at": "2026-03-15T19:30:00",
                       "ticket_types": [{"name": "Seat", "price": 4000, "capacity": 4}]}])


def _types(database: Database) -> dict[str, TicketType]:
    with database.read() as session:
        return {t.name: t for t in session.scalars(select(TicketType))}


def _set_counts(database: Database, tt_id: int, *, sold: int, held: int = 0) -> None:
    with database.write() as session:
        session.execute(update(TicketType).where(TicketType.id == tt_id)
                        .values(sold=sold, held=held))


def _version(database: Database) -> int:
    with database.read() as session:
        return int(session.scalar(select(Counters.inventory_version)) or 0)


def _change(database: Database, tt_id: int, delta: int, *,
            key: str = "k") -> capacity.CapacityOutcome:
    body = schemas.CapacityChange(delta=delta, reason="fire marshal")
    return capacity.change_capacity(database, MANAGER, tt_id, body, key=key,
                                    path=f"/v1/ticket-types/{tt_id}/capacity", now=NOW)


def _bulk(database: Database, changes: dict[int, int], *,
          key: str = "bulk") -> capacity.CapacityOutcome:
    body = schemas.BulkCapacityChange.model_validate({
        "changes": [{"ticket_type_id": i, "delta": d} for i, d in changes.items()],
        "reason": "seating plan v2"})
    return capacity.bulk_change(database, MANAGER, body, key=key, path="/v1/capacity/bulk",
                                now=NOW)


def _patch(database: Database, tt_id: int, key: str = "p",
           **fields: Any) -> capacity.CapacityOutcome:
    body = schemas.TicketTypePatch.model_validate(fields)
    return capacity.patch_ticket_type(database, MANAGER, tt_id, body, key=key,
                                      path=f"/v1/ticket-types/{tt_id}", now=NOW)


def _audit(database: Database, action: str) -> list[AuditEntry]:
    with database.read() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                    .order_by(AuditEntry.seq)))


def test_a_capacity_increase_adds_places_and_is_audited(database: Database) -> None:
    ga = _types(database)["GA"]
    before = _version(database)
    outcome = _change(database, ga.id, 5)
    assert outcome.status == 200
    assert (outcome.body["capacity"], outcome.body["available"]) == (15, 15)
    assert outcome.body["public_available"] == 10  # hidden expansion for the door
    assert _types(database)["GA"].capacity == 15
    assert _version(database) == before + 1
    entry = _audit(database, "capacity_increase")[-1]
    assert (entry.quantity, entry.before_capacity, entry.after_capacity, entry.reason,
            entry.staff_id) == (5, 10, 15, "fire marshal", MANAGER.staff_id)


def test_a_capacity_decrease_down_to_the_committed_tickets_is_allowed(
        database: Database) -> None:
    ga = _types(database)["GA"]
    _set_counts(database, ga.id, sold=4, held=2)
    outcome = _change(database, ga.id, -4)
    assert outcome.status == 200 and outcome.body["capacity"] == 6
    entry = _audit(database, "capacity_decrease")[-1]
    assert (entry.quantity, entry.before_capacity, entry.after_capacity) == (4, 10, 6)
    # Availability 4 -> 0 crosses the ladder rungs 2 and 0: one stock alert each.
    assert [e.quantity for e in _audit(database, "stock_alert")] == [2, 0]


def test_a_decrease_below_sold_and_held_is_refused_and_changes_nothing(
        database: Database) -> None:
    ga = _types(database)["GA"]
    _set_counts(database, ga.id, sold=4, held=2)
    before = _version(database)
    outcome = _change(database, ga.id, -5)
    assert (outcome.status, outcome.body["error"]) == (409, "capacity_below_committed")
    assert (outcome.body["capacity"], outcome.body["sold"], outcome.body["held"]) == (10, 4, 2)
    assert _types(database)["GA"].capacity == 10
    assert _version(database) == before
    assert _audit(database, "capacity_decrease") == []
    replay = _change(database, ga.id, -5)
    assert replay.replayed and replay.body == outcome.body


def test_an_unknown_ticket_type_is_not_found(database: Database) -> None:
    with pytest.raises(ApiError) as refused:
        _change(database, 4242, 1)
    assert refused.value.status == 404


def test_a_bulk_change_across_events_applies_every_line(database: Database) -> None:
    types = _types(database)
    outcome = _bulk(database, {types["Seat"].id: 2, types["GA"].id: -3})
    assert outcome.status == 200
    assert [(t["name"], t["capacity"]) for t in outcome.body["ticket_types"]] == [
        ("GA", 7), ("Seat", 6)]
    assert {e.ticket_type_id for e in _audit(database, "capacity_decrease")} == {
        types["GA"].id}


def test_a_bulk_change_is_all_or_nothing_and_names_the_failing_types(
        database: Database) -> None:
    types = _types(database)
    _set_counts(database, types["Seat"].id, sold=3)
    outcome = _bulk(database, {types["GA"].id: 5, types["Seat"].id: -2})
    assert (outcome.status, outcome.body["error"]) == (409, "capacity_below_committed")
    assert [(t["ticket_type_id"], t["capacity"], t["sold"], t["held"])
            for t in outcome.body["ticket_types"]] == [(types["Seat"].id, 4, 3, 0)]
    after = _types(database)
    assert (after["GA"].capacity, after["Seat"].capacity) == (10, 4)
    assert [e.quantity for e in _audit(database, "capacity_increase")] == [10, 4]  # imports


def test_a_bulk_change_with_an_unknown_type_is_invalid(database: Database) -> None:
    with pytest.raises(ApiError) as refused:
        _bulk(database, {_types(database)["GA"].id: 1, 4242: 1})
    assert (refused.value.status, refused.value.extra["ticket_type_ids"]) == (422, [4242])
    assert _types(database)["GA"].capacity == 10


@pytest.mark.parametrize("body", [
    {"delta": 0, "reason": "x"}, {"delta": 1, "reason": "  "}, {"delta": 1},
    {"delta": 1, "reason": "x", "extra": 1}])
def test_capacity_change_bodies_are_validated(body: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError):
        schemas.CapacityChange.model_validate(body)


def test_a_bulk_change_may_name_a_ticket_type_once() -> None:
    with pytest.raises(pydantic.ValidationError):
        schemas.BulkCapacityChange.model_validate({
            "changes": [{"ticket_type_id": 1, "delta": 1}, {"ticket_type_id": 1, "delta": 2}],
            "reason": "x"})


def test_patching_settings_audits_each_change_and_bumps_the_version(
        database: Database) -> None:
    ga = _types(database)["GA"]
    before = _version(database)
    outcome = _patch(database, ga.id, public_limit=6, thresholds={"low": 4, "critical": 2},
                     alert_ladder=[8, 4, 0], price=3000, reason="promoter")
    assert outcome.status == 200
    body = outcome.body
    assert (body["public_limit"], body["thresholds"], body["alert_ladder"], body["price"]) == (
        6, {"low": 4, "critical": 2}, [8, 4, 0], 3000)
    assert body["public_available"] == 6 and body["available"] == 10
    assert _version(database) > before
    limit = _audit(database, "public_limit_change")
    assert [(e.reason, e.before_capacity, e.after_capacity) for e in limit] == [
        ("public_limit: 10 -> 6; promoter", 10, 10)]
    assert len(_audit(database, "threshold_change")) == 1
    assert len(_audit(database, "alert_ladder_change")) == 1
    assert _audit(database, "price_change")[0].reason == "price: 2500 -> 3000; promoter"


def test_a_null_public_limit_removes_the_limit(database: Database) -> None:
    ga = _types(database)["GA"]
    outcome = _patch(database, ga.id, public_limit=None)
    assert outcome.body["public_limit"] is None
    assert _audit(database, "public_limit_change")[0].reason == "public_limit: 10 -> none"


def test_a_patch_that_changes_nothing_records_nothing(database: Database) -> None:
    ga = _types(database)["GA"]
    before = _version(database)
    assert _patch(database, ga.id, price=2500).status == 200
    assert _version(database) == before
    assert _audit(database, "price_change") == []


@pytest.mark.parametrize("body", [
    {}, {"reason": "only a reason"}, {"public_limit": -1}, {"price": -5}, {"price": None},
    {"thresholds": {"low": 1, "critical": 2}}, {"thresholds": {"low": 1, "critical": -1}},
    {"alert_ladder": [5, 5, 0]}, {"alert_ladder": [0, 5]}, {"alert_ladder": [5, -1]},
    {"capacity": 4}])
def test_patch_bodies_are_validated(body: dict[str, Any]) -> None:
    with pytest.raises(pydantic.ValidationError):
        schemas.TicketTypePatch.model_validate(body)


def test_patching_an_unknown_ticket_type_is_not_found(database: Database) -> None:
    with pytest.raises(ApiError) as refused:
        _patch(database, 4242, price=1)
    assert refused.value.status == 404


def test_a_capacity_decrease_counts_lapsed_holds_as_free(database: Database) -> None:
    """``held`` counts only unexpired holds: a hold that lapsed does not block a decrease."""
    from pos_app.server.models import Hold, HoldLine

    ga = _types(database)["GA"]
    with database.write() as session:
        session.add(Hold(id="h1", code="ABCD", kind="checkout", status="active",
                         channel="box_office", event_id="gig", total=5 * 2500,
                         currency="USD", created_at=NOW - timedelta(minutes=20),
                         expires_at=NOW - timedelta(minutes=5)))
        session.flush()
        session.add(HoldLine(hold_id="h1", ticket_type_id=ga.id, name="GA", quantity=5,
                             unit_price=2500, amount=5 * 2500))
        session.execute(update(TicketType).where(TicketType.id == ga.id).values(held=5))
    outcome = _change(database, ga.id, -8)
    assert outcome.status == 200, outcome.body
    assert (outcome.body["capacity"], outcome.body["held"]) == (2, 0)
