"""API keys: random tokens stored only as SHA-256, scoped, rate-limited per key.

The token format, its verifier (SHA-256 of a 256-bit secret), the scope rule and the cache
of verified keys (`key_cache_ttl_s`) are the servers' shared scheme in `tantalio.apikeys`,
which the exchange's agency keys use too; this module adds the platform's scopes and buckets.

Scopes: `lookup` (match and hash), `curate` (banks, entries, imports, review queue,
reports), `admin` (keys, rules, deliveries; implies the other two).

Rate limits are a token bucket per key (ratelimit.py): in process memory for one worker,
in a file shared by all workers when $TANTALIO_RATE_FILE names one (`platform serve
--workers N` sets it), so N workers do not give a key N times its rate; in the platform
database when several hosts serve it (`serve --rate-limits database`, ratelimit_db.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from tantalio import apikeys
from tantalio.apikeys import KEY_PREFIX, hash_key, new_token
from tantalio.platform.ratelimit import Buckets, buckets_from_env
from tantalio.store.platform import PlatformStore
from tantalio.store.platform.records import ApiKeyRecord

__all__ = ["KEY_PREFIX", "SCOPES", "KeyRing", "create_key", "has_scope", "hash_key", "new_token"]

SCOPES = ("lookup", "curate", "admin")


def has_scope(key: ApiKeyRecord, scope: str) -> bool:
    return apikeys.has_scope(key.scopes, scope)


def create_key(
    store: PlatformStore,
    name: str,
    scopes: Iterable[str],
    *,
    rate_per_s: float,
    burst: int,
    actor: str | None = None,
) -> tuple[str, ApiKeyRecord]:
    checked = apikeys.check_scopes(scopes, SCOPES)
    if rate_per_s <= 0 or burst < 1:
        raise ValueError("rate must be > 0 and burst >= 1")
    token, prefix = new_token()
    rec = store.create_key(
        name=name,
        prefix=prefix,
        key_hash=hash_key(token),
        scopes=checked,
        rate_per_s=rate_per_s,
        burst=burst,
        actor=actor,
    )
    return token, rec


class KeyRing(apikeys.KeyCache[ApiKeyRecord]):
    """Authenticates bearer tokens (cached `ttl_s`) and applies each key's token bucket."""

    def __init__(
        self, store: PlatformStore, ttl_s: float = 2.0, buckets: Buckets | None = None
    ) -> None:
        super().__init__(store.key_by_hash, ttl_s)
        self.store = store
        if buckets is None:
            buckets = buckets_from_env(store.engine.url.render_as_string(hide_password=False))
        self._buckets = buckets

    def allow(self, key: ApiKeyRecord) -> float:
        """0.0 when the request may proceed, else the seconds until a token is available."""
        return self._buckets.allow(key.id, key.rate_per_s, key.burst)
