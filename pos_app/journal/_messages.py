"""Sentences a cashier understands, for each way a sale can end."""

from __future__ import annotations

from collections.abc import Mapping

from pos_app.api.errors import ErrorCode
from pos_app.api.schemas import ErrorBody, Sale
from pos_app.domain.money import format_money

__all__ = ["OFFLINE", "OUTCOME_UNKNOWN", "TLS_UNTRUSTED", "confirmed_message", "refused_message"]

OFFLINE = "Server unreachable - no sales until the connection is back."
TLS_UNTRUSTED = ("The server's certificate is not trusted by this terminal - no sales until "
                 "it is re-paired with the right CA file (pos-app pair).")
OUTCOME_UNKNOWN = ("No answer from the server - the sale may or may not have gone through. "
                   "Do not hand over tickets; ask a manager.")

_FIXED: Mapping[str, str] = {
    ErrorCode.INSUFFICIENT_TENDER: "Cash tendered is less than the total.",
    ErrorCode.UNAUTHORIZED: "Your session has ended - sign in again.",
    ErrorCode.FORBIDDEN: "You are not allowed to do this - ask a manager.",
    ErrorCode.SHIFT_NOT_OPEN: "No shift is open on this terminal - open a shift first.",
    ErrorCode.REQUEST_IN_PROGRESS: ("The server is still working on this sale - wait a moment, "
                                    "then retry."),
    ErrorCode.IDEMPOTENCY_KEY_VOIDED: "This sale was cancelled and can never go through.",
    ErrorCode.TOO_MANY_ATTEMPTS: "Too many attempts - wait a few minutes.",
}


def confirmed_message(sale: Sale) -> str:
    """E.g. ``"Sale 42 confirmed - change due $5.00."``"""
    change = sale.payment.change or 0
    return f"Sale {sale.number} confirmed - change due {format_money(change, sale.currency)}."


def refused_message(error: ErrorBody, ticket_type_names: Mapping[int, str]) -> str:
    """The cashier's sentence for a refusal; ``ticket_type_names`` maps ticket type ids to the
    names last seen in the events list (used for ``insufficient_inventory``)."""
    if error.error == ErrorCode.INSUFFICIENT_INVENTORY and error.lines:
        parts = []
        for line in error.lines:
            name = ticket_type_names.get(line.ticket_type_id,
                                         f"ticket type {line.ticket_type_id}")
            if line.available <= 0:
                parts.append(f"{name} is sold out - remove it from the sale.")
            else:
                parts.append(f"Only {line.available} {name} left - reduce the quantity.")
        return " ".join(parts)
    fixed = _FIXED.get(error.error)
    if fixed is not None:
        return fixed
    return error.message or "The server refused the sale."
