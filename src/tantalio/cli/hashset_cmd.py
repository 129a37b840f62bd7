"""`tantalio hashset import|list|publish|keygen`: known hash sets in the workspace, and
signed distribution lists made from them (issue 6's central side)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from typer.core import TyperCommand

from tantalio.cli.actor import AsOpt, cli_actor, record
from tantalio.cli.exits import fail, usage
from tantalio.cli.workspace_cmd import WorkspaceOpt, open_cli_workspace

hashset_app = typer.Typer(help="Import and list known hash sets.", no_args_is_help=True)

WARNINGS_SHOWN = 20


def formats_help() -> str:
    """The registered formats, one paragraph each, for `hashset import --help`."""
    from tantalio.hashsets.registry import FORMATS

    width = max(map(len, FORMATS)) + 2
    lines = [f"  {name:<{width}}{fmt.description}" for name, fmt in FORMATS.items()]
    return "Formats (--format):\n\n\b\n" + "\n".join(lines)  # \b: click keeps the lines


class _ImportCommand(TyperCommand):
    """Lists the registered formats under the help, read from the registry only when help
    is asked for (importing every format module would slow every start of the CLI)."""

    def format_help(self, ctx: Any, formatter: Any) -> None:
        self.epilog = formats_help()
        super().format_help(ctx, formatter)


@hashset_app.command("import", cls=_ImportCommand)
def import_cmd(
    file: Path = typer.Argument(..., help="Hash-set file to import."),
    format: str = typer.Option(
        ..., "--format", "-f", help="Format of the file (listed below).", show_default=False
    ),
    name: str = typer.Option(..., "--name", "-n", help="Name of the hash set."),
    kind: str | None = typer.Option(
        None,
        "--kind",
        help="known-bad | known-good | alert | reference "
        "(default: the format's usual kind; vics: reference).",
    ),
    replace: bool = typer.Option(False, "--replace", help="Replace a set of the same name."),
    strict: bool = typer.Option(False, "--strict", help="Refuse the file at its first bad record."),
    trusted_key: list[Path] = typer.Option(
        [], "--trusted-key", help="PEM public key trusted for tantalio-signed lists."
    ),
    categories: str | None = typer.Option(
        None,
        "--categories",
        help="Regional category profile of the list (vics, icse): projectvic-us | caid-uk | "
        "vics-1.x | three-tier; all map onto one internal scale (default: the file's own).",
    ),
    workspace: WorkspaceOpt = None,
    as_user: AsOpt = None,
) -> None:
    """Import FILE as a hash set and match it against every media in the workspace."""
    from tantalio.hashsets.base import HashSetFormatError
    from tantalio.hashsets.record import KINDS
    from tantalio.hashsets.registry import format_names
    from tantalio.store.repo import HashSetExists
    from tantalio.triage.hashset_import import import_hash_set

    if format not in format_names():
        usage(f"--format {format!r} is not a hash-set format; one of: {', '.join(format_names())}")
    if kind is not None and kind not in KINDS:
        usage(f"--kind must be one of {', '.join(KINDS)}")
    options: dict[str, object] = (
        {"trusted_keys": [str(p) for p in trusted_key]} if trusted_key else {}
    )
    if categories is not None:
        from tantalio.hashsets.categories import PROFILES

        if categories not in PROFILES:
            usage(f"--categories must be one of {', '.join(PROFILES)}")
        if format not in ("vics", "icse"):
            usage(f"--categories applies to the vics and icse formats, not {format!r}")
        options["category_scheme"] = PROFILES[categories]
    with open_cli_workspace(workspace) as ws:
        try:
            result = import_hash_set(
                ws,
                file,
                format,
                name,
                kind,
                replace=replace,
                strict=strict,
                actor=cli_actor(as_user),
                **options,
            )
        except (HashSetFormatError, HashSetExists, ValueError, OSError) as exc:
            fail(f"{exc} — nothing imported")
    for w in result.warnings[:WARNINGS_SHOWN]:
        typer.echo(f"warning: {w}", err=True)
    if len(result.warnings) > WARNINGS_SHOWN:
        typer.echo(f"warning: … {len(result.warnings) - WARNINGS_SHOWN} more", err=True)
    from tantalio.hashsets import is_skip

    verb = "replaced" if result.replaced else "imported"
    skipped = sum(1 for w in result.warnings if is_skip(w))
    ignored = len(result.warnings) - skipped
    also = f", {ignored} values ignored (records kept)" if ignored else ""
    typer.echo(
        f"{verb} hash set {result.name!r} ({result.kind}, {result.format}): "
        f"{result.entries} entries, {skipped} records skipped{also}, "
        f"{result.matched_media} stored media matched"
    )


@hashset_app.command("create")
def create_cmd(
    name: str = typer.Argument(..., help="Name of the new hash set."),
    source: Path = typer.Option(
        ..., "--from", help="Folder (or file) of reference files.", show_default=False
    ),
    kind: str = typer.Option(
        "known-bad", "--kind", help="known-bad | known-good | alert | reference."
    ),
    category: int | None = typer.Option(
        None, "--category", min=0, max=4, help="VICS category of every entry (0-4)."
    ),
    series: str | None = typer.Option(None, "--series", help="Series of every entry."),
    workspace: WorkspaceOpt = None,
    as_user: AsOpt = None,
) -> None:
    """Make a hash set from reference files: every signal of each file (MD5, SHA-1, SHA-256,
    PDQ, vPDQ, trimmed PDQ, local features), matched against every media in the workspace.
    Triage then also finds crops, small rotations and screenshots of the references."""
    from tantalio.hashsets.record import KINDS
    from tantalio.store.repo import HashSetExists
    from tantalio.triage.hashset_create import create_hash_set_from_files

    if kind not in KINDS:
        usage(f"--kind must be one of {', '.join(KINDS)}")
    with open_cli_workspace(workspace) as ws:
        try:
            result = create_hash_set_from_files(
                ws, name, source, kind, category=category, series=series, actor=cli_actor(as_user)
            )
        except (HashSetExists, FileNotFoundError, ValueError) as exc:
            fail(f"{exc} — nothing created")
    for e in result.errors[:WARNINGS_SHOWN]:
        typer.echo(f"warning: {e}", err=True)
    if len(result.errors) > WARNINGS_SHOWN:
        typer.echo(f"warning: … {len(result.errors) - WARNINGS_SHOWN} more", err=True)
    typer.echo(
        f"created hash set {result.name!r} ({result.kind}) from {result.files} files: "
        f"{result.entries} entries, {result.with_local_features} with local features, "
        f"{result.matched_media} stored media matched"
    )
    if result.retro.searched:
        typer.echo(
            f"earlier pictures read again for local features: {result.retro.searched}, "
            f"{result.retro.matched} found"
        )
    for p in result.retro.problems[:WARNINGS_SHOWN]:
        typer.echo(f"warning: {p}", err=True)
    for c in result.changes[:WARNINGS_SHOWN]:
        typer.echo(f"verdict changed: case {c.case_id} {c.path}: {c.before} -> {c.after}")
    if len(result.changes) > WARNINGS_SHOWN:
        typer.echo(f"… {len(result.changes) - WARNINGS_SHOWN} more verdicts changed")


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


@hashset_app.command("keygen")
def keygen_cmd(
    prefix: Path = typer.Argument(..., help="Writes PREFIX.key.pem (0600) and PREFIX.pub.pem."),
) -> None:
    """Make an Ed25519 key pair for publishing signed distribution lists."""
    from tantalio.hashsets import signed

    private, public = signed.generate_keypair()
    key_path = prefix.with_name(prefix.name + ".key.pem")
    pub_path = prefix.with_name(prefix.name + ".pub.pem")
    if key_path.exists():
        fail(f"{key_path} exists; not overwritten")
    signed.save_private_key(private, key_path)
    signed.save_public_key(public, pub_path)
    typer.echo(f"private key {key_path} (keep it secret), public key {pub_path}")
    typer.echo(f"key id {signed.key_id(public)}")


@hashset_app.command("publish")
def publish_cmd(
    name: str = typer.Argument(..., help="Hash set of the workspace to publish."),
    key: Path = typer.Option(..., "--key", help="Ed25519 private key (PEM) that signs."),
    issuer: str = typer.Option(..., "--issuer", help="Who publishes (shown to importers)."),
    out: Path = typer.Option(..., "--out", "-o", help="Signed list to write."),
    description: str | None = typer.Option(
        None, "--description", help="What the list holds (shown to importers)."
    ),
    workspace: WorkspaceOpt = None,
    as_user: AsOpt = None,
) -> None:
    """Write a stored hash set as a signed distribution list (tantalio-signed): what a
    central database shares with platforms (`tantalio platform bank import`) and other
    workspaces (`tantalio hashset import --format tantalio-signed --trusted-key ...`)."""
    from tantalio.hashsets import signed
    from tantalio.store.repo import NotFound, get_hash_set, iter_entries

    try:
        private = signed.load_private_key(key)
    except (OSError, ValueError, TypeError) as exc:
        fail(f"{key}: cannot load the private key: {exc}")
    with open_cli_workspace(workspace) as ws:
        with ws.session() as s:
            try:
                hs = get_hash_set(s, name)
            except NotFound as exc:
                fail(str(exc))
            entries = list(iter_entries(s, hs.id))
            hash_set_id = hs.id
        document = signed.publish(entries, private, name, issuer, description=description)
        tmp = out.with_name(out.name + ".partial")
        tmp.write_bytes(document)
        tmp.replace(out)
        record(
            ws,
            cli_actor(as_user),
            "hashset.publish",
            object_type="hash_set",
            object_id=hash_set_id,
            name=name,
            issuer=issuer,
            out=str(out),
            entries=len(entries),
            key_id=signed.key_id(private.public_key()),
        )
    typer.echo(
        f"published {len(entries)} entries of {name!r} to {out} "
        f"(signed by key {signed.key_id(private.public_key())})"
    )


def register(app: typer.Typer) -> None:
    app.add_typer(hashset_app, name="hashset")
