"""file birth time (crtime), as evidence sources record it (FAT, NTFS, ext4, 7z)

Revision ID: 0002
Revises: b7e1c0a5d2f4
Create Date: 2026-11-28 19:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "b7e1c0a5d2f4"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("file", schema=None) as batch_op:
        batch_op.add_column(sa.Column("crtime", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("file", schema=None) as batch_op:
        batch_op.drop_column("crtime")
