"""Terminals, staff and sessions: pairing codes, sign-in, bearer-token authentication.

Every function works inside a session given by the caller (a unit of work), except
:func:`sign_in`, which runs its own short transactions. Refusals raise :class:`ApiError` with
``unauthorized`` (401; an expired or signed-out session says :data:`SESSION_EXPIRED`),
``approval_refused`` (403, a manager's approval) or ``invalid_request`` (422); PIN
throttling (429) is :mod:`pos_app.server.services.pin_attempts`, before the PIN is looked at.

Bearer tokens (:func:`authenticate_bearer`) are looked up as a staff session first, then as
a sales channel's token (:mod:`pos_app.server.services.channels`).

A staff session's ``expires_at`` is its idle deadline: set at sign-in to
``now + session_idle_timeout`` and moved on by use (:func:`slide_session`), never past
``created_at + session_ttl``. A session past it is refused like an expired one.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from pos_app.api import schemas
from pos_app.api.errors import ErrorCode
from pos_app.server import audit, security
from pos_app.server.db import Database
from pos_app.server.errors import ApiError, Denial
from pos_app.server.models import ChannelToken, Staff, StaffSession, Terminal
from pos_app.server.services import pin_attempts
from pos_app.server.services.principal import ROLE_RANK, Principal
from pos_app.server.services.principal_cache import credentials_revoked
from pos_app.server.settings import ServerSettings
from pos_app.server.tx_state import state

__all__ = [
    "APPROVAL_FAILED",
    "APPROVAL_REFUSED",
    "SESSION_EXPIRED",
    "add_staff",
    "approving_manager",
    "authenticate_bearer",
    "authenticate_bearer_until",
    "authenticate_session",
    "authenticate_terminal",
    "channel_principal",
    "create_terminal",
    "idle_deadline",
    "pair_terminal",
    "sign_in",
    "sign_out",
    "slide_session",
]


SESSION_EXPIRED = "The session expired; sign in again."
"""The 401 message for an expired or signed-out session token (the terminal tells it apart
from a bad token and asks for the PIN again)."""


def _unauthorized(message: str, reason: str, *, staff_id: int | None = None,
                  terminal_id: int | None = None, channel: str | None = None) -> ApiError:
    """401 ``unauthorized`` with ``message``; ``reason`` (short, never a secret) and the actor
    the credentials named, if any, go to the ``denied`` audit entry."""
    return ApiError(ErrorCode.UNAUTHORIZED, message, headers={"WWW-Authenticate": "Bearer"},
                    denial=Denial(reason, staff_id=staff_id, terminal_id=terminal_id,
                                  channel=channel))


def create_terminal(session: Session, name: str, *, now: datetime,
                    ttl: timedelta) -> schemas.TerminalCreated:
    """Create an unpaired terminal called ``name``; returns it with a fresh single-use pairing
    code valid until ``now + ttl``. Only the code's hash is stored."""
    name = name.strip()
    if not name:
        raise ApiError(ErrorCode.INVALID_REQUEST, "A terminal needs a name.")
    code = security.new_pairing_code()
    terminal = Terminal(name=name, pairing_code_hash=security.hash_token(code),
                        pairing_expires_at=now + ttl, created_at=now)
    session.add(terminal)
    session.flush()
    return schemas.TerminalCreated(terminal_id=terminal.id, pairing_code=code,
                                   expires_at=now + ttl)


def pair_terminal(session: Session, code: str, *, now: datetime) -> schemas.PairResponse:
    """Exchange a pairing code for the terminal's token (shown once; only its hash is kept).

    Raises:
        ApiError: 401 ``unauthorized`` when the code is unknown, already used or expired.
    """
    code_hash = security.hash_token(security.normalize_pairing_code(code))
    terminal = session.scalars(
        select(Terminal).where(Terminal.pairing_code_hash == code_hash)).first()
    if terminal is None:
        raise _unauthorized("That pairing code is not valid or was already used.",
                            "pairing code not valid")
    if terminal.pairing_expires_at is None or terminal.pairing_expires_at <= now:
        raise _unauthorized("That pairing code has expired; ask a manager for a new one.",
                            "pairing code expired", terminal_id=terminal.id)
    token = security.new_token()
    terminal.token_hash = security.hash_token(token)
    terminal.pairing_code_hash = None
    terminal.pairing_expires_at = None
    terminal.paired_at = now
    session.flush()
    return schemas.PairResponse(terminal_id=terminal.id, name=terminal.name,
                                terminal_token=token)


