"""Input the routes take besides JSON bodies, refused with 422 ``invalid_request`` instead
of failing deeper down (a 500, or a database error on PostgreSQL):

* :class:`CleanUrl`: a path or query string holding NUL or a bidirectional control
  (:mod:`pos_app.domain.text`), for every route at once (JSON bodies are checked by
  :class:`pos_app.api.schemas.Request`);
* :data:`QueryTime`: a timezone-aware time that has a UTC equivalent (``0001-01-01T00:00
  +14:00`` has none: converting it overflows);
* :func:`cursor_int`: a number read back from an opaque cursor, within a 64-bit column.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import unquote_to_bytes

from pydantic import AfterValidator, AwareDatetime
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from pos_app.api.errors import ErrorCode
from pos_app.domain.text import unsafe_character
from pos_app.server.errors import ApiError

__all__ = ["BIGINT_MAX", "CleanUrl", "QueryTime", "cursor_int"]

BIGINT_MAX = 2**63 - 1
"""The largest value of a 64-bit signed column (SQLite INTEGER, PostgreSQL bigint)."""


def _has_utc(moment: datetime) -> datetime:
    try:
        moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("the time is outside the range of dates this server keeps") from None
    return moment


QueryTime = Annotated[AwareDatetime, AfterValidator(_has_utc)]
"""A query parameter's time: RFC 3339 with an offset, and a time UTC can express."""


def cursor_int(value: Any) -> int:
    """``value`` read from a cursor as a number ``0 <= n <= BIGINT_MAX``.

    Raises:
        ApiError: 422 ``invalid_request`` for anything else (a string, a bool, a 31-digit
            number).
    """
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= BIGINT_MAX:
        raise ApiError(ErrorCode.INVALID_REQUEST, "The cursor is not valid.")
    return value


class CleanUrl:
    """ASGI middleware answering 422 ``invalid_request`` for a request whose path or query
    string (percent-decoded) holds a character :func:`unsafe_character` refuses; other
    requests pass untouched (one regex search of the path, the query only when it is
    percent-encoded or not ASCII)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            bad = unsafe_character(scope.get("path", ""))
            query: bytes = scope.get("query_string", b"")
            if bad is None and query and (b"%" in query or not query.isascii()):
                bad = unsafe_character(unquote_to_bytes(query).decode("utf-8", "replace"))
            if bad is not None:
                response = JSONResponse(status_code=422, content={
                    "error": ErrorCode.INVALID_REQUEST.value,
                    "message": f"The request is not valid: the address may not contain the "
                               f"character {bad}."})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
