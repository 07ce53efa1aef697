"""A real webhook receiver for tests: an ``http.server`` on a loopback port, in a thread.

It records every request as it arrived (path, headers, raw body) and answers each with the
next scripted status (then 200), optionally with a ``Retry-After`` header or after a delay
(longer than the sender's timeout, to make it time out). Checking signatures is left to
the tests, which do it as a venue's receiver would.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    """One request as the receiver got it (header names lower-cased)."""

    path: str
    headers: dict[str, str]
    body: bytes
    at: float  # time.monotonic() on arrival

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass(frozen=True)
class Answer:
    """How to answer one request."""

    status: int = 200
    retry_after: str | None = None
    delay: float = 0.0


@dataclass
class WebhookReceiver:
    """The receiver's script and log; ``url`` once started."""

    answers: list[Answer] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    port: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _arrived: threading.Condition = field(init=False)

    def __post_init__(self) -> None:
        self._arrived = threading.Condition(self._lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/stock"

    def script(self, answers: Iterable[Answer | int]) -> None:
        """Answer the next requests so (a bare int is a status), then 200 again."""
        with self._lock:
            self.answers.extend(a if isinstance(a, Answer) else Answer(a) for a in answers)

    def requests(self) -> list[Received]:
        with self._lock:
            return list(self.received)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """The requests once at least ``count`` arrived; AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while len(self.received) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.received)} of {count} webhook requests "
                                         f"arrived within {timeout} s")
                self._arrived.wait(left)
            return list(self.received)

    def take(self, request: Received) -> Answer:
        """Record ``request`` and return how to answer it."""
        with self._arrived:
            self.received.append(request)
            self._arrived.notify_all()
            return self.answers.pop(0) if self.answers else Answer()


def _handler(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            answer = receiver.take(Received(
                path=self.path, headers={k.lower(): v for k, v in self.headers.items()},
                body=body, at=time.monotonic()))
            if answer.delay:
                time.sleep(answer.delay)
            self.send_response(answer.status)
            if answer.retry_after is not None:
                self.send_header("Retry-After", answer.retry_after)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet test output

    return Handler


@contextmanager
def webhook_receiver() -> Iterator[WebhookReceiver]:
    """A started :class:`WebhookReceiver` on ``127.0.0.1`` and a free port, stopped on
    exit."""
    receiver = WebhookReceiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.port = int(server.server_address[1])
    thread = threading.Thread(target=server.serve_forever, name="webhook-receiver",
                              daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
