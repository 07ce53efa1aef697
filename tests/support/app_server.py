"""Serve an app from :func:`pos_app.server.app.create_app` with uvicorn in a thread of the test
process, and read its live-inventory stream from other threads.

For tests that need real streaming with real timing and still reach the server's settings
(its clock): Starlette's TestClient runs a response to completion before handing it over, so
a stream that should end by itself cannot be watched with it. Plain HTTP on a free loopback
port; the app's lifespan runs (live inventory, its stream checker).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from types import TracebackType
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from tests.support.live_server import free_port

__all__ = ["AppServer", "EventStream"]


class AppServer:
    """``app`` served at :attr:`base_url` while the ``with`` block runs."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(uvicorn.Config(
            app, host="127.0.0.1", port=self.port, http="h11", lifespan="on",
            log_level="warning", timeout_graceful_shutdown=2))
        self._thread = threading.Thread(target=self._server.run, name="app-server",
                                        daemon=True)

    def __enter__(self) -> AppServer:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            assert self._thread.is_alive() and time.monotonic() < deadline, \
                "the app server did not start"
            time.sleep(0.01)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 traceback: TracebackType | None) -> None:
        broadcaster = getattr(self.app.state, "broadcaster", None)
        if broadcaster is not None:  # streams a test left open must not hold up the stop
            broadcaster.close_streams_threadsafe()
        self._server.should_exit = True
        self._thread.join(10)

    def client(self, token: str | None = None) -> httpx.Client:
        """An HTTP client of this server, sending ``token`` as the bearer token."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=10)


class EventStream:
    """``GET /v1/inventory/stream`` with ``token``, read in a thread until the server ends it
    or :meth:`close` is called.

    Once constructed the answer's head has arrived: :attr:`status` (and :attr:`body` and
    :attr:`headers` for a refusal). :attr:`ended` is set when the server ended the stream,
    at monotonic time :attr:`ended_at`; :attr:`received` holds what it sent.
    """

    def __init__(self, server: AppServer, token: str) -> None:
        self._http = server.client(token)
        self._http.timeout = httpx.Timeout(10, read=None)  # a quiet stream is not a failure
        self.status: int | None = None
        self.headers: httpx.Headers | None = None
        self.body: Any = None
        self.received = b""
        self._response: httpx.Response | None = None
        self.ended = threading.Event()
        self.ended_at: float | None = None
        self._answered = threading.Event()
        self._closing = False
        self._thread = threading.Thread(target=self._read, name="event-stream", daemon=True)
        self._thread.start()
        assert self._answered.wait(10), "the stream was not answered"

    def _read(self) -> None:
        try:
            with self._http.stream("GET", "/v1/inventory/stream") as response:
                self.status, self.headers = response.status_code, response.headers
                if response.status_code != 200:
                    response.read()
                    self.body = response.json()
                    return
                self._response = response
                self._answered.set()
                for chunk in response.iter_raw():
                    self.received += chunk
            if not self._closing:
                self.ended_at = time.monotonic()
                self.ended.set()
        except (httpx.HTTPError, OSError, RuntimeError):
            if not self._closing:  # broken by the server rather than closed by the test
                self.ended_at = time.monotonic()
                self.ended.set()
        finally:
            self._answered.set()

    def still_open_after(self, seconds: float) -> bool:
        """True when the server has not ended the stream within ``seconds`` from now."""
        return not self.ended.wait(seconds)

    def close(self) -> None:
        """Hang up (the client's side: its socket is shut down under the reading thread)
        and wait for the reading thread."""
        self._closing = True
        response = self._response
        if response is not None:
            network = response.extensions.get("network_stream")
            sock = network.get_extra_info("socket") if network is not None else None
            if isinstance(sock, socket.socket):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(10)
        assert not self._thread.is_alive(), "the stream's reader did not stop"
        self._http.close()
