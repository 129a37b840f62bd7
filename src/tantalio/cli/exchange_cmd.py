"""`tantalio exchange ...` (server side): run the central exchange and manage its agencies,
keys, lists and audit (issue #11, docs/exchange-api.md).

    tantalio exchange serve [--db URL] [--host H] [--port P] [--signing-key PATH]
    tantalio exchange agency create NAME --country CC [--contact LINE] [--scope S ...]
    tantalio exchange agency list
    tantalio exchange key create AGENCY --scope S [--scope S ...]
    tantalio exchange key list | key revoke KEY_ID
    tantalio exchange list create NAME --category C --min-agencies N [--description TEXT]
    tantalio exchange list publish NAME [--signing-key PATH]
    tantalio exchange audit verify

The database is `--db` or $TANTALIO_EXCHANGE_DB (default: sqlite:///tantalio-exchange.db).
The list-signing key is `--signing-key` or $TANTALIO_EXCHANGE_SIGNING_KEY, else
`tantalio-exchange-signing-key.pem` beside a SQLite database (in the working directory for
PostgreSQL); it is created mode 0600 on first use.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

GROUP = "exchange"
HELP = "The central exchange across agencies (hash-only records, signed lists)."
DB_ENV = "TANTALIO_EXCHANGE_DB"
DEFAULT_DB = "sqlite:///tantalio-exchange.db"

agency_app = typer.Typer(help="Agencies (each gets an API key).", no_args_is_help=True)
key_app = typer.Typer(help="Agency API keys (stored hashed; shown once).", no_args_is_help=True)
list_app = typer.Typer(help="Signed lists (Baseline-like deltas).", no_args_is_help=True)
audit_app = typer.Typer(help="The exchange's hash-chained audit.", no_args_is_help=True)

DbOpt = typer.Option(None, "--db", help=f"Database URL (or ${DB_ENV}).")
KeyOpt = typer.Option(
    None,
    "--signing-key",
    help="Ed25519 list-signing key (PEM), kept apart from the database; created mode 0600 "
    "if missing. Default: $TANTALIO_EXCHANGE_SIGNING_KEY, else beside a SQLite database.",
)


def _db(db: str | None) -> str:
    return db or os.environ.get(DB_ENV) or DEFAULT_DB


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def serve(
    db: str | None = DbOpt,
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    port: int = typer.Option(8900, help="Port to listen on."),
    signing_key: Path | None = KeyOpt,
    log_level: str = typer.Option("info", help="uvicorn log level: critical … debug."),
    index_dir: Path | None = typer.Option(
        None,
        help="Directory of the in-memory indexes' snapshot (a restart loads it and replays "
        "only what changed after it). Default: $TANTALIO_EXCHANGE_INDEX_DIR, else beside a "
        "SQLite database (<file>.index), else under ~/.cache/tantalio/exchange-index.",
    ),
    no_index_snapshot: bool = typer.Option(
        False, help="Rebuild the indexes from the database on every start; save no snapshot."
    ),
) -> None:
    """Serve the exchange API (/v1; OpenAPI at /v1/openapi.json, behind a key)."""
    import uvicorn

    from tantalio.exchange.config import INDEX_DIR_ENV, SIGNING_KEY_ENV
    from tantalio.store.exchange import ExchangeStore

    url = _db(db)
    ExchangeStore(url).close()  # create or migrate the schema before serving
    os.environ[DB_ENV] = url
    if signing_key:
        os.environ[SIGNING_KEY_ENV] = str(signing_key)
    if no_index_snapshot:
        os.environ[INDEX_DIR_ENV] = ""
    elif index_dir:
        os.environ[INDEX_DIR_ENV] = str(index_dir)
    uvicorn.run(
        "tantalio.exchange.app:app_from_env",
        factory=True,
        host=host,
        port=port,
        access_log=False,  # query strings may hold list names; paths are enough
        log_level=log_level,
    )


def agency_create(
    name: str = typer.Argument(..., help="The agency's name as other agencies see it."),
    country: str = typer.Option(..., "--country", help="ISO 3166 alpha-2 code."),
    contact: str | None = typer.Option(None, help="The contact line other agencies see."),
    scope: list[str] = typer.Option(
        ["push", "query"], "--scope", help="Scopes of the first key (repeatable)."
    ),
    rate: float = typer.Option(20.0, help="Requests per second for the agency's keys together."),
    burst: int = typer.Option(40, help="Token bucket size."),
    db: str | None = DbOpt,
) -> None:
    """Create an agency and its first key; the key is the last line on stdout, alone."""
    from tantalio.exchange.admin import create_agency

    try:
        token, agency, key_id = create_agency(_db(db), name, country, contact, scope, rate, burst)
    except ValueError as exc:
        _fail(str(exc))
        return
    typer.echo(
        f"agency {agency.name} ({agency.country}) created; key {key_id} "
        f"scopes {','.join(sorted(set(scope)))} (shown once, stored hashed)",
        err=True,
    )
    typer.echo(token)


def agency_list(db: str | None = DbOpt) -> None:
    """List the agencies, their countries and contact lines."""
    from tantalio.store.exchange import ExchangeStore

    store = ExchangeStore(_db(db))
    for a in store.agencies():
        typer.echo(f"{a.id}\t{a.name}\t{a.country}\t{a.contact or ''}")
    store.close()


def key_create(
    agency: str = typer.Argument(..., help="The agency the key acts for."),
    scope: list[str] = typer.Option(..., "--scope", help="push, query, publish or admin."),
    db: str | None = DbOpt,
) -> None:
    """Create another key for an agency; the key is the last line on stdout, alone."""
    from tantalio.exchange.admin import create_agency_key

    try:
        token, key_id = create_agency_key(_db(db), agency, scope)
    except ValueError as exc:
        _fail(str(exc))
        return
    typer.echo(f"key {key_id} for {agency} scopes {','.join(sorted(set(scope)))}", err=True)
    typer.echo(token)


def key_list(db: str | None = DbOpt) -> None:
    """List the keys (prefix, agency, scopes, revoked or active); never the keys."""
    from tantalio.store.exchange import ExchangeStore

    store = ExchangeStore(_db(db))
    for key_id, agency, prefix, scopes, revoked in store.list_keys():
        state = f"revoked {revoked:%Y-%m-%d %H:%M}" if revoked else "active"
        typer.echo(f"{key_id}\t{agency}\ttnt_{prefix}_…\t{scopes}\t{state}")
    store.close()


def key_revoke(
    key_id: int = typer.Argument(..., help="The key's id (see `key list`)."),
    db: str | None = DbOpt,
) -> None:
    """Revoke a key by id (`key list` shows them); audited."""
    from tantalio.exchange.admin import revoke_key

    if not revoke_key(_db(db), key_id):
        _fail(f"no active key {key_id}")
    typer.echo(f"revoked key {key_id}")


def list_create(
    name: str = typer.Argument(..., help="The list's name (the last part of its URL)."),
    category: int = typer.Option(..., help="Project VIC category the agencies must agree on."),
    min_agencies: int = typer.Option(2, help="How many agencies must agree."),
    description: str | None = typer.Option(None, help="What the list is for."),
    db: str | None = DbOpt,
) -> None:
    """Create a list: media of CATEGORY held by at least MIN_AGENCIES agencies."""
    from tantalio.exchange.service import Refused

    svc = _service(db, None)
    try:
        svc.create_list(name, category, min_agencies, description)
    except Refused as exc:
        _fail(exc.detail)
    finally:
        svc.close()
    typer.echo(f"list {name}: category {category} agreed by >= {min_agencies} agencies")


def list_publish(
    name: str = typer.Argument(..., help="The list to publish the next delta of."),
    db: str | None = DbOpt,
    signing_key: Path | None = KeyOpt,
) -> None:
    """Sign and store the list's next delta (what changed since the last one)."""
    from tantalio.exchange.service import Refused

    svc = _service(db, signing_key)
    try:
        out = svc.publish(name)
    except Refused as exc:
        _fail(exc.detail)
        return
    finally:
        svc.close()
    typer.echo(
        f"list {name}: delta {out['seq']} signed ({out['added']} added, "
        f"{out['retracted']} retracted) with {svc.signing_key_path}"
    )


