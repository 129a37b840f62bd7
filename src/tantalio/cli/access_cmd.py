"""`tantalio case grant | revoke | members` and `tantalio agency set | show`: who may see which
case in the web app, and the agency the workspace works for (issues 11 and 14).

The case commands join the `case` group of workspace_cmd; every grant and revoke is an audit
event by `cli:<login name>`.
"""

from __future__ import annotations

from pathlib import Path

import typer

from tantalio.cli.web_cmd import _cli_actor
from tantalio.cli.workspace_cmd import WorkspaceOpt, case_app, fail, open_cli_workspace

agency_app = typer.Typer(help="The agency this workspace works for.", no_args_is_help=True)


def _change(case: str, username: str, grant: bool, workspace: Path | None) -> None:
    from tantalio.store import access, repo
    from tantalio.store import auth as store_auth

    with open_cli_workspace(workspace) as ws, ws.transaction() as s:
        try:
            found = repo.get_case(s, case)
        except repo.NotFound as exc:
            fail(str(exc))
        user = store_auth.get_user(s, username)
        if user is None:
            fail(f"no user {username!r} (see `tantalio user list`)")
        if grant and user.role == "auditor":
            fail(f"{user.username} is an auditor: auditors read the audit log, not cases")
        change = access.grant if grant else access.revoke
        changed = change(s, found, user, by_name=_cli_actor())
    if grant:
        what = "is now a member of" if changed else "is a member already of"
    else:
        what = "is no longer a member of" if changed else "was no member of"
    typer.echo(f"{user.username} {what} case {case!r}")


@case_app.command("grant")
def case_grant(
    case: str = typer.Argument(..., help="Case reference."),
    username: str = typer.Argument(..., help="Web app user (see `tantalio user list`)."),
    workspace: WorkspaceOpt = None,
) -> None:
    """Let a user see a case in the web app (audited)."""
    _change(case, username, True, workspace)


@case_app.command("revoke")
def case_revoke(
    case: str = typer.Argument(..., help="Case reference."),
    username: str = typer.Argument(..., help="Web app user."),
    workspace: WorkspaceOpt = None,
) -> None:
    """End a user's access to a case (audited)."""
    _change(case, username, False, workspace)


@case_app.command("members")
def case_members(
    case: str = typer.Argument(..., help="Case reference."), workspace: WorkspaceOpt = None
) -> None:
    """List who may see a case (admins see every case without being listed)."""
    from tantalio.store import access, repo

    with open_cli_workspace(workspace) as ws, ws.session() as s:
        try:
            found = repo.get_case(s, case)
        except repo.NotFound as exc:
            fail(str(exc))
        rows = access.case_members(s, found.id)
    if not rows:
        typer.echo(f"case {case!r} has no member: only admins see it (`tantalio case grant`)")
        return
    typer.echo(f"{'username':<20} {'role':<10} {'granted (UTC)':<17} by")
    for user, member in rows:
        when = member.granted_at.strftime("%Y-%m-%d %H:%M")
        typer.echo(f"{user.username:<20} {user.role:<10} {when:<17} {member.granted_by or ''}")


@agency_app.command("set")
def agency_set(
    name: str = typer.Argument(..., help="The agency's name, e.g. 'BKA SO12'."),
    country: str | None = typer.Option(None, "--country", help="ISO 3166-1 code, e.g. DE."),
    workspace: WorkspaceOpt = None,
) -> None:
    """Name the workspace's agency; users and cases without an agency join it."""
    from tantalio.store import access
    from tantalio.store import audit as store_audit

    with open_cli_workspace(workspace) as ws, ws.transaction() as s:
        try:
            agency = access.set_home_agency(s, name, country)
        except ValueError as exc:
            fail(str(exc))
        store_audit.audit(
            s,
            "agency.set",
            username=_cli_actor(),
            object_type="agency",
            object_id=agency.id,
            detail={"name": agency.name, "country": agency.country},
        )
        label = f"{agency.name} ({agency.country})" if agency.country else agency.name
    typer.echo(f"workspace agency: {label}")


@agency_app.command("show")
def agency_show(workspace: WorkspaceOpt = None) -> None:
    """Print the workspace's agency and every agency known to it."""
    from tantalio.store import access

    with open_cli_workspace(workspace) as ws, ws.session() as s:
        home = access.home_agency(s)
        rows = [(a.id, a.name, a.country) for a in access.list_agencies(s)]
    if home is None:
        typer.echo("workspace agency: not set (`tantalio agency set NAME --country CC`)")
    for aid, name, country in rows:
        mark = "*" if home is not None and aid == home.id else " "
        typer.echo(f"{mark} {name}{f' ({country})' if country else ''}")


def register(app: typer.Typer) -> None:
    app.add_typer(agency_app, name="agency")
