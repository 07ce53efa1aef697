"""PIN throttling shared by sign-ins and managers' approvals (issue 16, attacks 1, 2 and 7).

A PIN is checked in three steps, so that the wait happens outside any transaction and off the
event loop's back (the route awaits ``settings.sleep``):

1. :func:`reserve`, one write transaction: refuse with 429 ``too_many_attempts`` when the
   caller is over a limit, else record the attempt *as a failure* due at the time the
   venue-wide delay allows (``login_attempts.at``). Nothing about the PIN is looked at yet,
   so a refusal is the same whether the PIN was right or wrong.
2. The route waits until the attempt is due (:meth:`Attempt.wait_seconds`).
3. The caller compares the PIN (Argon2, outside the writer lock) and, in its own write
   transaction, calls :func:`settle`, which turns the row into a success when the PIN
   matched, and writes a ``security_alert`` audit entry when a burst of failures for the
   username is reached.

Limits (``ServerSettings``; failures include attempts still in flight):

- per (terminal, username): ``login_max_failures`` in ``login_window`` -> 429 there only,
  and one attempt waiting at a time (a second one is 429 until the first is due);
- per client address, whatever the username: ``login_address_max_failures`` in
  ``login_window`` -> 429 for that address only;
- per username across the venue: never refused; with ``f`` failures within
  ``pin_delay_window`` the next attempt is due ``pin_delay_base * 2 ** (f -
  pin_free_failures)`` (at most ``pin_delay_cap``) after the previous one (none while
  ``f < pin_free_failures``). Every attempt, the right PIN too, waits its turn, so guesses are
  bounded venue-wide (defaults: 13 in an attack's first hour, 10 an hour after it) while the
  right PIN at another till still works after the delay.

Reservations of one username are serialised by the database's writer: SQLite's one writer,
and on PostgreSQL the audit chain's advisory lock every write transaction takes first
(:func:`pos_app.server.audit.lock_chain`).

Old rows are removed by :func:`purge` (run by :func:`start_purger`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import anyio.to_thread
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from pos_app.api.errors import ErrorCode
from pos_app.server import audit
from pos_app.server.db import Database
from pos_app.server.errors import ApiError
from pos_app.server.models import LoginAttempt
from pos_app.server.settings import ServerSettings

__all__ = ["PURGE_INTERVAL", "SECURITY_ALERT", "Attempt", "delay_after", "purge", "reserve",
           "settle", "start_purger", "stop_purger"]

log = logging.getLogger("pos_app.server.pin_attempts")

SECURITY_ALERT = "security_alert"
"""Audit action of a burst of failed PINs for one username."""

PURGE_INTERVAL = timedelta(minutes=10)
"""How often :func:`start_purger`'s task removes attempts no limit looks at any more."""


@dataclass(frozen=True)
class Attempt:
    """A reserved PIN check: row ``id`` of ``username`` (as stored, at most 64 characters),
    due at ``due`` (UTC), from ``terminal_id`` and ``client`` (address), of ``kind``
    (``sign_in`` or ``approval``)."""

    id: int
    username: str
    due: datetime
    terminal_id: int | None
    client: str | None
    kind: str

    def wait_seconds(self, now: datetime) -> float:
        """Seconds from ``now`` until the attempt may be evaluated (0 when due)."""
        return max(0.0, (self.due - now).total_seconds())


def delay_after(failures: int, settings: ServerSettings) -> timedelta:
    """The venue-wide gap between the previous attempt for a username and the next, given
    ``failures`` failed attempts for it within ``settings.pin_delay_window``."""
    if failures < settings.pin_free_failures:
        return timedelta(0)
    steps = min(failures - settings.pin_free_failures, 32)  # 2**32 minutes is past any cap
    grown: timedelta = settings.pin_delay_base * (2 ** steps)
    return min(settings.pin_delay_cap, grown)


def _too_many(message: str, free_at: datetime, now: datetime) -> ApiError:
    retry = max(1, math.ceil((free_at - now).total_seconds()))
    return ApiError(ErrorCode.TOO_MANY_ATTEMPTS, f"{message} Try again in {retry} seconds.",
                    headers={"Retry-After": str(retry)}, retry_after=retry)


def _failures(session: Session, *conditions: ColumnElement[bool],
              since: datetime) -> list[datetime]:
    return list(session.scalars(
        select(LoginAttempt.at)
        .where(LoginAttempt.success.is_(False), LoginAttempt.at > since, *conditions)
        .order_by(LoginAttempt.at)).all())


