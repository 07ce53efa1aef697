"""One attempt to post a webhook delivery, and what its answer means: :func:`post` (the
standard library's :mod:`http.client`: the server does not import httpx, see
the import rules in ``pyproject.toml``), :func:`classify` and the :class:`RetryPolicy`
(rules in :mod:`pos_app.server.services.webhook_dispatcher`).

Targets (issue 16, attack 11): a webhook must not turn the server into a probe of its own
network (a cloud's metadata service at 169.254.169.254, an admin port on 127.0.0.1, a
printer on 10.x). Unless the server runs with ``--allow-private-webhooks``, :func:`post`
resolves the URL's host, refuses it when **any** address is not public
(:func:`is_private_address`), and then connects to one of exactly the addresses it checked
(never resolving again, so a DNS answer that changes in between, "DNS rebinding", cannot
slip a private address in). A refused attempt is logged only as :data:`REFUSED_PRIVATE`,
with no time taken, so the delivery log tells a manager nothing about what answers there.
"""

from __future__ import annotations

import functools
import http.client
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal
from urllib.parse import urlsplit

__all__ = ["REFUSED_PRIVATE", "Outcome", "Reply", "RetryPolicy", "Sender", "classify",
           "is_private_address", "post"]

_ERROR_LENGTH = 200  # the delivery log's column

REFUSED_PRIVATE = "refused: private address"
"""The delivery log's ``error`` for a target refused by the address policy: nothing more."""

Outcome = Literal["delivered", "retrying", "failed"]


@dataclass(frozen=True)
class Reply:
    """What one POST got: the HTTP ``status`` (None when no answer came, then ``error``
    says why), ``duration_ms`` from connecting to the status line, and ``retry_after`` (the
    receiver's ``Retry-After`` in seconds, when it gave a number)."""

    status: int | None
    error: str | None
    duration_ms: int
    retry_after: float | None = None
    refused: bool = False
    """True when the address policy refused the target (nothing was sent)."""


