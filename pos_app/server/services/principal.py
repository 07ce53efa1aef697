"""Who is calling: a signed-in staff member at a terminal, or a sales channel's token."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

__all__ = ["ROLE_RANK", "Principal"]

ROLE_RANK = {"cashier": 1, "manager": 2, "admin": 3}


@dataclass(frozen=True)
class Principal:
    """An authenticated caller.

    ``kind="staff"``: a live staff session at a terminal (``channel`` is ``box_office``;
    ``staff_id``, ``terminal_id`` and ``session_id`` are set). ``kind="channel"``: a channel
    token such as the online shop's (``channel`` e.g. ``online``, ``channel_token_id`` set,
    no staff and no terminal); it may hold and sell, nothing else (``shared/API.md``).
    """

    session_id: int | None
    staff_id: int | None
    username: str
    display_name: str
    role: str
    terminal_id: int | None
    terminal_name: str
    channel: str = "box_office"
    kind: Literal["staff", "channel"] = "staff"
    channel_token_id: int | None = None
    session_created_at: datetime | None = None
    """When a staff session was signed in (its idle deadline never passes
    ``session_created_at + session_ttl``); None for a channel token."""

    @property
    def idempotency_scope(self) -> str:
        """Scope of this caller's idempotency keys: its terminal (``terminal:7``) or its
        channel token (``channel:3``)."""
        if self.kind == "channel":
            return f"channel:{self.channel_token_id}"
        return f"terminal:{self.terminal_id}"

    @property
    def is_channel(self) -> bool:
        return self.kind == "channel"

    def has_role(self, role: str) -> bool:
        """True when this principal is staff whose role includes the rights of ``role``;
        a channel token has no staff role."""
        if self.kind == "channel":
            return False
        return ROLE_RANK.get(self.role, 0) >= ROLE_RANK[role]
