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


def ingest(
    case: str = typer.Argument(..., help="Case reference (created on first use)."),
    sources: list[Path] = typer.Argument(..., help="Folders, archives, dd or E01 images."),
    exhibit: str | None = typer.Option(
        None, "--exhibit", help="Exhibit label (default: each source's name)."
    ),
    jobs: int = typer.Option(0, "--jobs", "-j", help="Worker processes (0: all cores)."),
    thumbnails: bool = typer.Option(True, "--thumbnails/--no-thumbnails"),
    batch: int = typer.Option(500, "--batch", help="Files per committed batch."),
    progress: bool | None = typer.Option(
        None, "--progress/--no-progress", help="Progress bar (default: when on a terminal)."
    ),
    workspace: WorkspaceOpt = None,
) -> None:
    """Ingest evidence sources into a case: fingerprint, match, give every file a verdict.

    Resumable: running it again adds nothing twice and finishes an interrupted run."""
    from tantalio.evidence import EvidenceSourceError
    from tantalio.triage.pipeline import IngestOptions
    from tantalio.triage.pipeline import ingest as run_ingest

    options = IngestOptions(jobs=jobs, thumbnails=thumbnails, batch_files=batch, progress=progress)
    with open_cli_workspace(workspace) as ws:
        try:
            report = run_ingest(ws, case, [str(s) for s in sources], exhibit, options)
        except (EvidenceSourceError, FileNotFoundError, ValueError) as exc:
            fail(str(exc))
    if report.case_created:
        typer.echo(f"created case {case!r}", err=True)
    for ex in report.exhibits:
        for message in ex.messages:
            typer.echo(f"{ex.label}: {message}", err=True)
        typer.echo(
            f"{ex.label}: {ex.seen} files, {ex.added} added, {ex.skipped} already stored, "
            f"{ex.new_media} new media, {ex.unreadable} unreadable"
        )
    rate = report.files / report.seconds if report.seconds > 0 else 0.0
    typer.echo(
        f"{report.files} files, {report.bytes / 1e6:,.1f} MB in {report.seconds:,.1f} s "
        f"({rate:,.0f} files/s)"
    )
    typer.echo("verdicts: " + ", ".join(f"{k} {v}" for k, v in _ordered(report.verdicts)))


def _ordered(counts: dict[str, int]) -> list[tuple[str, int]]:
    from tantalio.store.cases import VERDICTS

    return [(v, counts[v]) for v in VERDICTS if counts.get(v)]


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(case_app, name="case")
    app.command("ingest")(ingest)
