"""exhibit sources: every source of an exhibit, with the prefix of its paths (issue 17)

`ingest --exhibit X A B` puts several sources in one exhibit, but `exhibit.source_path`
holds one path, so `ingest --finish`, retro matching and the media page's thumbnails could
not find the files of the other sources. `exhibit_source` lists them in walk order, each
with the prefix its paths got in the exhibit (`A/` for a folder among several sources) and
its kind. An existing exhibit gets its one `source_path` as its single source, without a
prefix (what an exhibit of one source had; an older multi-source exhibit's other sources
were never recorded, and rerunning its ingest command records them).

Revision ID: c55a6e7b7973
Revises: b9e4c7d1a352
Create Date: 2026-12-07 05:04:23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c55a6e7b7973"
down_revision: str | None = "b9e4c7d1a352"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "exhibit_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exhibit_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("prefix", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["exhibit_id"],
            ["exhibit.id"],
            name=op.f("fk_exhibit_source_exhibit_id_exhibit"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_exhibit_source")),
        sa.UniqueConstraint("exhibit_id", "position", name=op.f("uq_exhibit_source_exhibit_id")),
    )
    op.execute(
        "INSERT INTO exhibit_source (exhibit_id, position, path, prefix, kind) "
        "SELECT id, 0, source_path, '', kind FROM exhibit WHERE source_path IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_table("exhibit_source")
