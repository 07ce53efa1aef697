"""The exception services raise to answer a request with a contract error.

Tree::

    Exception
    └── ApiError   (code, message, status, extra fields of the error body)
"""

from __future__ import annotations

from typing import Any

from pos_app.api.errors import ERROR_STATUS, ErrorCode

__all__ = ["ApiError"]


class ApiError(Exception):
    """A refusal answered as ``{"error": code, "message": message, **extra}`` with ``status``.

    Args:
        code: one of :class:`pos_app.api.errors.ErrorCode`.
        message: one plain sentence for a person.
        status: HTTP status; defaults to the contract's status for ``code``.
        headers: extra response headers (e.g. ``Retry-After``).
        **extra: further body fields, e.g. ``lines=[...]`` for ``insufficient_inventory``.
    """

    def __init__(self, code: ErrorCode, message: str, status: int | None = None, *,
                 headers: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status if status is not None else ERROR_STATUS[code]
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict[str, Any]:
        """The JSON error body."""
        return {"error": str(self.code), "message": self.message, **self.extra}
