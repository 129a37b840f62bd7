"""`tantalio hashset import|list`: known hash sets in the workspace."""

from __future__ import annotations

from pathlib import Path

import typer

from tantalio.cli.workspace_cmd import WorkspaceOpt, fail, open_cli_workspace

hashset_app = typer.Typer(help="Import and list known hash sets.", no_args_is_help=True)

WARNINGS_SHOWN = 20


def _formats() -> str:
    from tantalio.hashsets.registry import format_names

    return "|".join(format_names())


@hashset_app.command("import")
def import_cmd(
    file: Path = typer.Argument(..., help="Hash-set file to import."),
    format: str = typer.Option(..., "--format", "-f", help="Format of the file."),
    name: str = typer.Option(..., "--name", "-n", help="Name of the hash set."),
    kind: str | None = typer.Option(
        None, "--kind", help="known-bad | known-good | alert (default: the format's usual kind)."
    ),
    replace: bool = typer.Option(False, "--replace", help="Replace a set of the same name."),
    strict: bool = typer.Option(False, "--strict", help="Refuse the file at its first bad record."),
    trusted_key: list[Path] = typer.Option(
        [], "--trusted-key", help="PEM public key trusted for tantalio-signed lists."
    ),
    workspace: WorkspaceOpt = None,
) -> None:
    """Import FILE as a hash set and match it against every media in the workspace."""
    from tantalio.hashsets.base import HashSetFormatError
    from tantalio.hashsets.record import KINDS
    from tantalio.store.repo import HashSetExists
    from tantalio.triage.hashset_import import import_hash_set

    if kind is not None and kind not in KINDS:
        fail(f"--kind must be one of {', '.join(KINDS)}")
    options = {"trusted_keys": [str(p) for p in trusted_key]} if trusted_key else {}
    with open_cli_workspace(workspace) as ws:
        try:
            result = import_hash_set(
                ws, file, format, name, kind, replace=replace, strict=strict, **options
            )
        except (HashSetFormatError, HashSetExists, ValueError, OSError) as exc:
            fail(f"{exc} — nothing imported")
    for w in result.warnings[:WARNINGS_SHOWN]:
        typer.echo(f"warning: {w}", err=True)
    if len(result.warnings) > WARNINGS_SHOWN:
        typer.echo(f"warning: … {len(result.warnings) - WARNINGS_SHOWN} more", err=True)
    verb = "replaced" if result.replaced else "imported"
    typer.echo(
        f"{verb} hash set {result.name!r} ({result.kind}, {result.format}): "
        f"{result.entries} entries, {len(result.warnings)} records skipped, "
        f"{result.matched_media} stored media matched"
    )


@hashset_app.command("list")
def list_cmd(workspace: WorkspaceOpt = None) -> None:
    """List the hash sets of the workspace."""
    from tantalio.store.repo import list_hash_sets

    with open_cli_workspace(workspace) as ws, ws.session() as s:
        sets = list_hash_sets(s)
        if not sets:
            typer.echo("no hash sets (import one with `tantalio hashset import`)")
            return
        typer.echo(f"{'name':<30} {'kind':<11} {'format':<16} {'entries':>9}  imported")
        for hs in sets:
            typer.echo(
                f"{hs.name:<30} {hs.kind:<11} {hs.format or '':<16} {hs.entry_count:>9}  "
                f"{hs.imported_at:%Y-%m-%d %H:%M}"
            )


def register(app: typer.Typer) -> None:
    app.add_typer(hashset_app, name="hashset")
