"""OpenAPI descriptions of the error responses each route may give."""

from __future__ import annotations

from typing import Any

from pos_app.api.schemas import ErrorBody

__all__ = ["errors"]

_TEXT = {
    401: "unauthorized: missing, unknown or expired credentials",
    403: "forbidden: the role is too low",
    404: "not_found",
    409: "a business refusal (see the error code)",
    422: "invalid_request (schema), or a business refusal such as insufficient_tender",
    429: "too_many_attempts (Retry-After)",
}


def errors(*statuses: int, **texts: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each status documented with the :class:`ErrorBody`."""
    return {status: {"model": ErrorBody, "description": texts.get(f"s{status}", _TEXT[status])}
            for status in statuses}
