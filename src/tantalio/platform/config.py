"""Settings of the matching service. Every threshold is configuration (STYLE.md rule 5)."""

from __future__ import annotations

from dataclasses import dataclass, field

from tantalio.signals import MatchRules
from tantalio.store.platform.db import DEFAULT_URL


@dataclass(slots=True)
class PlatformConfig:
    db_url: str = DEFAULT_URL
    # Index follower: how often each process reads the change feed (own writes apply at once).
    poll_interval_s: float = 0.5
    # Index snapshots (restart without re-reading every entry); None: always a full load.
    index_dir: str | None = None
    snapshot_interval_s: float = 600.0
    # Matching rules (tantalio.signals.MatchRules: PDQ threshold of new banks, quality gate,
    # orientations, vPDQ frame distance and shares); each bank has its own PDQ threshold.
    rules: MatchRules = field(default_factory=MatchRules)
    max_pdq_threshold: int = 64
    # Request limits.
    max_body_bytes: int = 64 * 1024 * 1024
    max_import_bytes: int = 512 * 1024 * 1024
    # URL fetching (HMA's `url=` parameters). Off for private/loopback targets, always.
    url_fetch_enabled: bool = True
    allow_private_urls: bool = False  # tests only: lets a loopback fixture server be fetched
    url_timeout_s: float = 10.0
    url_max_bytes: int = 64 * 1024 * 1024
    # API keys.
    key_cache_ttl_s: float = 2.0
    default_rate_per_s: float = 50.0
    default_burst: int = 100
    # Webhooks.
    webhook_timeout_s: float = 10.0
    webhook_max_retries: int = 5
    webhook_backoff_base_s: float = 2.0
    webhook_backoff_max_s: float = 600.0
    delivery_poll_s: float = 1.0
    run_workers: bool = True
    # Who the reports name as reporter (NCMEC's `reporter/reportingPerson`).
    reporter: dict[str, str] = field(
        default_factory=lambda: {
            "company": "Example Platform",
            "firstName": "Trust",
            "lastName": "Safety",
            "email": "trust-safety@example.org",
        }
    )
