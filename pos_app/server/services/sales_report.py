"""An event's sales by channel, per ticket type and over time (``GET /v1/reports/sales``,
manager; issue 6, the live inventory dashboard).

Two ``GROUP BY`` queries, each one pass over the event's rows: sale lines by (channel of the
sale, ticket type, bucket of ``sales.created_at``) and refunded tickets by (channel of the
*original* sale, ticket type, bucket of ``refunds.created_at``). Tickets and amounts are net
of refunds: a refund takes its tickets off the channel that sold them, in the bucket in which
it was made, so the cumulative series over the whole history ends at the ticket types'
``sold`` counters. Channels are where the sale came from: ``sales.channel`` is
``box_office`` for a terminal's sale and the channel token's channel (e.g. ``online``)
otherwise; a hold converted at the door keeps the channel of the caller who paid it.

Buckets are ``bucket`` seconds wide and aligned to multiples of it since the Unix epoch
(UTC), and a report spans at most :data:`~pos_app.api.schemas.MAX_REPORT_POINTS` of them:
more is a 422 ``invalid_request`` naming the smallest bucket that fits. Without a bucket the
smallest of :data:`NICE_BUCKETS` that fits the window is used.
"""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, cast, func, select
from sqlalchemy.orm import Session

from pos_app.api import schemas
from pos_app.api.errors import ErrorCode
from pos_app.server import sql
from pos_app.server.errors import ApiError
from pos_app.server.models import (
    ChannelToken,
    Event,
    Refund,
    RefundTicket,
    Sale,
    SaleLine,
    TicketType,
)

__all__ = ["NICE_BUCKETS", "bucket_count", "choose_bucket", "sales_report"]

_MINUTE, _HOUR, _DAY = 60, 3600, 86400
NICE_BUCKETS = (_MINUTE, 5 * _MINUTE, 15 * _MINUTE, 30 * _MINUTE, _HOUR, 3 * _HOUR,
                6 * _HOUR, 12 * _HOUR, _DAY, 2 * _DAY, 7 * _DAY, 14 * _DAY, 30 * _DAY,
                91 * _DAY, schemas.MAX_REPORT_BUCKET_SECONDS)
"""Bucket widths (seconds) chosen from when the caller gives none: a minute up to a year."""

BOX_OFFICE = "box_office"


def _epoch(at: datetime) -> int:
    return math.floor(at.timestamp())


