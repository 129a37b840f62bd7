"""case membership and the workspace's agency

Per-case access control (issues 11 and 14): `case_member` lists who may see a case, and
`home_agency` names the agency the workspace works for. So that nobody loses access silently
when a workspace is upgraded, every existing user whose role works on cases (examiner,
victim-id) becomes a member of every existing case (docs/decisions/web.md); admins see all
cases anyway, auditors none. Each such membership is granted by "(migration)".

Revision ID: 4bfc656213af
Revises: 7bcab1f3c896
Create Date: 2026-12-06 20:22:54.923390
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from tantalio.store.timeutil import utcnow

revision: str = "4bfc656213af"
down_revision: str | None = "7bcab1f3c896"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "home_agency",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("agency_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"],
            ["agency.id"],
            name=op.f("fk_home_agency_agency_id_agency"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_home_agency")),
    )
    op.create_table(
        "case_member",
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("granted_at", sa.DateTime(), nullable=False),
        sa.Column("granted_by", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_case_member_case_id_case"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["app_user.id"],
            name=op.f("fk_case_member_user_id_app_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("case_id", "user_id", name=op.f("pk_case_member")),
    )
    with op.batch_alter_table("case_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_member_user_id"), ["user_id"], unique=False)

    _existing_users_keep_their_cases()


def downgrade() -> None:
    with op.batch_alter_table("case_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_member_user_id"))

    op.drop_table("case_member")
    op.drop_table("home_agency")


def _existing_users_keep_their_cases() -> None:
    op.execute(
        sa.text(
            "INSERT INTO case_member (case_id, user_id, granted_at, granted_by) "
            "SELECT c.id, u.id, :now, '(migration)' "
            'FROM "case" c CROSS JOIN app_user u '
            "WHERE u.role IN ('examiner', 'victim-id')"
        ).bindparams(sa.bindparam("now", utcnow(), type_=sa.DateTime()))
    )
