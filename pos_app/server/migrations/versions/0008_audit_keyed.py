"""The audit chain keyed with HMAC-SHA256: ``audit_head.keyed_from_seq``.

Entries are chained under the audit key in ``DATA_DIR/secrets`` from the first start of this
version on (:mod:`pos_app.server.services.anchoring`): that start writes the anchor file's
``upgrade`` line (the chain's head then: entries up to it stay plain SHA-256), sets this
column to its seq and states the re-anchoring in the log. NULL means "not done yet"; the
existing entries are kept as they are.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-20

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``keyed_from_seq`` (NULL: the chain is re-anchored at the next start)."""
    with op.batch_alter_table("audit_head") as batch:
        batch.add_column(sa.Column("keyed_from_seq", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Drop ``keyed_from_seq`` (entries after it stay keyed: verify them with this version)."""
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("keyed_from_seq")
