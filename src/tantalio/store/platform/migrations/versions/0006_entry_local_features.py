"""entry local features: the ORB keypoints of banked pictures (issue 13)

Revision ID: 0006l
Revises: 0005b
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006l"
down_revision = "0005b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "platform_entry_features",
        sa.Column("entry_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("local_features", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["platform_entries.id"],
            name=op.f("fk_platform_entry_features_entry_id_platform_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("entry_id", name=op.f("pk_platform_entry_features")),
    )


def downgrade() -> None:
    op.drop_table("platform_entry_features")
