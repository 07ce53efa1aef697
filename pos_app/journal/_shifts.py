"""Shift operations through the journal: open, cash movement, close (``shared/DESIGN.md``).

Like a sale, each is journaled ``pending`` (committed, with its idempotency key) before any
network traffic and settled ``confirmed`` / ``refused`` / ``unknown`` / ``voided`` from what
the server said. Journal operations: ``shift_open`` (body ``{opening_float}``),
``cash_movement`` (``{shift_id, kind, amount, reason}``: the path's shift id and the body
sent) and ``shift_close`` (``{shift_id, counted_cash, note?, manager?: {username}}``: the
approving manager's username only, never the PIN that was sent).
:class:`~pos_app.journal.Register` exposes them as methods.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pos_app.api.errors import ErrorCode
from pos_app.api.schemas import CashMovement, ErrorBody, Shift
from pos_app.client import (
    ApiError,
    IdempotencyKeyVoided,
    OutcomeUnknown,
    RequestInProgress,
    ServerUnreachable,
    TlsVerificationFailed,
)
from pos_app.domain.money import format_money
from pos_app.journal._messages import TLS_UNTRUSTED, refused_message
from pos_app.journal._store import EntryState, Journal

__all__ = ["SHIFT_OPERATIONS", "VARIANCE_NEEDS_APPROVAL", "ShiftOutcome", "run_shift_operation",
           "shift_refused_message"]

SHIFT_OPERATIONS = ("shift_open", "cash_movement", "shift_close")

OFFLINE_CODE = "offline"
UNKNOWN_CODE = "outcome_unknown"
SHIFT_OFFLINE = "Server unreachable - the shift was not changed. Try again when it is back."
SHIFT_UNKNOWN = ("No answer from the server - the shift change may or may not have gone "
                 "through. Check the shift before trying again.")

VARIANCE_NEEDS_APPROVAL = ("The count is off by more than the allowed amount - a manager must "
                           "approve it with their PIN and a note.")

_KIND_NAMES = {"pay_in": "Pay-in", "pay_out": "Pay-out", "drop": "Drop to the safe"}


@dataclass(frozen=True, slots=True)
class ShiftOutcome:
    """How a shift operation ended, as settled in the journal.

    Attributes:
        key: the journal entry's idempotency key.
        operation: ``shift_open``, ``cash_movement`` or ``shift_close``.
        state: ``confirmed``, ``refused`` (``error`` says why; ``offline`` = never sent),
            ``unknown`` (may or may not have happened) or ``voided``.
        shift: the server's shift when a ``shift_open`` / ``shift_close`` was confirmed.
        movement: the server's cash movement when a ``cash_movement`` was confirmed.
        error: the server's error body, or a local one with code ``offline`` /
            ``outcome_unknown``; ``None`` when confirmed.
        message: one sentence for the cashier.
    """

    key: str
    operation: str
    state: EntryState
    shift: Shift | None
    movement: CashMovement | None
    error: ErrorBody | None
    message: str


def shift_message(operation: str, result: Shift | CashMovement) -> str:
    """The cashier's sentence for a confirmed shift operation."""
    if isinstance(result, CashMovement):
        return (f"{_KIND_NAMES.get(result.kind, result.kind)} of "
                f"{format_money(result.amount, result.currency)} recorded on shift "
                f"{result.shift_id}.")
    money = result.currency
    if operation == "shift_close" and result.expected_cash is not None \
            and result.variance is not None and result.counted_cash is not None:
        variance = result.variance
        how = "over" if variance > 0 else "short" if variance < 0 else "exact"
        return (f"Shift {result.id} closed: expected {format_money(result.expected_cash, money)}"
                f", counted {format_money(result.counted_cash, money)}, variance "
                f"{format_money(variance, money)} ({how}).")
    if result.opening_float is None:  # a blind read; an open's own answer has the float
        return f"Shift {result.id} opened."
    return (f"Shift {result.id} opened with a float of "
            f"{format_money(result.opening_float, money)}.")


def shift_refused_message(error: ErrorBody) -> str:
    """The cashier's sentence for a refused shift operation: :data:`VARIANCE_NEEDS_APPROVAL`
    for ``variance_needs_approval`` (it never names an amount: the count is blind), the
    server's own sentence for ``forbidden`` and ``approval_refused`` (the manager's
    username and PIN did not approve it), otherwise as for a
    sale (:func:`refused_message`)."""
    if error.error == ErrorCode.VARIANCE_NEEDS_APPROVAL:
        return VARIANCE_NEEDS_APPROVAL
    if error.error in (ErrorCode.FORBIDDEN, ErrorCode.APPROVAL_REFUSED) and error.message:
        return error.message
    return refused_message(error, {})


def run_shift_operation(journal: Journal, operation: str, body: Mapping[str, Any], *,
                        staff_id: int | None, terminal_id: int | None,
                        send: Callable[[str], Shift | CashMovement]) -> ShiftOutcome:
    """Journal ``body`` as ``operation`` (pending, committed), call ``send(key)`` and settle
    the entry from its result or error. Never raises for what the server said or did not say.
    """
    entry = journal.begin(operation, body, staff_id=staff_id, terminal_id=terminal_id)
    key = entry.key

    def settle(state: EntryState, error: ErrorBody, message: str) -> ShiftOutcome:
        journal.settle(key, state, response=error.model_dump(mode="json", exclude_none=True),
                       error_code=error.error)
        return ShiftOutcome(key, operation, state, None, None, error, message)

    try:
        result = send(key)
    except RequestInProgress as exc:
        return settle(EntryState.UNKNOWN, exc.body, refused_message(exc.body, {}))
    except IdempotencyKeyVoided as exc:
        return settle(EntryState.VOIDED, exc.body, refused_message(exc.body, {}))
    except ApiError as exc:
        return settle(EntryState.REFUSED, exc.body, shift_refused_message(exc.body))
    except ServerUnreachable as exc:
        message = TLS_UNTRUSTED if isinstance(exc, TlsVerificationFailed) else SHIFT_OFFLINE
        return settle(EntryState.REFUSED, ErrorBody(error=OFFLINE_CODE, message=message),
                      message)
    except OutcomeUnknown as exc:
        return settle(EntryState.UNKNOWN, ErrorBody(error=UNKNOWN_CODE, message=str(exc)),
                      SHIFT_UNKNOWN)
    shift_id = result.shift_id if isinstance(result, CashMovement) else result.id
    journal.settle(key, EntryState.CONFIRMED, response=result.model_dump(mode="json"),
                   reference=f"shift {shift_id}")
    return ShiftOutcome(key, operation, EntryState.CONFIRMED,
                        result if isinstance(result, Shift) else None,
                        result if isinstance(result, CashMovement) else None, None,
                        shift_message(operation, result))
