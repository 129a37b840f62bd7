"""Settings of the exchange server. Every threshold is configuration (STYLE.md rule 5)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from tantalio.exchange.index import IndexRules
from tantalio.store.exchange.db import DEFAULT_URL

SIGNING_KEY_ENV = "TANTALIO_EXCHANGE_SIGNING_KEY"
SIGNING_KEY_NAME = "tantalio-exchange-signing-key.pem"
INDEX_DIR_ENV = "TANTALIO_EXCHANGE_INDEX_DIR"


@dataclass(slots=True)
class ExchangeConfig:
    db_url: str = DEFAULT_URL
    # The exchange's Ed25519 key for list deltas: a file apart from the database.
    signing_key: str | None = None
    # The in-memory indexes' snapshot (exchange/snapshot.py); "" turns snapshots off.
    # None: default_index_dir(db_url).
    index_dir: str | None = None
    issuer: str = "tantalio exchange"
    delta_validity_days: int = 30
    rules: IndexRules = field(default_factory=IndexRules)
    max_batch: int = 10_000
    max_body_bytes: int = 64 * 1024 * 1024
    max_changes_page: int = 5_000
    # A push of more records than this answers once they are stored and exactly matched;
    # their PDQ fan-out (feed rows and links for near duplicates) follows in the background.
    fanout_sync_max: int = 2_000
    fanout_batch: int = 10_000
    # The worker starts on queued fan-out once no bulk push came for this long (a 360k push
    # arrives as 36 requests: fanning out between them would take the cores they need),
    # but never lets the queue wait longer than the second figure (then it drains between
    # pushes without compacting the index, which would hold the pushes up).
    fanout_idle_s: float = 2.0
    fanout_max_wait_s: float = 300.0
    # Per agency (its keys together), unless the agency row says otherwise.
    default_rate_per_s: float = 20.0
    default_burst: int = 40
    key_cache_ttl_s: float = 2.0
    # A flood trips the limit many times a second; one audit event per agency per interval
    # says how many requests were refused.
    rate_audit_interval_s: float = 10.0


def default_signing_key(db_url: str) -> Path:
    """$TANTALIO_EXCHANGE_SIGNING_KEY, else beside a SQLite database file, else in the
    working directory (a PostgreSQL exchange should name it with --signing-key)."""
    if env := os.environ.get(SIGNING_KEY_ENV):
        return Path(env)
    if db_url.startswith("sqlite:///") and db_url != "sqlite:///:memory:":
        return Path(db_url.removeprefix("sqlite:///")).parent / SIGNING_KEY_NAME
    return Path(SIGNING_KEY_NAME)


def default_index_dir(db_url: str) -> Path | None:
    """$TANTALIO_EXCHANGE_INDEX_DIR ("" for none), else beside a SQLite database file
    (`<file>.index`), else under the user's cache directory, one per database URL (a
    PostgreSQL exchange should name it with --index-dir). None for an in-memory database."""
    if (env := os.environ.get(INDEX_DIR_ENV)) is not None:
        return Path(env) if env else None
    if db_url.startswith("sqlite:///"):
        if db_url == "sqlite:///:memory:":
            return None
        return Path(db_url.removeprefix("sqlite:///").split("?")[0] + ".index")
    import hashlib
    from urllib.parse import urlsplit

    parts = urlsplit(db_url)
    name = f"{parts.hostname or 'local'}-{parts.port or ''}-{parts.path.strip('/') or 'db'}"
    digest = hashlib.sha256(db_url.encode()).hexdigest()[:12]
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "tantalio" / "exchange-index" / f"{name}-{digest}"
