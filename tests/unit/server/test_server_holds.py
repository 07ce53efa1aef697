"""Holds against an in-process SQLite database (no HTTP): placing, expiry by the server clock
before any sweeper, release, conversion into a sale, and the online channel's public limit."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pos_app.api import schemas
from pos_app.domain.clock import FixedClock
from pos_app.server import audit
from pos_app.server.db import Database
from pos_app.server.errors import ApiError
from pos_app.server.models import (
    AuditEntry,
    ChannelToken,
    Hold,
    IdempotencyKey,
    Sale,
    Shift,
    TicketType,
)
from pos_app.server.services import expiry, holds, inventory, sales
from pos_app.server.services.principal import Principal

START = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
CASH_TTL = timedelta(hours=4)
SECOND = timedelta(seconds=1)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def database(seeded: Callable[..., Database]) -> Database:
    """GA: capacity 10, public limit 6 (4 hidden for the door); VIP: capacity 4."""

    def open_shifts_and_channel_tokens(session: Session) -> None:
        for terminal_id, staff_id in ((1, 1), (2, 2)):
            session.add(Shift(terminal_id=terminal_id, status="open", currency="USD",
                              opening_float=0, opened_at=START, opened_by=staff_id))
        for name in ("web", "partner"):
            session.add(ChannelToken(channel="online", name=name, token_hash=name * 8,
                                     created_at=START))

    return seeded(
        now=START,
        ticket_types=[{"name": "GA", "price": 2500, "capacity": 10, "public_limit": 6},
                      {"name": "VIP", "price": 9000, "capacity": 4}],
        other_events=[{"id": "other", "name": "Other", "starts_at": "2026-03-15T19:30:00",
                       "ticket_types": [{"name": "Seat", "price": 1000, "capacity": 5}]}],
        staff=[("sam", "cashier", "1111", "Sam"), ("kim", "cashier", "2222", "Kim"),
               ("max", "manager", "3333", "Max")],
        terminals=["till-1", "till-2"], extra=open_shifts_and_channel_tokens)


def staff(staff_id: int, terminal_id: int, role: str = "cashier") -> Principal:
    return Principal(session_id=staff_id, staff_id=staff_id, username=f"s{staff_id}",
                     display_name=f"Staff {staff_id}", role=role, terminal_id=terminal_id,
                     terminal_name=f"till-{terminal_id}")


def channel(token_id: int = 1) -> Principal:
    return Principal(session_id=None, staff_id=None, username="", display_name="web shop",
                     role="", terminal_id=None, terminal_name="", channel="online",
                     kind="channel", channel_token_id=token_id)


SAM = staff(1, 1)
KIM = staff(2, 2)
MAX = staff(3, 2, role="manager")
WEB = channel(1)


def ids(database: Database) -> dict[str, int]:
    with database.read() as session:
        return {t.name: t.id for t in session.scalars(select(TicketType)).all()}


def counts(database: Database, now: datetime) -> dict[str, schemas.TicketType]:
    """What GET /v1/events reports at ``now``."""
    with database.read() as session:
        events = inventory.list_events(session, now=now).events
    return {t.name: t for e in events for t in e.ticket_types}


def place(database: Database, principal: Principal, lines: dict[int, int], now: datetime, *,
          kind: str = "cash", customer: dict[str, Any] | None = None,
          ttl_seconds: int | None = None, key: str | None = None,
          replaces: str | None = None) -> holds.HoldOutcome:
    body: dict[str, Any] = {
        "kind": kind, "lines": [{"ticket_type_id": i, "quantity": q} for i, q in lines.items()]}
    if replaces is not None:
        body["replaces"] = replaces
    if kind == "cash" or customer is not None:
        body["customer"] = customer or {"name": "Ada Lovelace", "phone": "555-0100"}
    if ttl_seconds is not None:
        body["ttl_seconds"] = ttl_seconds
    return holds.create_hold(database, principal, schemas.HoldCreate.model_validate(body),
                             key=key or uuid.uuid4().hex, path="/v1/holds", now=now)


def sell(database: Database, principal: Principal, now: datetime, *,
         lines: dict[int, int] | None = None, hold_id: str | None = None,
         tendered: int = 1_000_000, key: str | None = None) -> sales.SaleOutcome:
    payment: dict[str, Any] = ({"method": "external", "reference": "psp-1"}
                               if principal.is_channel else
                               {"method": "cash", "tendered": tendered})
    body: dict[str, Any] = {"payment": payment}
    if hold_id is not None:
        body["hold_id"] = hold_id
    else:
        body["lines"] = [{"ticket_type_id": i, "quantity": q} for i, q in (lines or {}).items()]
    return sales.create_sale(database, principal, schemas.SaleCreate.model_validate(body),
                             key=key or uuid.uuid4().hex, path="/v1/sales", now=now)


def release(database: Database, principal: Principal, ref: str, now: datetime, *,
            reason: str | None = None, key: str | None = None) -> holds.HoldOutcome:
    return holds.release_hold(database, principal, ref, schemas.HoldRelease(reason=reason),
                              key=key or uuid.uuid4().hex, path=f"/v1/holds/{ref}/release",
                              now=now)


def read_hold(database: Database, ref: str, now: datetime,
              principal: Principal = SAM) -> schemas.Hold:
    with database.read() as session:
        return holds.get_hold(session, principal, ref, now=now)


def audit_rows(database: Database, action: str) -> list[AuditEntry]:
    with database.read() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)
                                    .order_by(AuditEntry.seq)).all())


# --- time -----------------------------------------------------------------------------------------


def test_a_cash_hold_is_still_held_one_second_before_its_four_hours_end(
        database: Database, clock: FixedClock) -> None:
    ga = ids(database)["GA"]
    placed = place(database, SAM, {ga: 4}, clock.now())
    assert placed.status == 201
    assert placed.body["status"] == "active"
    assert placed.body["expires_at"] == "2026-03-01T22:00:00Z"

    clock.advance(CASH_TTL - SECOND)
    assert read_hold(database, placed.body["code"], clock.now()).status == "active"
    seen = counts(database, clock.now())["GA"]
    assert (seen.held, seen.available, seen.public_available) == (4, 6, 2)


def test_a_lapsed_hold_reads_expired_and_its_tickets_sell_again_before_any_sweep(
        database: Database, clock: FixedClock) -> None:
    ga = ids(database)["GA"]
    placed = place(database, SAM, {ga: 10}, clock.now()).body
    assert counts(database, clock.now())["GA"].stock_level == "sold_out"

    clock.advance(CASH_TTL + SECOND)
    assert read_hold(database, placed["id"], clock.now()).status == "expired"
    seen = counts(database, clock.now())["GA"]
    assert (seen.held, seen.available, seen.stock_level) == (0, 10, "in_stock")
    with database.read() as session:
        expired = holds.list_holds(session, SAM, now=clock.now(), status="expired").holds
        active = holds.list_holds(session, SAM, now=clock.now(), status="active").holds
        assert [h.id for h in expired] == [placed["id"]] and active == []

    sold = sell(database, KIM, clock.now(), lines={ga: 10})
    assert sold.status == 201, sold.body
    after = counts(database, clock.now())["GA"]
    assert (after.sold, after.held, after.available) == (10, 0, 0)
    with database.read() as session:
        assert session.get(Hold, placed["id"]).status == "expired"  # type: ignore[union-attr]


def test_converting_a_lapsed_hold_is_refused_as_expired_and_the_refusal_replays(
        database: Database, clock: FixedClock) -> None:
    vip = ids(database)["VIP"]
    placed = place(database, SAM, {vip: 2}, clock.now()).body
    clock.advance(CASH_TTL + SECOND)
    refused = sell(database, SAM, clock.now(), hold_id=placed["code"], key="convert-late")
    assert (refused.status, refused.body["error"]) == (409, "hold_expired")
    again = sell(database, SAM, clock.now(), hold_id=placed["code"], key="convert-late")
    assert again.replayed and again.body == refused.body
    with database.read() as session:
        assert session.scalars(select(Sale)).all() == []
    assert counts(database, clock.now())["VIP"].sold == 0


def test_the_sweeper_expires_each_lapsed_hold_once_with_one_entry_per_ticket_type(
        database: Database, clock: FixedClock) -> None:
    tt = ids(database)
    two_lines = place(database, SAM, {tt["GA"]: 2, tt["VIP"]: 1}, clock.now()).body
    checkout = place(database, KIM, {tt["GA"]: 1}, clock.now(), kind="checkout").body
    lasting = place(database, KIM, {tt["Seat"]: 1}, clock.now() + timedelta(hours=3)).body
    clock.advance(CASH_TTL + SECOND)
    # Before the sweep: reads already exclude the lapsed holds, the stored rows do not.
    with database.read() as session:
        assert session.get(TicketType, tt["GA"]).held == 3  # type: ignore[union-attr]
    assert counts(database, clock.now())["GA"].held == 0

    assert expiry.sweep(database, now=clock.now()) == 2
    rows = audit_rows(database, "expire")
    assert sorted((r.ref_id, r.ticket_type_id, r.quantity) for r in rows) == sorted([
        (two_lines["id"], tt["GA"], 2), (two_lines["id"], tt["VIP"], 1),
        (checkout["id"], tt["GA"], 1)])
    assert all(r.channel == "system" and r.staff_id is None for r in rows)
    with database.read() as session:
        stored = {t.name: t.held for t in session.scalars(select(TicketType))}
        assert stored == {"GA": 0, "VIP": 0, "Seat": 1}
        assert session.get(Hold, lasting["id"]).status == "active"  # type: ignore[union-attr]
        assert audit.verify(session).ok

    assert expiry.sweep(database, now=clock.now()) == 0
    assert len(audit_rows(database, "expire")) == 3


def test_expiry_is_decided_by_the_server_clock_alone(database: Database,
                                                     clock: FixedClock) -> None:
    """A request carries no time of its own: a client's clock cannot lengthen a hold."""
    ga = ids(database)["GA"]
    with pytest.raises(ValidationError):
        schemas.HoldCreate.model_validate({
            "kind": "checkout", "lines": [{"ticket_type_id": ga, "quantity": 1}],
            "expires_at": "2099-01-01T00:00:00Z"})
    placed = place(database, SAM, {ga: 1}, clock.now(), kind="checkout", ttl_seconds=60).body
    assert placed["created_at"] == "2026-03-01T18:00:00Z"
    assert placed["expires_at"] == "2026-03-01T18:01:00Z"
    clock.advance(timedelta(seconds=60))
    assert read_hold(database, placed["id"], clock.now()).status == "expired"


