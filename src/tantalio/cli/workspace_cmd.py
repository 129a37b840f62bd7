"""`tantalio init | case | ingest | triage | verify | report | export`: the case workspace commands.

Also the shared `-w/--workspace` option: other command modules use `WorkspaceOpt` and
`open_cli_workspace(workspace)` so every command finds its workspace the same way
(option, else TANTALIO_WORKSPACE, else the current directory when it is one).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from tantalio.cli.actor import AsOpt, cli_actor, record
from tantalio.cli.exits import JOBS_HELP, fail, usage

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
    as_user: AsOpt = None,
) -> None:
    """Create a case (ingest also creates one on first use; then `case grant` gives access)."""
    from tantalio.cli.web_cmd import _cli_actor
    from tantalio.store import access
    from tantalio.store.audit import audit_actor
    from tantalio.store.auth import get_user
    from tantalio.store.repo import ensure_case

    with open_cli_workspace(workspace) as ws, ws.transaction() as s:
        users = [(name, get_user(s, name)) for name in member or []]
        missing = [name for name, user in users if user is None]
        if missing:
            fail(f"no user {', '.join(map(repr, missing))} (see `tantalio user list`)")
        case_row, created = ensure_case(s, reference, title)
        if created:
            audit_actor(
                s,
                cli_actor(as_user),
                "case.create",
                object_type="case",
                object_id=case_row.id,
                detail={"reference": reference},
            )
        for _name, user in users:
            assert user is not None
            access.grant(s, case_row, user, by_name=_cli_actor())
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
    sources: list[Path] | None = typer.Argument(
        None, help="Folders, archives, dd or E01 images (none with --finish)."
    ),
    exhibit: str | None = typer.Option(
        None, "--exhibit", help="Exhibit label (default: each source's name)."
    ),
    jobs: int = typer.Option(0, "--jobs", "-j", min=0, help=JOBS_HELP),
    thumbnails: bool = typer.Option(
        True, "--thumbnails/--no-thumbnails", help="Store a preview of each new picture or video."
    ),
    local_features: bool = typer.Option(
        True,
        "--local-features/--no-local-features",
        help="Verify pictures exact hashes and PDQ did not match by local features against "
        "reference files (hash sets made with `hashset create`).",
    ),
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
    verify: bool = typer.Option(
        True,
        "--verify/--no-verify",
        help="Read each disk image whole against the hashes it stores (E01 MD5/SHA-1); "
        "skipped, the exhibit stays 'not verified' until `tantalio verify`.",
    ),
    max_archive_depth: int | None = typer.Option(
        None,
        "--max-archive-depth",
        min=1,
        help="Expand archives nested up to this deep (default 4); deeper ones are listed, "
        "not expanded.",
    ),
    max_ratio: float | None = typer.Option(
        None,
        "--max-ratio",
        min=1.0,
        help="Compression ratio above which an archive member is refused as a bomb (default 100).",
    ),
    disk_timeout: float | None = typer.Option(
        None,
        "--disk-timeout",
        min=1.0,
        help="Seconds The Sleuth Kit may spend on one step of a disk image (listing a folder, "
        "reading a file) before that image's listing is stopped (default 60): a damaged file "
        "system can make it loop forever. Raise it for evidence on slow storage.",
    ),
    classify: bool = typer.Option(
        True,
        "--classify/--no-classify",
        help="Score new media with the classifier plug-ins (see `tantalio classify --list`); "
        "their bonuses rank new media.",
    ),
    chat_key: list[str] = typer.Option(
        [],
        "--chat-key",
        help="Key for encrypted chat sources: [PATTERN=]FILE|HEX (a key file or 64 hex "
        "digits; PATTERN a glob on the path inside the exhibit). Repeatable; never stored.",
    ),
    fast: bool = typer.Option(
        False,
        "--fast",
        help="A first pass at disk speed: one read per file for MD5/SHA-1/SHA-256 and the "
        "type, exact known/known-good matching and verdicts; nothing decoded (no PDQ, vPDQ, "
        "thumbnails, chats, classifiers, image verification). Run the same command again "
        "without --fast for the second pass: it decodes only the images and videos the "
        "fast pass left pending (unsettled by exact matches first, newest first), or "
        "use --finish.",
    ),
    finish: bool = typer.Option(
        False,
        "--finish",
        help="The second pass after --fast without naming the sources again: every exhibit "
        "of the case a fast pass left pending is read again from the source path the "
        "workspace recorded (read-only); a source file changed or gone since is reported "
        "and stays pending; stored hashes are never recomputed.",
    ),
    workspace: WorkspaceOpt = None,
    as_user: AsOpt = None,
) -> None:
    """Ingest evidence sources into a case: fingerprint, match, give every file a verdict.

    Resumable: running it again adds nothing twice and finishes an interrupted run (after
    `--fast`, a run without it is the perceptual second pass)."""
    from tantalio.chats.keys import ChatKeyError, KeyRing
    from tantalio.evidence import EvidenceSourceError
    from tantalio.store.errors import ConnectionLostError, DiskFullError
    from tantalio.triage.pipeline import IngestOptions, finish_pending
    from tantalio.triage.pipeline import ingest as run_ingest

    if dask and dask_local:
        usage("--dask and --dask-local exclude each other")
    if fast and (dask or dask_local):
        usage("--fast runs on this machine's cores; leave out --dask/--dask-local")
    if finish and (fast or sources or exhibit):
        usage("--finish takes the case only: no sources, --exhibit or --fast")
    if not finish and not sources:
        usage("name the evidence sources (or --finish after a --fast pass)")
    try:
        KeyRing.parse(chat_key)  # a bad key value fails now, not after the whole ingest
    except ChatKeyError as exc:
        usage(f"--chat-key: {exc}")
    options = IngestOptions(
        jobs=jobs,
        thumbnails=thumbnails,
        local_features=local_features,
        batch_files=batch,
        progress=progress,
        chat_keys=tuple(chat_key),
        verify_images=verify,
        classify=classify,
        fast=fast,
    )
    changes: dict[str, Any] = {}
    if max_archive_depth is not None:
        changes["max_depth"] = max_archive_depth
    if max_ratio is not None:
        changes["max_ratio"] = max_ratio
    if disk_timeout is not None:
        changes["disk_timeout"] = disk_timeout
    if changes:
        import dataclasses

        from tantalio.evidence import EvidenceLimits

        options.limits = dataclasses.replace(EvidenceLimits(), **changes)
    if dask or dask_local:
        from tantalio.triage.dask_backend import DaskOptions

        options.dask = DaskOptions(dask, dask_local, dask_send_bytes)
    actor = cli_actor(as_user)
    paths = [str(s) for s in sources or []]
    with open_cli_workspace(workspace) as ws:
        record(ws, actor, "ingest.start", case=case, sources=paths, exhibit=exhibit)
        try:
            if finish:
                report = finish_pending(ws, case, options)
            else:
                report = run_ingest(ws, case, paths, exhibit, options)
        except (
            EvidenceSourceError,
            FileNotFoundError,
            LookupError,  # --finish: no such case
            ValueError,
            DiskFullError,
            ConnectionLostError,
        ) as exc:
            # a full disk or a lost database may refuse the record too
            with contextlib.suppress(Exception):
                record(ws, actor, "ingest.failed", case=case, sources=paths, error=str(exc))
            fail(str(exc))
        record(
            ws,
            actor,
            "ingest.finish",
            case=case,
            sources=paths,
            exhibits=[e.label for e in report.exhibits],
            files=report.files,
            new_media=sum(e.new_media for e in report.exhibits),
            verdicts=report.verdicts,
        )
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
            + (f", {ex.completed} decoded after a fast pass" if ex.completed else "")
            + (f"; image {ex.verification.upper()}" if ex.verification else "")
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
    verdict: list[str] = typer.Option(
        [],
        "--verdict",
        help="Only files with this verdict (repeatable; e.g. new, known, near-known); an "
        "unknown value is refused with the list of verdicts.",
    ),
    workspace: WorkspaceOpt = None,
) -> None:
    """Print the verdict of every file (json: one object per line) or counts (table).

    JSON lists the settled files in exhibit and path order, then the new media ranked by
    priority, highest first (as the report ranks them)."""
    import json

    from tantalio.store.cases import VERDICTS
    from tantalio.store.repo import NotFound, get_case
    from tantalio.triage.results import counts_by_exhibit, review_order, triage_rows

    if format not in ("table", "json"):
        usage("--format must be table or json")
    known_verdicts = (*VERDICTS, "pending")
    for v in verdict:
        if v not in known_verdicts:
            usage(f"--verdict {v!r} is not a verdict; one of: {', '.join(known_verdicts)}")
    with open_cli_workspace(workspace) as ws, ws.session() as s:
        try:
            case_id = get_case(s, case).id
        except NotFound as exc:
            fail(str(exc))
        rows = [r for r in triage_rows(s, case_id) if not verdict or r.verdict in verdict]
        images = verification_lines(s, case_id)
    if format == "json":
        rows = review_order(rows)
        for r in rows:
            typer.echo(json.dumps(r.to_json(), ensure_ascii=False))
        return
    typer.echo(render_counts(counts_by_exhibit(rows)))
    for line in images:
        typer.echo(line)


def verification_lines(session: Any, case_id: int) -> list[str]:
    """One line per exhibit that is a disk image recording hashes: match / mismatch / not
    verified, with what differs."""
    from tantalio.store.repo import case_exhibits

    lines = []
    for ex in case_exhibits(session, case_id):
        if ex.verification is None:
            continue
        detail = ex.verification_detail or {}
        problems = "; ".join(detail.get("problems", [])[:3])
        lines.append(
            f"image {ex.label}: {ex.verification.upper()}" + (f" ({problems})" if problems else "")
        )
    return lines


def verify(
    exhibit: str = typer.Argument(..., help="Exhibit label (a disk image ingested before)."),
    case: str | None = typer.Option(None, "--case", help="Case of the exhibit, if ambiguous."),
    source: Path | None = typer.Option(
        None, "--source", help="Where the image is now (default: the path it was ingested from)."
    ),
    workspace: WorkspaceOpt = None,
) -> None:
    """Read a disk image whole against the hashes its acquisition stored (E01 MD5/SHA-1),
    checking every chunk; store and print match / mismatch / not verified.

    Exit code 0 on match, 3 on mismatch, 4 when it cannot be verified."""
    from tantalio.evidence import EvidenceSourceError, verify_source
    from tantalio.store.repo import NotFound, find_exhibit, record_verification

    with open_cli_workspace(workspace) as ws:
        with ws.session() as s:
            try:
                ex = find_exhibit(s, case, exhibit)
            except (NotFound, ValueError) as exc:
                fail(str(exc))
            recorded = [src.path for src in ex.sources] or [ex.source_path or ""]
            if source is None and len(recorded) > 1:
                fail(
                    f"{exhibit!r} was read from {len(recorded)} sources "
                    f"({', '.join(recorded)}): name the image with --source"
                )
            exhibit_id, path = ex.id, str(source or recorded[0])
        try:
            outcome = verify_source(path)
        except EvidenceSourceError as exc:
            fail(f"cannot verify {exhibit!r}: {exc}")
        if outcome is None:
            fail(f"{exhibit!r} ({path}) is not a disk image that records hashes", code=4)
        with ws.transaction() as s:
            record_verification(s, exhibit_id, outcome.to_json())
    typer.echo(f"{exhibit}: {outcome.summary()}")
    for algo in ("md5", "sha1"):
        for what, values in (("stored", outcome.stored), ("read", outcome.computed)):
            if algo in values:
                typer.echo(f"  {algo.upper():<4} {what:<6} {values[algo]}")
    if outcome.status != "match":
        raise typer.Exit(3 if outcome.status == "mismatch" else 4)


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
    lang: str | None = typer.Option(
        None,
        "--lang",
        metavar="en|es|pt",
        help="Language of the report's own words (evidence stays as written); default: the "
        "language setting of the --as user, else en.",
        show_default=False,
    ),
    workspace: WorkspaceOpt = None,
    as_user: AsOpt = None,
) -> None:
    """Write the HTML and PDF report (counts, charts, ranked new media blurred, hash-set
    matches, the examiner's categories and series, chats, audit summary, unreadable files)
    and a CSV of all files."""
    from tantalio.reports.html import build_report
    from tantalio.store.auth import get_user
    from tantalio.store.repo import NotFound
    from tantalio.web.i18n import LOCALES

    if lang is not None and lang not in LOCALES:
        fail(f"--lang: unknown language {lang!r}; use one of {', '.join(LOCALES)}")
    actor = cli_actor(as_user)
    with open_cli_workspace(workspace) as ws:
        with ws.session() as s:
            if lang is None:  # the acting examiner's setting, as the web app would use
                user = get_user(s, actor.on_behalf_of) if actor.on_behalf_of else None
                lang = user.locale if user is not None and user.locale in LOCALES else "en"
            try:
                written = build_report(ws, s, case, out, pdf=pdf, lang=lang)
            except NotFound as exc:
                fail(str(exc))
        record(
            ws,
            actor,
            "export",
            case=case,
            format="report",
            out=str(out),
            files=written.files,
            pdf=written.pdf is not None,
            lang=lang,
        )
    typer.echo(f"report: {written.html}")
    if written.pdf is not None:
        typer.echo(f"pdf:    {written.pdf}")
    elif written.pdf_error:
        typer.echo(f"warning: {written.pdf_error}", err=True)
    typer.echo(f"csv:    {written.csv} ({written.files} files)")
    typer.echo(f"audit head: {written.audit_head}")


def export(
    case: str = typer.Argument(..., help="Case reference."),
    format: str = typer.Option("vics", "--format", help="Export format: vics (VICS 2.0 US)."),
    out: Path = typer.Option(..., "--out", "-o", help="File to write."),
    workspace: WorkspaceOpt = None,
    as_user: AsOpt = None,
) -> None:
    """Export the case's media and occurrences (VICS 2.0 JSON, readable back by
    `tantalio hashset import --format vics`)."""
    from tantalio.reports.vics_export import export_vics
    from tantalio.store.repo import NotFound

    if format != "vics":
        usage("only --format vics is supported")
    tmp = out.with_name(out.name + ".partial")
    from tantalio.store.audit import audit_head

    with open_cli_workspace(workspace) as ws:
        with ws.session() as s:
            # the head the export carries (before its own audit event), printed alike
            seq, digest = audit_head(s)
            try:
                with tmp.open("w", encoding="utf-8") as fh:
                    n = export_vics(s, case, fh)
            except NotFound as exc:
                tmp.unlink(missing_ok=True)
                fail(str(exc))
        tmp.replace(out)
        record(ws, cli_actor(as_user), "export", case=case, format="vics", out=str(out), media=n)
    typer.echo(f"exported {n} media to {out}")
    typer.echo(f"audit head: {seq}:{digest}")


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.add_typer(case_app, name="case")
    app.command("ingest")(ingest)
    app.command("triage")(triage)
    app.command("verify")(verify)
    app.command("report")(report)
    app.command("export")(export)
