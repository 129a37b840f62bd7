"""Plain records the platform store hands out, so callers never touch SQLAlchemy objects."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(slots=True)
class BankRecord:
    id: int
    name: str
    enabled: bool
    enabled_ratio: float
    pdq_threshold: int
    description: str | None
    created_at: datetime
    # The bank's own match rules (MatchRules keys other than pdq_threshold); unset keys
    # follow the server's (`PlatformService.bank_rules` resolves them).
    match_rules: dict[str, Any] | None = None


@dataclass(slots=True)
class NewEntry:
    """Hashes and provenance of one piece of known content to add to a bank."""

    md5: str | None = None
    sha1: str | None = None
    sha256: str | None = None
    pdq: str | None = None
    vpdq: list[str] | None = None
    photodna: str | None = None
    category: int | None = None
    source_category: str | None = None
    source_list: str | None = None
    original_id: str | None = None
    source_added_at: datetime | None = None
    meta: dict[str, Any] | None = None


@dataclass(slots=True)
class EntryRecord:
    id: int
    bank_id: int
    bank_name: str
    md5: str | None
    sha1: str | None
    sha256: str | None
    pdq: str | None
    vpdq: list[str] | None
    photodna: str | None
    category: int | None
    source_category: str | None
    source_list: str | None
    original_id: str | None
    added_at: datetime
    source_added_at: datetime | None
    meta: dict[str, Any] | None
    removed_at: datetime | None = None

    def signals(self) -> dict[str, str]:
        return {
            k: v
            for k, v in (
                ("pdq", self.pdq),
                ("md5", self.md5),
                ("sha1", self.sha1),
                ("sha256", self.sha256),
            )
            if v
        }


@dataclass(slots=True)
class IndexRow:
    """What the in-memory index needs of one entry."""

    id: int
    bank_id: int
    md5: str | None
    sha1: str | None
    sha256: str | None
    pdq: str | None
    vpdq: list[str] | None


@dataclass(slots=True)
class IndexChange:
    seq: int
    op: str  # "add" | "remove"
    first_id: int
    last_id: int
    bank_id: int


@dataclass(slots=True)
class ApiKeyRecord:
    id: int
    name: str
    prefix: str
    key_hash: str
    scopes: frozenset[str]
    rate_per_s: float
    burst: int
    created_at: datetime
    revoked_at: datetime | None


@dataclass(slots=True)
class RuleRecord:
    id: int
    name: str
    bank_id: int | None
    category: int | None
    max_distance: int | None
    action: str
    review: bool
    webhook_url: str
    webhook_secret: str
    enabled: bool
    created_at: datetime


@dataclass(slots=True)
class MatchEventRecord:
    id: int
    at: datetime
    api_key_id: int | None
    entry_id: int
    bank_id: int
    signal_type: str
    distance: int
    content_ref: str | None
    account_id: str | None
    account: dict[str, Any] | None
    upload: dict[str, Any] | None
    file_hashes: dict[str, Any] | None


@dataclass(slots=True)
class ReviewItemRecord:
    id: int
    match_event_id: int
    rule_id: int
    status: str
    created_at: datetime
    taken_by: str | None
    taken_at: datetime | None
    decision: str | None
    decided_by: str | None
    decided_at: datetime | None
    notes: str | None


@dataclass(slots=True)
class AttemptRecord:
    attempt: int
    at: datetime
    status_code: int | None
    error: str | None
    duration_ms: float


@dataclass(slots=True)
class DeliveryRecord:
    id: int
    delivery_id: str
    rule_id: int
    match_event_id: int
    review_item_id: int | None
    action: str
    payload: str
    status: str
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    delivered_at: datetime | None
    attempt_log: list[AttemptRecord] = field(default_factory=list)


@dataclass(slots=True)
class BulkSegmentRecord:
    """A bank's bulk-imported PDQ hashes: entries first_id .. first_id + count - 1."""

    id: int
    bank_id: int
    first_id: int
    count: int
    path: str
    check: dict[str, Any]
    category: int | None
    source_list: str | None
    added_at: datetime

    @property
    def last_id(self) -> int:
        return self.first_id + self.count - 1
