"""bulk segments: a bank's bulk-imported PDQ hashes as a memory-mapped index (issue 17)

Revision ID: 0005b
Revises: 0004r
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005b"
down_revision = "0004r"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "platform_bulk_segments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("bank_id", sa.Integer(), nullable=False),
        sa.Column("first_id", BigId, nullable=False),
        sa.Column("count", BigId, nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("check", sa.JSON(), nullable=False),
        sa.Column("category", sa.Integer(), nullable=True),
        sa.Column("source_list", sa.String(length=256), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["bank_id"],
            ["platform_banks.id"],
            name=op.f("fk_platform_bulk_segments_bank_id_platform_banks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_bulk_segments")),
    )
    op.create_index(
        op.f("ix_platform_bulk_segments_bank_id"), "platform_bulk_segments", ["bank_id"]
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_platform_bulk_segments_bank_id"), table_name="platform_bulk_segments")
    op.drop_table("platform_bulk_segments")
