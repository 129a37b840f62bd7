"""Agency keys: the platform's scheme (`tnt_<prefix>_<secret>`, stored only as SHA-256,
platform/auth.py) with the exchange's scopes, and one token bucket per agency
(platform/ratelimit.py): an agency's keys share its rate.

Scopes: `push` (records, retractions), `query` (queries, changes, series links, list deltas
and keys), `publish` (publish list deltas), `admin` (create lists; implies the others).
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from tantalio.platform.auth import KEY_PREFIX, hash_key, new_token
from tantalio.platform.ratelimit import LocalBuckets
from tantalio.store.exchange import ExchangeStore, KeyRow

SCOPES = ("push", "query", "publish", "admin")
DEFAULT_SCOPES = ("push", "query")


def has_scope(key: KeyRow, scope: str) -> bool:
    return scope in key.scopes or "admin" in key.scopes


def check_scopes(scopes: Iterable[str]) -> list[str]:
    scopes = list(dict.fromkeys(scopes))
    bad = [s for s in scopes if s not in SCOPES]
    if bad or not scopes:
        raise ValueError(
            f"scopes must be among {', '.join(SCOPES)}; got {', '.join(bad) or 'none'}"
        )
    return scopes


def create_key(store: ExchangeStore, agency_id: int, scopes: Iterable[str]) -> tuple[str, int]:
    """(token, key id). The token is shown once and never stored."""
    checked = check_scopes(scopes)
    token, prefix = new_token()
    return token, store.create_key(agency_id, prefix, hash_key(token), checked)


class KeyRing:
    """Authenticates bearer tokens (cached `ttl_s`: a revocation takes effect within it) and
    applies each agency's token bucket."""

    def __init__(self, store: ExchangeStore, ttl_s: float = 2.0) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self._cache: dict[str, tuple[float, KeyRow | None]] = {}
        self._buckets = LocalBuckets()

    def authenticate(self, token: str | None) -> KeyRow | None:
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

    def forget(self) -> None:
        self._cache.clear()

    def allow(self, key: KeyRow) -> float:
        """0.0 when the request may proceed, else the seconds until a token is available."""
        return self._buckets.allow(key.agency_id, key.rate_per_s, key.burst)
