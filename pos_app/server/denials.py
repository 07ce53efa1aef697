"""The audit of refused credentials: every request answered 401 ``unauthorized`` or 403
``forbidden`` leaves one ``denied`` audit entry.

One place records them: the app's :class:`~pos_app.server.errors.ApiError` handler calls
:func:`record_denial` after the refusal is decided and the request's own work is over
(dependencies refused it before the route ran, or the route's transaction rolled back and
its idempotency claim was released), in its own short write transaction. The entry names
the actor when known (the authenticated principal that ``pos_app.server.deps`` left on
``request.state``, or the staff and terminal of an expired session carried by the error's
:class:`~pos_app.server.errors.Denial`), and its ``reason`` is ``"<METHOD> <path>: <why>"``
(``why`` e.g. ``needs the manager role``, ``session expired``, ``no credentials``; never a
token or PIN).

Not recorded here: a refused sign-in (``POST /v1/sessions`` at a known terminal), already
audited as ``login_failed`` by :func:`pos_app.server.services.identity.sign_in`.

Flooding: 401s need no valid credentials, so anyone who can reach the port could grow the
audit chain (and take its writer lock) at will. They are throttled per process
(:class:`DenialThrottle`): at most ``burst`` entries per ``window`` for one client address,
route and reason, and at most ``global_limit`` 401 entries per ``window`` in all; what is
left out is counted and the count is added to the next entry written for that key
(``"... (+N similar not logged)"``). 403s come from valid credentials and are all recorded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from fastapi import Request

from pos_app.api.errors import ErrorCode
from pos_app.server import audit
from pos_app.server.db import Database
from pos_app.server.errors import ApiError
from pos_app.server.services.principal import Principal
from pos_app.server.settings import ServerSettings

__all__ = ["DENIED", "DenialThrottle", "is_denial", "record_denial"]

log = logging.getLogger("pos_app.server.denials")

DENIED = "denied"
"""The audit action of a refused request."""

_MAX_REASON = 300


def is_denial(exc: ApiError) -> bool:
    """True for a 401 ``unauthorized`` or 403 ``forbidden`` refusal."""
    return exc.code in (ErrorCode.UNAUTHORIZED, ErrorCode.FORBIDDEN)


@dataclass
class _Window:
    started: float
    written: int = 0
    suppressed: int = 0


class DenialThrottle:
    """Per-process limit on the audit entries of 401 denials (see the module notes).

    ``admit(key)`` answers ``None`` when the entry must be left out (and counts it), else
    the number of entries for ``key`` left out before it (to be named in this one).
    """

    def __init__(self, *, burst: int = 10, global_limit: int = 300, window: float = 60.0,
                 clock: Callable[[], float] = time.monotonic, max_keys: int = 10_000) -> None:
        self.burst = burst
        self.global_limit = global_limit
        self.window = window
        self._clock = clock
        self._max_keys = max_keys
        self._lock = threading.Lock()
        self._keys: dict[tuple[str, ...], _Window] = {}
        self._global = _Window(started=clock())

    def admit(self, key: tuple[str, ...]) -> int | None:
        now = self._clock()
        with self._lock:
            if now - self._global.started >= self.window:
                self._global = _Window(started=now)
                self._keys = {k: w for k, w in self._keys.items() if w.suppressed}
            slot = self._keys.get(key)
            if slot is None or now - slot.started >= self.window:
                carried = slot.suppressed if slot is not None else 0
                if len(self._keys) >= self._max_keys:
                    self._keys.clear()  # bounded memory; the counts are only a courtesy
                slot = self._keys[key] = _Window(started=now, suppressed=carried)
            if slot.written >= self.burst or self._global.written >= self.global_limit:
                if slot.suppressed == 0:
                    log.warning("throttling the audit of refused credentials (%s)",
                                " ".join(key[1:]))
                slot.suppressed += 1
                self._global.suppressed += 1
                return None
            slot.written += 1
            self._global.written += 1
            left_out, slot.suppressed = slot.suppressed, 0
            return left_out


def _actor(request: Request, exc: ApiError) -> tuple[int | None, int | None, str | None]:
    denial = exc.denial
    if denial is not None and (denial.staff_id, denial.terminal_id, denial.channel) != (
            None, None, None):
        return denial.staff_id, denial.terminal_id, denial.channel
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is not None:
        return principal.staff_id, principal.terminal_id, principal.channel
    terminal_id: int | None = getattr(request.state, "terminal_id", None)
    return None, terminal_id, "box_office" if terminal_id is not None else None


def _route_template(request: Request) -> str:
    """The matched route's path template (``/holds/{ref}/release``), so that varying path
    parameters share one throttle key; the raw path when there is none."""
    route = request.scope.get("route")
    path = getattr(route, "path_format", None)
    return path if isinstance(path, str) else request.url.path


def record_denial(request: Request, exc: ApiError, database: Database,
                  settings: ServerSettings, throttle: DenialThrottle) -> None:
    """Append the ``denied`` entry of ``exc`` (a 401/403) for ``request`` in its own write
    transaction; skips a refused sign-in (already ``login_failed``) and 401s over the
    throttle. Never raises: a failed audit write is logged, the refusal stands."""
    method = request.method
    if method == "POST" and request.url.path.rstrip("/") == "/v1/sessions" \
            and getattr(request.state, "terminal_id", None) is not None:
        return  # identity.sign_in audited it as login_failed
    why = exc.denial.reason if exc.denial is not None else exc.message
    staff_id, terminal_id, channel = _actor(request, exc)
    left_out = 0
    if exc.code == ErrorCode.UNAUTHORIZED:
        client = request.client.host if request.client is not None else "-"
        admitted = throttle.admit((client, method, _route_template(request), why))
        if admitted is None:
            return
        left_out = admitted
    reason = f"{method} {request.url.path}: {why}"
    if left_out:
        reason += f" (+{left_out} similar not logged)"
    try:
        with database.write() as session:
            audit.append(session, [audit.AuditRecord(
                action=DENIED, staff_id=staff_id, terminal_id=terminal_id, channel=channel,
                reason=reason[:_MAX_REASON])], at=settings.clock.now())
    except Exception:
        log.exception("could not audit a refused request (%s %s)", method, request.url.path)
