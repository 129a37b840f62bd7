"""media keeps its trimmed PDQ; a match keeps its transform; reference files' features (issue 13)

A framed picture (letterbox, borders, screenshot chrome) gets a second PDQ of the picture
inside its frame at fingerprinting (`pdq-trimmed`). Triage searches it against hash entries,
so the media row keeps it with its quality, its 8 orientations and the box it was cut from.
A match row now says how the copy relates to the reference (`transform`: crop box, rotation,
flip, ...) and its `algorithm` names longer signal types (`pdq-trimmed`, `local-features`).
`hash_entry_features` keeps, for entries made from reference files (`hashset create`), the
trimmed PDQ and the local features, which no hash-list column holds.

Revision ID: b9e4c7d1a352
Revises: a8f3c1d7e920
Create Date: 2026-12-07 00:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "b9e4c7d1a352"
down_revision: str | None = "a8f3c1d7e920"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.add_column(sa.Column("pdq_trimmed", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("pdq_trimmed_quality", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("pdq_trimmed_orientations", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("pdq_trimmed_box", sa.JSON(), nullable=True))
    with op.batch_alter_table("match", schema=None) as batch_op:
        batch_op.alter_column(
            "algorithm",
            existing_type=sa.String(length=8),
            type_=sa.String(length=16),
            existing_nullable=False,
        )
        batch_op.add_column(sa.Column("transform", sa.JSON(), nullable=True))
    op.create_table(
        "hash_entry_features",
        sa.Column("hash_entry_id", sa.Integer(), nullable=False),
        sa.Column("pdq_trimmed", sa.String(length=64), nullable=True),
        sa.Column("local_features", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["hash_entry_id"],
            ["hash_entry.id"],
            name=op.f("fk_hash_entry_features_hash_entry_id_hash_entry"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("hash_entry_id", name=op.f("pk_hash_entry_features")),
    )


def downgrade() -> None:
    op.drop_table("hash_entry_features")
    with op.batch_alter_table("match", schema=None) as batch_op:
        batch_op.drop_column("transform")
        batch_op.alter_column(
            "algorithm",
            existing_type=sa.String(length=16),
            type_=sa.String(length=8),
            existing_nullable=False,
        )
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.drop_column("pdq_trimmed_box")
        batch_op.drop_column("pdq_trimmed_orientations")
        batch_op.drop_column("pdq_trimmed_quality")
        batch_op.drop_column("pdq_trimmed")
