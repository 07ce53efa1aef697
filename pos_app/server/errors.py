"""The exception services raise to answer a request with a contract error, and the
contract error of a persistence-level one (:func:`write_conflict_error`).

Tree::

    Exception
    └── ApiError   (code, message, status, extra fields of the error body)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pos_app.api.errors import ERROR_STATUS, ErrorCode
from pos_app.server.db_errors import WriteConflict

__all__ = ["ApiError", "Denial", "write_conflict_error"]


@dataclass(frozen=True)
class Denial:
    """For a 401/403 refused by authentication or authorization: the short reason kept in
    the audit log's ``denied`` entry (e.g. ``session expired``; never a token or PIN) and
    the actor when the credentials named one (an expired session's staff and terminal, a
    revoked channel token's channel). Not part of the response body."""

    reason: str
    staff_id: int | None = None
    terminal_id: int | None = None
    channel: str | None = None


class ApiError(Exception):
    """A refusal answered as ``{"error": code, "message": message, **extra}`` with ``status``.

    Args:
        code: one of :class:`pos_app.api.errors.ErrorCode`.
        message: one plain sentence for a person.
        status: HTTP status; defaults to the contract's status for ``code``.
        headers: extra response headers (e.g. ``Retry-After``).
        denial: for an auth refusal, the audit reason and actor (:class:`Denial`); without
            it the audit uses ``message``.
        **extra: further body fields, e.g. ``lines=[...]`` for ``insufficient_inventory``.
    """

    def __init__(self, code: ErrorCode, message: str, status: int | None = None, *,
                 headers: dict[str, str] | None = None, denial: Denial | None = None,
                 **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status if status is not None else ERROR_STATUS[code]
        self.headers = headers or {}
        self.denial = denial
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """The JSON error body."""
        return {"error": str(self.code), "message": self.message, **self.extra}


def write_conflict_error(conflict: WriteConflict) -> ApiError:
    """The answer to ``conflict`` (the database kept refusing the unit of work): 409
    ``request_in_progress`` with ``Retry-After: 1``, its sentence saying nothing was changed."""
    return ApiError(ErrorCode.REQUEST_IN_PROGRESS, str(conflict), headers={"Retry-After": "1"})
