"""The audit chain's head (newest seq and hash), so deleting the newest entries is detected.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-21

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS_HASH = "0" * 64


def upgrade() -> None:
    """Create the head row from the chain's current tail (or the genesis hash)."""
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    tail = op.get_bind().execute(
        sa.text("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")).first()
    seq, hash_ = (int(tail[0]), str(tail[1])) if tail is not None else (0, GENESIS_HASH)
    op.get_bind().execute(sa.text("INSERT INTO audit_head (id, seq, hash) VALUES (1, :s, :h)"),
                          {"s": seq, "h": hash_})


def downgrade() -> None:
    """Drop the head row."""
    op.drop_table("audit_head")
