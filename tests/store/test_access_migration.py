"""The case-membership revision on a populated workspace (SQLite and PostgreSQL): existing
examiners and victim-identification specialists keep every case they could see before,
admins and auditors get no membership row, and going down and up again works."""

from __future__ import annotations

from sqlalchemy import inspect, select, text

from tantalio.store import access, migrate
from tantalio.store import auth as store_auth
from tantalio.store.cases import Case
from tantalio.store.workspace import open_workspace

REVISION = "4bfc656213af"
BEFORE = "7bcab1f3c896"


def test_existing_users_keep_their_cases_after_the_upgrade(db_url: str) -> None:
    with open_workspace(db_url) as ws:
        migrate.downgrade(ws.engine, BEFORE)
        assert not inspect(ws.engine).has_table("case_member")
        with ws.engine.begin() as conn:  # the workspace as an older release wrote it
            for ref in ("A-1", "B-2"):
                conn.execute(
                    text('INSERT INTO "case" (reference, created_at) VALUES (:r, :t)'),
                    {"r": ref, "t": "2026-01-01 00:00:00"},
                )
            for name, role in [("erin", "examiner"), ("vicky", "victim-id"),
                               ("root", "admin"), ("otto", "auditor")]:  # fmt: skip
                conn.execute(
                    text(
                        "INSERT INTO app_user (username, role, password_hash, disabled, "
                        "must_change_password, blur, grayscale, created_at) "
                        "VALUES (:u, :r, 'x', false, false, 12, true, :t)"
                    ),
                    {"u": name, "r": role, "t": "2026-01-01 00:00:00"},
                )
        assert migrate.upgrade(ws.engine) is True
        assert migrate.current_revisions(ws.engine) == migrate.head_revisions()
        with ws.session() as db:
            members = {
                (u.username, c.reference)
                for c in db.scalars(select(Case))
                for u, _m in access.case_members(db, c.id)
            }
            assert members == {("erin", "A-1"), ("erin", "B-2"), ("vicky", "A-1"),
                               ("vicky", "B-2")}  # fmt: skip
            row = access.case_members(db, db.scalar(select(Case.id).where(Case.reference == "A-1")))
            assert {m.granted_by for _u, m in row} == {"(migration)"}
            assert row[0][1].granted_at.year >= 2026
            root = store_auth.get_user(db, "root")
            assert root is not None and access.visible_case_ids(db, root) is None


def test_the_revision_goes_down_and_up_again(db_url: str) -> None:
    with open_workspace(db_url) as ws:
        with ws.transaction() as db:
            access.set_home_agency(db, "Test Agency", "de")
        migrate.downgrade(ws.engine, BEFORE)
        tables = set(inspect(ws.engine).get_table_names())
        assert "case_member" not in tables and "home_agency" not in tables
        assert migrate.upgrade(ws.engine) is True
        assert {"case_member", "home_agency"} <= set(inspect(ws.engine).get_table_names())
        with ws.session() as db:
            assert access.home_agency(db) is None  # the downgrade forgot it; agency rows stay
            agency = access.get_agency(db, "Test Agency")
            assert agency is not None and agency.country == "DE"
