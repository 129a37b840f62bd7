"""file.verdict widened to 32 characters (verdict known-non-pertinent, issue 16)

Revision ID: d52b8e3f0a21
Revises: c41a7d2e9b10
Create Date: 2026-12-06 21:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d52b8e3f0a21"
down_revision: str | None = "c41a7d2e9b10"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # SQLite does not enforce VARCHAR lengths; rebuilding `file` there would gain nothing.
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column(
            "file", "verdict", existing_type=sa.String(length=16), type_=sa.String(length=32)
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column(
            "file", "verdict", existing_type=sa.String(length=32), type_=sa.String(length=16)
        )
