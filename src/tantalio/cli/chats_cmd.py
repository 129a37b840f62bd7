"""`tantalio chats import` and `tantalio network`: chats and phone databases → the
distribution network and its ranked likely distributors (issue 5)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from tantalio.cli.actor import AsOpt, cli_actor, record
from tantalio.cli.exits import fail, usage
from tantalio.cli.workspace_cmd import WorkspaceOpt, open_cli_workspace

if TYPE_CHECKING:
    from tantalio.network import AccountScore

chats_app = typer.Typer(help="Import chat exports and phone databases.", no_args_is_help=True)


@chats_app.command("import")
def import_cmd(
    case: str = typer.Argument(..., help="Case reference (created on first use)."),
    path: Path = typer.Argument(..., help="Phone extraction folder, archive, image or chat file."),
    exhibit: str | None = typer.Option(
        None, "--exhibit", "-e", help="Exhibit label (default: PATH's name)."
    ),
    owner: str | None = typer.Option(
        None, "--owner", help="The phone's own number or JID, when the extraction lacks it."
    ),
    region: str | None = typer.Option(
        None, "--region", help="Country (ISO code) for phone numbers written without +."
    ),
    media: bool = typer.Option(
        False, "--media", help="Ingest every file as media too (runs `tantalio ingest`)."
    ),
    key: list[str] = typer.Option(
        [],
        "--key",
        help="Key for encrypted sources (msgstore.db.crypt14/15, Signal's database): a key "
        "file or 64 hex digits; [PATTERN=]FILE|HEX ties it to matching files. Repeatable.",
    ),
    workspace: WorkspaceOpt = None,
    as_user: AsOpt = None,
) -> None:
    """Parse WhatsApp exports, msgstore.db/wa.db (and encrypted backups, with --key),
    ChatStorage.sqlite, Telegram cache4.db, Signal's database, browser history and text files
    in PATH."""
    from tantalio.chats.analyzer import summary_lines
    from tantalio.chats.keys import ChatKeyError, KeyRing
    from tantalio.triage.chat_import import import_chats

    if not path.exists():
        fail(f"{path}: no such file or folder")
    actor = cli_actor(as_user)
    try:
        keys = KeyRing.parse(key)
    except ChatKeyError as exc:
        usage(f"--key: {exc}")
    with open_cli_workspace(workspace) as ws:
        if media:
            from tantalio.triage.pipeline import IngestOptions, ingest

            record(ws, actor, "ingest.start", case=case, sources=[str(path)], exhibit=exhibit)
            report = ingest(
                ws, case, [str(path)], exhibit=exhibit, options=IngestOptions(chat_keys=tuple(key))
            )
            record(
                ws,
                actor,
                "ingest.finish",
                case=case,
                sources=[str(path)],
                exhibits=[e.label for e in report.exhibits],
                files=report.files,
                new_media=sum(e.new_media for e in report.exhibits),
                verdicts=report.verdicts,
            )
            for ex in report.exhibits:
                typer.echo(f"{ex.label}: {ex.seen} files, {ex.new_media} new media")
                for line in ex.messages:
                    typer.echo(f"  {line}")
            if owner is None and region is None:
                return
        try:
            result = import_chats(
                ws, case, path, exhibit=exhibit, owner=owner, region=region, keys=keys
            )
        except ValueError as exc:
            fail(str(exc))
        except Exception as exc:  # an unreadable archive or image: say which and why
            fail(f"{path}: {exc}")
        record(
            ws,
            actor,
            "chats.import",
            case=case,
            source=str(path),
            exhibit=result.exhibit,
            accounts=result.summary.accounts,
            groups=result.summary.groups,
            messages=result.summary.messages,
            artifacts=result.summary.artifacts,
        )
    created = " (new case)" if result.case_created else ""
    typer.echo(f"case {case}{created}, exhibit {result.exhibit}:")
    for line in summary_lines(result.summary):
        typer.echo(f"  {line}")


def network_cmd(
    case: str = typer.Argument(..., help="Case reference."),
    top: int = typer.Option(20, "--top", "-n", help="How many accounts to list."),
    fmt: str = typer.Option("table", "--format", "-f", help="table | json"),
    export: Path | None = typer.Option(
        None, "--export", help="Also write the graph: FILE.gexf or FILE.graphml (Gephi)."
    ),
    all_cases: bool = typer.Option(
        False, "--all-cases", help="Merge every case of the workspace into the network."
    ),
    workspace: WorkspaceOpt = None,
    as_user: AsOpt = None,
) -> None:
    """Rank the likely distributors of CASE's chats (score: docs/decisions/network.md); `first`
    counts the media an account posted first (clocks aligned across phones)."""
    from tantalio.network import (
        ExportError,
        annotate,
        attach_first_posts,
        build_graph,
        export_graph,
        media_spread,
        rank,
    )
    from tantalio.store.audit import audit_head
    from tantalio.store.chats import load_graph_data
    from tantalio.store.chats.copies import load_message_copies
    from tantalio.store.repo import NotFound, get_case

    if fmt not in ("table", "json"):
        usage(f"--format must be table or json, not {fmt!r}")
    if export is not None and export.suffix.lower() not in (".gexf", ".graphml"):
        usage(f"{export}: export as .gexf or .graphml")
    with open_cli_workspace(workspace) as ws:
        with ws.session() as session:
            try:
                case_id = get_case(session, case).id
            except NotFound as exc:
                fail(str(exc))
            scope = None if all_cases else [case_id]
            data = load_graph_data(session, scope)
            copies = load_message_copies(session, scope)
            seq, digest = audit_head(session)  # the head the export carries (issue 14)
        head = f"{seq}:{digest}"
        graph = build_graph(data)
        ranking = rank(data, graph)
        attach_first_posts(ranking, media_spread(copies, data.known))
        if export is not None:
            annotate(graph, ranking)
            try:
                export_graph(graph, export, head)
            except (ExportError, OSError) as exc:
                fail(str(exc))
            record(
                ws,
                cli_actor(as_user),
                "export",
                case=case,
                format=export.suffix.lower().lstrip("."),
                what="network",
                all_cases=all_cases,
                out=str(export),
            )
    shown = ranking[: max(top, 0)]
    if fmt == "json":
        typer.echo(json.dumps([r.to_json() for r in shown], indent=2, ensure_ascii=False))
    else:
        _table(shown, len(ranking))
    if export is not None:
        typer.echo(
            f"graph written to {export} ({graph.number_of_nodes()} nodes, "
            f"{graph.number_of_edges()} edges)",
            err=fmt == "json",
        )
        typer.echo(f"audit head: {head}", err=fmt == "json")


def _table(rows: list[AccountScore], total: int) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"Likely distributors ({len(rows)} of {total} accounts)")
    for col, justify in (
        ("#", "right"),
        ("account", "left"),
        ("app", "left"),
        ("names", "left"),
        ("score", "right"),
        ("known", "right"),
        ("no file", "right"),
        ("new", "right"),
        ("groups", "right"),
        ("reach", "right"),
        ("between.", "right"),
        ("first", "right"),
        ("cases", "left"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for i, r in enumerate(rows, start=1):
        table.add_row(
            str(i),
            r.account,
            r.app or "",
            ", ".join(r.names[:2]),
            f"{r.score:.1f}",
            str(r.known_posts),
            str(r.known_posts_without_file),
            str(r.new_posts),
            str(r.groups),
            str(r.reach),
            f"{r.betweenness:.3f}",
            str(len(r.first_posts)),
            ", ".join(r.cases),
        )
    Console(width=160).print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(chats_app, name="chats")
    app.command("network")(network_cmd)
