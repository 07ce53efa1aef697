"""A network receipt printer on the loopback interface: a real TCP server on port 0.

It records the bytes of each connection and answers real-time status requests
(``DLE EOT n``) with the byte configured for ``n``, or stays silent like printers that do not
report status.
"""

from __future__ import annotations

import socket
import threading
from types import TracebackType


class LoopbackPrinter:
    """Accepts connections one at a time, as a network receipt printer does.

    Args:
        answers: status byte to answer for each ``DLE EOT n`` request, by ``n``; requests
            without an entry get no answer.
    """

    def __init__(self, answers: dict[int, int] | None = None) -> None:
        self.answers = dict(answers or {})
        self.jobs: list[bytes] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port: int = self._listener.getsockname()[1]
        self._stopping = threading.Event()
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._serve, name="loopback-printer", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"

    def _serve(self) -> None:
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with connection:
                received = self._receive(connection)
            with self._changed:
                self.jobs.append(received)
                self._changed.notify_all()

    def _receive(self, connection: socket.socket) -> bytes:
        connection.settimeout(5)
        received = bytearray()
        scanned = 0
        while True:
            try:
                chunk = connection.recv(65536)
            except OSError:
                break
            if not chunk:
                break
            received += chunk
            while (found := received.find(b"\x10\x04", scanned)) != -1 and found + 2 < len(
                received
            ):
                request = received[found + 2]
                if request in self.answers:
                    connection.sendall(bytes([self.answers[request]]))
                scanned = found + 3
        return bytes(received)

    def wait_for_jobs(self, count: int, timeout: float = 5.0) -> list[bytes]:
        """The first ``count`` connections' bytes, once that many have closed."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self.jobs) >= count, timeout):
                raise AssertionError(f"expected {count} connections, saw {len(self.jobs)}")
            return self.jobs[:count]

    def close(self) -> None:
        self._stopping.set()
        self._listener.close()
        self._thread.join(timeout=5)

    def __enter__(self) -> LoopbackPrinter:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        port: int = probe.getsockname()[1]
    return port
