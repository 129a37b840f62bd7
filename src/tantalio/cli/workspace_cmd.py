"""`tantalio init | case | ingest | triage | report | export`: the case workspace commands.

Also the shared `-w/--workspace` option: other command modules use `WorkspaceOpt` and
`open_cli_workspace(workspace)` so every command finds its workspace the same way
(option, else TANTALIO_WORKSPACE, else the current directory when it is one).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

if TYPE_CHECKING:
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
    agency: str | None = typer.Option(
        None, "--agency", help="The agency this workspace works for (or later: `agency set`)."
    ),
    country: str | None = typer.Option(
        None, "--country", help="The agency's ISO 3166-1 country code, e.g. DE."
    ),
) -> None:
    """Create a workspace: a database plus index files in DIR."""
    from tantalio.store.access import set_home_agency
    from tantalio.store.workspace import WorkspaceError, init_workspace

    if country and not agency:
        fail("--country needs --agency")
    try:
        ws = init_workspace(directory, db)
    except WorkspaceError as exc:
        fail(str(exc))
    backend = ws.engine.dialect.name
    try:
        if agency:
            with ws.transaction() as s:
                set_home_agency(s, agency, country)
    except ValueError as exc:
        fail(str(exc))
    finally:
        ws.close()
    typer.echo(f"workspace ready: {directory} ({backend})")
    if agency:
        typer.echo(f"workspace agency: {agency}{f' ({country.upper()})' if country else ''}")


case_app = typer.Typer(help="Create and list cases.", no_args_is_help=True)


@case_app.command("create")
def case_create(
    reference: str = typer.Argument(..., help="Case reference (how commands name the case)."),
    title: str | None = typer.Option(None, "--title", help="Descriptive title."),
    member: list[str] | None = typer.Option(
        None, "--member", help="Web app user who may see the case (repeatable; audited)."
    ),
    workspace: WorkspaceOpt = None,
) -> None:
    """Create a case (ingest also creates one on first use; then `case grant` gives access)."""
    from tantalio.cli.web_cmd import _cli_actor
    from tantalio.store import access
    from tantalio.store.auth import get_user
    from tantalio.store.repo import ensure_case

    with open_cli_workspace(workspace) as ws, ws.transaction() as s:
        users = [(name, get_user(s, name)) for name in member or []]
        missing = [name for name, user in users if user is None]
        if missing:
            fail(f"no user {', '.join(map(repr, missing))} (see `tantalio user list`)")
        case, created = ensure_case(s, reference, title)
        for _name, user in users:
            assert user is not None
            access.grant(s, case, user, by_name=_cli_actor())
    typer.echo(f"case {reference!r} {'created' if created else 'exists already'}")
    for name in member or []:
        typer.echo(f"member: {name.lower()}")


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
    dask: str | None = typer.Option(
        None,
        "--dask",
        help="Run the per-file work on a Dask scheduler (e.g. tcp://10.0.0.5:8786); workers "
        "must see folder sources at the same paths, or use --dask-send-bytes.",
    ),
    dask_local: int = typer.Option(
        0, "--dask-local", help="Start a local Dask cluster of N worker processes.", min=0
    ),
    dask_send_bytes: bool = typer.Option(
        False, "--dask-send-bytes", help="Ship folder files' bytes to the Dask workers."
    ),
    workspace: WorkspaceOpt = None,
) -> None:
    """Ingest evidence sources into a case: fingerprint, match, give every file a verdict.

    Resumable: running it again adds nothing twice and finishes an interrupted run."""
    from tantalio.evidence import EvidenceSourceError
    from tantalio.triage.pipeline import IngestOptions
    from tantalio.triage.pipeline import ingest as run_ingest

    if dask and dask_local:
        fail("--dask and --dask-local exclude each other")
    options = IngestOptions(jobs=jobs, thumbnails=thumbnails, batch_files=batch, progress=progress)
    if dask or dask_local:
        from tantalio.triage.dask_backend import DaskOptions

        options.dask = DaskOptions(dask, dask_local, dask_send_bytes)
    with open_cli_workspace(workspace) as ws:
        try:
            report = run_ingest(ws, case, [str(s) for s in sources], exhibit, options)
        except (EvidenceSourceError, FileNotFoundError, ValueError) as exc:
            fail(str(exc))
    if report.case_created:
        typer.echo(f"created case {case!r}", err=True)
    for message in report.messages:
        typer.echo(f"note: {message}", err=True)
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


def triage(
    case: str = typer.Argument(..., help="Case reference."),
    format: str = typer.Option("table", "--format", help="table | json"),
    verdict: list[str] = typer.Option([], "--verdict", help="Only files with this verdict."),
    workspace: WorkspaceOpt = None,
) -> None:
    """Print the verdict of every file (json: one object per line) or counts (table)."""
    import json

    from tantalio.store.repo import NotFound, get_case
    from tantalio.triage.results import counts_by_exhibit, triage_rows

    if format not in ("table", "json"):
        fail("--format must be table or json")
    with open_cli_workspace(workspace) as ws, ws.session() as s:
        try:
            case_id = get_case(s, case).id
        except NotFound as exc:
            fail(str(exc))
        rows = [r for r in triage_rows(s, case_id) if not verdict or r.verdict in verdict]
    if format == "json":
        for r in rows:
            typer.echo(json.dumps(r.to_json(), ensure_ascii=False))
        return
    typer.echo(render_counts(counts_by_exhibit(rows)))


def render_counts(counts: dict[str, dict[str, int]]) -> str:
    """The summary table: one row per exhibit, one column per verdict, and totals."""
    from tantalio.store.cases import VERDICTS

    used = [v for v in VERDICTS if any(v in per for per in counts.values())]
    used += sorted({v for per in counts.values() for v in per} - set(used))
    width = max([len("exhibit"), len("total"), *(len(e) for e in counts)])
    head = f"{'exhibit':<{width}} " + " ".join(f"{v:>14}" for v in used) + f" {'total':>8}"
    lines = [head, "-" * len(head)]
    totals: dict[str, int] = {}
    for ex, per in counts.items():
        cells = " ".join(f"{per.get(v, 0):>14}" for v in used)
        lines.append(f"{ex:<{width}} {cells} {sum(per.values()):>8}")
        for v, n in per.items():
            totals[v] = totals.get(v, 0) + n
    cells = " ".join(f"{totals.get(v, 0):>14}" for v in used)
    lines += ["-" * len(head), f"{'total':<{width}} {cells} {sum(totals.values()):>8}"]
    return "\n".join(lines)


def report(
    case: str = typer.Argument(..., help="Case reference."),
    out: Path = typer.Option(
        ..., "--out", "-o", help="Directory for report.html, report.pdf and files.csv."
    ),
    pdf: bool = typer.Option(True, "--pdf/--no-pdf", help="Also write report.pdf (A4)."),
    workspace: WorkspaceOpt = None,
) -> None:
    """Write the HTML and PDF report (counts, charts, ranked new media blurred, hash-set
    matches, the examiner's categories and series, chats, audit summary, unreadable files)
    and a CSV of all files."""
    from tantalio.reports.html import build_report
    from tantalio.store.repo import NotFound

    with open_cli_workspace(workspace) as ws, ws.session() as s:
        try:
            written = build_report(ws, s, case, out, pdf=pdf)
        except NotFound as exc:
            fail(str(exc))
    typer.echo(f"report: {written.html}")
    if written.pdf is not None:
        typer.echo(f"pdf:    {written.pdf}")
    elif written.pdf_error:
        typer.echo(f"warning: {written.pdf_error}", err=True)
    typer.echo(f"csv:    {written.csv} ({written.files} files)")


def export(
    case: str = typer.Argument(..., help="Case reference."),
    format: str = typer.Option("vics", "--format", help="Export format: vics (VICS 2.0 US)."),
    out: Path = typer.Option(..., "--out", "-o", help="File to write."),
    workspace: WorkspaceOpt = None,
) -> None:
    """Export the case's media and occurrences (VICS 2.0 JSON, readable back by
    `tantalio hashset import --format vics`)."""
    from tantalio.reports.vics_export import export_vics
    from tantalio.store.repo import NotFound

    if format != "vics":
        fail("only --format vics is supported")
    tmp = out.with_name(out.name + ".partial")
    with open_cli_workspace(workspace) as ws, ws.session() as s:
        try:
            with tmp.open("w", encoding="utf-8") as fh:
                n = export_vics(s, case, fh)
        except NotFound as exc:
            tmp.unlink(missing_ok=True)
            fail(str(exc))
    tmp.replace(out)
    typer.echo(f"exported {n} media to {out}")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(case_app, name="case")
    app.command("ingest")(ingest)
    app.command("triage")(triage)
    app.command("report")(report)
    app.command("export")(export)