# --- validation -----------------------------------------------------------------------------------


def test_a_checkout_hold_longer_than_fifteen_minutes_is_invalid_and_keeps_no_key(
        database: Database, clock: FixedClock) -> None:
    ga = ids(database)["GA"]
    with pytest.raises(ApiError) as refused:
        place(database, SAM, {ga: 1}, clock.now(), kind="checkout", ttl_seconds=15 * 60 + 1)
    assert (refused.value.status, refused.value.code) == (422, "invalid_request")
    with database.read() as session:
        assert session.scalars(select(IdempotencyKey)).all() == []
    exactly = place(database, SAM, {ga: 1}, clock.now(), kind="checkout", ttl_seconds=15 * 60)
    assert exactly.body["expires_at"] == "2026-03-01T18:15:00Z"
    with pytest.raises(ValidationError):
        schemas.HoldCreate.model_validate({
            "kind": "checkout", "lines": [{"ticket_type_id": ga, "quantity": 1}],
            "ttl_seconds": 0})


@pytest.mark.parametrize("customer", [None, {"phone": "555-0100"}, {"name": "   "}])
def test_a_cash_hold_without_a_customer_name_is_invalid(customer: dict[str, Any] | None) -> None:
    body: dict[str, Any] = {"kind": "cash", "lines": [{"ticket_type_id": 1, "quantity": 1}]}
    if customer is not None:
        body["customer"] = customer
    with pytest.raises(ValidationError):
        schemas.HoldCreate.model_validate(body)