def bucket_count(start: datetime, end: datetime, bucket: int) -> int:
    """How many ``bucket``-second buckets (epoch-aligned) the window ``[start, end)`` touches;
    at least 1."""
    origin = _epoch(start) // bucket * bucket
    return max(1, -(-(_epoch(end) - origin) // bucket))


def choose_bucket(start: datetime, end: datetime) -> int | None:
    """The smallest of :data:`NICE_BUCKETS` spanning ``[start, end)`` in at most
    ``MAX_REPORT_POINTS`` buckets, or ``None`` when even the widest does not."""
    for bucket in NICE_BUCKETS:
        if bucket_count(start, end, bucket) <= schemas.MAX_REPORT_POINTS:
            return bucket
    return None


def _utc(at: datetime | None, name: str) -> datetime | None:
    if at is None:
        return None
    try:
        return at.astimezone(UTC)
    except (OverflowError, ValueError):  # e.g. 0001-01-01T00:00-05:00: before year 1 in UTC
        raise ApiError(ErrorCode.INVALID_REQUEST,
                       f"{name} is outside the range of dates this server keeps.") from None


def _bucket_of(session: Session, column: Any, origin: int, bucket: int) -> Any:
    """SQL for the bucket index of ``column`` (a UTC timestamp): whole buckets since
    ``origin`` (epoch seconds). SQLite keeps naive UTC text, PostgreSQL ``timestamptz``."""
    if sql.dialect(session) == "postgresql":
        seconds = func.extract("epoch", column) - origin
        return cast(func.floor(seconds / bucket), BigInteger)
    seconds = cast(func.strftime("%s", column), Integer) - origin
    return seconds // bucket  # integer operands: SQLite's "/" truncates, never negative here


def _window(session: Session, event_id: str, start: datetime | None, end: datetime | None,
            now: datetime) -> tuple[datetime, datetime]:
    end = end if end is not None else now
    if start is None:
        first = session.scalar(select(func.min(Sale.created_at))
                               .where(Sale.event_id == event_id, Sale.created_at < end))
        start = first if first is not None else end
    if start > end:
        raise ApiError(ErrorCode.INVALID_REQUEST, "from must not be after to.")
    return start, end


def _resolve_bucket(start: datetime, end: datetime, bucket: int | None) -> int:
    fitting = choose_bucket(start, end)
    if bucket is None:
        if fitting is None:
            raise ApiError(ErrorCode.INVALID_REQUEST,
                           "The time window is too wide for one report; narrow from and to.")
        return fitting
    if bucket_count(start, end, bucket) > schemas.MAX_REPORT_POINTS:
        span = _epoch(end) - _epoch(start)
        least = -(-span // (schemas.MAX_REPORT_POINTS - 1))
        raise ApiError(ErrorCode.INVALID_REQUEST,
                       f"A bucket of {bucket} s gives more than {schemas.MAX_REPORT_POINTS} "
                       f"points in this window; use at least {least} s or a shorter window.")
    return bucket


def _channels(session: Session, seen: set[str]) -> list[str]:
    """``box_office`` first, then every channel with a live token or a sale, by name."""
    tokens = set(session.scalars(select(ChannelToken.channel).distinct()
                                 .where(ChannelToken.revoked_at.is_(None))))
    return [BOX_OFFICE, *sorted((tokens | seen) - {BOX_OFFICE})]


def sales_report(session: Session, event_id: str, *, bucket: int | None = None,
                 start: datetime | None = None, end: datetime | None = None,
                 now: datetime) -> schemas.SalesReport:
    """Event ``event_id``'s net sales in ``[start, end)`` (default: its first sale to
    ``now``), by channel per ticket type and per ``bucket`` seconds (default: chosen by
    :func:`choose_bucket`). Datetimes are timezone-aware.

    Raises:
        ApiError: 404 ``not_found`` for an unknown event; 422 ``invalid_request`` when
            ``start`` is after ``end``, a date cannot be kept, or the window needs more than
            ``MAX_REPORT_POINTS`` buckets.
    """
    event = session.get(Event, event_id)
    if event is None:
        raise ApiError(ErrorCode.NOT_FOUND, f"There is no event {event_id!r}.")
    start, end = _window(session, event_id, _utc(start, "from"), _utc(end, "to"), now)
    width = _resolve_bucket(start, end, bucket)
    origin = _epoch(start) // width * width

    sold = _bucket_of(session, Sale.created_at, origin, width).label("bucket")
    sale_rows = session.execute(
        select(Sale.channel, SaleLine.ticket_type_id, sold,
               func.sum(SaleLine.quantity), func.sum(SaleLine.amount))
        .join(Sale, Sale.id == SaleLine.sale_id)
        .where(Sale.event_id == event_id, Sale.created_at >= start, Sale.created_at < end)
        .group_by(Sale.channel, SaleLine.ticket_type_id, sold)).all()
    refunded = _bucket_of(session, Refund.created_at, origin, width).label("bucket")
    refund_rows = session.execute(
        select(Sale.channel, RefundTicket.ticket_type_id, refunded,
               func.count(), func.sum(RefundTicket.amount))
        .join(Refund, Refund.id == RefundTicket.refund_id)
        .join(Sale, Sale.id == Refund.sale_id)
        .where(Sale.event_id == event_id, Refund.created_at >= start, Refund.created_at < end)
        .group_by(Sale.channel, RefundTicket.ticket_type_id, refunded)).all()

    by_type: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    buckets: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for rows, sign in ((sale_rows, 1), (refund_rows, -1)):
        for channel, type_id, index, tickets, amount in rows:
            by_type[int(type_id)][channel] += sign * int(tickets or 0)
            point = buckets[channel][int(index)]
            point[0] += sign * int(tickets or 0)
            point[1] += sign * int(amount or 0)

    channels = _channels(session, set(buckets))
    type_ids = session.scalars(select(TicketType.id).where(TicketType.event_id == event_id)
                               .order_by(TicketType.id))
    return schemas.SalesReport(
        event_id=event.id, currency=event.currency, bucket_seconds=width, start=start,
        end=end, channels=channels,
        ticket_types=[schemas.TicketTypeChannels(
            ticket_type_id=tid, by_channel={c: by_type[tid].get(c, 0) for c in channels})
            for tid in type_ids],
        series=[schemas.ChannelSeries(channel=channel, points=[
            schemas.SalesPoint(at=datetime.fromtimestamp(origin + index * width, UTC),
                               tickets=tickets, amount=amount)
            for index, (tickets, amount) in sorted(buckets.get(channel, {}).items())])
            for channel in channels])
