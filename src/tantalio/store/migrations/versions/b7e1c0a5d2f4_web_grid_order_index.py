"""web grid order index

The triage grid pages a case's files by (coalesce(priority, -1.0), id) descending with keyset
pagination (tantalio.store.web_queries); this index serves that order so a page reads about
one page of rows instead of sorting the whole case (docs/perf/web.md).

Revision ID: b7e1c0a5d2f4
Revises: 67908e3db030
Create Date: 2026-11-28 19:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b7e1c0a5d2f4"
down_revision: str | None = "67908e3db030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_file_grid_order", "file", [sa.text("coalesce(priority, -1.0)"), "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_file_grid_order", table_name="file")