def test_a_hold_of_unknown_or_mixed_events_is_invalid(database: Database,
                                                     clock: FixedClock) -> None:
    tt = ids(database)
    for lines in ({424242: 1}, {tt["GA"]: 1, tt["Seat"]: 1}):
        with pytest.raises(ApiError) as refused:
            place(database, SAM, lines, clock.now())
        assert refused.value.code == "invalid_request"


# --- placing --------------------------------------------------------------------------------------


def test_a_multi_line_hold_is_all_or_nothing_and_the_refusal_replays(
        database: Database, clock: FixedClock) -> None:
    tt = ids(database)
    refused = place(database, SAM, {tt["GA"]: 2, tt["VIP"]: 5}, clock.now(), key="k")
    assert (refused.status, refused.body["error"]) == (409, "insufficient_inventory")
    assert refused.body["lines"] == [{"ticket_type_id": tt["VIP"], "requested": 5,
                                      "available": 4}]
    assert place(database, SAM, {tt["GA"]: 2, tt["VIP"]: 5}, clock.now(), key="k").replayed
    seen = counts(database, clock.now())
    assert (seen["GA"].held, seen["VIP"].held) == (0, 0)
    with database.read() as session:
        assert session.scalars(select(Hold)).all() == []
        assert audit_rows(database, "hold") == []


