"""Limits on what one connection may make the server read or hold (issue 16, attack 8).

uvicorn (with h11, its pure-Python HTTP/1.1 parser) has most of what a server needs, as
settings; what it lacks is added here around its own protocol class, without parsing HTTP
ourselves:

* request bodies at most :data:`MAX_BODY_BYTES` (1 MiB; a sale is ~300 bytes, a bulk capacity
  change of 200 lines ~20 KiB): :class:`BodyLimit` answers 413 ``payload_too_large`` from a
  ``Content-Length`` before reading any of the body, and stops a chunked body as soon as it
  passes the limit (413 when nothing was answered yet);
* the request head (request line and headers) at most :data:`MAX_HEAD_BYTES` (16 KiB):
  answered 431 by :class:`GuardedH11Protocol` before h11 parses it (h11's own
  ``max_incomplete_event_size``, also set, counts only what it buffers between reads);
* the head must arrive within ``POS_APP_HEADER_TIMEOUT`` seconds (default
  :data:`HEAD_TIMEOUT`) of the connection (or of the previous response on a kept-alive
  one): a client sending its headers a byte at a time ("slowloris") is dropped; uvicorn has
  a keep-alive timeout only;
* idle keep-alive connections close after :data:`KEEP_ALIVE_TIMEOUT` seconds, and at most
  :data:`MAX_CONNECTIONS` connections are served at once (uvicorn's ``limit_concurrency``:
  past it, 503), live-inventory streams included.

:func:`uvicorn_options` gives ``uvicorn.run`` these settings.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

import h11
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from pos_app.api.errors import ErrorCode

__all__ = ["ENV_HEADER_TIMEOUT", "HEAD_TIMEOUT", "KEEP_ALIVE_TIMEOUT", "MAX_BODY_BYTES",
           "MAX_CONNECTIONS", "MAX_HEAD_BYTES", "BodyLimit", "GuardedH11Protocol",
           "uvicorn_options"]

MAX_BODY_BYTES = 1024 * 1024
MAX_HEAD_BYTES = 16 * 1024
HEAD_TIMEOUT = 10.0
KEEP_ALIVE_TIMEOUT = 5
MAX_CONNECTIONS = 1000
ENV_HEADER_TIMEOUT = "POS_APP_HEADER_TIMEOUT"


def _json(status: int, error: str, message: str) -> tuple[list[tuple[bytes, bytes]], bytes]:
    body = json.dumps({"error": error, "message": message}).encode()
    return [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
            (b"connection", b"close")], body


class BodyLimit:
    """ASGI middleware refusing a request body over ``max_bytes`` with 413
    ``payload_too_large``: at once from its ``Content-Length`` (h11 then holds the body to
    that length), and a chunked body (no length) by reading it here first, at most
    ``max_bytes``, before the app sees it. (Raising from ``receive`` would not do: FastAPI
    turns any error while reading a body into a 400.)"""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit()
                                              or int(value) > self.max_bytes):
                await self._refuse(send)
                return
            chunked = chunked or name == b"transfer-encoding"
        if not chunked:
            await self.app(scope, receive, send)
            return
        read: list[Message] = []
        size = 0
        while True:
            message = await receive()
            read.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._refuse(send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return read.pop(0) if read else await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send) -> None:
        headers, body = _json(413, ErrorCode.PAYLOAD_TOO_LARGE,
                              f"The request body is larger than {self.max_bytes} bytes.")
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for the request head
    (``POS_APP_HEADER_TIMEOUT``) and 431 for a head over :data:`MAX_HEAD_BYTES`."""

    head_timeout = float(os.environ.get(ENV_HEADER_TIMEOUT) or HEAD_TIMEOUT)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():  # the next request's head starts now
            self._arm_head_timer()

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE and self._head_too_large(data):
            self._refuse_head()
            return
        super().data_received(data)

    def _head_too_large(self, data: bytes) -> bool:
        """Whether the request head being read (what h11 holds and ``data``) is, or will
        be, over :data:`MAX_HEAD_BYTES`. h11's own limit counts only what it buffers
        between reads, so a large head arriving in big reads passed it."""
        buffered = self.conn.trailing_data[0]
        head = buffered + data if buffered else data
        end = head.find(b"\r\n\r\n")
        return (end + 4 if end >= 0 else len(head)) > MAX_HEAD_BYTES

    def _refuse_head(self) -> None:
        # h11 cannot answer a request it has not read: the fixed answer is written as is
        headers, body = _json(431, ErrorCode.HEADERS_TOO_LARGE,
                              f"The request head is larger than {MAX_HEAD_BYTES} bytes.")
        self.transport.write(b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
                             + b"".join(name + b": " + value + b"\r\n"
                                        for name, value in headers) + b"\r\n" + body)
        self.transport.close()

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.head_timeout, self._head_too_slow)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        # IDLE: h11 has not yet read a whole request line and headers
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def uvicorn_options() -> dict[str, Any]:
    """The keyword arguments ``uvicorn.run`` takes for these limits."""
    return {"http": GuardedH11Protocol, "h11_max_incomplete_event_size": MAX_HEAD_BYTES,
            "timeout_keep_alive": KEEP_ALIVE_TIMEOUT, "limit_concurrency": MAX_CONNECTIONS}
