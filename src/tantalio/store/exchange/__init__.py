"""The exchange's database: agencies, keys, hash-only records, watches, change feed, links,
signed lists and the hash-chained audit (issue #11, docs/exchange-api.md).

`ExchangeStore(url)` opens (and migrates) it.
"""

from __future__ import annotations

from tantalio.store.exchange.repo import AgencyExists, AgencyRow, ExchangeStore, IndexRow, KeyRow

__all__ = ["AgencyExists", "AgencyRow", "ExchangeStore", "IndexRow", "KeyRow"]