def test_hold_codes_are_readable_aloud_and_found_in_any_case(database: Database,
                                                             clock: FixedClock) -> None:
    ga = ids(database)["GA"]
    codes = {place(database, SAM, {ga: 1}, clock.now()).body["code"] for _ in range(8)}
    assert len(codes) == 8
    for code in codes:
        assert len(code) == 6 and set(code) <= set(holds.CODE_ALPHABET)
        assert not set(code) & set("01OI")
        assert read_hold(database, code.lower(), clock.now()).code == code


def test_holds_are_found_by_code_or_customer_name_and_paged(database: Database,
                                                            clock: FixedClock) -> None:
    ga = ids(database)["GA"]
    ada = place(database, SAM, {ga: 1}, clock.now(),
                customer={"name": "Ada Lovelace"}).body
    for minute in range(1, 4):
        place(database, SAM, {ga: 1}, clock.now() + timedelta(minutes=minute),
              customer={"name": f"Grace {minute}"})
    now = clock.now() + timedelta(minutes=5)
    with database.read() as session:
        by_name = holds.list_holds(session, SAM, now=now, q="lovelace").holds
        by_code = holds.list_holds(session, SAM, now=now, q=ada["code"].lower()).holds
        assert [h.id for h in by_name] == [ada["id"]] == [h.id for h in by_code]
        first = holds.list_holds(session, SAM, now=now, limit=3)
        rest = holds.list_holds(session, SAM, now=now, limit=3, cursor=first.next_cursor)
        assert [h.customer.name for h in first.holds if h.customer] == [
            "Grace 3", "Grace 2", "Grace 1"]
        assert [h.id for h in rest.holds] == [ada["id"]] and rest.next_cursor is None
        with pytest.raises(ApiError):
            holds.list_holds(session, SAM, now=now, cursor="not-a-cursor")


