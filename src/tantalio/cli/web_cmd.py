"""`tantalio serve`, `tantalio user add/list/disable/enable`, `tantalio audit verify`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

WorkspaceOpt = Annotated[
    str | None,
    typer.Option(
        "-w",
        "--workspace",
        envvar="TANTALIO_WORKSPACE",
        help="Workspace directory (or TANTALIO_WORKSPACE); TANTALIO_DB may name PostgreSQL.",
    ),
]

user_app = typer.Typer(help="Manage the web application's users.", no_args_is_help=True)
audit_app = typer.Typer(help="Check the hash-chained audit log.", no_args_is_help=True)


def _open(workspace: str | None):  # type: ignore[no-untyped-def]
    from tantalio.store.workspace import WorkspaceError, open_workspace, resolve_workspace

    try:
        return open_workspace(resolve_workspace(workspace))
    except WorkspaceError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc


def _cli_actor() -> str:
    from tantalio.cli.actor import cli_username

    return cli_username()


def serve(
    workspace: WorkspaceOpt = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    ssl_certfile: Annotated[
        Path | None, typer.Option(help="Serve HTTPS with this certificate.")
    ] = None,
    ssl_keyfile: Annotated[Path | None, typer.Option(help="Private key of --ssl-certfile.")] = None,
    proxy_headers: Annotated[
        bool,
        typer.Option(help="Trust X-Forwarded-Proto/For from a local reverse proxy (TLS there)."),
    ] = False,
    evidence_root: Annotated[
        list[Path] | None,
        typer.Option(
            "--evidence-root",
            help="A folder the browser may ingest from (repeatable); without one the web "
            "ingest form is off.",
        ),
    ] = None,
) -> None:
    """Serve the examiner web application over a workspace."""
    import uvicorn

    from tantalio.store.auth import bootstrap_admin
    from tantalio.web.app import WebSettings, create_app

    roots = [root.expanduser().resolve() for root in evidence_root or []]
    for root in roots:
        if not root.is_dir():
            typer.echo(f"error: --evidence-root {root}: not a folder", err=True)
            raise typer.Exit(2)
    ws = _open(workspace)
    with ws.session() as db:
        password = bootstrap_admin(db)
    if password:
        typer.echo("First start: created the account 'admin' with the one-time password")
        typer.echo(f"    {password}")
        typer.echo("It is shown only now; change it at the first login.")
    scheme = "https" if ssl_certfile else "http"
    if host not in ("127.0.0.1", "localhost", "::1") and not ssl_certfile and not proxy_headers:
        typer.echo(
            "warning: serving plain HTTP on a network address; use --ssl-certfile/--ssl-keyfile "
            "or a TLS reverse proxy with --proxy-headers",
            err=True,
        )
    typer.echo(f"tantalio web app on {scheme}://{host}:{port}/ (workspace: {ws.dir or ws.url})")
    if roots:
        typer.echo("browser ingest from: " + ", ".join(str(r) for r in roots))
    else:
        typer.echo("browser ingest is off (no --evidence-root)")
    uvicorn.run(
        create_app(ws, WebSettings(evidence_roots=roots)),
        host=host,
        port=port,
        log_level="info",
        ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
        ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None,
        proxy_headers=proxy_headers,
        forwarded_allow_ips="127.0.0.1" if proxy_headers else None,
        server_header=False,
    )


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="Login name of the new user.")],
    role: Annotated[
        str, typer.Option("--role", "-r", help="admin, examiner, victim-id or auditor")
    ],
    name: Annotated[str | None, typer.Option("--name", help="Display name.")] = None,
    agency: Annotated[
        str | None,
        typer.Option("--agency", help="The user's agency (default: the workspace's own)."),
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input.")
    ] = False,
    workspace: WorkspaceOpt = None,
) -> None:
    """Add a user; without --password-stdin a one-time password is generated and printed."""
    import secrets

    from tantalio.store import audit as store_audit
    from tantalio.store import auth as store_auth

    password = sys.stdin.readline().rstrip("\n") if password_stdin else secrets.token_urlsafe(12)
    ws = _open(workspace)
    try:
        with ws.transaction() as db:
            from tantalio.store.access import ensure_agency

            agency_id = ensure_agency(db, agency).id if agency else None
            user = store_auth.create_user(
                db,
                username,
                password,
                role,
                display_name=name,
                agency_id=agency_id,
                must_change_password=not password_stdin,
            )
            store_audit.audit(
                db,
                "user.create",
                username=_cli_actor(),
                object_type="user",
                object_id=user.id,
                detail={"username": user.username, "role": user.role, "agency": agency},
            )
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from exc
    finally:
        ws.close()
    typer.echo(f"added {user.username} ({user.role}{f', {agency}' if agency else ''})")
    if user.role in ("examiner", "victim-id"):
        typer.echo(f"grant cases with `tantalio case grant CASE {user.username}`")
    if not password_stdin:
        typer.echo(f"one-time password: {password}")


@user_app.command("list")
def user_list(workspace: WorkspaceOpt = None) -> None:
    """List users: name, role, status, last login (UTC)."""
    from tantalio.store import auth as store_auth

    ws = _open(workspace)
    with ws.session() as db:
        users = store_auth.list_users(db)
    ws.close()
    typer.echo(f"{'username':<20} {'role':<10} {'status':<9} last login")
    for u in users:
        status = "disabled" if u.disabled else "active"
        last = u.last_login_at.strftime("%Y-%m-%d %H:%M") if u.last_login_at else "-"
        typer.echo(f"{u.username:<20} {u.role:<10} {status:<9} {last}")


def _set_disabled(username: str, disabled: bool, workspace: str | None) -> None:
    from tantalio.store import audit as store_audit
    from tantalio.store import auth as store_auth

    ws = _open(workspace)
    try:
        with ws.transaction() as db:
            user = store_auth.get_user(db, username)
            if user is None:
                typer.echo(f"error: no user {username!r}", err=True)
                raise typer.Exit(1)
            store_auth.set_disabled(db, user, disabled)
            store_audit.audit(
                db,
                "user.disable" if disabled else "user.enable",
                username=_cli_actor(),
                object_type="user",
                object_id=user.id,
                detail={"username": user.username},
            )
    finally:
        ws.close()
    typer.echo(f"{'disabled' if disabled else 'enabled'} {username.lower()}")


@user_app.command("disable")
def user_disable(
    username: Annotated[str, typer.Argument(help="User to disable.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Disable a user: their sessions and API tokens stop working at once."""
    _set_disabled(username, True, workspace)


