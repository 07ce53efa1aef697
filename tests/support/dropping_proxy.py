"""A loopback TCP proxy that loses answers on request: the request reaches the server, which
commits and answers, but the terminal never hears back (the reliability suite's lost
responses, and the hold desk's unhappy payments, which subclass it to lose requests too)."""

from __future__ import annotations

import contextlib
import socket
import threading

__all__ = ["DroppingProxy"]


class DroppingProxy:
    """A loopback TCP proxy (TLS passes through untouched). While :attr:`drop` is set, the
    first bytes the server sends back on a connection are discarded and the terminal's socket
    is closed: the request reached the server, which committed and answered, but the answer
    is lost. Arm it only with a warm keep-alive connection and one request in flight."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.drop = False
        self.dropped = 0
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._stopped = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            threading.Thread(target=self._pump, args=(client, upstream, False),
                             daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, True),
                             daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket, answers: bool) -> None:
        try:
            while data := source.recv(65536):
                if answers and self.drop:
                    self.drop = False
                    self.dropped += 1
                    break
                target.sendall(data)
        except OSError:
            pass
        for sock in (source, target):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        self._stopped = True
        self._listener.close()
