"""What an audit entry says, in words, in the viewer: its counts and its reason and
reference; action labels and counts come from :mod:`pos_app.domain.audit_words`, shared with
the exports."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pos_app.api.schemas import AuditEntry
from pos_app.domain.audit_words import counts_text

__all__ = ["AuditQuery", "Order", "entry_counts_text", "entry_reason_text"]

Order = Literal["asc", "desc"]
AuditQuery = dict[str, "str | int | datetime | None"]
"""Filters as ``GET /v1/audit`` names them (``from``, ``to``, ``terminal_id``, ``staff_id``,
``shift_id``, ``action``, ``ticket_type_id``, ``q``); ``None`` or missing: any."""

_REF_SHOWN = 10  # characters of a long reference shown in the table (the detail has all)


def entry_counts_text(entry: AuditEntry) -> str:
    """The counts the entry moved, e.g. ``"cap 100 · sold 4 → 5 · held 0"`` (``""``: none)."""
    return counts_text(entry.before, entry.after)


def entry_reason_text(entry: AuditEntry, *, short_refs: bool = True) -> str:
    """The reason, then the reference (``"Stage moved · sale 9f2c4e1a0b…"``); long reference
    ids are cut to 10 characters unless ``short_refs`` is false."""
    parts = [entry.reason] if entry.reason else []
    for kind, value in (entry.ref or {}).items():
        shown = (value[:_REF_SHOWN] + "…" if short_refs and len(value) > _REF_SHOWN + 2
                 else value)
        parts.append(f"{kind.removesuffix('_id')} {shown}")
    return " · ".join(parts)
