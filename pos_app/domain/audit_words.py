"""What an audit entry says, in words, wherever it is shown: the action labels and the ticket
counts an entry moved (the audit viewer's table and detail, the CSV and PDF exports).

Pure: entries are read by attribute (``capacity``, ``sold``, ``held``), so the wire schemas
and the exports share one wording without this module importing either.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

__all__ = ["ACTION_LABELS", "Counts", "action_label", "counts_text"]

ACTION_LABELS: dict[str, str] = {
    "sale": "Sale",
    "refund": "Refund",
    "hold": "Hold placed",
    "release": "Hold released",
    "expire": "Hold expired",
    "capacity_increase": "Capacity increase",
    "capacity_decrease": "Capacity decrease",
    "public_limit_change": "Public limit change",
    "threshold_change": "Threshold change",
    "alert_ladder_change": "Alert ladder change",
    "price_change": "Price change",
    "stock_alert": "Stock alert",
    "shift_open": "Shift opened",
    "cash_movement": "Cash movement",
    "shift_close": "Shift closed",
    "login": "Sign-in",
    "login_failed": "Failed sign-in",
    "denied": "Request refused (401/403)",
}
"""Every action the server audits (``shared/API.md``, "Audit log"), in words, in the order
the viewer's action filter lists them."""


class Counts(Protocol):
    """Ticket counts before or after an audited change (``AuditCounts``)."""

    @property
    def capacity(self) -> int | None: ...

    @property
    def sold(self) -> int | None: ...

    @property
    def held(self) -> int | None: ...


def action_label(code: str, labels: Mapping[str, str] = ACTION_LABELS) -> str:
    """The words for action ``code`` ("capacity_increase" -> "Capacity increase"); a code
    not in ``labels`` is shown as its words ("seat_move" -> "Seat move")."""
    return labels.get(code) or code.replace("_", " ").capitalize()


def counts_text(before: Counts | None, after: Counts | None, *,
                arrow: str = "→", dot: str = "·") -> str:
    """The ticket counts an entry moved, e.g. ``"cap 100 · sold 4 → 5 · held 0"``: each count
    once when it did not change, ``old → new`` when it did; ``""`` when the entry has none."""
    parts: list[str] = []
    for label, name in (("cap", "capacity"), ("sold", "sold"), ("held", "held")):
        old = getattr(before, name) if before is not None else None
        new = getattr(after, name) if after is not None else None
        if old is None and new is None:
            continue
        if old is None or new is None or old == new:
            parts.append(f"{label} {new if new is not None else old}")
        else:
            parts.append(f"{label} {old} {arrow} {new}")
    return f" {dot} ".join(parts)