def test_holds_are_found_by_part_of_the_customers_phone(database: Database,
                                                        clock: FixedClock) -> None:
    ga = ids(database)["GA"]
    ada = place(database, SAM, {ga: 1}, clock.now(),
                customer={"name": "Ada Lovelace", "phone": "+1 555-0100"}).body
    place(database, SAM, {ga: 1}, clock.now(), customer={"name": "Grace", "phone": "555-0199"})
    place(database, SAM, {ga: 1}, clock.now(), customer={"name": "No Phone"})
    with database.read() as session:
        by_phone = holds.list_holds(session, SAM, now=clock.now(), q="555-0100").holds
        by_tail = holds.list_holds(session, SAM, now=clock.now(), q=" 0100 ").holds
        both = holds.list_holds(session, SAM, now=clock.now(), q="555-01").holds
        assert [h.id for h in by_phone] == [ada["id"]] == [h.id for h in by_tail]
        assert len(both) == 2
        assert holds.list_holds(session, SAM, now=clock.now(), q="555-0111").holds == []


def test_a_staff_hold_records_terminal_staff_and_open_shift(database: Database,
                                                            clock: FixedClock) -> None:
    placed = place(database, KIM, {ids(database)["GA"]: 1}, clock.now()).body
    assert (placed["terminal_id"], placed["staff_id"], placed["shift_id"],
            placed["channel"]) == (2, 2, 2, "box_office")
    [entry] = audit_rows(database, "hold")
    assert (entry.terminal_id, entry.staff_id, entry.shift_id, entry.after_held) == (2, 2, 2, 1)


# --- release --------------------------------------------------------------------------------------


def test_release_returns_the_tickets_and_a_second_release_is_refused(
        database: Database, clock: FixedClock) -> None:
    ga = ids(database)["GA"]
    placed = place(database, SAM, {ga: 3}, clock.now()).body
    released = release(database, SAM, placed["code"], clock.now(), reason="changed plans",
                       key="r1")
    assert (released.status, released.body["status"]) == (200, "released")
    assert release(database, SAM, placed["code"], clock.now(), reason="changed plans",
                   key="r1").replayed
    assert counts(database, clock.now())["GA"].held == 0
    [entry] = audit_rows(database, "release")
    assert (entry.quantity, entry.before_held, entry.after_held, entry.reason) == (
        3, 3, 0, "changed plans")

    again = release(database, SAM, placed["id"], clock.now())
    assert (again.status, again.body["error"], again.body["status"]) == (
        409, "hold_not_active", "released")
    converted = sell(database, SAM, clock.now(), hold_id=placed["id"])
    assert (converted.status, converted.body["error"]) == (409, "hold_not_active")


def test_releasing_a_lapsed_hold_is_refused_as_expired(database: Database,
                                                       clock: FixedClock) -> None:
    placed = place(database, SAM, {ids(database)["GA"]: 3}, clock.now()).body
    clock.advance(CASH_TTL)
    refused = release(database, SAM, placed["id"], clock.now())
    assert (refused.status, refused.body["error"]) == (409, "hold_expired")
    assert audit_rows(database, "release") == []


def test_a_cashier_releases_only_its_own_terminals_holds_and_a_manager_any(
        database: Database, clock: FixedClock) -> None:
    ga = ids(database)["GA"]
    sams = place(database, SAM, {ga: 1}, clock.now()).body
    with pytest.raises(ApiError) as refused:
        release(database, KIM, sams["id"], clock.now())
    assert refused.value.code == "forbidden"
    assert release(database, MAX, sams["id"], clock.now()).status == 200
    webs = place(database, WEB, {ga: 1}, clock.now(), kind="checkout").body
    with pytest.raises(ApiError) as hidden:
        release(database, channel(2), webs["id"], clock.now())
    assert hidden.value.code == "not_found"
    assert release(database, WEB, webs["id"], clock.now()).status == 200


# --- replacing (a basket that grows or shrinks) --------------------------------------------


