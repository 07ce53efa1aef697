"""Sales channels' tokens (``API.md``, Identity): a channel such as the online shop's backend
authenticates with ``Authorization: Bearer <channel token>`` and may only hold and sell, as
its channel. Only the token's SHA-256 is stored; the token is shown once, at creation.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from pos_app.api.errors import ErrorCode
from pos_app.server import security
from pos_app.server.errors import ApiError
from pos_app.server.models import ChannelToken
from pos_app.server.services.principal_cache import credentials_revoked

__all__ = ["BOX_OFFICE", "create_channel_token", "revoke_channel_token"]

BOX_OFFICE = "box_office"
"""The terminals' own channel; no token may act as it."""

_CHANNEL = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


def create_channel_token(session: Session, channel: str, *, name: str | None = None,
                         now: datetime) -> tuple[int, str]:
    """Create a token acting as ``channel`` (e.g. ``online``: lower-case letters, digits,
    ``_`` or ``-``, at most 32) called ``name`` (defaults to the channel; at most 80
    characters). Returns ``(id, token)``; the token (43 URL-safe characters) is not stored.

    Raises:
        ApiError: 422 ``invalid_request`` for a bad channel or name.
    """
    if not _CHANNEL.match(channel):
        raise ApiError(ErrorCode.INVALID_REQUEST,
                       "A channel is 1 to 32 lower-case letters, digits, '_' or '-'.")
    if channel == BOX_OFFICE:
        raise ApiError(ErrorCode.INVALID_REQUEST,
                       "box_office is the terminals' channel; name the sales channel.")
    label = (name if name is not None else channel).strip()
    if not label or len(label) > 80:
        raise ApiError(ErrorCode.INVALID_REQUEST, "A token name is 1 to 80 characters.")
    token = security.new_token()
    row = ChannelToken(channel=channel, name=label, token_hash=security.hash_token(token),
                       created_at=now)
    session.add(row)
    session.flush()
    return row.id, token


def revoke_channel_token(session: Session, token_id: int, *, now: datetime) -> bool:
    """Revoke token ``token_id`` (idempotent); it stops working at once. False when there is
    no such token."""
    row = session.scalars(select(ChannelToken).where(ChannelToken.id == token_id)).first()
    if row is None:
        return False
    if row.revoked_at is None:
        row.revoked_at = now
        session.flush()
    credentials_revoked()  # cached principals of this process are void at once
    return True
