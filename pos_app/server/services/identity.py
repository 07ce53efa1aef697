"""Terminals, staff and sessions: pairing codes, sign-in, bearer-token authentication.

Every function works inside a session given by the caller (a unit of work); refusals raise
:class:`ApiError` with ``unauthorized`` (401) or ``invalid_request`` (422).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from pos_app.api import schemas
from pos_app.api.errors import ErrorCode
from pos_app.server import security
from pos_app.server.db import Database
from pos_app.server.errors import ApiError
from pos_app.server.models import Staff, StaffSession, Terminal
from pos_app.server.services.principal import ROLE_RANK, Principal

__all__ = [
    "add_staff",
    "authenticate_session",
    "authenticate_terminal",
    "create_terminal",
    "pair_terminal",
    "sign_in",
    "sign_out",
]


def _unauthorized(message: str) -> ApiError:
    return ApiError(ErrorCode.UNAUTHORIZED, message, headers={"WWW-Authenticate": "Bearer"})


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
        raise _unauthorized("That pairing code is not valid or was already used.")
    if terminal.pairing_expires_at is None or terminal.pairing_expires_at <= now:
        raise _unauthorized("That pairing code has expired; ask a manager for a new one.")
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
        raise _unauthorized("Send the terminal token as 'Authorization: Bearer <token>'.")
    terminal = session.scalars(
        select(Terminal).where(Terminal.token_hash == security.hash_token(token))).first()
    if terminal is None:
        raise _unauthorized("This terminal is not paired with the server.")
    return terminal


def sign_in(db: Database, terminal: Terminal, username: str, pin: str, *, now: datetime,
            ttl: timedelta) -> schemas.SessionResponse:
    """Open a staff session at ``terminal`` valid until ``now + ttl``.

    The PIN is checked (about 25 ms of Argon2) in a read transaction, outside the writer
    lock; only the insert of the session row is a write.

    Raises:
        ApiError: 401 ``unauthorized`` for an unknown or inactive user or a wrong PIN (one
            message for all three).
    """
    with db.read() as session:
        staff = session.scalars(select(Staff).where(Staff.username == username)).first()
    pin_hash = staff.pin_hash if staff is not None and staff.active else None
    if not security.verify_pin(pin_hash, pin) or staff is None:
        raise _unauthorized("Wrong username or PIN.")
    token = security.new_token()
    with db.write() as session:
        session.add(StaffSession(token_hash=security.hash_token(token), staff_id=staff.id,
                                 terminal_id=terminal.id, created_at=now,
                                 expires_at=now + ttl))
    return schemas.SessionResponse(
        token=token, expires_at=now + ttl,
        staff=schemas.StaffOut(id=staff.id, username=staff.username,
                               display_name=staff.display_name,
                               role=staff.role),
        terminal=schemas.TerminalOut(id=terminal.id, name=terminal.name),
    )


def authenticate_session(session: Session, token: str | None, *, now: datetime) -> Principal:
    """The principal of a live session token (not expired, not revoked, staff active).

    Raises:
        ApiError: 401 ``unauthorized`` otherwise.
    """
    if not token:
        raise _unauthorized("Sign in and send the session token as 'Authorization: Bearer'.")
    row = session.execute(
        select(StaffSession, Staff, Terminal)
        .join(Staff, Staff.id == StaffSession.staff_id)
        .join(Terminal, Terminal.id == StaffSession.terminal_id)
        .where(StaffSession.token_hash == security.hash_token(token))
    ).first()
    if row is None:
        raise _unauthorized("The session token is not valid; sign in again.")
    staff_session, staff, terminal = row
    if staff_session.revoked_at is not None or staff_session.expires_at <= now:
        raise _unauthorized("The session has ended; sign in again.")
    if not staff.active or terminal.token_hash is None:
        raise _unauthorized("This staff member or terminal is no longer active.")
    return Principal(session_id=staff_session.id, staff_id=staff.id, username=staff.username,
                     display_name=staff.display_name, role=staff.role,
                     terminal_id=terminal.id, terminal_name=terminal.name)


def sign_out(session: Session, session_id: int, *, now: datetime) -> None:
    """Revoke the staff session ``session_id`` (idempotent)."""
    staff_session = session.get(StaffSession, session_id)
    if staff_session is not None and staff_session.revoked_at is None:
        staff_session.revoked_at = now
        session.flush()


def add_staff(session: Session, username: str, *, role: str, pin: str,
              display_name: str) -> schemas.StaffOut:
    """Create a staff member; ``pin`` is 4-12 digits, stored only as an Argon2id hash.

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
                  pin_hash=security.hash_pin(pin), active=True)
    session.add(staff)
    session.flush()
    return schemas.StaffOut(id=staff.id, username=staff.username,
                            display_name=staff.display_name, role=role)
