"""Holds, shifts and cash movements, refunds, channel tokens, login attempts, stock alerts;
audit columns (shift, approver) and the audit viewer's filter indexes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 14:29:31.679911

"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "channel_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_channel_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_channel_tokens_token_hash")),
    )
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("success", sa.Boolean(), nullable=False),
        sa.Column("terminal_id", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.create_index("ix_login_attempts_username_at", ["username", "at"], unique=False)

    op.create_table(
        "shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("terminal_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("opening_float", sa.Integer(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by", sa.Integer(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.Integer(), nullable=True),
        sa.Column("counted_cash", sa.Integer(), nullable=True),
        sa.Column("expected_cash", sa.Integer(), nullable=True),
        sa.Column("variance", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["closed_by"], ["staff.id"], name=op.f("fk_shifts_closed_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["opened_by"], ["staff.id"], name=op.f("fk_shifts_opened_by_staff")
        ),
        sa.ForeignKeyConstraint(
            ["terminal_id"], ["terminals.id"], name=op.f("fk_shifts_terminal_id_terminals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shifts")),
    )
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shifts_opened_at"), ["opened_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_shifts_terminal_id"), ["terminal_id"], unique=False)
        batch_op.create_index(
            "uq_shifts_open_per_terminal",
            ["terminal_id"],
            unique=True,
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )

    op.create_table(
        "cash_movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_cash_movements_positive")),
        sa.ForeignKeyConstraint(
            ["shift_id"], ["shifts.id"], name=op.f("fk_cash_movements_shift_id_shifts")
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff.id"], name=op.f("fk_cash_movements_staff_id_staff")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cash_movements")),
    )
    with op.batch_alter_table("cash_movements", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_cash_movements_shift_id"), ["shift_id"], unique=False)

    op.create_table(
        "holds",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("customer_name", sa.String(length=120), nullable=True),
        sa.Column("customer_phone", sa.String(length=40), nullable=True),
        sa.Column("customer_email", sa.String(length=254), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("terminal_id", sa.Integer(), nullable=True),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("channel_token_id", sa.Integer(), nullable=True),
        sa.Column("shift_id", sa.Integer(), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("release_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["channel_token_id"],
            ["channel_tokens.id"],
            name=op.f("fk_holds_channel_token_id_channel_tokens"),
        ),
        sa.ForeignKeyConstraint(["event_id"], ["events.id"], name=op.f("fk_holds_event_id_events")),
        sa.ForeignKeyConstraint(["shift_id"], ["shifts.id"], name=op.f("fk_holds_shift_id_shifts")),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_holds_staff_id_staff")),
        sa.ForeignKeyConstraint(
            ["terminal_id"], ["terminals.id"], name=op.f("fk_holds_terminal_id_terminals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holds")),
        sa.UniqueConstraint("code", name=op.f("uq_holds_code")),
    )
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_holds_customer_name"), ["customer_name"], unique=False)
        batch_op.create_index(batch_op.f("ix_holds_event_id"), ["event_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_holds_shift_id"), ["shift_id"], unique=False)
        batch_op.create_index("ix_holds_status_expires_at", ["status", "expires_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_holds_terminal_id"), ["terminal_id"], unique=False)

    op.create_table(
        "stock_alerts",
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ticket_type_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("available", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"], ["events.id"], name=op.f("fk_stock_alerts_event_id_events")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_type_id"],
            ["ticket_types.id"],
            name=op.f("fk_stock_alerts_ticket_type_id_ticket_types"),
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_stock_alerts")),
    )
    with op.batch_alter_table("stock_alerts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stock_alerts_ticket_type_id"), ["ticket_type_id"], unique=False
        )

    op.create_table(
        "hold_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hold_id", sa.String(length=32), nullable=False),
        sa.Column("ticket_type_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["hold_id"], ["holds.id"], name=op.f("fk_hold_lines_hold_id_holds")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_type_id"],
            ["ticket_types.id"],
            name=op.f("fk_hold_lines_ticket_type_id_ticket_types"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hold_lines")),
    )
    with op.batch_alter_table("hold_lines", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hold_lines_hold_id"), ["hold_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_hold_lines_ticket_type_id"), ["ticket_type_id"], unique=False
        )

    op.create_table(
        "refunds",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("sale_id", sa.String(length=32), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("method", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("approved_by", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("terminal_id", sa.Integer(), nullable=True),
        sa.Column("shift_id", sa.Integer(), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by"], ["staff.id"], name=op.f("fk_refunds_approved_by_staff")
        ),
        sa.ForeignKeyConstraint(["sale_id"], ["sales.id"], name=op.f("fk_refunds_sale_id_sales")),
        sa.ForeignKeyConstraint(
            ["shift_id"], ["shifts.id"], name=op.f("fk_refunds_shift_id_shifts")
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"], name=op.f("fk_refunds_staff_id_staff")),
        sa.ForeignKeyConstraint(
            ["terminal_id"], ["terminals.id"], name=op.f("fk_refunds_terminal_id_terminals")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refunds")),
    )
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refunds_sale_id"), ["sale_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_refunds_shift_id"), ["shift_id"], unique=False)

    op.create_table(
        "refund_tickets",
        sa.Column("ticket_code", sa.String(length=32), nullable=False),
        sa.Column("refund_id", sa.String(length=32), nullable=False),
        sa.Column("ticket_type_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["refund_id"], ["refunds.id"], name=op.f("fk_refund_tickets_refund_id_refunds")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_code"], ["tickets.code"], name=op.f("fk_refund_tickets_ticket_code_tickets")
        ),
        sa.ForeignKeyConstraint(
            ["ticket_type_id"],
            ["ticket_types.id"],
            name=op.f("fk_refund_tickets_ticket_type_id_ticket_types"),
        ),
        sa.PrimaryKeyConstraint("ticket_code", name=op.f("pk_refund_tickets")),
    )
    with op.batch_alter_table("refund_tickets", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_refund_tickets_refund_id"), ["refund_id"], unique=False
        )

    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shift_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("approved_by", sa.Integer(), nullable=True))
        batch_op.drop_index(batch_op.f("ix_audit_log_action"))
        batch_op.drop_index(batch_op.f("ix_audit_log_ticket_type_id"))
        batch_op.create_index("ix_audit_log_action_seq", ["action", "seq"], unique=False)
        batch_op.create_index("ix_audit_log_shift_seq", ["shift_id", "seq"], unique=False)
        batch_op.create_index("ix_audit_log_staff_seq", ["staff_id", "seq"], unique=False)
        batch_op.create_index("ix_audit_log_terminal_seq", ["terminal_id", "seq"], unique=False)
        batch_op.create_index(
            "ix_audit_log_ticket_type_seq", ["ticket_type_id", "seq"], unique=False
        )

    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True))

    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hold_id", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("channel_token_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_sales_created_at"), ["created_at"], unique=False)
        batch_op.create_unique_constraint(batch_op.f("uq_sales_hold_id"), ["hold_id"])
        batch_op.create_foreign_key(
            batch_op.f("fk_sales_hold_id_holds"), "holds", ["hold_id"], ["id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_sales_channel_token_id_channel_tokens"),
            "channel_tokens",
            ["channel_token_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_sales_shift_id_shifts"), "shifts", ["shift_id"], ["id"]
        )



def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("sales", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_sales_shift_id_shifts"), type_="foreignkey")
        batch_op.drop_constraint(
            batch_op.f("fk_sales_channel_token_id_channel_tokens"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("fk_sales_hold_id_holds"), type_="foreignkey")
        batch_op.drop_constraint(batch_op.f("uq_sales_hold_id"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_sales_created_at"))
        batch_op.drop_column("channel_token_id")
        batch_op.drop_column("hold_id")

    with op.batch_alter_table("idempotency_keys", schema=None) as batch_op:
        batch_op.drop_column("completed_at")

    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_log_ticket_type_seq")
        batch_op.drop_index("ix_audit_log_terminal_seq")
        batch_op.drop_index("ix_audit_log_staff_seq")
        batch_op.drop_index("ix_audit_log_shift_seq")
        batch_op.drop_index("ix_audit_log_action_seq")
        batch_op.create_index(
            batch_op.f("ix_audit_log_ticket_type_id"), ["ticket_type_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_audit_log_action"), ["action"], unique=False)
        batch_op.drop_column("approved_by")
        batch_op.drop_column("shift_id")

    with op.batch_alter_table("refund_tickets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refund_tickets_refund_id"))

    op.drop_table("refund_tickets")
    with op.batch_alter_table("refunds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refunds_shift_id"))
        batch_op.drop_index(batch_op.f("ix_refunds_sale_id"))

    op.drop_table("refunds")
    with op.batch_alter_table("hold_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hold_lines_ticket_type_id"))
        batch_op.drop_index(batch_op.f("ix_hold_lines_hold_id"))

    op.drop_table("hold_lines")
    with op.batch_alter_table("stock_alerts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stock_alerts_ticket_type_id"))

    op.drop_table("stock_alerts")
    with op.batch_alter_table("holds", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_holds_terminal_id"))
        batch_op.drop_index("ix_holds_status_expires_at")
        batch_op.drop_index(batch_op.f("ix_holds_shift_id"))
        batch_op.drop_index(batch_op.f("ix_holds_event_id"))
        batch_op.drop_index(batch_op.f("ix_holds_customer_name"))

    op.drop_table("holds")
    with op.batch_alter_table("cash_movements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cash_movements_shift_id"))

    op.drop_table("cash_movements")
    with op.batch_alter_table("shifts", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_shifts_open_per_terminal",
            sqlite_where=sa.text("status = 'open'"),
            postgresql_where=sa.text("status = 'open'"),
        )
        batch_op.drop_index(batch_op.f("ix_shifts_terminal_id"))
        batch_op.drop_index(batch_op.f("ix_shifts_opened_at"))

    op.drop_table("shifts")
    with op.batch_alter_table("login_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_login_attempts_username_at")

    op.drop_table("login_attempts")
    op.drop_table("channel_tokens")
