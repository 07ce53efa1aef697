"""How the window writes times for people: wall-clock times in an event's or venue's time zone.

Amounts of money go through :func:`pos_app.domain.money.format_money`, the one formatting
function that knows the currency and locale.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["local_clock_time"]


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_clock_time(moment: datetime, zone: str | None, now: datetime | None = None, *,
                     with_zone: bool = False) -> str:
    """``moment`` (aware) as a 24-hour wall-clock time in IANA ``zone`` (UTC when unknown),
    e.g. ``"21:14"``; prefixed with the day (``"Sat 21 Nov 21:14"``) when it is not on the
    same local day as ``now``; ``with_zone`` appends the zone's abbreviation (``"CST"``)."""
    tz = _zone(zone)
    local = moment.astimezone(tz)
    text = f"{local:%H:%M}"
    if now is not None and now.astimezone(tz).date() != local.date():
        text = f"{local:%a} {local.day} {local:%b} {text}"
    if with_zone:
        text = f"{text} {local.tzname()}"
    return text
