"""`tantalio exchange connect | push | sync | status`: the workspace's side of the central
exchange (issue 11; docs/exchange-api.md).

These commands join the `exchange` group that `tantalio.cli.exchange_cmd` (the exchange
server's commands) creates; when that module is absent the group is created here.
"""

from __future__ import annotations

import getpass
from pathlib import Path

import typer

from tantalio.cli.workspace_cmd import WorkspaceOpt, fail, open_cli_workspace

GROUP = "exchange"
HELP = "The central exchange across agencies: serve it, or connect a workspace to it."

CaCertOpt = typer.Option(
    None, "--ca-cert", help="PEM file of a private CA that signed the exchange's certificate."
)
InsecureOpt = typer.Option(
    False,
    "--insecure-http",
    help="Allow plain http:// to a host other than this machine (the key travels in clear).",
)


def _actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except Exception:
        return "cli"


def connect(
    url: str = typer.Argument(..., help="The exchange, e.g. https://exchange.example.org"),
    key: str = typer.Option(..., "--key", help="This agency's API key (from the exchange)."),
    ca_cert: Path | None = CaCertOpt,
    insecure_http: bool = InsecureOpt,
    workspace: WorkspaceOpt = None,
) -> None:
    """Connect the workspace to an exchange (the key is checked against /v1/status).

    The URL goes to workspace.json, the key to exchange.key (mode 0600), apart from the
    database."""
    from tantalio.exchange.client import ExchangeError
    from tantalio.exchange.connection import ExchangeConfigError
    from tantalio.exchange.sync import connect as run_connect

    if ca_cert is not None and not ca_cert.is_file():
        fail(f"{ca_cert}: no such CA certificate file")
    with open_cli_workspace(workspace) as ws:
        try:
            done = run_connect(
                ws, url, key, str(ca_cert) if ca_cert else None, insecure_http, actor=_actor()
            )
        except (ValueError, ExchangeError, ExchangeConfigError) as exc:
            fail(str(exc))
    status = done.status
    who = status.get("agency") or "this agency"
    scopes = ", ".join(status.get("scopes") or []) or "?"
    typer.echo(
        f"connected to {url} as {who} (scopes: {scopes}); key stored in {done.key_file} (0600)"
    )
    if done.reset:
        typer.echo("another exchange or agency than before: earlier answers dropped, "
                   "`tantalio exchange sync` asks again")  # fmt: skip


def _client(ws):  # type: ignore[no-untyped-def]
    from tantalio.exchange import connection

    try:
        conn = connection.load(ws)
    except connection.ExchangeConfigError as exc:
        fail(str(exc))
    if conn is None:
        fail("this workspace is not connected: run `tantalio exchange connect URL --key KEY`")
    try:
        return conn.client()
    except ValueError as exc:
        fail(str(exc))


def push(
    case: str = typer.Argument(..., help="Case reference."),
    all_media: bool = typer.Option(
        False, "--all", help="Also every image and video hash of the case, not only reviewed."
    ),
    case_ref: str | None = typer.Option(
        None, "--case-ref", help="Opaque reference sent with each record (default: none)."
    ),
    workspace: WorkspaceOpt = None,
) -> None:
    """Push the hashes of what the case's examiners categorized or flagged.

    Flagged: tagged or put in a series. Each record carries the category, series reference
    and status; never media, file names or case content."""
    from tantalio.exchange.client import ExchangeError
    from tantalio.exchange.sync import push_case
    from tantalio.store.repo import NotFound

    with open_cli_workspace(workspace) as ws, _client(ws) as client:
        try:
            report = push_case(
                ws, client, case, all_media=all_media, case_ref=case_ref, actor=_actor()
            )
        except (NotFound, ExchangeError) as exc:
            fail(str(exc))
    typer.echo(
        f"pushed {report.records} records of case {case!r} ({report.categorized} categorized, "
        f"{report.flagged} flagged{', all media' if all_media else ''}): "
        f"{report.created} new, {report.updated} updated, {report.unchanged} unchanged, "
        f"{len(report.refused)} refused"
    )
    for refusal in report.refused[:20]:
        typer.echo(f"  refused record {refusal.get('index')}: {refusal.get('error')}", err=True)
    if report.refused:
        raise typer.Exit(1)


def sync(workspace: WorkspaceOpt = None) -> None:
    """Pull what changed at other agencies since the last sync; update every affected case.

    First asks about media not asked yet (ingests while offline), then applies the change
    feed and the series links, refreshes verdicts and leaves a notice per affected case."""
    from tantalio.exchange.client import ExchangeError
    from tantalio.exchange.sync import sync as run_sync

    with open_cli_workspace(workspace) as ws, _client(ws) as client:
        try:
            report = run_sync(ws, client, actor=_actor())
        except ExchangeError as exc:
            fail(str(exc))
    asked = report.asked
    if asked.asked:
        typer.echo(f"asked about {asked.asked} media: {asked.matched} known at other agencies")
    typer.echo(
        f"{report.changes} changes to {report.media} media, {report.links} series links "
        f"({report.links_changed} changed); position {report.last_seq}"
    )
    if report.cases:
        typer.echo("cases updated: " + ", ".join(report.cases))
    for notice in report.notices:
        typer.echo(f"  {notice}")


def info(workspace: WorkspaceOpt = None) -> None:
    """Show the connection, the last sync and how many media wait to be asked."""
    from tantalio.exchange import connection
    from tantalio.store import exchange_ws_ops as ops
    from tantalio.store.exchange_ws import ExchangeSync

    with open_cli_workspace(workspace) as ws:
        try:
            conn = connection.load(ws)
        except connection.ExchangeConfigError as exc:
            fail(str(exc))
        with ws.session() as s:
            state = s.get(ExchangeSync, 1)
            pending = ops.pending_count(s)
            unasked = len(ops.unasked(s))
    if conn is None:
        typer.echo("not connected (`tantalio exchange connect URL --key KEY`)")
        return
    typer.echo(f"exchange: {conn.url}")
    if state is not None and state.last_sync_at is not None:
        typer.echo(f"last sync: {state.last_sync_at:%Y-%m-%d %H:%M} UTC, position {state.last_seq}")
    else:
        typer.echo("last sync: never")
    typer.echo(f"media not asked yet: {unasked} ({pending} after a failed query)")


def register(app: typer.Typer) -> None:
    group = next(
        (g.typer_instance for g in app.registered_groups if g.name == GROUP and g.typer_instance),
        None,
    )
    if group is None:
        group = typer.Typer(help=HELP, no_args_is_help=True)
        app.add_typer(group, name=GROUP)
    group.command("connect")(connect)
    group.command("push")(push)
    group.command("sync")(sync)
    group.command("info")(info)