def authenticate_terminal(session: Session, token: str | None) -> Terminal:
    """The paired terminal whose token is ``token``.

    Raises:
        ApiError: 401 ``unauthorized`` for a missing or unknown token.
    """
    if not token:
        raise _unauthorized("Send the terminal token as 'Authorization: Bearer <token>'.",
                            "no credentials")
    terminal = session.scalars(
        select(Terminal).where(Terminal.token_hash == security.hash_token(token))).first()
    if terminal is None:
        raise _unauthorized("This terminal is not paired with the server.",
                            "terminal token not valid")
    return terminal


def sign_in(db: Database, terminal: Terminal, username: str, pin: str, *,
            attempt: pin_attempts.Attempt, settings: ServerSettings,
            now: datetime) -> schemas.SessionResponse:
    """Open a staff session at ``terminal``, refused once unused for
    ``settings.session_idle_timeout`` and at the latest ``now + settings.session_ttl``, once
    ``attempt`` (reserved by :func:`pin_attempts.reserve`, whose limits answer 429) is due.

    The PIN is checked (about 25 ms of Argon2, a dummy hash for an unknown or inactive user
    or a hash that does not open with the pepper key: :class:`pos_app.server.sealing.PinPepper`)
    outside the writer lock; then one write transaction settles the attempt
    (:func:`pin_attempts.settle`) and writes the audit entry ``login`` or ``login_failed``
    (``reason`` names the cause; the PIN never appears) and, on success, the session.

    Raises:
        ApiError: 401 ``unauthorized`` for an unknown or inactive user or a wrong PIN (one
            message for all three).
    """
    name = username[:64]
    with db.read() as session:
        staff = session.scalars(select(Staff).where(Staff.username == username)).first()
    pin_hash = staff.pin_hash if staff is not None and staff.active else None
    ok = db.keys.pins.verify(pin_hash, staff.username if staff is not None else name, pin) \
        and staff is not None
    if staff is None:
        reason: str | None = f"unknown username {name!r}"
    elif not staff.active:
        reason = f"inactive staff {name!r}"
    else:
        reason = None if ok else f"wrong PIN for {name!r}"
    token = security.new_token()
    deadline = idle_deadline(now, created_at=now, settings=settings)
    with db.write() as session:
        pin_attempts.settle(session, attempt, ok=ok, settings=settings)
        audit.append(session, [audit.AuditRecord(
            action="login" if ok else "login_failed",
            staff_id=staff.id if staff is not None else None, terminal_id=terminal.id,
            channel="box_office", reason=reason)], at=now)
        if ok and staff is not None:
            session.add(StaffSession(token_hash=security.hash_token(token), staff_id=staff.id,
                                     terminal_id=terminal.id, created_at=now,
                                     expires_at=deadline))
    if not ok or staff is None:
        raise _unauthorized("Wrong username or PIN.", "wrong username or PIN",
                            terminal_id=terminal.id)
    return schemas.SessionResponse(
        token=token, expires_at=deadline,
        staff=schemas.StaffOut(id=staff.id, username=staff.username,
                               display_name=staff.display_name,
                               role=staff.role),
        terminal=schemas.TerminalOut(id=terminal.id, name=terminal.name),
    )


def _staff_principal(session: Session, token_hash: str,
                     now: datetime) -> tuple[Principal, datetime] | None:
    """The principal of the staff session with ``token_hash`` and the session's expiry; None
    when there is none."""
    row = session.execute(
        select(StaffSession, Staff, Terminal)
        .join(Staff, Staff.id == StaffSession.staff_id)
        .join(Terminal, Terminal.id == StaffSession.terminal_id)
        .where(StaffSession.token_hash == token_hash)
    ).first()
    if row is None:
        return None
    staff_session, staff, terminal = row
    if staff_session.revoked_at is not None or staff_session.expires_at <= now:
        raise _unauthorized(SESSION_EXPIRED, "session expired", staff_id=staff.id,
                            terminal_id=terminal.id, channel="box_office")
    if not staff.active or terminal.token_hash is None:
        raise _unauthorized("This staff member or terminal is no longer active.",
                            "staff or terminal no longer active", staff_id=staff.id,
                            terminal_id=terminal.id, channel="box_office")
    return Principal(session_id=staff_session.id, staff_id=staff.id, username=staff.username,
                     display_name=staff.display_name, role=staff.role,
                     terminal_id=terminal.id, terminal_name=terminal.name,
                     session_created_at=staff_session.created_at), \
        staff_session.expires_at


