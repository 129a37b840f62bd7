"""bank match rules: each bank's own MatchRules (issue #12)

Revision ID: 0004r
Revises: 0003s
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004r"
down_revision = "0003s"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("platform_banks") as batch:
        batch.add_column(sa.Column("match_rules", sa.JSON(none_as_null=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("platform_banks") as batch:
        batch.drop_column("match_rules")
