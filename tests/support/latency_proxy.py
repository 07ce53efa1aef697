"""A loopback TCP proxy that delays every byte the server sends back (TLS passes through
untouched), to run the terminal against a distant server.

Each chunk read from the server is forwarded ``delay`` seconds after it arrived, in order, on
a per-connection sender thread, so every response (and the TLS handshake's answers) reaches
the terminal ``delay`` later without limiting throughput. Requests go upstream at once.

In-process (:class:`LatencyProxy`) or as its own process (:func:`spawn_latency_proxy`, or
``python -m tests.support.latency_proxy UPSTREAM_PORT --delay 0.2``, which prints its port), so
that its threads do not compete for the GIL of the process being measured.
"""

from __future__ import annotations

import argparse
import contextlib
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from types import TracebackType

__all__ = ["LatencyProxy", "spawn_latency_proxy"]


class LatencyProxy:
    """Listens on ``127.0.0.1:port`` and forwards to ``127.0.0.1:upstream_port``.

    ``delay`` (seconds, may be changed while running) is added to every response chunk; a
    server certificate for ``127.0.0.1`` stays valid because the host is the same. Use as a
    context manager or call :meth:`close`.
    """

    def __init__(self, upstream_port: int, *, delay: float = 0.2) -> None:
        self.upstream_port = upstream_port
        self.delay = delay
        self.connections = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._stopped = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, name="latency-proxy-accept", daemon=True).start()

    @property
    def base_url(self) -> str:
        """``https://127.0.0.1:<port>``: the URL a terminal pairs with to go through here."""
        return f"https://127.0.0.1:{self.port}"

    def _accept(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            except OSError:
                client.close()
                continue
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self.connections += 1
                self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True,
                             name="latency-proxy-up").start()
            delayed: queue.Queue[tuple[float, bytes] | None] = queue.Queue()
            threading.Thread(target=self._read_answers, args=(upstream, delayed), daemon=True,
                             name="latency-proxy-down").start()
            threading.Thread(target=self._send_answers, args=(delayed, upstream, client),
                             daemon=True, name="latency-proxy-delay").start()

    @staticmethod
    def _shut(*sockets: socket.socket) -> None:
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        """Requests: terminal -> server, at once."""
        try:
            while data := source.recv(65536):
                target.sendall(data)
        except OSError:
            pass
        self._shut(source, target)

    def _read_answers(self, upstream: socket.socket,
                      delayed: queue.Queue[tuple[float, bytes] | None]) -> None:
        try:
            while data := upstream.recv(65536):
                delayed.put((time.monotonic() + self.delay, data))
        except OSError:
            pass
        delayed.put(None)

    def _send_answers(self, delayed: queue.Queue[tuple[float, bytes] | None],
                      upstream: socket.socket, client: socket.socket) -> None:
        """Answers: server -> terminal, each chunk ``delay`` after it arrived."""
        try:
            while (item := delayed.get()) is not None:
                due, data = item
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                client.sendall(data)
        except OSError:
            pass
        self._shut(upstream, client)

    def close(self) -> None:
        """Stop accepting and close every open connection."""
        self._stopped.set()
        self._listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, []
        self._shut(*sockets)

    def __enter__(self) -> LatencyProxy:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


@contextlib.contextmanager
def spawn_latency_proxy(upstream_port: int, *, delay: float = 0.2) -> Iterator[str]:
    """Context manager: a :class:`LatencyProxy` in a child process; yields its base URL
    ``https://127.0.0.1:<port>`` and stops it on exit."""
    from tests.support.live_server import ROOT

    child = subprocess.Popen(
        [sys.executable, "-m", "tests.support.latency_proxy", str(upstream_port),
         "--delay", str(delay)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        line = child.stdout.readline()
        if not line.strip().isdigit():
            raise RuntimeError(f"the latency proxy did not start (said {line!r})")
        yield f"https://127.0.0.1:{int(line)}"
    finally:
        child.terminate()
        child.wait(10)


def main(argv: list[str] | None = None) -> None:
    """Run a proxy until SIGTERM / SIGINT; prints the port it listens on, then nothing."""
    parser = argparse.ArgumentParser(description="A loopback TCP proxy adding latency to "
                                                 "every response.")
    parser.add_argument("upstream_port", type=int)
    parser.add_argument("--delay", type=float, default=0.2, help="seconds added (default 0.2)")
    args = parser.parse_args(argv)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    with LatencyProxy(args.upstream_port, delay=args.delay) as proxy:
        print(proxy.port, flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