def authenticate_session(session: Session, token: str | None, *, now: datetime) -> Principal:
    """The principal of a live staff session token (not expired, not revoked, staff active).

    Raises:
        ApiError: 401 ``unauthorized`` otherwise; an expired or signed-out session with the
            message :data:`SESSION_EXPIRED`.
    """
    if not token:
        raise _unauthorized("Sign in and send the session token as 'Authorization: Bearer'.",
                            "no credentials")
    found = _staff_principal(session, security.hash_token(token), now)
    if found is None:
        raise _unauthorized("The session token is not valid; sign in again.",
                            "token not valid")
    return found[0]


def channel_principal(token_row: ChannelToken) -> Principal:
    """The principal of a sales channel's token: it acts as ``token_row.channel``."""
    return Principal(session_id=None, staff_id=None, username=f"channel:{token_row.name}",
                     display_name=token_row.name, role="channel", terminal_id=None,
                     terminal_name="", channel=token_row.channel, kind="channel",
                     channel_token_id=token_row.id)


def authenticate_bearer(session: Session, token: str | None, *, now: datetime) -> Principal:
    """The principal of ``Authorization: Bearer <token>``: a staff session token first
    (as :func:`authenticate_session`), else a sales channel's token that is not revoked.

    Raises:
        ApiError: 401 ``unauthorized``: no token, an unknown or revoked token, or an expired
            or signed-out staff session (message :data:`SESSION_EXPIRED`).
    """
    return authenticate_bearer_until(session, token, now=now)[0]


def authenticate_bearer_until(session: Session, token: str | None, *,
                              now: datetime) -> tuple[Principal, datetime | None]:
    """:func:`authenticate_bearer`, also returning when the credential expires (a staff
    session's ``expires_at``; None for a channel token, which lasts until revoked).

    Raises:
        ApiError: as :func:`authenticate_bearer`.
    """
    if not token:
        raise _unauthorized("Send a session token or channel token as "
                            "'Authorization: Bearer <token>'.", "no credentials")
    token_hash = security.hash_token(token)
    found = _staff_principal(session, token_hash, now)
    if found is not None:
        return found
    channel = session.scalars(
        select(ChannelToken).where(ChannelToken.token_hash == token_hash)).first()
    if channel is None:
        raise _unauthorized("The token is not valid; sign in again.", "token not valid")
    if channel.revoked_at is not None:
        raise _unauthorized("This channel token was revoked.", "channel token revoked",
                            channel=channel.channel)
    return channel_principal(channel), None


def idle_deadline(now: datetime, *, created_at: datetime, settings: ServerSettings) -> datetime:
    """The idle deadline of a staff session signed in at ``created_at`` and used at ``now``:
    ``now + settings.session_idle_timeout``, at most ``created_at + settings.session_ttl``."""
    return min(now + settings.session_idle_timeout, created_at + settings.session_ttl)


def slide_session(session: Session, session_id: int, deadline: datetime, *,
                  now: datetime) -> bool:
    """Move staff session ``session_id``'s idle deadline on to ``deadline``, unless it was
    signed out or already expired by ``now`` (a late slide never revives a session) or its
    deadline is already that late; True when it moved. Retry-safe."""
    moved = session.execute(
        update(StaffSession)
        .where(StaffSession.id == session_id, StaffSession.revoked_at.is_(None),
               StaffSession.expires_at > now, StaffSession.expires_at < deadline)
        .values(expires_at=deadline)
        .execution_options(synchronize_session=False))
    return bool(getattr(moved, "rowcount", 0))


def sign_out(session: Session, session_id: int, *, now: datetime) -> None:
    """Revoke the staff session ``session_id`` (idempotent)."""
    staff_session = session.get(StaffSession, session_id)
    if staff_session is not None and staff_session.revoked_at is None:
        staff_session.revoked_at = now
        session.flush()
    credentials_revoked()  # cached principals of this process are void at once


