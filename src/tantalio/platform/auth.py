"""API keys: random tokens stored only as SHA-256, scoped, rate-limited per key.

A key is ``tnt_<prefix>_<secret>`` with 256 random bits of secret; for such high-entropy
tokens a plain SHA-256 is a sound verifier (no dictionary to attack), and it lets a request
find its key with one indexed lookup. Verified keys are cached for `key_cache_ttl_s` so a
lookup costs no database round trip; a revocation takes effect within that time.

Scopes: `lookup` (match and hash), `curate` (banks, entries, imports, review queue,
reports), `admin` (keys, rules, deliveries; implies the other two).

Rate limits are a token bucket per key (ratelimit.py): in process memory for one worker,
in a file shared by all workers when $TANTALIO_RATE_FILE names one (`platform serve
--workers N` sets it), so N workers do not give a key N times its rate; in the platform
database when several hosts serve it (`serve --rate-limits database`, ratelimit_db.py).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterable

from tantalio.platform.ratelimit import Buckets, buckets_from_env
from tantalio.store.platform import PlatformStore
from tantalio.store.platform.records import ApiKeyRecord

SCOPES = ("lookup", "curate", "admin")
KEY_PREFIX = "tnt_"


def hash_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """(token, visible prefix). The token is shown once and never stored."""
    prefix = secrets.token_hex(4)
    return f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}", prefix


def has_scope(key: ApiKeyRecord, scope: str) -> bool:
    return scope in key.scopes or "admin" in key.scopes


def create_key(
    store: PlatformStore, name: str, scopes: Iterable[str], *, rate_per_s: float, burst: int
) -> tuple[str, ApiKeyRecord]:
    scopes = list(scopes)
    bad = [s for s in scopes if s not in SCOPES]
    if bad or not scopes:
        raise ValueError(
            f"scopes must be among {', '.join(SCOPES)}; got {', '.join(bad) or 'none'}"
        )
    if rate_per_s <= 0 or burst < 1:
        raise ValueError("rate must be > 0 and burst >= 1")
    token, prefix = new_token()
    rec = store.create_key(
        name=name,
        prefix=prefix,
        key_hash=hash_key(token),
        scopes=scopes,
        rate_per_s=rate_per_s,
        burst=burst,
    )
    return token, rec


class KeyRing:
    """Authenticates bearer tokens and applies each key's token bucket."""

    def __init__(
        self, store: PlatformStore, ttl_s: float = 2.0, buckets: Buckets | None = None
    ) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self._cache: dict[str, tuple[float, ApiKeyRecord | None]] = {}
        if buckets is None:
            buckets = buckets_from_env(store.engine.url.render_as_string(hide_password=False))
        self._buckets = buckets

    def authenticate(self, token: str | None) -> ApiKeyRecord | None:
        if not token or not token.startswith(KEY_PREFIX) or len(token) > 200:
            return None
        h = hash_key(token)
        now = time.monotonic()
        hit = self._cache.get(h)
        if hit is not None and now - hit[0] < self.ttl_s:
            key = hit[1]
        else:
            key = self.store.key_by_hash(h)
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[h] = (now, key)
        if key is None or key.revoked_at is not None:
            return None
        return key

    def allow(self, key: ApiKeyRecord) -> float:
        """0.0 when the request may proceed, else the seconds until a token is available."""
        return self._buckets.allow(key.id, key.rate_per_s, key.burst)