def test_a_replacing_hold_releases_the_old_one_in_the_same_transaction(
        database: Database, clock: FixedClock) -> None:
    t = ids(database)
    old = place(database, SAM, {t["GA"]: 2}, clock.now(), kind="checkout").body
    new = place(database, SAM, {t["GA"]: 3, t["VIP"]: 1}, clock.now(), kind="checkout",
                replaces=old["id"])
    assert (new.status, new.body["status"], [ln["quantity"] for ln in new.body["lines"]]) == (
        201, "active", [3, 1])
    assert read_hold(database, old["code"], clock.now()).status == "released"
    now = counts(database, clock.now())
    assert (now["GA"].held, now["VIP"].held) == (3, 1)
    [released] = audit_rows(database, "release")
    assert (released.quantity, released.before_held, released.after_held, released.reason) == (
        2, 2, 0, "replaced by the basket's new hold")
    assert [(e.quantity, e.after_held) for e in audit_rows(database, "hold")] == [
        (2, 2), (3, 3), (1, 1)]
    shrunk = place(database, SAM, {t["GA"]: 1}, clock.now(), kind="checkout",
                   replaces=new.body["code"])  # by code too
    assert shrunk.status == 201
    now = counts(database, clock.now())
    assert (now["GA"].held, now["VIP"].held) == (1, 0)


def test_a_replacing_hold_that_does_not_fit_leaves_the_old_one_standing(
        database: Database, clock: FixedClock) -> None:
    vip = ids(database)["VIP"]  # capacity 4
    assert place(database, KIM, {vip: 2}, clock.now(), kind="checkout").status == 201
    old = place(database, SAM, {vip: 2}, clock.now(), kind="checkout").body
    refused = place(database, SAM, {vip: 3}, clock.now(), kind="checkout", replaces=old["id"],
                    key="grow")
    assert (refused.status, refused.body["error"], refused.body["hold_id"]) == (
        409, "insufficient_inventory", old["id"])
    # What this basket could hold in place of the old hold: its own 2 count.
    assert refused.body["lines"] == [{"ticket_type_id": vip, "requested": 3, "available": 2}]
    assert old["code"] in refused.body["message"]
    assert read_hold(database, old["id"], clock.now()).status == "active"
    assert counts(database, clock.now())["VIP"].held == 4
    assert audit_rows(database, "release") == []
    again = place(database, SAM, {vip: 3}, clock.now(), kind="checkout", replaces=old["id"],
                  key="grow")
    assert again.replayed and again.body == refused.body


def test_replacing_a_hold_that_lapsed_or_ended_places_nothing(
        database: Database, clock: FixedClock) -> None:
    ga = ids(database)["GA"]
    lapsing = place(database, SAM, {ga: 2}, clock.now(), kind="checkout", ttl_seconds=60).body
    clock.advance(timedelta(seconds=60))
    expired = place(database, SAM, {ga: 3}, clock.now(), kind="checkout",
                    replaces=lapsing["id"])
    assert (expired.status, expired.body["error"]) == (409, "hold_expired")
    released = place(database, SAM, {ga: 1}, clock.now(), kind="checkout").body
    assert release(database, SAM, released["id"], clock.now()).status == 200
    ended = place(database, SAM, {ga: 3}, clock.now(), kind="checkout",
                  replaces=released["id"])
    assert (ended.status, ended.body["error"], ended.body["status"]) == (
        409, "hold_not_active", "released")
    assert counts(database, clock.now())["GA"].held == 0
    with database.read() as session:
        assert session.scalar(select(Hold).where(Hold.status == "active")) is None


