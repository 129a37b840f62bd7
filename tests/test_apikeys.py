"""The servers' one API-key scheme (`tantalio.apikeys`), used by the platform and the
exchange alike: token format, SHA-256 verifier, scope rule, cached verification."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from tantalio import apikeys
from tantalio.exchange import auth as exchange_auth
from tantalio.platform import auth as platform_auth


@dataclass
class Key:
    name: str
    revoked_at: datetime | None = None


def test_tokens_are_random_prefixed_and_stored_only_as_their_sha256() -> None:
    token, prefix = apikeys.new_token()
    other, _ = apikeys.new_token()
    assert token.startswith(f"tnt_{prefix}_") and len(token) > 40 and token != other
    assert apikeys.hash_key(token) == hashlib.sha256(token.encode()).hexdigest()
    assert apikeys.hash_key(token) != apikeys.hash_key(other)


def test_admin_implies_every_scope_and_unknown_scopes_are_refused() -> None:
    assert apikeys.has_scope({"admin"}, "push") and apikeys.has_scope(["query"], "query")
    assert not apikeys.has_scope(frozenset({"query"}), "push")
    assert apikeys.check_scopes(["push", "query", "push"], ("push", "query")) == ["push", "query"]
    with pytest.raises(ValueError, match="scopes must be among push, query; got curate"):
        apikeys.check_scopes(["push", "curate"], ("push", "query"))
    with pytest.raises(ValueError, match="got none"):
        apikeys.check_scopes([], ("push",))


def test_both_servers_use_the_one_scheme() -> None:
    assert platform_auth.hash_key is apikeys.hash_key
    assert issubclass(platform_auth.KeyRing, apikeys.KeyCache)
    assert issubclass(exchange_auth.KeyRing, apikeys.KeyCache)
    with pytest.raises(ValueError, match="scopes must be among lookup, curate, admin"):
        platform_auth.create_key(None, "x", ["push"], rate_per_s=1, burst=1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="scopes must be among push, query, publish, admin"):
        exchange_auth.check_scopes(["lookup"])


def test_the_cache_verifies_by_hash_and_sees_a_revocation_after_its_ttl() -> None:
    token, _ = apikeys.new_token()
    stored = {apikeys.hash_key(token): Key("k")}
    lookups: list[str] = []

    def lookup(h: str) -> Key | None:
        lookups.append(h)
        return stored.get(h)

    cache = apikeys.KeyCache(lookup, ttl_s=0.2)
    assert cache.authenticate(token) == Key("k")
    assert cache.authenticate(token) == Key("k") and len(lookups) == 1  # cached
    for bad in (None, "", "Bearer x", "tnt_" + "a" * 300, token + "x"):
        assert cache.authenticate(bad) is None
    assert len(lookups) == 2  # only the well-formed unknown token was looked up
    stored[apikeys.hash_key(token)] = Key("k", revoked_at=datetime.now(UTC))
    assert cache.authenticate(token) == Key("k")  # within the ttl
    time.sleep(0.25)
    assert cache.authenticate(token) is None
    stored[apikeys.hash_key(token)] = Key("k")
    cache.forget()
    assert cache.authenticate(token) == Key("k")
