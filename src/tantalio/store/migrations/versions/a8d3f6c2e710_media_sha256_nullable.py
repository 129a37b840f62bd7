"""media.sha256 may be NULL (a file known only by its MD5 or SHA-1); reported uploads (issue 16)

A law-enforcement report package may give a reported file's MD5 alone (an MD5-only hash
list matched it). Such a file is stored as a hashes-only media row whose SHA-256 is unknown,
so that it is matched by its MD5 instead of being filed as unreadable; the column stays
unique (NULLs are distinct on both databases) and no SHA-256 is ever made up.

`reported_upload` keeps the package's account, IP address, port and upload time of each
reported file, linked to the file and its media (store/uploads.py).

Revision ID: a8d3f6c2e710
Revises: 4bfc656213af
Create Date: 2026-12-06 23:40:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "a8d3f6c2e710"
down_revision: str | None = "4bfc656213af"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.alter_column("sha256", existing_type=sa.String(length=64), nullable=True)
    op.create_table(
        "reported_upload",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("exhibit_id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.Integer(), nullable=True),
        sa.Column("report_id", sa.String(length=100), nullable=False),
        sa.Column("reporter", sa.String(length=200), nullable=True),
        sa.Column("service", sa.String(length=200), nullable=True),
        sa.Column("account_id", sa.String(length=255), nullable=False),
        sa.Column("account", sa.JSON(), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("port", sa.Integer(), nullable=True),
        sa.Column("time_given", sa.String(length=64), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["exhibit_id"],
            ["exhibit.id"],
            name=op.f("fk_reported_upload_exhibit_id_exhibit"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["file.id"],
            name=op.f("fk_reported_upload_file_id_file"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["media.id"],
            name=op.f("fk_reported_upload_media_id_media"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reported_upload")),
    )
    for column in ("exhibit_id", "file_id", "media_id", "account_id", "ip"):
        op.create_index(
            op.f(f"ix_reported_upload_{column}"), "reported_upload", [column], unique=False
        )


def downgrade() -> None:
    op.drop_table("reported_upload")
    # Media known by MD5/SHA-1 alone cannot survive a NOT NULL column: their files lose them.
    op.execute(
        "UPDATE file SET media_id = NULL WHERE media_id IN "
        "(SELECT id FROM media WHERE sha256 IS NULL)"
    )
    op.execute("DELETE FROM media WHERE sha256 IS NULL")
    with op.batch_alter_table("media", schema=None) as batch_op:
        batch_op.alter_column("sha256", existing_type=sa.String(length=64), nullable=False)