APPROVAL_REFUSED = ("The approval was refused: check the manager's username and PIN. "
                    "Nothing was changed.")
"""The one message of 403 ``approval_refused``, whatever was wrong (unknown or inactive
user, wrong PIN, not a manager)."""

APPROVAL_FAILED = "approval_failed"
"""Audit action of a refused approval (the cause is in ``reason``, for managers only)."""


def approving_manager(db: Database, approval: schemas.ManagerApproval, *,
                      attempt: pin_attempts.Attempt, principal: Principal, purpose: str,
                      settings: ServerSettings, now: datetime) -> int:
    """The staff id of the active manager (or admin) ``approval`` names, once their PIN is
    checked: a cashier's refund, a cash-up variance (``purpose``, e.g. ``refund``, for the
    audit). Call it after the target was found and ``principal`` authorised, once ``attempt``
    (:func:`pin_attempts.reserve`) is due.

    The PIN is compared (Argon2, in a read transaction of its own, outside the writer lock;
    against a dummy hash for an unknown or inactive user, so every refusal costs the same),
    never stored or repeated. One write transaction then settles the attempt (a refusal counts
    with the username's failed sign-ins) and, on refusal, appends ``approval_failed`` naming
    the cause, with ``principal`` as the actor.

    Raises:
        ApiError: 403 ``approval_refused`` with :data:`APPROVAL_REFUSED`: unknown or inactive
            username, wrong PIN, or not a manager; one status, body and cost for all four.
    """
    name = approval.username[:64]
    with db.read() as session:
        staff = session.scalars(select(Staff).where(Staff.username == approval.username)
                                ).first()
    usable = staff is not None and staff.active
    pin_ok = db.keys.pins.verify(staff.pin_hash if staff is not None and usable else None,
                                 staff.username if staff is not None else name, approval.pin)
    manager = staff is not None and usable and ROLE_RANK.get(staff.role, 0) >= ROLE_RANK[
        "manager"]
    cause: str | None
    if staff is None:
        cause = f"unknown username {name!r}"
    elif not staff.active:
        cause = f"inactive staff {name!r}"
    elif not pin_ok:
        cause = f"wrong PIN for {name!r}"
    else:
        cause = None if manager else f"{name!r} is not a manager"
    with db.write() as session:
        pin_attempts.settle(session, attempt, ok=cause is None, settings=settings,
                            staff_id=principal.staff_id)
        if cause is not None:
            audit.append(session, [audit.AuditRecord(
                action=APPROVAL_FAILED, staff_id=principal.staff_id,
                terminal_id=principal.terminal_id, channel=principal.channel,
                reason=f"{purpose} approval refused: {cause}")], at=now)
    if cause is not None or staff is None:
        raise ApiError(ErrorCode.APPROVAL_REFUSED, APPROVAL_REFUSED)
    return staff.id


def add_staff(session: Session, username: str, *, role: str, pin: str,
              display_name: str) -> schemas.StaffOut:
    """Create a staff member; ``pin`` is 4-12 digits, stored only as an Argon2id hash sealed
    under the pepper key of ``session``'s database (:mod:`pos_app.server.sealing`).

    Raises:
        ApiError: 422 ``invalid_request`` for a bad role or PIN, or a username in use.
    """
    if role not in ROLE_RANK:
        raise ApiError(ErrorCode.INVALID_REQUEST, f"Role must be one of {', '.join(ROLE_RANK)}.")
    if not pin.isdigit() or not 4 <= len(pin) <= 12:
        raise ApiError(ErrorCode.INVALID_REQUEST, "A PIN is 4 to 12 digits.")
    if not username.strip() or len(username) > 64:
        raise ApiError(ErrorCode.INVALID_REQUEST, "A username is 1 to 64 characters.")
    if session.scalars(select(Staff.id).where(Staff.username == username)).first() is not None:
        raise ApiError(ErrorCode.INVALID_REQUEST, f"The username {username!r} is taken.")
    staff = Staff(username=username, display_name=display_name or username, role=role,
                  pin_hash=state(session).sealing_keys().pins.hash(pin, username), active=True)
    session.add(staff)
    session.flush()
    return schemas.StaffOut(id=staff.id, username=staff.username,
                            display_name=staff.display_name, role=role)
