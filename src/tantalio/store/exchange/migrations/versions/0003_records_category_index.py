"""records: index category alone instead of (category, identity)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 02:10:00

A push of new records inserts random identities: an index on (category, identity) took them
at random places all over its B-tree, so a 10,000-record push dirtied about as many index
pages as it had records (SQLite wrote them all to its WAL at commit: 0.6 s of a push's
1.1 s at 1M records). An index on category alone is keyed (category, row id) underneath,
so new rows land at the end of their category's range. Only list publication reads it
(`ExchangeStore.agreed`), which groups a category's rows by identity itself.
(docs/decisions/exchange-server.md, "Push at 6,000 records/s".)
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exchange_records", schema=None) as batch_op:
        batch_op.drop_index("ix_exchange_records_category_identity")
        batch_op.create_index("ix_exchange_records_category", ["category"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("exchange_records", schema=None) as batch_op:
        batch_op.drop_index("ix_exchange_records_category")
        batch_op.create_index(
            "ix_exchange_records_category_identity", ["category", "identity"], unique=False
        )
