"""`tantalio hashset subscribe|pull|subscriptions` and `tantalio platform bank subscribe|pull`:
signed list deltas from an exchange (or a folder), applied with retroactive triage."""

from __future__ import annotations

from pathlib import Path

import typer

from tantalio.cli.exits import fail, usage
from tantalio.cli.workspace_cmd import WorkspaceOpt, open_cli_workspace

CHANGES_SHOWN = 20

KeyOpt = typer.Option(
    None,
    "--key",
    envvar="TANTALIO_EXCHANGE_KEY",
    help="The agency's exchange key (for an https:// exchange list; not stored).",
)


def subscribe_cmd(
    source: str = typer.Argument(
        ..., help="Exchange list URL (https://HOST/v1/lists/NAME) or a folder of delta files."
    ),
    name: str = typer.Option(..., "--name", "-n", help="Hash set the list's entries go into."),
    trusted_key: Path = typer.Option(
        ..., "--trusted-key", help="The issuer's Ed25519 public key (PEM); pinned."
    ),
    kind: str = typer.Option(
        "known-bad", "--kind", help="known-bad | known-good | alert | reference."
    ),
    list_name: str | None = typer.Option(None, "--list", help="List name, if not in the URL."),
    key: str | None = KeyOpt,
    no_pull: bool = typer.Option(False, "--no-pull", help="Subscribe only; pull later."),
    workspace: WorkspaceOpt = None,
) -> None:
    """Subscribe a new hash set to a signed list, then pull it (unless --no-pull)."""
    from tantalio.hashsets.record import KINDS
    from tantalio.store.repo import HashSetExists
    from tantalio.subscriptions.workspace import SubscriptionError, subscribe

    if kind not in KINDS:
        usage(f"--kind must be one of {', '.join(KINDS)}")
    with open_cli_workspace(workspace) as ws:
        try:
            subscribe(ws, source, name, trusted_key, kind=kind, list_name=list_name, key=key)
        except (SubscriptionError, HashSetExists) as exc:
            fail(str(exc))
        typer.echo(f"subscribed hash set {name!r} to {source}")
        if not no_pull:
            _pull(ws, name, key)


def pull_cmd(
    name: str | None = typer.Option(None, "--name", "-n", help="Only this subscribed set."),
    key: str | None = KeyOpt,
    workspace: WorkspaceOpt = None,
) -> None:
    """Fetch, verify and apply new deltas of every subscribed list; earlier cases are
    re-matched for the affected hashes and changed verdicts are listed."""
    with open_cli_workspace(workspace) as ws:
        _pull(ws, name, key)


def _pull(ws, name: str | None, key: str | None) -> None:  # type: ignore[no-untyped-def]
    from tantalio.subscriptions.workspace import SubscriptionError, pull

    try:
        results = pull(ws, name, key=key)
    except SubscriptionError as exc:
        fail(str(exc))
    failed = False
    for r in results:
        added = sum(d.added for d in r.applied)
        retracted = sum(d.retracted for d in r.applied)
        if r.applied:
            typer.echo(
                f"{r.name}: applied deltas {r.start_seq + 1}-{r.seq} of list {r.list_name!r}: "
                f"{added} added, {retracted} retracted, {len(r.changes)} verdicts changed"
            )
        else:
            typer.echo(f"{r.name}: up to date at delta {r.seq} of list {r.list_name!r}")
        for c in r.changes[:CHANGES_SHOWN]:
            typer.echo(f"  case {c.case_id}: {c.path}: {c.before} → {c.after}")
        if len(r.changes) > CHANGES_SHOWN:
            typer.echo(f"  … {len(r.changes) - CHANGES_SHOWN} more (see the case dashboards)")
        for d in r.applied:
            for w in d.warnings[:CHANGES_SHOWN]:
                typer.echo(f"warning: {w}", err=True)
        if r.error:
            failed = True
            typer.echo(f"error: {r.name}: {r.error}; stopped at delta {r.seq}", err=True)
    if failed:
        raise typer.Exit(1)


