"""media waiting for their perceptual pass (issue 17: `tantalio ingest --fast`)

A fast pass stores hashes, type and exact matches only; `perceptual_pending` marks the
media whose PDQ/vPDQ/thumbnail a later `tantalio ingest` of the same sources computes.

Revision ID: a8f3c1d7e920
Revises: a8d3f6c2e710
Create Date: 2026-12-07 00:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a8f3c1d7e920"
down_revision: str | None = "a8d3f6c2e710"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("media") as batch:
        batch.add_column(
            sa.Column("perceptual_pending", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch.create_index(batch.f("ix_media_perceptual_pending"), ["perceptual_pending"])


def downgrade() -> None:
    with op.batch_alter_table("media") as batch:
        batch.drop_index(batch.f("ix_media_perceptual_pending"))
        batch.drop_column("perceptual_pending")
