"""exhibit acquisition record and image verification

What the imaging tool recorded about an exhibit (E01: stored MD5/SHA-1, case number,
examiner...) and the outcome of reading the image whole against those hashes: `verification`
is `match`, `mismatch` or `not verified` (NULL for sources that record no hash), with the
computed hashes and the damaged or missing ranges in `verification_detail` (issue 14).

Revision ID: c4d9e2a7b1f0
Revises: 0004
Create Date: 2026-12-06 20:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c4d9e2a7b1f0"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("exhibit") as batch:
        batch.add_column(sa.Column("acquisition", sa.JSON(none_as_null=True), nullable=True))
        batch.add_column(sa.Column("verification", sa.String(length=16), nullable=True))
        batch.add_column(
            sa.Column("verification_detail", sa.JSON(none_as_null=True), nullable=True)
        )
        batch.add_column(sa.Column("verified_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("exhibit") as batch:
        batch.drop_column("verified_at")
        batch.drop_column("verification_detail")
        batch.drop_column("verification")
        batch.drop_column("acquisition")