def test_a_baskets_checkout_hold_becomes_a_cash_hold_for_the_same_tickets(
        database: Database, clock: FixedClock) -> None:
    vip = ids(database)["VIP"]  # capacity 4
    basket = place(database, SAM, {vip: 4}, clock.now(), kind="checkout").body
    cash = place(database, SAM, {vip: 4}, clock.now(), kind="cash", replaces=basket["id"])
    assert (cash.status, cash.body["kind"], cash.body["customer"]["name"]) == (
        201, "cash", "Ada Lovelace")
    assert read_hold(database, basket["id"], clock.now()).status == "released"
    assert counts(database, clock.now())["VIP"].held == 4


def test_a_cashier_replaces_only_its_own_terminals_hold(
        database: Database, clock: FixedClock) -> None:
    ga = ids(database)["GA"]
    sams = place(database, SAM, {ga: 1}, clock.now(), kind="checkout").body
    sams_cash = place(database, SAM, {ga: 1}, clock.now(), kind="cash",
                      customer={"name": "Ann"}).body
    with pytest.raises(ApiError) as unseen:  # another till's checkout hold is not seen
        place(database, KIM, {ga: 2}, clock.now(), kind="checkout", replaces=sams["id"])
    assert unseen.value.code == "not_found"
    with pytest.raises(ApiError) as forbidden:  # its cash hold is seen, not released
        place(database, KIM, {ga: 2}, clock.now(), kind="cash", customer={"name": "Ann"},
              replaces=sams_cash["id"])
    assert forbidden.value.code == "forbidden"
    with pytest.raises(ApiError) as missing:
        place(database, SAM, {ga: 2}, clock.now(), kind="checkout", replaces="NOSUCH")
    assert missing.value.code == "not_found"
    assert read_hold(database, sams["id"], clock.now()).status == "active"
    assert counts(database, clock.now())["GA"].held == 2
    with database.read() as session:  # refusals raised before the effect keep no key
        assert session.scalar(select(IdempotencyKey).where(
            IdempotencyKey.status != "completed")) is None


# --- conversion -----------------------------------------------------------------------------------


def test_converting_a_hold_moves_held_to_sold_at_the_held_price_and_the_chain_verifies(
        database: Database, clock: FixedClock) -> None:
    tt = ids(database)
    placed = place(database, SAM, {tt["GA"]: 3, tt["VIP"]: 1}, clock.now()).body
    assert placed["total"] == 3 * 2500 + 9000
    with database.write() as session:  # a price rise after the hold does not apply to it
        session.execute(update(TicketType).where(TicketType.id == tt["GA"]).values(price=3000))
    clock.advance(timedelta(hours=1))

    short = sell(database, KIM, clock.now(), hold_id=placed["code"], tendered=16_499)
    assert (short.status, short.body["error"]) == (422, "insufficient_tender")
    sale = sell(database, KIM, clock.now(), hold_id=placed["code"], tendered=20_000)
    assert sale.status == 201, sale.body
    assert (sale.body["total"], sale.body["payment"]["change"]) == (16_500, 3_500)
    assert [(ln["ticket_type_id"], ln["quantity"], ln["unit_price"])
            for ln in sale.body["lines"]] == [(tt["GA"], 3, 2500), (tt["VIP"], 1, 9000)]
    assert len(sale.body["tickets"]) == 4
    assert (sale.body["terminal_id"], sale.body["shift_id"]) == (2, 2)

    seen = counts(database, clock.now())
    assert [(seen[n].sold, seen[n].held) for n in ("GA", "VIP")] == [(3, 0), (1, 0)]
    converted = read_hold(database, placed["id"], clock.now())
    assert (converted.status, converted.sale_id) == ("converted", sale.body["id"])
    with database.read() as session:
        assert session.get(Sale, sale.body["id"]).hold_id == placed["id"]  # type: ignore[union-attr]
        assert audit.verify(session).ok
    moves = [(r.ticket_type_id, r.quantity, r.before_sold, r.after_sold, r.before_held,
              r.after_held) for r in audit_rows(database, "sale")]
    assert moves == [(tt["GA"], 3, 0, 3, 3, 0), (tt["VIP"], 1, 0, 1, 1, 0)]

    twice = sell(database, KIM, clock.now(), hold_id=placed["id"])
    assert (twice.status, twice.body["error"], twice.body["status"]) == (
        409, "hold_not_active", "converted")


