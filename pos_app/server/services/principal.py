"""Who is calling: the signed-in staff member at a terminal."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ROLE_RANK", "Principal"]

ROLE_RANK = {"cashier": 1, "manager": 2, "admin": 3}


@dataclass(frozen=True)
class Principal:
    """An authenticated staff session at a terminal (``channel`` is ``box_office``)."""

    session_id: int
    staff_id: int
    username: str
    display_name: str
    role: str
    terminal_id: int
    terminal_name: str
    channel: str = "box_office"

    @property
    def idempotency_scope(self) -> str:
        """Scope of this caller's idempotency keys: its terminal (``terminal:7``)."""
        return f"terminal:{self.terminal_id}"

    def has_role(self, role: str) -> bool:
        """True when this principal's role includes the rights of ``role``."""
        return ROLE_RANK.get(self.role, 0) >= ROLE_RANK[role]
