"""Where the audit log's count check starts: ``audit_head.counts_from_seq``.

``audit verify`` checks that every entry moving a ticket type's counts starts from the counts
the previous such entry left (issue 14). Entries written before this upgrade may not (a hold's
payment batched with sales on PostgreSQL wrote counts out of order): their breaks are reported
as a count of old breaks, not as a failure. So the upgrade records the newest ``seq`` of the
log as it stands; a new database starts at 0 and checks every entry.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add ``counts_from_seq`` set to the head's ``seq`` (0 on an empty log)."""
    with op.batch_alter_table("audit_head") as batch:
        batch.add_column(sa.Column("counts_from_seq", sa.Integer(), nullable=False,
                                   server_default="0"))
    op.get_bind().execute(sa.text("UPDATE audit_head SET counts_from_seq = seq"))


def downgrade() -> None:
    """Drop ``counts_from_seq``."""
    with op.batch_alter_table("audit_head") as batch:
        batch.drop_column("counts_from_seq")
