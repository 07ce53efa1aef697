"""Before and after of a capacity change or a ticket type edit, computed on the terminal with
the domain's rules (:mod:`pos_app.domain.inventory`) so the manager sees what a change does
before confirming it. The server decides; these figures only preview its answer.

Used by :mod:`pos_app.gui.manager.capacity.capacity_dialog` and
:mod:`pos_app.gui.manager.capacity.bulk_capacity_dialog`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from itertools import pairwise
from typing import Final

from pos_app.api.schemas import ErrorBody, TicketType
from pos_app.domain.inventory import Thresholds, available, public_available, stock_level

__all__ = [
    "KEEP",
    "STOCK_WORDS",
    "Counts",
    "below_committed_sentence",
    "counts_after",
    "counts_of",
    "ladder_text",
    "limit_text",
    "parse_ladder",
    "refusal_sentence",
]

STOCK_WORDS = {"in_stock": "In stock", "low": "Low", "critical": "Critical",
               "sold_out": "Sold out"}
"""The manager's words for a ``stock_level``."""


class _Keep(Enum):
    KEEP = "keep"


KEEP: Final = _Keep.KEEP
"""For :func:`counts_after`: leave the public limit as it is."""


@dataclass(frozen=True, slots=True)
class Counts:
    """A ticket type's figures as shown: ``capacity``, ``committed`` (sold + held),
    ``available`` at the box office, ``public_available`` online, ``stock_level``
    (``in_stock`` / ``low`` / ``critical`` / ``sold_out``), ``public_limit`` (``None``: no
    limit) and the ``low`` / ``critical`` thresholds."""

    capacity: int
    committed: int
    available: int
    public_available: int
    stock_level: str
    public_limit: int | None
    low: int
    critical: int


def counts_of(tt: TicketType) -> Counts:
    """``tt``'s figures as the server last reported them."""
    return Counts(tt.capacity, tt.sold + tt.held, tt.available, tt.public_available,
                  tt.stock_level, tt.public_limit, tt.thresholds.low, tt.thresholds.critical)


def counts_after(tt: TicketType, *, delta: int = 0, public_limit: int | _Keep | None = KEEP,
                 low: int | None = None, critical: int | None = None) -> Counts:
    """``tt``'s figures once ``delta`` is added to its capacity and, when given, the public
    limit (``None`` removes it; :data:`KEEP`, the default, keeps it) and thresholds replaced.

    Raises ``ValueError`` for thresholds with ``critical > low``."""
    capacity = tt.capacity + delta
    limit = tt.public_limit if public_limit is KEEP else public_limit
    thresholds = Thresholds(low=tt.thresholds.low if low is None else low,
                            critical=tt.thresholds.critical if critical is None else critical)
    left = available(capacity, tt.sold, tt.held)
    return Counts(capacity, tt.sold + tt.held, left,
                  public_available(capacity, limit, tt.sold, tt.held),
                  stock_level(left, thresholds).value, limit, thresholds.low,
                  thresholds.critical)


def below_committed_sentence(tt: TicketType, delta: int, event_name: str = "") -> str | None:
    """The manager's sentence when ``delta`` would leave ``tt`` fewer places than its sold
    and held tickets (the server refuses that too), else ``None``."""
    committed = tt.sold + tt.held
    if tt.capacity + delta >= committed:
        return None
    where = f" of {event_name}" if event_name else ""
    return (f"Capacity cannot go below the tickets already sold and held: {tt.name}{where} "
            f"has {tt.sold} sold and {tt.held} held, so it can be reduced by at most "
            f"{max(0, tt.capacity - committed)}.")


def limit_text(limit: int | None) -> str:
    """``"No limit"`` or the number."""
    return "No limit" if limit is None else str(limit)


def ladder_text(ladder: list[int]) -> str:
    """``[20, 10, 0]`` as ``"20, 10, 0"`` (``"none"`` when empty)."""
    return ", ".join(str(rung) for rung in ladder) or "none"


def parse_ladder(text: str) -> list[int]:
    """``"20, 10, 0"`` as ``[20, 10, 0]``: whole numbers, strictly descending, none negative;
    blank gives ``[]``.

    Raises ``ValueError`` with a sentence for the manager."""
    parts = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
    try:
        rungs = [int(part) for part in parts]
    except ValueError:
        raise ValueError("Alert levels are whole numbers separated by commas, e.g. "
                         "20, 10, 0.") from None
    if any(rung < 0 for rung in rungs):
        raise ValueError("Alert levels cannot be negative.")
    if any(a <= b for a, b in pairwise(rungs)):
        raise ValueError("List the alert levels from the highest to the lowest, each once, "
                         "e.g. 20, 10, 0.")
    return rungs


def refusal_sentence(state: str, message: str, error: ErrorBody | None) -> str:
    """The sentence for a capacity change that was not confirmed: the register's ``message``,
    with the server's own words when they name the ticket types that could not take it
    (``capacity_below_committed``), and that nothing changed when it was refused."""
    text = message or "The change was not made."
    if error is not None and error.error == "capacity_below_committed" \
            and error.message not in text:
        text = f"{text} {error.message}"
    if state == "refused" and "nothing" not in text.lower():
        text += " Nothing was changed."
    return text