def reserve(db: Database, settings: ServerSettings, *, username: str, terminal_id: int | None,
            client: str | None, kind: str, now: datetime) -> Attempt:
    """Record a PIN attempt for ``username`` (step 1 of the module notes); returns it with
    the time it is due.

    Raises:
        ApiError: 429 ``too_many_attempts`` with ``Retry-After`` (seconds until the oldest
            counted failure leaves ``login_window``, or until this terminal's waiting attempt
            is due): over the limit of this (terminal, username) or of this client address.
    """
    name = username[:64]
    window_start = now - settings.login_window

    def unit(session: Session) -> Attempt:
        if terminal_id is not None:
            here = _failures(session, LoginAttempt.terminal_id == terminal_id,
                             LoginAttempt.username == name, since=window_start)
            if len(here) >= settings.login_max_failures:
                raise _too_many("Too many failed PINs for this username at this terminal.",
                                here[len(here) - settings.login_max_failures]
                                + settings.login_window, now)
            if here and here[-1] > now:
                raise _too_many("A PIN for this username is already waiting at this "
                                "terminal.", here[-1], now)
        if client is not None:
            there = _failures(session, LoginAttempt.client == client, since=window_start)
            if len(there) >= settings.login_address_max_failures:
                raise _too_many("Too many failed PINs from this address.",
                                there[len(there) - settings.login_address_max_failures]
                                + settings.login_window, now)
        recent = now - settings.pin_delay_window
        failures = session.scalar(
            select(func.count()).select_from(LoginAttempt)
            .where(LoginAttempt.username == name, LoginAttempt.success.is_(False),
                   LoginAttempt.at > recent)) or 0
        last = session.scalar(select(func.max(LoginAttempt.at))
                              .where(LoginAttempt.username == name, LoginAttempt.at > recent))
        due = now if last is None else max(now, last + delay_after(failures, settings))
        row = LoginAttempt(username=name, at=due, success=False, terminal_id=terminal_id,
                           client=client, kind=kind)
        session.add(row)
        session.flush()
        return Attempt(id=row.id, username=name, due=due, terminal_id=terminal_id,
                       client=client, kind=kind)

    return db.run_write(unit)


def settle(session: Session, attempt: Attempt, *, ok: bool, settings: ServerSettings,
           staff_id: int | None = None) -> None:
    """Record the outcome of ``attempt`` in the caller's write transaction: a success turns
    its row into one; a failure stays, and when it brings the username's failures within
    ``pin_alert_window`` to ``pin_alert_failures`` exactly, a ``security_alert`` audit entry
    names the username, the count and the actor (``staff_id``, the attempt's terminal)."""
    row = session.get(LoginAttempt, attempt.id)
    if ok:
        if row is not None:
            row.success = True
            session.flush()
        return
    count = session.scalar(
        select(func.count()).select_from(LoginAttempt)
        .where(LoginAttempt.username == attempt.username, LoginAttempt.success.is_(False),
               LoginAttempt.at > attempt.due - settings.pin_alert_window,
               LoginAttempt.at <= attempt.due)) or 0
    if count == settings.pin_alert_failures:
        minutes = round(settings.pin_alert_window.total_seconds() / 60)
        log.warning("security alert: %d failed PINs for %r within %d minutes", count,
                    attempt.username, minutes)
        audit.append(session, [audit.AuditRecord(
            action=SECURITY_ALERT, staff_id=staff_id, terminal_id=attempt.terminal_id,
            channel="box_office" if attempt.terminal_id is not None else None,
            reason=f"{count} failed PINs for {attempt.username!r} within {minutes} minutes "
                   f"(latest: {attempt.kind.replace('_', '-')} from "
                   f"{attempt.client or 'an unknown address'})")], at=attempt.due)


def purge(db: Database, settings: ServerSettings, *, now: datetime) -> int:
    """Delete attempts older than every limit's window; returns how many were deleted."""
    keep = max(settings.login_window, settings.pin_delay_window, settings.pin_alert_window)
    with db.write() as session:
        result = session.execute(
            delete(LoginAttempt).where(LoginAttempt.at < now - keep)
            .execution_options(synchronize_session=False))
        return int(getattr(result, "rowcount", 0) or 0)


async def _run_purger(db: Database, settings: ServerSettings) -> None:
    while True:
        try:
            purged = await anyio.to_thread.run_sync(
                lambda: purge(db, settings, now=settings.clock.now()))
            if purged:
                log.info("purged %d old PIN attempts", purged)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("PIN attempt purge failed; retrying at the next interval")
        await asyncio.sleep(PURGE_INTERVAL.total_seconds())


def start_purger(db: Database, settings: ServerSettings) -> asyncio.Task[None]:
    """Start the purge of old attempts (every :data:`PURGE_INTERVAL`) on the running event
    loop; stop it with :func:`stop_purger`."""
    return asyncio.get_running_loop().create_task(_run_purger(db, settings),
                                                  name="pin-attempt-purger")


async def stop_purger(task: asyncio.Task[None]) -> None:
    """Cancel the purger and wait for it to end."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
