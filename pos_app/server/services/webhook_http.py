"""One attempt to post a webhook delivery, and what its answer means: :func:`post` (the
standard library's :mod:`http.client`: the server does not import httpx, see
``tests/unit/test_architecture.py``), :func:`classify` and the :class:`RetryPolicy`
(rules in :mod:`pos_app.server.services.webhook_dispatcher`).
"""

from __future__ import annotations

import functools
import http.client
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal
from urllib.parse import urlsplit

__all__ = ["Outcome", "Reply", "RetryPolicy", "Sender", "classify", "post"]

_ERROR_LENGTH = 200  # the delivery log's column

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


Sender = Callable[[str, bytes, Mapping[str, str], float], Reply]
"""``sender(url, body, headers, timeout_seconds)`` posts once and never raises."""


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # The system's trust store, hostname checked: receivers are public HTTPS services.
    return ssl.create_default_context()


def _retry_after(value: str | None) -> float | None:
    if value is None or not value.strip().isdigit():
        return None  # an HTTP-date is not honoured: the backoff applies
    return float(value.strip())


def post(url: str, body: bytes, headers: Mapping[str, str], timeout: float) -> Reply:
    """POST ``body`` to ``url`` (``http`` or ``https``, certificate and host name verified
    against the system's trust store) with ``headers``; read only the status line and
    headers. ``timeout`` (seconds) bounds connecting and each read. Never raises: a failure
    is a :class:`Reply` without ``status``."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host = parts.hostname or ""
    connection: http.client.HTTPConnection
    if parts.scheme.lower() == "https":
        connection = http.client.HTTPSConnection(host, parts.port, timeout=timeout,
                                                 context=_tls_context())
    else:
        connection = http.client.HTTPConnection(host, parts.port, timeout=timeout)
    started = time.perf_counter()

    def elapsed() -> int:
        return round((time.perf_counter() - started) * 1000)

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
    """``delivered`` for a 2xx; ``retrying`` for no answer, 408, 429 or 5xx; otherwise
    ``failed`` (1xx, 3xx, other 4xx)."""
    status = reply.status
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
