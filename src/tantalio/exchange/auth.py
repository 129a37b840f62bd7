"""Agency keys: the servers' one key scheme (`tantalio.apikeys`: `tnt_<prefix>_<secret>`,
stored only as SHA-256, cached verification) with the exchange's scopes, and one token bucket
per agency (platform/ratelimit.py): an agency's keys share its rate.

Scopes: `push` (records, retractions), `query` (queries, changes, series links, list deltas
and keys), `publish` (publish list deltas), `admin` (create lists; implies the others).
"""

from __future__ import annotations

from collections.abc import Iterable

from tantalio import apikeys
from tantalio.platform.ratelimit import LocalBuckets
from tantalio.store.exchange import ExchangeStore, KeyRow

SCOPES = ("push", "query", "publish", "admin")
DEFAULT_SCOPES = ("push", "query")


def has_scope(key: KeyRow, scope: str) -> bool:
    return apikeys.has_scope(key.scopes, scope)


def check_scopes(scopes: Iterable[str]) -> list[str]:
    return apikeys.check_scopes(scopes, SCOPES)


def create_key(store: ExchangeStore, agency_id: int, scopes: Iterable[str]) -> tuple[str, int]:
    """(token, key id). The token is shown once and never stored."""
    checked = check_scopes(scopes)
    token, prefix = apikeys.new_token()
    return token, store.create_key(agency_id, prefix, apikeys.hash_key(token), checked)


class KeyRing(apikeys.KeyCache[KeyRow]):
    """Authenticates bearer tokens (cached `ttl_s`: a revocation takes effect within it) and
    applies each agency's token bucket."""

    def __init__(self, store: ExchangeStore, ttl_s: float = 2.0) -> None:
        super().__init__(store.key_by_hash, ttl_s)
        self.store = store
        self._buckets = LocalBuckets()

    def allow(self, key: KeyRow) -> float:
        """0.0 when the request may proceed, else the seconds until a token is available."""
        return self._buckets.allow(key.agency_id, key.rate_per_s, key.burst)