Sender = Callable[[str, bytes, Mapping[str, str], float], Reply]
"""``sender(url, body, headers, timeout_seconds)`` posts once and never raises."""

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def is_private_address(address: IPAddress) -> bool:
    """True when ``address`` is not a public unicast address a webhook may be posted to:
    private (10/8, 172.16/12, 192.168/16, fc00::/7 ...), loopback, link-local (169.254/16,
    cloud metadata; fe80::/10), multicast, unspecified (0.0.0.0, ::), reserved, or otherwise
    not globally routable (e.g. 100.64/10, carrier-grade NAT). An IPv4-mapped IPv6 address
    (``::ffff:127.0.0.1``) is judged as the IPv4 address it maps (Python 3.11's
    :mod:`ipaddress` does not do so itself)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return (address.is_private or address.is_loopback or address.is_link_local
            or address.is_multicast or address.is_unspecified or address.is_reserved
            or not address.is_global)


def _address_of(sockaddr: tuple[object, ...]) -> IPAddress:
    # getaddrinfo's IPv6 text may carry a zone ("fe80::1%eth0"); the zone is not the address.
    return ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])


_AddrInfo = tuple[socket.AddressFamily, socket.SocketKind, int, str, tuple[object, ...]]


class _PinnedConnection(http.client.HTTPConnection):
    """An HTTP connection to ``host`` that connects only to the addresses given (already
    checked), in order, instead of resolving ``host`` again; ``Host`` stays ``host``."""

    def __init__(self, host: str, port: int, *, addresses: Sequence[_AddrInfo],
                 timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._addresses = addresses

    def _open_socket(self) -> socket.socket:
        error: OSError = OSError(f"no address for {self.host}")
        for family, kind, proto, _name, sockaddr in self._addresses:
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(self.timeout)
                sock.connect(sockaddr)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                return sock
            except OSError as exc:
                sock.close()
                error = exc
        raise error

    def connect(self) -> None:
        self.sock = self._open_socket()


class _PinnedTLSConnection(_PinnedConnection):
    """:class:`_PinnedConnection` over TLS: the certificate is verified for ``host``."""

    default_port = http.client.HTTPS_PORT

    def connect(self) -> None:
        self.sock = _tls_context().wrap_socket(self._open_socket(), server_hostname=self.host)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # The system's trust store, hostname checked: receivers are public HTTPS services.
    return ssl.create_default_context()


def _retry_after(value: str | None) -> float | None:
    if value is None or not value.strip().isdigit():
        return None  # an HTTP-date is not honoured: the backoff applies
    return float(value.strip())


def post(url: str, body: bytes, headers: Mapping[str, str], timeout: float, *,
         allow_private: bool = False) -> Reply:
    """POST ``body`` to ``url`` (``http`` or ``https``, certificate and host name verified
    against the system's trust store) with ``headers``; read only the status line and
    headers. ``timeout`` (seconds) bounds connecting and each read. The host is resolved
    once; unless ``allow_private``, a host with any non-public address
    (:func:`is_private_address`) is not contacted: ``Reply(None, REFUSED_PRIVATE, 0,
    refused=True)``. The connection goes to an address checked here, never one resolved
    later. Never raises: a failure is a :class:`Reply` without ``status``."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.hostname or ""
    https = parts.scheme.lower() == "https"
    started = time.perf_counter()

    def elapsed() -> int:
        return round((time.perf_counter() - started) * 1000)

    try:
        port = parts.port or (http.client.HTTPS_PORT if https else http.client.HTTP_PORT)
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError, UnicodeError) as exc:
        return Reply(None, f"cannot resolve the host: {exc}"[:_ERROR_LENGTH], elapsed())
    if not allow_private and any(is_private_address(_address_of(a[4])) for a in addresses):
        return Reply(None, REFUSED_PRIVATE, 0, refused=True)
    connection = (_PinnedTLSConnection if https else _PinnedConnection)(
        host, port, addresses=addresses, timeout=timeout)
    try:
        connection.request("POST", target, body=body, headers=dict(headers))
        response = connection.getresponse()
        return Reply(response.status, None, elapsed(),
                     _retry_after(response.getheader("Retry-After")))
    except TimeoutError:
        return Reply(None, f"no answer within {timeout:g} s", elapsed())
    except ssl.SSLError as exc:
        return Reply(None, f"TLS: {exc}"[:_ERROR_LENGTH], elapsed())
    except (OSError, http.client.HTTPException) as exc:
        text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return Reply(None, text[:_ERROR_LENGTH], elapsed())
    finally:
        connection.close()


def classify(reply: Reply) -> Outcome:
    """``delivered`` for a 2xx; ``failed`` for a target the address policy refused (sending
    again would be refused again); ``retrying`` for no answer, 408, 429 or 5xx; otherwise
    ``failed`` (1xx, 3xx, other 4xx)."""
    status = reply.status
    if reply.refused:
        return "failed"
    if status is None:
        return "retrying"
    if 200 <= status < 300:
        return "delivered"
    if status in (408, 429) or status >= 500:
        return "retrying"
    return "failed"


@dataclass(frozen=True)
class RetryPolicy:
    """When to try a failed alert again (see the module docstring): ``base`` doubled per
    failed attempt, ``jitter`` (a fraction) added at random, never past ``cap``; give up
    once the alert is ``window`` old."""

    base: timedelta = timedelta(seconds=1)
    cap: timedelta = timedelta(minutes=5)
    window: timedelta = timedelta(hours=24)
    jitter: float = 0.25

    def delay(self, attempt: int, *, rng: Callable[[], float],
              retry_after: float | None = None) -> timedelta:
        """The wait after failed attempt ``attempt`` (1-based): ``base * 2**(attempt-1)``
        times ``1 + jitter * rng()`` (``rng`` returns [0, 1)), at least ``retry_after``
        seconds when given, at most ``cap``."""
        seconds = self.base.total_seconds() * 2 ** min(attempt - 1, 40)
        seconds *= 1 + self.jitter * rng()
        if retry_after is not None:
            seconds = max(seconds, retry_after)
        return timedelta(seconds=min(seconds, self.cap.total_seconds()))
