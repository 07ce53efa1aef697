"""Journal entries: ``server`` names the server an entry was sent to (its URL and the pinned
CA's fingerprint), so a home paired with another server tells the two servers' "sale 1"
apart and reconciles each entry only with its own server. Entries written before stay
``NULL`` (unknown).

Revision ID: j0003
Revises: j0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "j0003"
down_revision = "j0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("journal_entries") as batch:
        batch.add_column(sa.Column("server", sa.String(length=300), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("journal_entries") as batch:
        batch.drop_column("server")
