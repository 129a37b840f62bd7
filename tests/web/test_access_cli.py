"""`tantalio case grant | revoke | members`, `case create --member`, `user add --agency`,
`init --agency --country`, `agency set | show` and `serve --evidence-root` (issues 11, 14)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from tantalio.cli.main import app
from tantalio.store import access, repo
from tantalio.store import audit as store_audit
from tantalio.store import auth as store_auth
from tantalio.store.cases import Case
from tantalio.store.workspace import Workspace, open_workspace

runner = CliRunner()


def _run(ws: Workspace, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "-w", str(ws.dir)])
    return result.exit_code, result.output


def test_case_grant_revoke_members_audited(workspace: Workspace) -> None:
    code, out = _run(workspace, "case", "create", "OP-1", "--member", "erin")
    assert code == 0 and "member: erin" in out
    code, out = _run(workspace, "case", "members", "OP-1")
    assert code == 0 and out.splitlines()[1].split()[:2] == ["erin", "examiner"]
    code, out = _run(workspace, "case", "grant", "OP-1", "Vicky")
    assert code == 0 and out.strip() == "vicky is now a member of case 'OP-1'"
    code, out = _run(workspace, "case", "grant", "OP-1", "vicky")
    assert code == 0 and "is a member already" in out
    code, out = _run(workspace, "case", "revoke", "OP-1", "erin")
    assert code == 0 and out.strip() == "erin is no longer a member of case 'OP-1'"
    code, out = _run(workspace, "case", "revoke", "OP-1", "erin")
    assert code == 0 and "was no member" in out
    for args, message in [
        (("case", "grant", "OP-9", "erin"), "no case 'OP-9'"),
        (("case", "grant", "OP-1", "nobody"), "no user 'nobody'"),
        (("case", "grant", "OP-1", "otto"), "auditors read the audit log"),
        (("case", "create", "OP-2", "--member", "ghost"), "no user 'ghost'"),
    ]:
        code, out = _run(workspace, *args)
        assert code == 1 and message in out, (args, out)
    with workspace.session() as db:
        case = repo.get_case(db, "OP-1")
        assert [u.username for u, _m in access.case_members(db, case.id)] == ["vicky"]
        events = [
            e
            for e in reversed(store_audit.list_audit_events(db, action="case.", limit=10))
            if e.action in ("case.grant", "case.revoke")
        ]
        assert [(e.action, json.loads(e.detail)["member"]) for e in events] == [
            ("case.grant", "erin"),
            ("case.grant", "vicky"),
            ("case.revoke", "erin"),
        ]
        assert all(e.username and e.username.startswith("cli") for e in events)
        assert store_audit.verify_audit_chain(db).ok
        assert db.scalar(select(Case.id).where(Case.reference == "OP-2")) is None


def test_init_agency_and_users_of_an_agency(tmp_path: Path) -> None:
    target = tmp_path / "ws"
    result = runner.invoke(app, ["init", str(target), "--agency", "Test Unit", "--country", "ch"])
    assert result.exit_code == 0 and "workspace agency: Test Unit (CH)" in result.output
    ws = open_workspace(target)
    try:
        code, out = _run(ws, "user", "add", "erin", "--role", "examiner")
        assert code == 0 and "tantalio case grant CASE erin" in out
        code, out = _run(ws, "user", "add", "liaison", "--role", "examiner", "--agency", "Other")
        assert code == 0 and "added liaison (examiner, Other)" in out
        code, out = _run(ws, "case", "create", "OP-1")
        assert code == 0
        code, out = _run(ws, "agency", "show")
        assert code == 0 and "* Test Unit (CH)" in out and "  Other" in out
        with ws.session() as db:
            home = access.home_agency(db)
            assert home is not None and home.name == "Test Unit" and home.country == "CH"
            erin = store_auth.get_user(db, "erin")
            liaison = store_auth.get_user(db, "liaison")
            assert erin is not None and erin.agency_id == home.id
            assert liaison is not None and liaison.agency_id != home.id
            assert repo.get_case(db, "OP-1").agency_id == home.id
        code, out = _run(ws, "agency", "set", "Renamed Unit", "--country", "Switzerland")
        assert code == 1 and "two-letter" in out
    finally:
        ws.close()
    result = runner.invoke(app, ["init", str(tmp_path / "ws2"), "--country", "DE"])
    assert result.exit_code == 1 and "--country needs --agency" in result.output


def test_agency_set_on_an_existing_workspace(workspace: Workspace) -> None:
    code, out = _run(workspace, "agency", "show")
    assert code == 0 and "not set" in out
    code, out = _run(workspace, "agency", "set", "Late Unit", "--country", "at")
    assert code == 0 and "workspace agency: Late Unit (AT)" in out
    with workspace.session() as db:
        home = access.home_agency(db)
        assert home is not None
        # users created before the agency was named join it
        assert {u.agency_id for u in store_auth.list_users(db)} == {home.id}
        assert store_audit.list_audit_events(db, action="agency.set", limit=1)


def test_serve_refuses_an_evidence_root_that_is_no_folder(workspace: Workspace) -> None:
    code, out = _run(workspace, "serve", "--evidence-root", "/nonexistent/evidence")
    assert code == 2 and "--evidence-root /nonexistent/evidence: not a folder" in out