def subscriptions_cmd(workspace: WorkspaceOpt = None) -> None:
    """List the subscribed hash sets and where each is in its list."""
    from tantalio.store.subscriptions import list_subscriptions

    with open_cli_workspace(workspace) as ws, ws.session() as s:
        rows = list_subscriptions(s)
        if not rows:
            typer.echo("no subscriptions (see `tantalio hashset subscribe --help`)")
            return
        for sub, hs in rows:
            when = f"{sub.last_pull_at:%Y-%m-%d %H:%M}" if sub.last_pull_at else "never"
            line = (
                f"{hs.name}: list {sub.list_name!r} at {sub.source}, delta {sub.last_seq}, "
                f"{hs.entry_count} entries, last pull {when}"
            )
            typer.echo(line + (f", last error: {sub.last_error}" if sub.last_error else ""))


def register(app: typer.Typer) -> None:
    from tantalio.cli.hashset_cmd import hashset_app

    hashset_app.command("subscribe")(subscribe_cmd)
    hashset_app.command("pull")(pull_cmd)
    hashset_app.command("subscriptions")(subscriptions_cmd)
    from tantalio.cli.platform_cmd import bank_app

    bank_app.command("subscribe")(bank_subscribe_cmd)
    bank_app.command("pull")(bank_pull_cmd)


def bank_subscribe_cmd(
    bank: str = typer.Argument(..., help="Bank the list's entries go into."),
    source: str = typer.Argument(..., help="Exchange list URL or a folder of delta files."),
    trusted_key: Path = typer.Option(
        ..., "--trusted-key", help="The issuer's Ed25519 public key (PEM); pinned."
    ),
    list_name: str | None = typer.Option(None, "--list", help="List name, if not in the URL."),
    key: str | None = KeyOpt,
    no_pull: bool = typer.Option(False, "--no-pull", help="Subscribe only; pull later."),
    db: str | None = typer.Option(None, "--db", help="Platform database URL (or env)."),
) -> None:
    """Feed a bank from a signed list, then pull it (unless --no-pull)."""
    from tantalio.cli.actor import cli_username
    from tantalio.cli.platform_cmd import _db
    from tantalio.store.platform import PlatformStore
    from tantalio.subscriptions.bank import subscribe_bank
    from tantalio.subscriptions.workspace import SubscriptionError

    platform = PlatformStore(_db(db))
    try:
        subscribe_bank(
            platform,
            bank,
            source,
            str(trusted_key),
            list_name=list_name,
            key=key,
            actor=cli_username(),
        )
        typer.echo(f"subscribed bank {bank!r} to {source}")
        if not no_pull:
            _bank_pull(platform, bank, key)
    except SubscriptionError as exc:
        fail(str(exc))
    finally:
        platform.close()


def bank_pull_cmd(
    bank: str | None = typer.Argument(None, help="Only this bank (default: every subscribed)."),
    key: str | None = KeyOpt,
    db: str | None = typer.Option(None, "--db", help="Platform database URL (or env)."),
) -> None:
    """Fetch, verify and apply new deltas to subscribed banks; serving processes pick the
    changes up from the index change feed."""
    from tantalio.cli.platform_cmd import _db
    from tantalio.store.platform import PlatformStore
    from tantalio.subscriptions.workspace import SubscriptionError

    platform = PlatformStore(_db(db))
    try:
        _bank_pull(platform, bank, key)
    except SubscriptionError as exc:
        fail(str(exc))
    finally:
        platform.close()


def _bank_pull(platform, bank: str | None, key: str | None) -> None:  # type: ignore[no-untyped-def]
    from tantalio.subscriptions.bank import pull_banks

    failed = False
    from tantalio.cli.actor import cli_username

    for r in pull_banks(platform, bank, key=key, actor=cli_username()):
        if r.seq > r.start_seq:
            typer.echo(
                f"{r.bank}: applied deltas {r.start_seq + 1}-{r.seq} of list {r.list_name!r}: "
                f"{r.added} added, {r.removed} removed"
            )
        else:
            typer.echo(f"{r.bank}: up to date at delta {r.seq} of list {r.list_name!r}")
        for w in r.warnings[:CHANGES_SHOWN]:
            typer.echo(f"warning: {w}", err=True)
        if r.error:
            failed = True
            typer.echo(f"error: {r.bank}: {r.error}; stopped at delta {r.seq}", err=True)
    if failed:
        raise typer.Exit(1)
