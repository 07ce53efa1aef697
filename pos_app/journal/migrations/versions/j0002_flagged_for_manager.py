"""Journal entries: ``flagged_for_manager`` marks a request that completed on the server
without the cashier seeing it (settled by reconciliation or an Abandon).

Revision ID: j0002
Revises: j0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "j0002"
down_revision = "j0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("journal_entries") as batch:
        batch.add_column(sa.Column("flagged_for_manager", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("journal_entries") as batch:
        batch.drop_column("flagged_for_manager")
