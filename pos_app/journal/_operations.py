"""Holds and refunds through the journal (``shared/DESIGN.md``, the sale path).

Like a sale, each request is journaled ``pending`` (committed, with its idempotency key)
before any network traffic and settled ``confirmed`` / ``refused`` / ``unknown`` / ``voided``
from what the server said. Journal operations and the bodies they record:

- ``hold``: the ``POST /v1/holds`` JSON exactly as sent; reference: the hold code.
- ``hold_release``: ``{hold_ref, reason?}`` (the path's id or code and the body sent);
  reference: the hold code.
- ``refund``: ``{sale_ref, ticket_codes?, reason, manager?: {username}}``; never the
  manager's PIN (it is sent, not journaled); reference: the refund id.

:class:`~pos_app.journal.Register` exposes them as methods.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

from pos_app.api.schemas import ErrorBody, Hold, Refund
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

__all__ = ["HoldOutcome", "RefundOutcome", "reference_of", "run_operation"]

OFFLINE_CODE = "offline"
UNKNOWN_CODE = "outcome_unknown"
OP_OFFLINE = "Server unreachable - nothing was changed. Try again when it is back."
OP_UNKNOWN = ("No answer from the server - this may or may not have gone through. "
              "Check before trying again; reconciliation will settle it.")

_R = TypeVar("_R", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class HoldOutcome:
    """How a hold or a hold release ended, as settled in the journal.

    Attributes:
        key: the journal entry's idempotency key.
        operation: ``hold`` or ``hold_release``.
        state: ``confirmed``, ``refused`` (``error`` says why; ``offline`` = never sent),
            ``unknown`` or ``voided``.
        hold: the server's hold when confirmed, else ``None``.
        error: the server's error body or a local ``offline`` / ``outcome_unknown`` one.
        message: one sentence for the cashier.
    """

    key: str
    operation: str
    state: EntryState
    hold: Hold | None
    error: ErrorBody | None
    message: str


@dataclass(frozen=True, slots=True)
class RefundOutcome:
    """How a refund ended, as settled in the journal (fields as :class:`HoldOutcome`)."""

    key: str
    state: EntryState
    refund: Refund | None
    error: ErrorBody | None
    message: str


def hold_message(operation: str, hold: Hold) -> str:
    """The cashier's sentence for a confirmed hold / release."""
    if operation == "hold_release":
        return f"Hold {hold.code} released - its tickets are back on sale."
    tickets = sum(line.quantity for line in hold.lines)
    who = f" for {hold.customer.name}" if hold.customer is not None else ""
    return (f"Hold {hold.code} placed{who}: {tickets} ticket(s), total "
            f"{format_money(hold.total, hold.currency)}, until "
            f"{hold.expires_at:%Y-%m-%d %H:%M} UTC.")


def refund_message(refund: Refund) -> str:
    """The cashier's sentence for a confirmed refund."""
    return (f"Refund of {format_money(refund.amount, refund.currency)} approved for "
            f"{len(refund.tickets)} ticket(s) - pay it back ({refund.method}).")


def reference_of(operation: str, body: Mapping[str, Any]) -> str | None:
    """The human reference of a completed request's response ``body``: sale number, hold
    code, refund id, changed ticket type(s), shift id; ``None`` when the body has none."""
    if operation == "sale":
        value = body.get("number")
    elif operation in ("hold", "hold_release"):
        value = body.get("code")
    elif operation == "refund":
        value = body.get("id")
    elif operation in ("capacity_change", "ticket_type_edit"):
        value = body.get("id")
        return None if value is None else f"ticket type {value}"
    elif operation == "capacity_bulk":
        changed = body.get("ticket_types")
        return None if not isinstance(changed, list) else f"{len(changed)} ticket types"
    else:
        shift_id = body.get("shift_id", body.get("id"))
        return None if shift_id is None else f"shift {shift_id}"
    return None if value is None else str(value)


def run_operation(journal: Journal, operation: str, body: Mapping[str, Any], *,
                  staff_id: int | None, terminal_id: int | None,
                  send: Callable[[str], _R], message: Callable[[_R], str],
                  names: Mapping[int, str] | None = None,
                  ) -> tuple[str, EntryState, _R | None, ErrorBody | None, str]:
    """Journal ``body`` as ``operation`` (pending, committed), call ``send(key)`` and settle
    the entry from its result or error; returns ``(key, state, result, error, message)``.
    ``names`` (ticket type id -> name) words an ``insufficient_inventory`` refusal.
    Never raises for what the server said or did not say."""
    entry = journal.begin(operation, body, staff_id=staff_id, terminal_id=terminal_id)
    key = entry.key

    def settle(state: EntryState, error: ErrorBody, text: str
               ) -> tuple[str, EntryState, _R | None, ErrorBody | None, str]:
        journal.settle(key, state, response=error.model_dump(mode="json", exclude_none=True),
                       error_code=error.error)
        return key, state, None, error, text

    try:
        result = send(key)
    except RequestInProgress as exc:
        return settle(EntryState.UNKNOWN, exc.body, refused_message(exc.body, names or {}))
    except IdempotencyKeyVoided as exc:
        return settle(EntryState.VOIDED, exc.body, refused_message(exc.body, names or {}))
    except ApiError as exc:
        return settle(EntryState.REFUSED, exc.body, refused_message(exc.body, names or {}))
    except ServerUnreachable as exc:
        text = TLS_UNTRUSTED if isinstance(exc, TlsVerificationFailed) else OP_OFFLINE
        return settle(EntryState.REFUSED, ErrorBody(error=OFFLINE_CODE, message=text), text)
    except OutcomeUnknown as exc:
        return settle(EntryState.UNKNOWN, ErrorBody(error=UNKNOWN_CODE, message=str(exc)),
                      OP_UNKNOWN)
    document = result.model_dump(mode="json")
    journal.settle(key, EntryState.CONFIRMED, response=document,
                   reference=reference_of(operation, document))
    return key, EntryState.CONFIRMED, result, None, message(result)
