"""Recently authenticated bearer tokens, so a busy terminal is not looked up on every request.

Every request to ``/v1/sales`` and friends carries a bearer token; looking it up costs a read
transaction and three joined ORM rows (~1 ms of Python on this 2-core machine, profiled with
py-spy under ``wrk``), more than the rest of the request. :class:`PrincipalCache` keeps what a
lookup found for at most ``ttl`` (default 1 s, ``ServerSettings.auth_cache_ttl``):

* a staff session is never served past its own ``expires_at`` (its idle deadline, checked
  against the server clock on every hit), so session expiry stays exact; when a request
  slides the deadline (:mod:`pos_app.server.deps`, at most once a minute per session) the
  entry is put again with the new one;
* a sign-out or a channel token revoked in this process empties every cache of the process
  at once (:func:`credentials_revoked`, called by those services), so the token stops working
  immediately;
* a revocation made elsewhere (another ``--workers`` process, the admin command line, a
  staff member deactivated in the database) is seen within ``ttl``;
* only successes are kept: an unknown, expired or revoked token is looked up (and, on
  refusal, audited as ``denied``) every time.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

from pos_app.server.security import hash_token
from pos_app.server.services.principal import Principal

__all__ = ["PrincipalCache", "credentials_revoked"]

_MAX_ENTRIES = 10_000  # terminals x sessions; cleared whole when full (cheap and bounded)

_generation = 0  # bumped by credentials_revoked(); a cache filled under an older one is void


def credentials_revoked() -> None:
    """A session was signed out or a credential revoked in this process: every
    :class:`PrincipalCache` forgets what it holds before its next answer."""
    global _generation
    _generation += 1


class PrincipalCache:
    """Bearer token -> :class:`Principal`, each kept at most ``ttl`` (monotonic time) and
    never past the credential's own expiry (server clock). ``ttl`` of zero disables it.
    Thread-safe."""

    def __init__(self, ttl: timedelta) -> None:
        self.ttl = max(0.0, ttl.total_seconds())
        self._entries: dict[str, tuple[Principal, datetime | None, float]] = {}
        self._lock = threading.Lock()
        self._generation = _generation

    def get(self, token: str, *, now: datetime) -> Principal | None:
        """The principal cached for ``token``, or None (absent, older than ``ttl``, or its
        credential expired by ``now``, the server clock)."""
        found = self.get_until(token, now=now)
        return found[0] if found is not None else None

    def get_until(self, token: str, *,
                  now: datetime) -> tuple[Principal, datetime | None] | None:
        """:meth:`get` with the credential's expiry as cached (a staff session's idle
        deadline; None for a channel token)."""
        if self.ttl <= 0:
            return None
        if self._generation != _generation:
            self.clear()
            return None
        key = hash_token(token)
        entry = self._entries.get(key)
        if entry is None:
            return None
        principal, expires_at, stored = entry
        if time.monotonic() - stored > self.ttl or (expires_at is not None
                                                     and expires_at <= now):
            with self._lock:
                self._entries.pop(key, None)
            return None
        return principal, expires_at

    def put(self, token: str, principal: Principal, expires_at: datetime | None) -> None:
        """Remember that ``token`` authenticated as ``principal`` until ``expires_at``
        (None: no expiry of its own)."""
        if self.ttl <= 0 or self._generation != _generation:
            return  # a revocation happened while this token was looked up: don't keep it
        with self._lock:
            if len(self._entries) >= _MAX_ENTRIES:
                self._entries.clear()
            self._entries[hash_token(token)] = (principal, expires_at, time.monotonic())

    def clear(self) -> None:
        """Forget everything."""
        with self._lock:
            self._entries.clear()
            self._generation = _generation
