"""Open the exchange database and bring its schema up to date (Alembic, applied on open)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, event

from tantalio.store.platform.db import make_engine as make_server_engine

MIGRATIONS = Path(__file__).with_name("migrations")
DEFAULT_URL = "sqlite:///tantalio-exchange.db"

__all__ = ["DEFAULT_URL", "alembic_config", "make_engine", "upgrade"]


# SQLite's page cache per connection (KiB, as PRAGMA cache_size takes it negated). The
# default 2 MiB made a push of 10,000 records into 1M re-read the pages of the unique
# (agency, identity) index it had just evicted: a raw insert of 10,000 rows took 1.05 s with
# it and 0.44 s with 256 MiB at load 12 (docs/perf/exchange.md, run 7); 64 MiB holds a
# pushing agency's part of that index. Pages are only taken when used.
SQLITE_CACHE_KIB = 65536


def make_engine(url: str) -> Engine:
    """The servers' engine (WAL, foreign keys, busy timeout on SQLite) with the exchange's
    larger SQLite page cache."""
    engine = make_server_engine(url)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _cache(dbapi_conn, _record):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
            cur.close()

    return engine


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    """Apply every pending migration; safe to call on every start."""
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
