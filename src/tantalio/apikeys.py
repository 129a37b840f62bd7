"""API keys of the two servers, the platform (`platform/auth.py`) and the exchange
(`exchange/auth.py`): one token format, one verifier, one scope rule, one cache.

A key is ``tnt_<prefix>_<secret>`` with 256 random bits of secret, shown once and stored only
as its SHA-256: for such high-entropy tokens a plain SHA-256 is a sound verifier (there is no
dictionary to attack), and it lets a request find its key with one indexed lookup. Each server
has its own scopes; on both, `admin` implies every other scope. Verified keys are cached for
`ttl_s` so a request costs no database round trip; a revocation takes effect within it.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Generic, Protocol, TypeVar

KEY_PREFIX = "tnt_"
MAX_TOKEN = 200  # longer bearer values are refused before hashing


def hash_key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> tuple[str, str]:
    """(token, visible prefix). The token is shown once and never stored."""
    prefix = secrets.token_hex(4)
    return f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}", prefix


def has_scope(scopes: Iterable[str], scope: str) -> bool:
    """Whether a key holding `scopes` may act in `scope` (`admin` implies every scope)."""
    held = set(scopes)
    return scope in held or "admin" in held


def check_scopes(scopes: Iterable[str], allowed: Iterable[str]) -> list[str]:
    """`scopes` without repeats, in order; `ValueError` naming what is not in `allowed`, or
    when none is given."""
    allowed = tuple(allowed)
    checked = list(dict.fromkeys(scopes))
    bad = [s for s in checked if s not in allowed]
    if bad or not checked:
        raise ValueError(
            f"scopes must be among {', '.join(allowed)}; got {', '.join(bad) or 'none'}"
        )
    return checked


class StoredKey(Protocol):
    """What a stored key must say for `KeyCache`: whether it was revoked."""

    @property
    def revoked_at(self) -> datetime | None: ...


K = TypeVar("K", bound=StoredKey)


class KeyCache(Generic[K]):
    """Bearer token → its stored key (None: unknown, malformed or revoked), looked up by
    hash and cached `ttl_s` (misses too, so a flood of bad tokens costs one lookup each per
    `ttl_s`)."""

    def __init__(self, lookup: Callable[[str], K | None], ttl_s: float = 2.0) -> None:
        self._lookup = lookup
        self.ttl_s = ttl_s
        self._cache: dict[str, tuple[float, K | None]] = {}

    def authenticate(self, token: str | None) -> K | None:
        if not token or not token.startswith(KEY_PREFIX) or len(token) > MAX_TOKEN:
            return None
        h = hash_key(token)
        now = time.monotonic()
        hit = self._cache.get(h)
        if hit is not None and now - hit[0] < self.ttl_s:
            key = hit[1]
        else:
            key = self._lookup(h)
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[h] = (now, key)
        if key is None or key.revoked_at is not None:
            return None
        return key

    def forget(self) -> None:
        """Drop every cached answer (after a revocation that must take effect at once)."""
        self._cache.clear()
