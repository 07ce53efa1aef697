"""Named crash points of the sale path, for crash-consistency tests (``POS_APP_CRASH_AT``).

With ``POS_APP_CRASH_AT=<name>`` in the environment the process kills itself with ``SIGKILL``
(no cleanup, no ``finally``, no flush: as a power cut would) when the sale path reaches the
point ``<name>``:

``after_pending_commit``
    the journal entry is committed ``pending``; no request has been sent.
``after_request_written``
    the sale request (headers and body) has been handed to the socket, before a single byte
    of the response is read (``httpcore``'s ``send_request_body.complete`` trace event). The
    server may or may not execute it: either is a correct outcome to reconcile.
``after_response``
    the server's answer (sale or error body) has been read and parsed; the journal entry is
    still ``pending``.
``after_journal_update``
    the entry is settled (``confirmed`` / ``refused`` / ...) and committed; the cashier has
    not been shown the outcome.

Unset (production), :func:`crash_point` is one environment lookup and nothing is hooked into
the HTTP client.
"""

from __future__ import annotations

import os
import signal
from typing import Any

__all__ = ["CRASH_POINTS", "CRASH_VARIABLE", "crash_point", "request_written_hook"]

CRASH_VARIABLE = "POS_APP_CRASH_AT"
CRASH_POINTS = ("after_pending_commit", "after_request_written", "after_response",
                "after_journal_update")
_WRITTEN_EVENTS = ("http11.send_request_body.complete", "http2.send_request_body.complete")


def crash_point(name: str) -> None:
    """Kill this process with ``SIGKILL`` now if ``POS_APP_CRASH_AT`` names ``name``."""
    if os.environ.get(CRASH_VARIABLE) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _trace(event_name: str, _info: Any) -> None:
    if event_name in _WRITTEN_EVENTS:
        crash_point("after_request_written")


def request_written_hook(request: Any) -> None:
    """An ``httpx`` request event hook: on ``POST .../v1/sales`` it asks the transport to
    report progress, and :func:`crash_point` ``after_request_written`` once the request is
    written. Installed only when ``POS_APP_CRASH_AT=after_request_written``."""
    if request.method == "POST" and request.url.path == "/v1/sales":
        request.extensions["trace"] = _trace


def crash_armed(name: str) -> bool:
    """Whether ``POS_APP_CRASH_AT`` names ``name`` (checked once, when wiring hooks)."""
    return os.environ.get(CRASH_VARIABLE) == name
