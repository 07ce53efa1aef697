"""Availability and stock levels of a ticket type.

Shapes follow ``shared/API.md`` (TicketType): ``available = capacity - sold - held``, where
``held`` counts only holds not yet expired; ``public_available = max(0, min(public_limit ??
capacity, capacity) - sold - held)``; the stock level is ``sold_out`` at 0 available,
``critical`` at or below the critical threshold, ``low`` at or below the low one, else
``in_stock``. The box office sells against ``available``, the online channel against
``public_available``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "Channel",
    "StockLevel",
    "Thresholds",
    "available",
    "public_available",
    "sellable",
    "stock_level",
]


class StockLevel(StrEnum):
    """How close a ticket type is to selling out (``API.md``: ``stock_level``)."""

    IN_STOCK = "in_stock"
    LOW = "low"
    CRITICAL = "critical"
    SOLD_OUT = "sold_out"


class Channel(StrEnum):
    """Who sells: the door (sees hidden capacity) or the online shop (public limit only)."""

    BOX_OFFICE = "box_office"
    ONLINE = "online"


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Remaining counts at or below which a ticket type is ``low`` / ``critical``."""

    low: int
    critical: int

    def __post_init__(self) -> None:
        if self.critical < 0 or self.low < self.critical:
            raise ValueError("thresholds need 0 <= critical <= low")


def available(capacity: int, sold: int, held: int) -> int:
    """Tickets the box office can still sell: ``capacity - sold - held`` (never below 0)."""
    return max(0, capacity - sold - held)


def public_available(capacity: int, public_limit: int | None, sold: int, held: int) -> int:
    """Tickets the online channel can still sell, capped by the public limit."""
    limit = capacity if public_limit is None else min(public_limit, capacity)
    return max(0, limit - sold - held)


def sellable(
    channel: Channel, capacity: int, public_limit: int | None, sold: int, held: int
) -> int:
    """What ``channel`` may sell now: ``available`` for the door, ``public_available`` online."""
    if channel is Channel.ONLINE:
        return public_available(capacity, public_limit, sold, held)
    return available(capacity, sold, held)


def stock_level(remaining: int, thresholds: Thresholds) -> StockLevel:
    """Stock level for ``remaining`` tickets under ``thresholds``."""
    if remaining <= 0:
        return StockLevel.SOLD_OUT
    if remaining <= thresholds.critical:
        return StockLevel.CRITICAL
    if remaining <= thresholds.low:
        return StockLevel.LOW
    return StockLevel.IN_STOCK
