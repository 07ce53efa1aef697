"""Capacity and ticket type settings (manager): one guarded transaction each.

* :func:`change_capacity` (``POST /v1/ticket-types/{id}/capacity``) and :func:`bulk_change`
  (``POST /v1/capacity/bulk``) expire the lapsed holds of the ticket types, then guard last
  in ticket type id order under a SAVEPOINT: an increase is ``UPDATE ticket_types SET
  capacity = capacity + :d``; a decrease adds ``WHERE capacity + :d >= sold + held``. A
  row count of 0 rolls the savepoint back (nothing changes, all or nothing for a bulk
  change) and answers 409 ``capacity_below_committed`` naming every ticket type that would
  fall below its committed tickets, with its ``capacity``, ``sold`` and ``held``. Recorded
  with :func:`changes.record` as ``capacity_increase`` / ``capacity_decrease`` (quantity =
  the size of the change, reason the manager's).
* :func:`patch_ticket_type` (``PATCH /v1/ticket-types/{id}``) changes ``public_limit``,
  ``thresholds``, ``alert_ladder`` or ``price``; each changed field is recorded through
  :func:`changes.record` with equal before/after counts (actions ``public_limit_change``,
  ``threshold_change``, ``alert_ladder_change``, ``price_change``; the reason says
  ``old -> new``), which also bumps the inventory version so terminals see the change.

All three run once per ``Idempotency-Key``. Stored and replayed: 200 and 409. Not stored:
404 (unknown ticket type on a single change), 422 (unknown ticket types in a bulk change).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from pos_app.api import schemas
from pos_app.api.errors import ERROR_STATUS, ErrorCode
from pos_app.server.db import Database
from pos_app.server.errors import ApiError
from pos_app.server.models import Event, TicketType
from pos_app.server.services import changes, guards, idempotency
from pos_app.server.services.expiry import expire_lapsed
from pos_app.server.services.inventory import lapsed_held, ticket_type_out
from pos_app.server.services.principal import Principal

__all__ = ["CapacityOutcome", "bulk_change", "change_capacity", "patch_ticket_type"]


@dataclass(frozen=True)
class CapacityOutcome:
    """What to answer: ``status`` and JSON ``body``; ``replayed`` when it came from the key."""

    status: int
    body: dict[str, Any]
    replayed: bool = False


def _actor(principal: Principal) -> changes.Actor:
    return changes.Actor(staff_id=principal.staff_id, terminal_id=principal.terminal_id,
                         channel=principal.channel)


def _currencies(session: Session, types: Sequence[TicketType]) -> dict[str, str]:
    ids = sorted({t.event_id for t in types})
    return {e.id: e.currency for e in session.scalars(select(Event).where(Event.id.in_(ids)))}


def _out(session: Session, types: Sequence[TicketType], now: datetime) -> list[dict[str, Any]]:
    for tt in types:
        session.refresh(tt)
    currency = _currencies(session, types)
    lapsed = lapsed_held(session, [tt.id for tt in types], now=now)
    return [ticket_type_out(tt, currency[tt.event_id], lapsed=lapsed.get(tt.id, 0))
            .model_dump(mode="json") for tt in types]


def _run(db: Database, principal: Principal, key: str, *, method: str, path: str,
         body: Any, effect: Callable[[Session], CapacityOutcome],
         now: datetime) -> CapacityOutcome:
    done = idempotency.run_idempotent(db, principal, key, method=method, path=path, body=body,
                                      effect=effect, now=now)
    return CapacityOutcome(done.status, done.body, replayed=done.replayed)


def change_capacity(db: Database, principal: Principal, ticket_type_id: int,
                    body: schemas.CapacityChange, *, key: str, path: str,
                    now: datetime) -> CapacityOutcome:
    """Change one ticket type's capacity by ``body.delta``; 200 with the TicketType, or a
    stored 409 ``capacity_below_committed`` (with ``ticket_type_id``, ``delta``,
    ``capacity``, ``sold``, ``held`` and the same in ``ticket_types: [...]``).

    Raises:
        ApiError: 404 ``not_found`` for an unknown ticket type (not stored); idempotency
            refusals.
    """
    def effect(session: Session) -> CapacityOutcome:
        outcome = _apply(session, principal, {ticket_type_id: body.delta}, body.reason, now,
                         unknown=ErrorCode.NOT_FOUND)
        if outcome.status == 200:
            return CapacityOutcome(200, outcome.body["ticket_types"][0])
        return CapacityOutcome(outcome.status, {**outcome.body,
                                                **outcome.body["ticket_types"][0]})

    return _run(db, principal, key, method="POST", path=path,
                body=body.model_dump(mode="json"), effect=effect, now=now)


def bulk_change(db: Database, principal: Principal, body: schemas.BulkCapacityChange, *,
                key: str, path: str, now: datetime) -> CapacityOutcome:
    """Apply every change of ``body`` or none; 200 ``{ticket_types}`` (by id) or a stored
    409 ``capacity_below_committed`` naming the failing ticket types.

    Raises:
        ApiError: 422 ``invalid_request`` naming unknown ticket type ids (not stored);
            idempotency refusals.
    """
    def effect(session: Session) -> CapacityOutcome:
        return _apply(session, principal, {c.ticket_type_id: c.delta for c in body.changes},
                      body.reason, now, unknown=ErrorCode.INVALID_REQUEST)

    return _run(db, principal, key, method="POST", path=path,
                body=body.model_dump(mode="json"), effect=effect, now=now)


def _apply(session: Session, principal: Principal, deltas: dict[int, int], reason: str,
           now: datetime, *, unknown: ErrorCode) -> CapacityOutcome:
    ids = sorted(deltas)
    types = list(session.scalars(select(TicketType).where(TicketType.id.in_(ids))
                                 .order_by(TicketType.id)))
    missing = sorted(set(ids) - {t.id for t in types})
    if missing:
        raise ApiError(unknown, f"Unknown ticket type id(s): {', '.join(map(str, missing))}.",
                       ticket_type_ids=missing)
    expire_lapsed(session, ids, now=now)

    savepoint = session.begin_nested()
    counts: dict[int, changes.Counts] = {}
    for tt in types:  # id order: concurrent changes lock rows in the same order
        d = deltas[tt.id]
        changed = guards.change_capacity(session, tt.id, d)
        if changed is None:
            savepoint.rollback()
            return _below_committed(session, deltas)
        counts[tt.id] = changed
    savepoint.commit()

    changes.record(session, [
        changes.CountChange(
            ticket_type_id=tt.id, event_id=tt.event_id,
            action="capacity_increase" if deltas[tt.id] > 0 else "capacity_decrease",
            quantity=abs(deltas[tt.id]),
            before=(counts[tt.id][0] - deltas[tt.id], counts[tt.id][1], counts[tt.id][2]),
            after=counts[tt.id], ladder=tt.alert_ladder)
        for tt in types
    ], actor=_actor(principal), ref_type=None, ref_id=None, reason=reason.strip(), now=now)
    session.flush()
    return CapacityOutcome(200, {"ticket_types": _out(session, types, now)})


def _below_committed(session: Session, deltas: dict[int, int]) -> CapacityOutcome:
    """The 409 body, read after the rollback: every ticket type whose change would leave
    fewer places than its sold and held tickets."""
    rows = session.execute(
        select(TicketType.id, TicketType.name, TicketType.capacity, TicketType.sold,
               TicketType.held)
        .where(TicketType.id.in_(sorted(deltas))).order_by(TicketType.id)).all()
    failing = [{"ticket_type_id": tt_id, "name": name, "delta": deltas[tt_id],
                "capacity": capacity, "sold": sold, "held": held}
               for tt_id, name, capacity, sold, held in rows
               if capacity + deltas[tt_id] < sold + held]
    names = ", ".join(f"{f['name']} (id {f['ticket_type_id']})" for f in failing)
    code = ErrorCode.CAPACITY_BELOW_COMMITTED
    return CapacityOutcome(ERROR_STATUS[code], {
        "error": str(code),
        "message": f"Capacity cannot go below the tickets already sold or held: {names}; "
                   "nothing was changed.",
        "ticket_types": failing})


def _describe(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, list):
        return "[" + ", ".join(map(str, value)) + "]"
    return str(value)


def patch_ticket_type(db: Database, principal: Principal, ticket_type_id: int,
                      body: schemas.TicketTypePatch, *, key: str, path: str,
                      now: datetime) -> CapacityOutcome:
    """Change the settings named in ``body``; 200 with the TicketType (unchanged values are
    not recorded; a patch that changes nothing records nothing).

    Raises:
        ApiError: 404 ``not_found`` for an unknown ticket type (not stored); idempotency
            refusals.
    """
    given = body.model_fields_set

    def effect(session: Session) -> CapacityOutcome:
        tt = session.scalars(select(TicketType).where(TicketType.id == ticket_type_id)
                             .with_for_update()).first()
        if tt is None:
            raise ApiError(ErrorCode.NOT_FOUND, f"Ticket type {ticket_type_id} was not found.")
        edits: list[tuple[str, Any, Any]] = []  # (action, old, new)
        values: dict[str, Any] = {}
        if "public_limit" in given and body.public_limit != tt.public_limit:
            edits.append(("public_limit_change", tt.public_limit, body.public_limit))
            values["public_limit"] = body.public_limit
        if body.thresholds is not None and (body.thresholds.low, body.thresholds.critical) != (
                tt.threshold_low, tt.threshold_critical):
            edits.append(("threshold_change",
                          f"low {tt.threshold_low}, critical {tt.threshold_critical}",
                          f"low {body.thresholds.low}, critical {body.thresholds.critical}"))
            values["threshold_low"] = body.thresholds.low
            values["threshold_critical"] = body.thresholds.critical
        if body.alert_ladder is not None and list(body.alert_ladder) != list(tt.alert_ladder):
            edits.append(("alert_ladder_change", list(tt.alert_ladder), body.alert_ladder))
            values["alert_ladder"] = list(body.alert_ladder)
        if body.price is not None and body.price != tt.price:
            edits.append(("price_change", tt.price, body.price))
            values["price"] = body.price
        if edits:
            counts = guards.edit(session, tt.id, **values)
            note = f"; {body.reason.strip()}" if body.reason and body.reason.strip() else ""
            actor = _actor(principal)
            for action, old, new in edits:
                field = action.removesuffix("_change")
                changes.record(session, [changes.CountChange(
                    ticket_type_id=tt.id, event_id=tt.event_id, action=action, quantity=None,
                    before=counts, after=counts)], actor=actor, ref_type=None, ref_id=None,
                    reason=f"{field}: {_describe(old)} -> {_describe(new)}{note}", now=now)
        return CapacityOutcome(200, _out(session, [tt], now)[0])

    return _run(db, principal, key, method="PATCH", path=path,
                body=body.model_dump(mode="json", exclude_unset=True), effect=effect, now=now)
