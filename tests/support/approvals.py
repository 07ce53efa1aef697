"""The approval steps of the refund and shift-close routes, run in order without HTTP, for
service-level tests: authorise (the target first), reserve the PIN attempt, compare the PIN
once due (the clock is the caller's ``now``; the test does not wait), then the effect.

The venue-wide delay is off by default (:data:`NO_DELAY`); pass ``settings`` to test it.
"""

from __future__ import annotations

from datetime import datetime

from pos_app.api import schemas
from pos_app.server.db import Database
from pos_app.server.services import identity, pin_attempts, refunds, shifts
from pos_app.server.services.principal import Principal
from pos_app.server.settings import ServerSettings

__all__ = ["NO_DELAY", "approve", "close_shift", "refund"]

NO_DELAY = ServerSettings(database_url="sqlite://", pin_free_failures=1_000_000,
                          login_max_failures=1_000_000,
                          login_address_max_failures=1_000_000)
"""Settings whose PIN limits never refuse nor delay (the tests of the limits set their own)."""


def approve(db: Database, principal: Principal, manager: schemas.ManagerApproval, *,
            purpose: str, now: datetime, settings: ServerSettings = NO_DELAY,
            client: str | None = "10.0.0.9") -> int:
    """Reserve the attempt and check ``manager``'s PIN at the time it is due (or ``now``)."""
    attempt = pin_attempts.reserve(db, settings, username=manager.username,
                                   terminal_id=principal.terminal_id, client=client,
                                   kind="approval", now=now)
    return identity.approving_manager(db, manager, attempt=attempt, principal=principal,
                                      purpose=purpose, settings=settings,
                                      now=max(now, attempt.due))


def refund(db: Database, principal: Principal, sale_ref: str, body: schemas.RefundCreate, *,
           key: str, path: str, now: datetime,
           settings: ServerSettings = NO_DELAY) -> refunds.RefundOutcome:
    """``POST /v1/sales/{sale_ref}/refunds`` without HTTP (see the module notes)."""
    approved_by = refunds.authorize(db, principal, sale_ref, body.manager)
    if approved_by is None:
        assert body.manager is not None
        approved_by = approve(db, principal, body.manager, purpose="refund", now=now,
                              settings=settings)
    return refunds.create_refund(db, principal, sale_ref, body, approved_by=approved_by,
                                 key=key, path=path, now=now)


def close_shift(db: Database, principal: Principal, shift_id: int, body: schemas.ShiftClose,
                *, key: str, path: str, now: datetime, variance_threshold: int = 500,
                settings: ServerSettings = NO_DELAY) -> shifts.ShiftOutcome:
    """``POST /v1/shifts/{shift_id}/close`` without HTTP (see the module notes)."""
    approving = shifts.authorize_close(db, principal, shift_id, body.manager)
    if body.manager is not None:
        approving = approve(db, principal, body.manager, purpose="cash-up variance", now=now,
                            settings=settings)
    return shifts.close_shift(db, principal, shift_id, body, approving=approving, key=key,
                              path=path, now=now, variance_threshold=variance_threshold)