@user_app.command("enable")
def user_enable(
    username: Annotated[str, typer.Argument(help="User to enable again.")],
    workspace: WorkspaceOpt = None,
) -> None:
    """Enable a disabled user again (API tokens stay revoked)."""
    _set_disabled(username, False, workspace)


@audit_app.command("verify")
def audit_verify(
    expect: list[str] = typer.Option(
        [],
        "--expect",
        help="SEQ:HASH of a head kept elsewhere (printed by this command, in reports and "
        "exports): the log must still hold that event with that hash. Repeatable.",
    ),
    workspace: WorkspaceOpt = None,
) -> None:
    """Recompute the audit chain and check it against the signed checkpoints kept outside the
    database and any --expect head; print the head. Exit status 1 and the broken rows when it
    was tampered with."""
    from tantalio.store import audit as store_audit

    try:
        heads = [store_audit.parse_head(e) for e in expect]
    except ValueError as exc:
        typer.echo(f"error: --expect {exc}", err=True)
        raise typer.Exit(2) from None
    ws = _open(workspace)
    with ws.session() as db:
        result = store_audit.verify_audit_chain(db, anchor=ws.anchor, expect=heads)
    ws.close()
    typer.echo(f"head: {result.head_seq}:{result.head_hash}")
    if result.anchor:
        typer.echo(f"checkpoints: {result.checkpoints} in {result.anchor}")
    for note in result.notes:
        typer.echo(f"note: {note}", err=True)
    if result.ok:
        typer.echo(f"audit log intact: {result.events} events, head {result.head_seq}")
        return
    typer.echo(f"audit log BROKEN ({result.events} events read):", err=True)
    for problem in result.problems:
        typer.echo(f"  {problem}", err=True)
    raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(user_app, name="user")
    app.add_typer(audit_app, name="audit")
