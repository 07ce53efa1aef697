"""The terminal's journal and register: the write-ahead record of every request that changes
something, and the service (:class:`Register`) that runs the sale path through it.

Everything public is importable from here; the modules behind it are private. Journal errors
form the tree drawn on :class:`JournalError`; network and session errors are
:mod:`pos_app.client`'s ``ClientError`` tree.
"""

from __future__ import annotations

from pos_app.journal._crash import CRASH_POINTS, CRASH_VARIABLE, crash_point
from pos_app.journal._manager import CAPACITY_OPERATIONS, CapacityOutcome, ManagerDesk
from pos_app.journal._operations import HoldOutcome, RefundOutcome
from pos_app.journal._reconcile import DEFAULT_PENDING_AFTER, DEFAULT_VOID_AFTER, ReconcileReport
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
    "CAPACITY_OPERATIONS",
    "CRASH_POINTS",
    "CRASH_VARIABLE",
    "DEFAULT_PENDING_AFTER",
    "DEFAULT_VOID_AFTER",
    "OFFLINE_CODE",
    "SHIFT_OPERATIONS",
    "UNKNOWN_CODE",
    "CapacityOutcome",
    "EntryNotFound",
    "EntryState",
    "HoldOutcome",
    "InvalidTransition",
    "Journal",
    "JournalCorrupt",
    "JournalEntry",
    "JournalError",
    "ManagerDesk",
    "ReconcileReport",
    "RefundOutcome",
    "Register",
    "SaleOutcome",
    "ShiftOutcome",
    "crash_point",
    "open_register",
]
