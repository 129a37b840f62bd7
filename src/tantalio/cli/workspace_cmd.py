"""`tantalio init | case | ingest | triage | report | export`: the case workspace commands.

Also the shared `-w/--workspace` option: other command modules use `WorkspaceOpt` and
`open_cli_workspace(workspace)` so every command finds its workspace the same way
(option, else TANTALIO_WORKSPACE, else the current directory when it is one).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from tantalio.store.workspace import Workspace

WorkspaceOpt = Annotated[
    Path | None,
    typer.Option(
        "--workspace",
        "-w",
        envvar="TANTALIO_WORKSPACE",
        help="Workspace directory (default: $TANTALIO_WORKSPACE, else the current directory).",
        show_default=False,
    ),
]


def fail(message: str, code: int = 1) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def open_cli_workspace(workspace: Path | None) -> Iterator[Workspace]:
    """Open the command's workspace or exit with a message saying how to make one."""
    from tantalio.store.workspace import WorkspaceError, open_workspace, resolve_workspace

    try:
        ws = open_workspace(resolve_workspace(workspace))
    except WorkspaceError as exc:
        fail(str(exc))
    try:
        yield ws
    finally:
        ws.close()


def init(
    directory: Path = typer.Argument(..., help="Directory of the new workspace."),
    db: str | None = typer.Option(
        None, "--db", help="Database URL to record (default: SQLite inside DIR)."
    ),
) -> None:
    """Create a workspace: a database plus index files in DIR."""
    from tantalio.store.workspace import WorkspaceError, init_workspace

    try:
        ws = init_workspace(directory, db)
    except WorkspaceError as exc:
        fail(str(exc))
    backend = ws.engine.dialect.name
    ws.close()
    typer.echo(f"workspace ready: {directory} ({backend})")


case_app = typer.Typer(help="Create and list cases.", no_args_is_help=True)


@case_app.command("create")
def case_create(
    reference: str = typer.Argument(..., help="Case reference (how commands name the case)."),
    title: str | None = typer.Option(None, "--title", help="Descriptive title."),
    workspace: WorkspaceOpt = None,
) -> None:
    """Create a case (ingest also creates one on first use)."""
    from tantalio.store.repo import ensure_case

    with open_cli_workspace(workspace) as ws, ws.transaction() as s:
        _case, created = ensure_case(s, reference, title)
    typer.echo(f"case {reference!r} {'created' if created else 'exists already'}")


@case_app.command("list")
def case_list(workspace: WorkspaceOpt = None) -> None:
    """List the cases with their numbers of exhibits and files."""
    from tantalio.store.repo import list_cases

    with open_cli_workspace(workspace) as ws, ws.session() as s:
        rows = list_cases(s)
    if not rows:
        typer.echo("no cases yet (`tantalio ingest CASE SOURCE...` creates one)")
        return
    typer.echo(f"{'case':<24} {'exhibits':>8} {'files':>9}  title")
    for case, exhibits, files in rows:
        typer.echo(f"{case.reference:<24} {exhibits:>8} {files:>9}  {case.title or ''}")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(case_app, name="case")
