"""`tantalio platform ...`: run the matching service and manage its keys and banks.

    tantalio platform serve [--db URL] [--host H] [--port P] [--workers N] [--trusted-key PEM]
                            [--index-dir DIR] [--rate-limits host|database]
    tantalio platform key create NAME --scope lookup [--scope curate] [--rate R] [--burst B]
    tantalio platform key list | key revoke ID|NAME|PREFIX
    tantalio platform bank create NAME [--pdq-threshold 31] [--disabled] [RULES]
    tantalio platform bank config NAME [--pdq-threshold N] [RULES] [--reset KEY|all]
    tantalio platform bank list | bank show NAME | bank delete NAME
        RULES (the bank's own match rules; unset: the server's): --quality-min Q
        --orientations/--no-orientations --vpdq-frame-distance D --vpdq-query-share S|off
        --vpdq-index-share S|off --frames-vs-images/--no-frames-vs-images
    tantalio platform bank import NAME FILE [--format hma|vics|md5sum|sha256sum|tantalio-signed]
                                  [--trusted-key PEM] [--allow-unsigned]
    tantalio platform audit [--verify] [--action PREFIX] [--limit N]

The database is `--db` or $TANTALIO_PLATFORM_DB (default: sqlite:///tantalio-platform.db).
With `--workers N` > 1 the workers share per-key rate limits through a temporary file
($TANTALIO_RATE_FILE, see tantalio.platform.ratelimit); with `--rate-limits database` every
host serving the database shares them through it (tantalio.platform.ratelimit_db).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from tantalio.platform.service import PlatformService

from tantalio.cli import exits
from tantalio.cli.actor import cli_username
from tantalio.cli.rule_options import (
    FrameDistOpt,
    FramesImagesOpt,
    IndexShareOpt,
    OrientOpt,
    PdqThresholdOpt,
    QualityOpt,
    QueryShareOpt,
    reset_keys,
    rule_options,
    rules_text,
)

DB_ENV = "TANTALIO_PLATFORM_DB"
RULES_ENV = "TANTALIO_PLATFORM_RULES"  # the match rules (JSON) `serve` hands its workers
DEFAULT_DB = "sqlite:///tantalio-platform.db"

platform_app = typer.Typer(
    help="Trust & safety matching service (HMA-compatible).", no_args_is_help=True
)
key_app = typer.Typer(help="API keys (stored hashed; shown once).", no_args_is_help=True)
bank_app = typer.Typer(help="Banks of known hashes.", no_args_is_help=True)
platform_app.add_typer(key_app, name="key")
platform_app.add_typer(bank_app, name="bank")

DbOpt = typer.Option(None, "--db", help=f"Database URL (or ${DB_ENV}).")


def _db(db: str | None) -> str:
    return db or os.environ.get(DB_ENV) or DEFAULT_DB


def _service(db: str | None):  # type: ignore[no-untyped-def]
    from tantalio.platform import PlatformConfig, PlatformService

    return PlatformService(PlatformConfig(db_url=_db(db)), indexing=False)


@contextmanager
def _refusing(db: str | None, *refusals: type[Exception]) -> Iterator[PlatformService]:
    """The platform service for one command: a refusal of the kinds named is one error
    line and exit 1 (no traceback), and the store is closed whatever happens."""
    svc = _service(db)
    try:
        yield svc
    except refusals as exc:
        exits.fail(str(exc))
    finally:
        svc.store.close()


@platform_app.command()
def serve(
    db: str | None = DbOpt,
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8800, help="Port to listen on."),
    workers: int = typer.Option(1, help="Worker processes (each holds the index)."),
    trusted_key: list[Path] = typer.Option(
        [], "--trusted-key", help="Public key (PEM) trusted for signed lists."
    ),
    index_dir: Path | None = typer.Option(
        None, help="Keep index snapshots here: restarts load them instead of every entry."
    ),
    log_level: str = typer.Option(
        "info", help="Server log level: critical, error, warning, info, debug."
    ),
    access_log: bool = typer.Option(
        True,
        "--access-log/--no-access-log",
        help="One line per request on stderr: method, route, status, time, key id (never "
        "hash values).",
    ),
    rate_limits: str = typer.Option(
        "host",
        "--rate-limits",
        help="Where per-key token buckets live: 'host' (memory, or a file shared by this "
        "host's workers) or 'database' (the platform database: one limit across several "
        "hosts serving it; one more round trip per request).",
    ),
    rules: Path | None = typer.Option(
        None,
        "--rules",
        help="JSON file of match rules (MatchRules: pdq_threshold, min_quality, orientations, "
        "vpdq_frame_distance, vpdq_query_share, vpdq_index_share, frames_vs_images); "
        "unset keys keep their defaults.",
    ),
) -> None:
    """Serve the HMA-compatible API and /v1 (OpenAPI at /v1/openapi.json)."""
    import json

    import uvicorn

    from tantalio.platform.ratelimit import RATE_STORE_ENV
    from tantalio.platform.web import logging_config
    from tantalio.signals import MatchRules
    from tantalio.store.platform import PlatformStore

    if rate_limits not in ("host", "database"):
        raise typer.BadParameter("--rate-limits must be 'host' or 'database'")

    if rules is not None:
        try:
            text = rules.read_text(encoding="utf-8")
            MatchRules.from_mapping(json.loads(text))
        except (OSError, ValueError, TypeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else exc
            raise typer.BadParameter(f"{rules}: {reason}") from None
        os.environ[RULES_ENV] = text
    else:
        os.environ.pop(RULES_ENV, None)
    url = _db(db)
    store = PlatformStore(url)  # migrate once, before workers start
    try:
        _check_bulk_segments(store)
    finally:
        store.close()
    os.environ[DB_ENV] = url
    if index_dir:
        os.environ["TANTALIO_PLATFORM_INDEX_DIR"] = str(index_dir)
    if trusted_key:
        os.environ["TANTALIO_TRUSTED_KEYS"] = os.pathsep.join(str(p) for p in trusted_key)
    if rate_limits == "database":
        os.environ[RATE_STORE_ENV] = "database"  # the workers' KeyRing reads it
    else:
        os.environ.pop(RATE_STORE_ENV, None)  # the flag wins over an inherited setting
    with _shared_rate_file(workers if rate_limits == "host" else 1):
        uvicorn.run(
            "tantalio.platform.app:app_from_env",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=False,  # uvicorn's would log paths with their query strings (hashes)
            log_level=log_level,
            log_config=logging_config(log_level, access=access_log),
        )


def _check_bulk_segments(store) -> None:  # type: ignore[no-untyped-def]
    """Refuse to serve, naming the file, when a bulk bank's index is not what the database
    recorded (each worker checks again as it maps it)."""
    from tantalio.platform.bulkindex import BulkIndexError, load_segment

    for seg in store.bulk_segments():
        try:
            load_segment(seg)
        except BulkIndexError as exc:
            exits.fail(f"bulk bank index refused: {exc}")


@contextmanager
def _shared_rate_file(workers: int) -> Iterator[None]:
    """With several workers, one rate-limit file for all of them (ratelimit.SharedBuckets),
    so a key gets its rate once per host, not once per worker. It lives in a private (0700)
    temporary directory, removed when the server exits. An operator's own
    $TANTALIO_RATE_FILE is kept (several `serve` runs on one host can share one file)."""
    from tantalio.platform.ratelimit import RATE_FILE_ENV, SharedBuckets

    if workers <= 1 or os.environ.get(RATE_FILE_ENV):
        yield
        return
    tmp = tempfile.mkdtemp(prefix="tantalio-rate-")  # mode 0700
    try:
        path = os.path.join(tmp, "buckets")
        SharedBuckets(path).close()  # formatted before any worker opens it
        os.environ[RATE_FILE_ENV] = path
        try:
            yield
        finally:
            os.environ.pop(RATE_FILE_ENV, None)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@key_app.command("create")
def key_create(
    name: str = typer.Argument(..., help="Who the key is for (shown in lists and logs)."),
    scope: list[str] = typer.Option(..., "--scope", help="lookup, curate or admin (repeatable)."),
    rate: float = typer.Option(50.0, help="Requests per second (token bucket refill)."),
    burst: int = typer.Option(100, help="Bucket size."),
    db: str | None = DbOpt,
) -> None:
    """Create a key and print it once (only its SHA-256 is stored)."""
    from tantalio.platform.auth import create_key
    from tantalio.store.platform import PlatformStore

    store = PlatformStore(_db(db))
    try:
        token, rec = create_key(
            store, name, scope, rate_per_s=rate, burst=burst, actor=cli_username()
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    finally:
        store.close()
    typer.echo(token)
    typer.echo(
        f"key {rec.id} {rec.name!r} prefix {rec.prefix} scopes {','.join(sorted(rec.scopes))}",
        err=True,
    )


@key_app.command("list")
def key_list(db: str | None = DbOpt) -> None:
    """List the keys: id, name, prefix, scopes, rate, active or revoked."""
    from tantalio.store.platform import PlatformStore

    store = PlatformStore(_db(db))
    for k in store.list_keys():
        state = "revoked" if k.revoked_at else "active"
        typer.echo(
            f"{k.id}\t{k.name}\t{k.prefix}\t{','.join(sorted(k.scopes))}\t{k.rate_per_s:g}/s\t{state}"
        )
    store.close()


@key_app.command("revoke")
def key_revoke(
    ident: str = typer.Argument(..., help="The key's id, name or prefix."),
    db: str | None = DbOpt,
) -> None:
    """Revoke a key: requests with it are refused from now on."""
    from tantalio.store.platform import PlatformStore

    store = PlatformStore(_db(db))
    n = store.revoke_key(ident, actor=cli_username())
    store.close()
    if not n:
        typer.echo(f"no active key {ident!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"revoked {n} key(s)")


def _rules_text(svc, b) -> str:  # type: ignore[no-untyped-def]
    """A bank's rules, one `key=value` each; `*` marks the bank's own (the others are the
    server's: the defaults, or `serve --rules`)."""
    return rules_text(svc.bank_rules(b).to_dict(), set(b.match_rules or {}) | {"pdq_threshold"})


@bank_app.command("create")
def bank_create(
    name: str = typer.Argument(..., help="Name of the new bank."),
    threshold: int | None = PdqThresholdOpt,
    quality_min: int | None = QualityOpt,
    orientations: bool | None = OrientOpt,
    vpdq_frame_distance: int | None = FrameDistOpt,
    vpdq_query_share: str | None = QueryShareOpt,
    vpdq_index_share: str | None = IndexShareOpt,
    frames_vs_images: bool | None = FramesImagesOpt,
    disabled: bool = typer.Option(False, help="Create the bank with matching off."),
    db: str | None = DbOpt,
) -> None:
    """Create a bank of known hashes (matching on, unless --disabled), with its own match
    rules where given (the others follow the server's)."""
    from tantalio.platform.service import Invalid

    own = rule_options(
        quality_min,
        orientations,
        vpdq_frame_distance,
        vpdq_query_share,
        vpdq_index_share,
        frames_vs_images,
    )
    with _refusing(db, Invalid) as svc:
        b = svc.create_bank(
            name,
            enabled=not disabled,
            pdq_threshold=threshold,
            match_rules=own or None,
            actor=cli_username(),
        )
        typer.echo(
            f"bank {b.name} (threshold {b.pdq_threshold}, "
            f"{'enabled' if b.enabled else 'disabled'})\n  rules: {_rules_text(svc, b)}"
        )


@bank_app.command("config")
def bank_config(
    name: str = typer.Argument(..., help="Bank to configure."),
    threshold: int | None = PdqThresholdOpt,
    quality_min: int | None = QualityOpt,
    orientations: bool | None = OrientOpt,
    vpdq_frame_distance: int | None = FrameDistOpt,
    vpdq_query_share: str | None = QueryShareOpt,
    vpdq_index_share: str | None = IndexShareOpt,
    frames_vs_images: bool | None = FramesImagesOpt,
    reset: list[str] = typer.Option(
        [], "--reset", help="A match rule to hand back to the server's (repeatable; 'all')."
    ),
    db: str | None = DbOpt,
) -> None:
    """Change a bank's match rules; running servers apply them within a poll interval."""
    from tantalio.platform.service import BANK_RULE_KEYS, Invalid, NotFound

    own = rule_options(
        quality_min,
        orientations,
        vpdq_frame_distance,
        vpdq_query_share,
        vpdq_index_share,
        frames_vs_images,
    )
    with _refusing(db, Invalid, NotFound) as svc:
        if reset:
            try:
                keys = reset_keys(reset, tuple(BANK_RULE_KEYS))
            except ValueError as exc:
                raise Invalid(str(exc)) from None
            kept = {k: v for k, v in (svc.bank(name).match_rules or {}).items() if k not in keys}
            svc.store.update_bank(name, match_rules=kept, actor=cli_username())
        b = svc.update_bank(
            name, pdq_threshold=threshold, match_rules=own or None, actor=cli_username()
        )
        typer.echo(f"bank {b.name}\n  rules: {_rules_text(svc, b)}")


@bank_app.command("list")
def bank_list(db: str | None = DbOpt) -> None:
    """List the banks with their sizes, match rules and whether they match."""
    svc = _service(db)
    sizes = svc.store.bank_sizes()
    for b in svc.list_banks():
        typer.echo(
            f"{b.name}\t{sizes.get(b.id, 0)} entries\tthreshold {b.pdq_threshold}\t"
            f"{'enabled' if b.enabled else 'disabled'}\t{_rules_text(svc, b)}"
        )
    svc.store.close()


@bank_app.command("show")
def bank_show(
    name: str = typer.Argument(..., help="Bank to show."),
    db: str | None = DbOpt,
) -> None:
    """One bank: size, state and its match rules (`*`: set for this bank; the others are
    the server's)."""
    from tantalio.platform.service import NotFound

    with _refusing(db, NotFound) as svc:
        b = svc.bank(name)
        size = svc.store.bank_sizes().get(b.id, 0)
        typer.echo(f"bank {b.name}: {size} entries, {'enabled' if b.enabled else 'disabled'}")
        if b.description:
            typer.echo(f"  {b.description}")
        typer.echo(f"  rules: {_rules_text(svc, b)}")


@bank_app.command("delete")
def bank_delete(
    name: str = typer.Argument(..., help="Bank to delete, with its entries."),
    db: str | None = DbOpt,
) -> None:
    """Delete a bank and its entries."""
    svc = _service(db)
    gone = svc.delete_bank(name, actor=cli_username())
    svc.store.close()
    if not gone:
        typer.echo(f"no bank {name!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"deleted bank {name}")


@bank_app.command("import")
def bank_import(
    name: str = typer.Argument(..., help="Bank to import into."),
    file: Path = typer.Argument(..., help="Hash list to import."),
    format: str | None = typer.Option(
        None, "--format", help="hma, vics, md5sum, sha256sum, tantalio-signed."
    ),
    trusted_key: list[Path] = typer.Option(
        [], "--trusted-key", help="Public key (PEM) for signed lists."
    ),
    allow_unsigned: bool = typer.Option(False, help="Accept an unsigned tantalio list."),
    bulk: bool = typer.Option(
        False,
        "--bulk",
        help="PDQ-only list of millions of hashes (one 64-hex hash per line, or a .npy of "
        "(n, 4) uint64 words): stored as a memory-mapped index under --bulk-dir, no row "
        "per hash; serving processes map it (docs/decisions/platform.md).",
    ),
    bulk_dir: Path | None = typer.Option(
        None, "--bulk-dir", help="With --bulk: directory for the bank's index (required)."
    ),
    prebuilt_index: Path | None = typer.Option(
        None,
        "--prebuilt-index",
        help="With --bulk: an index `bulk.build_dir` already built over this list (default "
        "ids), checked and hard-linked instead of built again.",
    ),
    db: str | None = DbOpt,
) -> None:
    """Import a hash list into a bank; a refused list adds nothing."""
    from tantalio.platform.imports import ImportRefused, import_file
    from tantalio.platform.service import NotFound

    if bulk and bulk_dir is None:
        exits.usage("--bulk needs --bulk-dir")
    with _refusing(db, ImportRefused, NotFound) as svc:
        if bulk:
            from tantalio.platform.bulkbank import import_bulk

            assert bulk_dir is not None
            res = import_bulk(svc, name, file, bulk_dir, prebuilt=prebuilt_index)
        else:
            res = import_file(
                svc,
                name,
                file,
                format=format,
                trusted_keys=[str(k) for k in trusted_key],
                allow_unsigned=allow_unsigned,
            )
    for w in res.warnings[:20]:
        typer.echo(f"warning: {w}", err=True)
    if len(res.warnings) > 20:
        typer.echo(f"... {len(res.warnings) - 20} more warnings", err=True)
    skipped = sum(1 for w in res.warnings if w.endswith("skipped"))
    ignored = len(res.warnings) - skipped
    also = f", {ignored} values ignored (rows kept)" if ignored else ""
    typer.echo(f"imported {res.added} entries into {name} ({skipped} rows skipped{also})")


@platform_app.command("audit")
def audit_cmd(
    verify: bool = typer.Option(
        False, "--verify", help="Recompute the hash chain; exit 1 naming the first bad event."
    ),
    action: str | None = typer.Option(None, "--action", help="Only actions with this prefix."),
    limit: int = typer.Option(50, "--limit", min=1, help="How many recent events to list."),
    db: str | None = DbOpt,
) -> None:
    """The platform's audit: bank list pulls (applied, refused, failed), bank create, config
    and delete, API key create and revoke, newest first; `--verify` checks the chain."""
    from tantalio.store.platform import PlatformStore
    from tantalio.store.platform import audit as platform_audit

    store = PlatformStore(_db(db))
    try:
        with store.session() as s:
            if verify:
                result = platform_audit.verify(s)
                if not result.ok:
                    typer.echo(f"platform audit: chain BROKEN at {result.problems[0]}", err=True)
                    for p in result.problems[1:20]:
                        typer.echo(f"  also: {p}", err=True)
                    raise typer.Exit(1)
                typer.echo(
                    f"platform audit: {result.events} events, chain intact "
                    f"(head {result.head_seq}:{result.head_hash})"
                )
                return
            for e in reversed(platform_audit.events(s, action, limit)):
                obj = f"{e.object_type}:{e.object_id}" if e.object_type else "-"
                typer.echo(
                    f"{e.seq}\t{e.at:%Y-%m-%d %H:%M:%S}\t{e.actor}\t{e.action}\t{obj}\t{e.detail}"
                )
    finally:
        store.close()


def register(app: typer.Typer) -> None:
    app.add_typer(platform_app, name="platform")
