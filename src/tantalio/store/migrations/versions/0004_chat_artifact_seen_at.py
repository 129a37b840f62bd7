"""chat_artifact.seen_at: when a browser visited a URL (issue 15: browsing history)

Revision ID: 0004
Revises: e63c9f4a1b32
Create Date: 2026-12-06 20:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "e63c9f4a1b32"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chat_artifact", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seen_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chat_artifact", schema=None) as batch_op:
        batch_op.drop_column("seen_at")
