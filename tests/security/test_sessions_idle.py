"""Issue 16, attack 9: an unattended till stays signed in.

A staff session lasted 12 hours whether used or not: whoever walked up to a till left
signed in (or held a copied session token) could sell, refund with a manager's approval or
read the shift hours later. Now a session unused for ``session_idle_timeout`` (30 minutes)
is refused 401 like an expired one; every authenticated request slides the deadline, with at
most one database write per session per minute. Time is the venue's controlled clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event

from pos_app.server.services import identity
from tests.security.conftest import CASHIER_PIN, Venue


def _events(venue: Venue, auth: dict[str, str]) -> Any:
    return venue.tills["till1"].get("/v1/events", headers=auth)


@pytest.fixture
def session_writes(venue: Venue) -> Iterator[list[str]]:
    """Every UPDATE of the sessions table the server sends, as sent (a listener on the real
    engine)."""
    sent: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE SESSIONS"):
            sent.append(statement)

    engine = venue.db.write_connection_engine()
    event.listen(engine, "before_cursor_execute", note)
    yield sent
    event.remove(engine, "before_cursor_execute", note)


def test_a_session_left_unused_for_30_minutes_is_refused_like_an_expired_one(
        venue: Venue, dialect: str) -> None:
    cashier = venue.sign_in("till1", "alex", CASHIER_PIN)
    assert _events(venue, cashier).status_code == 200

    venue.clock.advance(timedelta(minutes=30, seconds=1))  # nobody touched the till
    refused = _events(venue, cashier)

    assert (refused.status_code, refused.json()["error"]) == (401, "unauthorized")
    assert refused.json()["message"] == identity.SESSION_EXPIRED
    # ... and using it again does not bring it back.
    venue.clock.advance(timedelta(seconds=1))
    assert _events(venue, cashier).status_code == 401


def test_a_till_in_use_stays_signed_in_until_the_session_s_12_hours(
        venue: Venue, dialect: str) -> None:
    cashier = venue.sign_in("till1", "alex", CASHIER_PIN)
    for _ in range(12 * 4 - 1):  # a request every 15 minutes for almost 12 hours
        venue.clock.advance(timedelta(minutes=15))
        assert _events(venue, cashier).status_code == 200
    venue.clock.advance(timedelta(minutes=15))  # 12 h after sign-in: over, used or not
    assert _events(venue, cashier).status_code == 401


def test_a_busy_till_writes_its_session_at_most_once_a_minute(
        venue: Venue, session_writes: list[str]) -> None:
    cashier = venue.sign_in("till1", "alex", CASHIER_PIN)
    for _ in range(59):  # a request a second for a minute: the deadline moves < 1 min
        venue.clock.advance(timedelta(seconds=1))
        assert _events(venue, cashier).status_code == 200
    assert session_writes == []
    for _ in range(60):  # the next minute: one write, however many requests
        venue.clock.advance(timedelta(seconds=1))
        assert _events(venue, cashier).status_code == 200
    assert len(session_writes) == 1
    # The slid deadline holds: 29 minutes after the last request the till still works.
    venue.clock.advance(timedelta(minutes=29))
    assert _events(venue, cashier).status_code == 200
