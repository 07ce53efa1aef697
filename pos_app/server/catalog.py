"""The catalog format (``resources/demo_catalog.json``) read into plain, validated values.

Shape::

    {"events": [{"id", "name", "venue", "starts_at": "2026-03-14T19:30:00" (LOCAL time),
                 "timezone": "America/Chicago", "currency": "USD",
                 "ticket_types": [{"name", "price" (minor units), "capacity",
                                   "public_limit"?, "thresholds"?: {"low", "critical"},
                                   "alert_ladder"?: [25, 15, 5, 0]}]}],
     "staff"?: [{"username", "display_name"?, "role", "pin"}]}

``starts_at`` is wall-clock time at the venue; it is converted to UTC with ``zoneinfo``
(an offset in the string is accepted and wins). Shared by ``--demo`` and
``admin import-catalog``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pos_app.domain.inventory import Thresholds

__all__ = ["Catalog", "CatalogEvent", "CatalogStaff", "CatalogTicketType", "parse_catalog"]

_EVENT_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
_ROLES = ("cashier", "manager", "admin")


@dataclass(frozen=True)
class CatalogTicketType:
    """A ticket type to create: ``price`` in minor units of the event's currency."""

    name: str
    price: int
    capacity: int
    public_limit: int | None
    threshold_low: int
    threshold_critical: int
    alert_ladder: list[int]


@dataclass(frozen=True)
class CatalogEvent:
    """An event to create; ``starts_at`` is timezone-aware UTC."""

    id: str
    name: str
    venue: str
    starts_at: datetime
    timezone: str
    currency: str
    ticket_types: list[CatalogTicketType]


@dataclass(frozen=True)
class CatalogStaff:
    """A staff member to create (the PIN is hashed on import, never stored)."""

    username: str
    display_name: str
    role: str
    pin: str


@dataclass(frozen=True)
class Catalog:
    """A parsed catalog."""

    events: list[CatalogEvent]
    staff: list[CatalogStaff]


def _str(obj: dict[str, Any], key: str, where: str, *, max_len: int = 200) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > max_len:
        raise ValueError(f"{where}: '{key}' must be a non-empty text of at most {max_len} "
                         "characters")
    return value.strip()


def _int(obj: dict[str, Any], key: str, where: str, *, minimum: int = 0,
         default: int | None = None) -> int:
    value = obj.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{where}: '{key}' must be a whole number >= {minimum}")
    return value


def _ticket_type(raw: Any, where: str) -> CatalogTicketType:
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: a ticket type must be an object")
    name = _str(raw, "name", where, max_len=120)
    where = f"{where} ticket type {name!r}"
    capacity = _int(raw, "capacity", where)
    public_limit = raw.get("public_limit")
    if public_limit is not None:
        public_limit = _int(raw, "public_limit", where)
    thresholds = raw.get("thresholds", {"low": 0, "critical": 0})
    if not isinstance(thresholds, dict):
        raise ValueError(f"{where}: 'thresholds' must be an object {{low, critical}}")
    low = _int(thresholds, "low", where + " thresholds")
    critical = _int(thresholds, "critical", where + " thresholds")
    Thresholds(low=low, critical=critical)  # raises ValueError: 0 <= critical <= low
    ladder = raw.get("alert_ladder", [])
    if not isinstance(ladder, list) or not all(
            isinstance(x, int) and not isinstance(x, bool) and x >= 0 for x in ladder) \
            or ladder != sorted(set(ladder), reverse=True):
        raise ValueError(f"{where}: 'alert_ladder' must be a strictly descending list of "
                         "whole numbers >= 0")
    return CatalogTicketType(name=name, price=_int(raw, "price", where), capacity=capacity,
                             public_limit=public_limit, threshold_low=low,
                             threshold_critical=critical, alert_ladder=list(ladder))


def _starts_at(raw: str, tz_name: str, where: str) -> datetime:
    try:
        zone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{where}: unknown time zone {tz_name!r}") from None
    try:
        local = datetime.fromisoformat(raw)
    except ValueError:
        raise ValueError(f"{where}: 'starts_at' {raw!r} is not an ISO 8601 date-time") from None
    if local.tzinfo is None:
        local = local.replace(tzinfo=zone)
    return local.astimezone(UTC)


def _event(raw: Any, index: int) -> CatalogEvent:
    if not isinstance(raw, dict):
        raise ValueError(f"event #{index + 1} must be an object")
    event_id = _str(raw, "id", f"event #{index + 1}", max_len=64)
    if not _EVENT_ID.match(event_id):
        raise ValueError(f"event id {event_id!r} must be a lowercase slug (a-z, 0-9, . _ -)")
    where = f"event {event_id!r}"
    tz_name = _str(raw, "timezone", where, max_len=64)
    currency = _str(raw, "currency", where, max_len=3).upper()
    if len(currency) != 3 or not currency.isalpha():
        raise ValueError(f"{where}: 'currency' must be an ISO 4217 code such as USD")
    types_raw = raw.get("ticket_types")
    if not isinstance(types_raw, list) or not types_raw:
        raise ValueError(f"{where}: 'ticket_types' must be a non-empty list")
    types = [_ticket_type(t, where) for t in types_raw]
    names = [t.name for t in types]
    if len(set(names)) != len(names):
        raise ValueError(f"{where}: ticket type names must be unique")
    return CatalogEvent(id=event_id, name=_str(raw, "name", where),
                        venue=_str(raw, "venue", where),
                        starts_at=_starts_at(_str(raw, "starts_at", where, max_len=40),
                                             tz_name, where),
                        timezone=tz_name, currency=currency, ticket_types=types)


def _staff(raw: Any, index: int) -> CatalogStaff:
    if not isinstance(raw, dict):
        raise ValueError(f"staff #{index + 1} must be an object")
    username = _str(raw, "username", f"staff #{index + 1}", max_len=64)
    where = f"staff {username!r}"
    role = raw.get("role")
    if role not in _ROLES:
        raise ValueError(f"{where}: 'role' must be one of {', '.join(_ROLES)}")
    pin = raw.get("pin")
    if not isinstance(pin, str) or not pin.isdigit() or not 4 <= len(pin) <= 12:
        raise ValueError(f"{where}: 'pin' must be 4 to 12 digits as text")
    display = raw.get("display_name") or username
    if not isinstance(display, str):
        raise ValueError(f"{where}: 'display_name' must be text")
    return CatalogStaff(username=username, display_name=display, role=str(role), pin=pin)


def parse_catalog(data: Any) -> Catalog:
    """Validate and convert a catalog document (already parsed from JSON).

    Raises:
        ValueError: a clear sentence naming the first problem found.
    """
    if not isinstance(data, dict):
        raise ValueError("a catalog must be a JSON object with an 'events' list")
    events_raw = data.get("events", [])
    staff_raw = data.get("staff", [])
    if not isinstance(events_raw, list) or not isinstance(staff_raw, list):
        raise ValueError("'events' and 'staff' must be lists")
    events = [_event(e, i) for i, e in enumerate(events_raw)]
    ids = [e.id for e in events]
    if len(set(ids)) != len(ids):
        raise ValueError("event ids must be unique within a catalog")
    staff = [_staff(s, i) for i, s in enumerate(staff_raw)]
    usernames = [s.username for s in staff]
    if len(set(usernames)) != len(usernames):
        raise ValueError("staff usernames must be unique within a catalog")
    return Catalog(events=events, staff=staff)
