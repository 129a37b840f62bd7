"""chat_message text export matching: also_in, only_in_export, utc_offset

One phone's text export and database of the same chat store each message once
(docs/decisions/chats.md, "Text export and database of the same chat"): the database row
lists the export lines that hold it too (`also_in`), an export message the database no longer
holds is flagged (`only_in_export`), and export rows carry the export's inferred offset from
UTC in minutes (`utc_offset`).

Revision ID: 38871b59e296
Revises: 0003
Create Date: 2026-11-28 22:26:24.889361
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "38871b59e296"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chat_message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("also_in", sa.JSON(none_as_null=True), nullable=True))
        batch_op.add_column(
            sa.Column("only_in_export", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("utc_offset", sa.Integer(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_chat_message_only_in_export"), ["only_in_export"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("chat_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chat_message_only_in_export"))
        batch_op.drop_column("utc_offset")
        batch_op.drop_column("only_in_export")
        batch_op.drop_column("also_in")
