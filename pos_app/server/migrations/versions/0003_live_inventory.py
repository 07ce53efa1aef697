"""Live inventory: ``ticket_types.changed_version`` (the inventory version of each ticket
type's last change, for ``GET /v1/inventory?since=``); on PostgreSQL, sequences for inventory
versions and sale numbers (no hot ``counters`` row lock there).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 10:00:00.000000

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Names used by pos_app.server.services.inventory (kept literal: migrations do not import
# application code that may change later).
_VERSION_SEQ = "pos_inventory_version_seq"
_SALE_SEQ = "pos_sale_number_seq"


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("ticket_types", schema=None) as batch_op:
        batch_op.add_column(sa.Column("changed_version", sa.Integer(), server_default="0",
                                      nullable=False))
    # Every existing ticket type counts as changed at the current version: a client already
    # at that version gets nothing new, an older one gets them all.
    op.execute("UPDATE ticket_types SET changed_version = "
               "(SELECT inventory_version FROM counters WHERE id = 1)")
    if op.get_bind().dialect.name == "postgresql":
        # Continue from the counters row; setval(..., false): nextval returns exactly that.
        op.execute(f"CREATE SEQUENCE {_VERSION_SEQ} AS bigint MINVALUE 1")
        op.execute(f"CREATE SEQUENCE {_SALE_SEQ} AS bigint MINVALUE 1")
        op.execute(f"SELECT setval('{_VERSION_SEQ}', "
                   "(SELECT inventory_version + 1 FROM counters WHERE id = 1), false)")
        op.execute(f"SELECT setval('{_SALE_SEQ}', "
                   "(SELECT last_sale_number + 1 FROM counters WHERE id = 1), false)")


def downgrade() -> None:
    """Downgrade schema."""
    if op.get_bind().dialect.name == "postgresql":
        # Keep the counters row ahead of every number the sequences handed out.
        op.execute("UPDATE counters SET "
                   f"inventory_version = GREATEST(inventory_version, "
                   f"(SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END "
                   f"FROM {_VERSION_SEQ})), "
                   f"last_sale_number = GREATEST(last_sale_number, "
                   f"(SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END "
                   f"FROM {_SALE_SEQ})) WHERE id = 1")
        op.execute(f"DROP SEQUENCE {_SALE_SEQ}")
        op.execute(f"DROP SEQUENCE {_VERSION_SEQ}")
    with op.batch_alter_table("ticket_types", schema=None) as batch_op:
        batch_op.drop_column("changed_version")
