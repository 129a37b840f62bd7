"""The platform service's database: banks, entries, keys, rules, review, deliveries.

`PlatformStore(url)` opens (and migrates) it; records in `records.py` are what it returns.
"""

from __future__ import annotations

from tantalio.store.platform.repo import BankExists, PlatformStore

__all__ = ["BankExists", "PlatformStore"]
