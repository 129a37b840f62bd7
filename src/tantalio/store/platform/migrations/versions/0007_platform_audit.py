"""platform audit: the platform's own hash-chained audit log (issue 11)

Revision ID: 0007a
Revises: 0006l
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007a"
down_revision = "0006l"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "platform_audit_events",
        sa.Column("seq", BigId, autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=False), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.String(length=128), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("object_type", sa.String(length=32), nullable=True),
        sa.Column("object_id", sa.String(length=256), nullable=True),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_platform_audit_events")),
        sa.UniqueConstraint("prev_hash", name=op.f("uq_platform_audit_events_prev_hash")),
    )
    op.create_index(op.f("ix_platform_audit_events_action"), "platform_audit_events", ["action"])
    op.create_table(
        "platform_audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_audit_head")),
    )


def downgrade() -> None:
    op.drop_table("platform_audit_head")
    op.drop_index(op.f("ix_platform_audit_events_action"), table_name="platform_audit_events")
    op.drop_table("platform_audit_events")
