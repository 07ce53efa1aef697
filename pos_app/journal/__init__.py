"""The terminal's journal and register: the write-ahead record of every request that changes
something, and the service (:class:`Register`) that runs the sale path through it.

Everything public is importable from here; the modules behind it are private. Journal errors
form the tree drawn on :class:`JournalError`; network and session errors are
:mod:`pos_app.client`'s ``ClientError`` tree.
"""

from __future__ import annotations

from pos_app.journal._register import (
    OFFLINE_CODE,
    UNKNOWN_CODE,
    Register,
    SaleOutcome,
    open_register,
)
from pos_app.journal._shifts import SHIFT_OPERATIONS, ShiftOutcome
from pos_app.journal._store import (
    ALLOWED_TRANSITIONS,
    EntryNotFound,
    EntryState,
    InvalidTransition,
    Journal,
    JournalCorrupt,
    JournalEntry,
    JournalError,
)

__all__ = [
    "ALLOWED_TRANSITIONS",
    "OFFLINE_CODE",
    "SHIFT_OPERATIONS",
    "UNKNOWN_CODE",
    "EntryNotFound",
    "EntryState",
    "InvalidTransition",
    "Journal",
    "JournalCorrupt",
    "JournalEntry",
    "JournalError",
    "Register",
    "SaleOutcome",
    "ShiftOutcome",
    "open_register",
]