def test_a_channel_token_converts_only_its_own_holds(database: Database,
                                                     clock: FixedClock) -> None:
    ga = ids(database)["GA"]
    webs = place(database, WEB, {ga: 2}, clock.now(), kind="checkout").body
    assert (webs["channel"], webs["terminal_id"]) == ("online", None)
    with pytest.raises(ApiError) as unseen:  # a web basket is not seen at a till
        sell(database, SAM, clock.now(), hold_id=webs["id"])
    assert unseen.value.code == "not_found"
    with pytest.raises(ApiError) as foreign:  # a manager sees it, but it is the shop's
        sell(database, MAX, clock.now(), hold_id=webs["id"])
    assert foreign.value.code == "forbidden"
    with pytest.raises(ApiError) as hidden:
        sell(database, channel(2), clock.now(), hold_id=webs["id"])
    assert hidden.value.code == "not_found"
    sale = sell(database, WEB, clock.now(), hold_id=webs["id"])
    assert sale.status == 201, sale.body
    assert sale.body["payment"] == {"method": "external", "tendered": None, "change": None,
                                    "reference": "psp-1"}
    sams = place(database, SAM, {ga: 1}, clock.now()).body
    with pytest.raises(ApiError) as not_its:
        sell(database, WEB, clock.now(), hold_id=sams["id"])
    assert not_its.value.code == "not_found"


def test_a_terminal_converts_a_box_office_hold_placed_at_another_terminal(
        database: Database, clock: FixedClock) -> None:
    placed = place(database, SAM, {ids(database)["VIP"]: 2}, clock.now()).body
    assert sell(database, KIM, clock.now(), hold_id=placed["code"]).status == 201


# --- channels -------------------------------------------------------------------------------------


def test_the_online_channel_stops_at_the_public_limit_while_the_box_office_sells_the_rest(
        database: Database, clock: FixedClock) -> None:
    ga = ids(database)["GA"]  # capacity 10, public limit 6
    assert place(database, WEB, {ga: 4}, clock.now(), kind="checkout").status == 201
    refused = place(database, WEB, {ga: 3}, clock.now(), kind="checkout")
    assert refused.body["lines"] == [{"ticket_type_id": ga, "requested": 3, "available": 2}]
    too_many = sell(database, WEB, clock.now(), lines={ga: 3})
    assert (too_many.status, too_many.body["lines"][0]["available"]) == (409, 2)
    assert sell(database, WEB, clock.now(), lines={ga: 2}).status == 201
    assert counts(database, clock.now())["GA"].public_available == 0
    assert sell(database, WEB, clock.now(), lines={ga: 1}).status == 409

    assert place(database, SAM, {ga: 1}, clock.now()).status == 201
    assert sell(database, KIM, clock.now(), lines={ga: 3}).status == 201
    seen = counts(database, clock.now())["GA"]
    assert (seen.sold, seen.held, seen.available, seen.public_available) == (5, 5, 0, 0)
    with database.read() as session:
        web_sale = session.scalars(select(Sale).where(Sale.channel == "online")).one()
        assert (web_sale.method, web_sale.channel_token_id) == ("external", 1)


def test_a_channel_pays_externally_and_a_terminal_in_cash(database: Database,
                                                          clock: FixedClock) -> None:
    ga = ids(database)["GA"]
    wrong = schemas.SaleCreate.model_validate({
        "lines": [{"ticket_type_id": ga, "quantity": 1}],
        "payment": {"method": "cash", "tendered": 5000}})
    with pytest.raises(ApiError) as refused:
        sales.create_sale(database, WEB, wrong, key="w", path="/v1/sales", now=clock.now())
    assert refused.value.code == "invalid_request"
