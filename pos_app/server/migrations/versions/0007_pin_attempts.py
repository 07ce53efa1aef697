"""PIN throttling per terminal and client address: ``login_attempts.client`` and ``kind``.

Issue 16: failed PINs were counted per username only, so anyone with a terminal token could
lock any user out. Attempts now also carry the caller's address and whether they were a
sign-in or a manager's approval, and are counted per (terminal, username), per address and,
for the venue-wide delay, per username (:mod:`pos_app.server.services.pin_attempts`).
Existing rows are sign-ins with no address.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-14

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``client`` and ``kind`` and the per-terminal and per-address indexes."""
    with op.batch_alter_table("login_attempts") as batch:
        batch.add_column(sa.Column("client", sa.String(64), nullable=True))
        batch.add_column(sa.Column("kind", sa.String(16), nullable=False,
                                   server_default="sign_in"))
    op.create_index("ix_login_attempts_terminal_username_at", "login_attempts",
                    ["terminal_id", "username", "at"])
    op.create_index("ix_login_attempts_client_at", "login_attempts", ["client", "at"])


def downgrade() -> None:
    """Drop them again."""
    op.drop_index("ix_login_attempts_client_at", table_name="login_attempts")
    op.drop_index("ix_login_attempts_terminal_username_at", table_name="login_attempts")
    with op.batch_alter_table("login_attempts") as batch:
        batch.drop_column("kind")
        batch.drop_column("client")
