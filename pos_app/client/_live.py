""":class:`InventoryFeed`: live inventory for a terminal, no Qt.

A background thread subscribes to ``GET /v1/inventory/stream`` (Server-Sent Events, ``id:``
= inventory version). When the stream drops it reconnects with capped exponential backoff and
jitter, sending ``Last-Event-ID`` so nothing committed in between is missed; while it is
disconnected it polls ``GET /v1/inventory?since=`` every ``poll_interval`` seconds
(``shared/API.md``, Inventory).
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import TypeAdapter, ValidationError

from pos_app.api.errors import ErrorCode
from pos_app.api.schemas import TicketType
from pos_app.client._http import tls_context

__all__ = ["InventoryFeed", "SseEvent", "SseParser", "backoff_delay"]

_USER_AGENT = "pos-app-terminal/1"
_TYPES = TypeAdapter(list[TicketType])

ChangesCallback = Callable[[int, list[TicketType]], None]
StateCallback = Callable[[bool], None]


@dataclass(frozen=True, slots=True)
class SseEvent:
    """One dispatched Server-Sent Event: ``event`` type (default ``message``), ``data`` (lines
    joined with ``\\n``) and ``id`` (the last ``id:`` seen on the stream, or ``None``)."""

    event: str
    data: str
    id: str | None


class SseParser:
    """Incremental ``text/event-stream`` parser (WHATWG HTML, "Server-sent events").

    Feed it lines without their end-of-line; :meth:`feed` returns an :class:`SseEvent` when a
    blank line dispatches one. Comment lines (``:...``) are ignored; ``retry:`` sets
    :attr:`retry_ms`; an ``id`` containing NUL is ignored; an event without data is dropped.
    """

    def __init__(self) -> None:
        self.last_id: str | None = None
        self.retry_ms: int | None = None
        self._event = ""
        self._data: list[str] = []

    def feed(self, line: str) -> SseEvent | None:
        if line == "":
            if not self._data:
                self._event = ""
                return None
            event = SseEvent(self._event or "message", "\n".join(self._data), self.last_id)
            self._event, self._data = "", []
            return event
        if line.startswith(":"):
            return None
        field, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._event = value
        elif field == "id":
            if "\0" not in value:
                self.last_id = value
        elif field == "retry" and value.isdigit():
            self.retry_ms = int(value)
        return None

    def events(self, lines: Iterable[str]) -> Iterator[SseEvent]:
        """Every event dispatched by ``lines``."""
        for line in lines:
            event = self.feed(line)
            if event is not None:
                yield event


def backoff_delay(attempt: int, *, base: float = 0.5, cap: float = 30.0,
                  rand: Callable[[], float] = random.random) -> float:
    """Seconds to wait before reconnect ``attempt`` (0 = first): ``min(cap, base * 2**attempt)``
    scaled by a jitter factor in [0.5, 1.0) so terminals do not reconnect in lock-step."""
    ceiling = min(cap, base * (2 ** min(max(attempt, 0), 30)))
    return float(ceiling * (0.5 + rand() / 2))


class InventoryFeed:
    """Live inventory from the server on a daemon thread.

    Args:
        base_url: ``https://host:port`` (no ``/v1``).
        ca_file: the pinned CA (PEM); the only trust anchor. Not read when ``transport`` given.
        token: returns the current session token (``None``: not signed in; the feed waits).
        on_changes: ``(inventory_version, ticket_types)`` for each SSE ``inventory`` event
            and each successful poll (possibly with no ticket types: the counts are current).
        on_state: ``True`` when the server answers (stream open or a poll succeeded),
            ``False`` when it cannot be reached. Called only on changes.
        since: the inventory version the caller's counts are as of (resume point).
        poll_interval: seconds between ``?since=`` polls while the stream is down.
        backoff_base, backoff_cap: reconnect backoff (seconds), see :func:`backoff_delay`.
        read_timeout: seconds without a byte (keepalives come every 15 s) before the stream
            counts as dead.
        transport: an ``httpx`` transport instead of the network (tests).

    Callbacks run on the feed's thread: they must be quick and thread-safe (the GUI adapter
    re-emits them as queued Qt signals). :meth:`stop` returns promptly: it closes the open
    response. Safe to call :meth:`start`, :meth:`stop` and the properties from any thread.
    """

    def __init__(self, base_url: str, *, ca_file: Path | None, token: Callable[[], str | None],
                 on_changes: ChangesCallback, on_state: StateCallback,
                 since: int | None = None, poll_interval: float = 10.0,
                 backoff_base: float = 0.5, backoff_cap: float = 30.0,
                 read_timeout: float = 40.0, connect_timeout: float = 5.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._token = token
        self._on_changes = on_changes
        self._on_state = on_state
        self.poll_interval = poll_interval
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._version = since
        self._connected: bool | None = None
        self._response: httpx.Response | None = None
        self._opened = False  # the current stream attempt got a 200 (feed thread only)
        self._thread: threading.Thread | None = None
        verify: ssl.SSLContext | bool = True
        if transport is None:
            if ca_file is None:
                raise ValueError("ca_file is required without a transport")
            verify = tls_context(Path(ca_file))
        self._http = httpx.Client(
            base_url=self.base_url, verify=verify, transport=transport, trust_env=False,
            timeout=httpx.Timeout(connect=connect_timeout, read=read_timeout,
                                  write=connect_timeout, pool=connect_timeout),
            headers={"User-Agent": _USER_AGENT}, follow_redirects=False)

    # --- state --------------------------------------------------------------------------------

    @property
    def version(self) -> int | None:
        """The newest inventory version seen."""
        with self._lock:
            return self._version

    @property
    def connected(self) -> bool:
        with self._lock:
            return bool(self._connected)

    @property
    def running(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def start(self) -> None:
        """Start the thread (once)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="inventory-feed", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread: close the open stream and wait up to ``timeout`` seconds."""
        self._stop.set()
        self._abort_response()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        self._http.close()

    # --- the loop -----------------------------------------------------------------------------

    def _set_state(self, connected: bool) -> None:
        with self._lock:
            changed = self._connected is not connected
            self._connected = connected
        if changed and not self._stop.is_set():  # a stopped feed calls nobody back
            self._on_state(connected)

    def _deliver(self, version: int, ticket_types: list[TicketType]) -> None:
        with self._lock:
            if self._version is None or version >= self._version:
                self._version = version
        if not self._stop.is_set():
            self._on_changes(version, ticket_types)

    def _headers(self) -> dict[str, str] | None:
        token = self._token()
        if token is None:
            return None
        return {"Authorization": f"Bearer {token}"}

    def _run(self) -> None:
        attempt = 0
        next_poll = 0.0
        while not self._stop.is_set():
            headers = self._headers()
            if headers is None:
                self._stop.wait(0.5)
                continue
            self._opened = False
            result = "unreachable"
            with contextlib.suppress(httpx.HTTPError, OSError, ValueError):
                result = self._stream(headers)
            if self._opened:  # it was up and broke: one quick reconnect before "down"
                result = "opened"
            if self._stop.is_set():
                break
            if result == "opened":
                attempt = 0  # it was up: reconnect at once (after a short jittered pause)
            else:
                if attempt == 0:
                    next_poll = time.monotonic() + self.poll_interval
                attempt += 1
                if result == "unreachable":
                    self._set_state(False)
            deadline = time.monotonic() + backoff_delay(
                attempt, base=self.backoff_base, cap=self.backoff_cap)
            while not self._stop.is_set():
                now = time.monotonic()
                if attempt and now >= next_poll:
                    next_poll = now + self.poll_interval
                    self._poll()
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                wait = remaining if not attempt else min(remaining, next_poll - now)
                self._stop.wait(max(0.01, wait))

    def _stream(self, headers: dict[str, str]) -> str:
        """One stream: ``"opened"`` (it was up, then ended), ``"answered"`` (the server refused
        it, 503 ``server_busy`` included) or ``"unreachable"`` (any other 5xx)."""
        version = self.version
        headers = {**headers, "Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if version is not None:
            headers["Last-Event-ID"] = str(version)
        with self._http.stream("GET", "/v1/inventory/stream", headers=headers) as response:
            if response.status_code != 200:
                response.read()
                # 503 server_busy (too many streams in that process) is an answer: the
                # server is up, so the till polls without showing itself offline.
                if response.status_code >= 500 and not _is_busy(response):
                    return "unreachable"
                self._set_state(True)  # it answered: reachable, just not streaming to us
                return "answered"
            with self._lock:
                self._response = response
            self._opened = True
            try:
                if self._stop.is_set():
                    return "opened"
                self._set_state(True)
                parser = SseParser()
                for line in response.iter_lines():
                    if self._stop.is_set():
                        break
                    event = parser.feed(line)
                    if event is not None and event.event == "inventory":
                        self._handle(event)
            finally:
                with self._lock:
                    self._response = None
        return "opened"

    def _handle(self, event: SseEvent) -> None:
        try:
            payload: Any = json.loads(event.data)
            version = int(payload["inventory_version"])
            ticket_types = _TYPES.validate_python(payload.get("ticket_types", []))
        except (ValueError, KeyError, TypeError, ValidationError):
            return  # a malformed event is skipped; the next resume re-reads from the version
        self._deliver(version, ticket_types)

    def _poll(self) -> None:
        headers = self._headers()
        if headers is None:
            return
        try:
            response = self._http.get("/v1/inventory",
                                      params={"since": self.version or 0}, headers=headers)
        except (httpx.HTTPError, OSError):
            self._set_state(False)
            return
        if response.status_code >= 500:
            self._set_state(False)
            return
        self._set_state(True)
        if response.status_code != 200:
            return
        try:
            payload = response.json()
            version = int(payload["inventory_version"])
            ticket_types = _TYPES.validate_python(payload.get("ticket_types", []))
        except (ValueError, KeyError, TypeError, ValidationError):
            return
        self._deliver(version, ticket_types)

    def _abort_response(self) -> None:
        """Wake a thread blocked reading the stream: shut its socket down, close it."""
        with self._lock:
            response = self._response
        if response is None:
            return
        stream = response.extensions.get("network_stream")
        with contextlib.suppress(OSError, AttributeError):
            sock = stream.get_extra_info("socket") if stream is not None else None
            if isinstance(sock, socket.socket):
                sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(Exception):  # closing from another thread: best effort
            response.close()


def _is_busy(response: httpx.Response) -> bool:
    """Whether ``response`` is the server's 503 ``server_busy`` (its stream cap reached)."""
    try:
        return bool(response.status_code == 503
                    and response.json().get("error") == ErrorCode.SERVER_BUSY.value)
    except (ValueError, AttributeError):
        return False
