"""What an audit entry says, in words: action labels, the counts it moved, its reason and
reference (the audit viewer's table and detail, and the exports' labels)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pos_app.api.schemas import AuditEntry

__all__ = ["ACTION_LABELS", "AuditQuery", "Order", "action_label", "entry_counts_text",
           "entry_reason_text"]

Order = Literal["asc", "desc"]
AuditQuery = dict[str, "str | int | datetime | None"]
"""Filters as ``GET /v1/audit`` names them (``from``, ``to``, ``terminal_id``, ``staff_id``,
``shift_id``, ``action``, ``ticket_type_id``, ``q``); ``None`` or missing: any."""

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
the action filter lists them."""

_REF_SHOWN = 10  # characters of a long reference shown in the table (the detail has all)


def action_label(code: str) -> str:
    """The words for action ``code`` ("capacity_increase" -> "Capacity increase"); an
    action this terminal does not know yet is shown as its code in words."""
    return ACTION_LABELS.get(code) or code.replace("_", " ").capitalize()


def entry_counts_text(entry: AuditEntry) -> str:
    """The counts the entry moved, e.g. ``"cap 100 · sold 4 → 5 · held 0"`` (``""``: none).
    Each count once when unchanged, ``old → new`` when it changed."""
    parts: list[str] = []
    for label, name in (("cap", "capacity"), ("sold", "sold"), ("held", "held")):
        old = getattr(entry.before, name) if entry.before is not None else None
        new = getattr(entry.after, name) if entry.after is not None else None
        if old is None and new is None:
            continue
        if old is None or new is None or old == new:
            parts.append(f"{label} {new if new is not None else old}")
        else:
            parts.append(f"{label} {old} → {new}")
    return " · ".join(parts)


def entry_reason_text(entry: AuditEntry, *, short_refs: bool = True) -> str:
    """The reason, then the reference (``"Stage moved · sale 9f2c4e1a0b…"``); long reference
    ids are cut to 10 characters unless ``short_refs`` is false."""
    parts = [entry.reason] if entry.reason else []
    for kind, value in (entry.ref or {}).items():
        shown = (value[:_REF_SHOWN] + "…" if short_refs and len(value) > _REF_SHOWN + 2
                 else value)
        parts.append(f"{kind.removesuffix('_id')} {shown}")
    return " · ".join(parts)
