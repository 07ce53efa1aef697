"""The bearer-token cache (pos_app.server.services.principal_cache): short-lived, never past a
session's expiry, voided at once by a sign-out or revocation in the process."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pos_app.server.services import principal_cache
from pos_app.server.services.principal import Principal
from pos_app.server.services.principal_cache import PrincipalCache, credentials_revoked

NOW = datetime(2026, 3, 1, 18, 0, tzinfo=UTC)
SAM = Principal(session_id=1, staff_id=1, username="sam", display_name="Sam",
                role="cashier", terminal_id=1, terminal_name="till")


def test_a_cached_token_is_served_until_the_ttl_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]
    monkeypatch.setattr(principal_cache.time, "monotonic", lambda: clock[0])
    cache = PrincipalCache(timedelta(seconds=1))
    cache.put("tok", SAM, NOW + timedelta(hours=12))
    assert cache.get("tok", now=NOW) == SAM
    assert cache.get("other", now=NOW) is None
    clock[0] += 1.01
    assert cache.get("tok", now=NOW) is None


def test_a_session_is_never_served_past_its_own_expiry() -> None:
    cache = PrincipalCache(timedelta(seconds=60))
    cache.put("tok", SAM, NOW + timedelta(seconds=5))
    assert cache.get("tok", now=NOW + timedelta(seconds=4)) == SAM
    assert cache.get("tok", now=NOW + timedelta(seconds=5)) is None


def test_a_revocation_voids_every_cache_of_the_process_at_once() -> None:
    first, second = PrincipalCache(timedelta(seconds=60)), PrincipalCache(timedelta(seconds=60))
    first.put("tok", SAM, None)
    second.put("tok", SAM, None)
    credentials_revoked()
    assert first.get("tok", now=NOW) is None
    assert second.get("tok", now=NOW) is None
    first.put("tok", SAM, None)  # looked up again after the revocation: kept
    assert first.get("tok", now=NOW) == SAM


def test_a_lookup_that_raced_a_revocation_is_not_kept() -> None:
    cache = PrincipalCache(timedelta(seconds=60))
    assert cache.get("tok", now=NOW) is None  # a lookup starts...
    credentials_revoked()  # ...the session is signed out meanwhile...
    cache.put("tok", SAM, None)  # ...and what the lookup read is not trusted
    assert cache.get("tok", now=NOW) is None


def test_a_zero_ttl_disables_the_cache() -> None:
    cache = PrincipalCache(timedelta(0))
    cache.put("tok", SAM, None)
    assert cache.get("tok", now=NOW) is None