def audit_verify(db: str | None = DbOpt) -> None:
    """Recompute the audit chain; exit 1 naming each broken event."""
    from tantalio.store.exchange import ExchangeStore
    from tantalio.store.exchange import audit as audit_log

    store = ExchangeStore(_db(db))
    with store.session() as s:
        result = audit_log.verify(s)
    store.close()
    for problem in result.problems:
        typer.echo(problem, err=True)
    if not result.ok:
        typer.echo(
            f"audit chain BROKEN ({len(result.problems)} problem(s), {result.events} events)"
        )
        raise typer.Exit(1)
    typer.echo(f"audit chain intact: {result.events} events, head {result.head_seq}")


def _service(db: str | None, signing_key: Path | None):  # type: ignore[no-untyped-def]
    from tantalio.exchange.config import ExchangeConfig
    from tantalio.exchange.service import ExchangeService

    return ExchangeService(
        ExchangeConfig(db_url=_db(db), signing_key=str(signing_key) if signing_key else None)
    )


def register(app: typer.Typer) -> None:
    group = next(
        (g.typer_instance for g in app.registered_groups if g.name == GROUP and g.typer_instance),
        None,
    )
    if group is None:
        group = typer.Typer(help=HELP, no_args_is_help=True)
        app.add_typer(group, name=GROUP)
    group.command("serve")(serve)
    agency_app.command("create")(agency_create)
    agency_app.command("list")(agency_list)
    key_app.command("create")(key_create)
    key_app.command("list")(key_list)
    key_app.command("revoke")(key_revoke)
    list_app.command("create")(list_create)
    list_app.command("publish")(list_publish)
    audit_app.command("verify")(audit_verify)
    group.add_typer(agency_app, name="agency")
    group.add_typer(key_app, name="key")
    group.add_typer(list_app, name="list")
    group.add_typer(audit_app, name="audit")
