"""Tables of the platform service (all prefixed `platform_`).

One `PlatformEntry` is one piece of known content in a bank (HMA's "bank content"): it may
carry several hashes (MD5, SHA-1, SHA-256, PDQ, vPDQ frames) and records where it came from.
`PlatformIndexChange` is the append-only feed every serving process tails to keep its
in-memory index current without rebuilding it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from tantalio.signals.rules import DEFAULT_PDQ_THRESHOLD
from tantalio.store.platform.base import BigId, PlatformBase


class PlatformBank(PlatformBase):
    __tablename__ = "platform_banks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    enabled_ratio: Mapped[float] = mapped_column(Float, default=1.0)
    pdq_threshold: Mapped[int] = mapped_column(Integer, default=DEFAULT_PDQ_THRESHOLD)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    # The bank's own match rules (MatchRules fields other than pdq_threshold, which has its
    # column): only the keys set for this bank; the others follow the server's rules.
    match_rules: Mapped[dict[str, Any] | None] = mapped_column(
        JSON(none_as_null=True), default=None
    )


class PlatformEntry(PlatformBase):
    __tablename__ = "platform_entries"
    # Never reuse an id: match events and reports refer to entries by id.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    bank_id: Mapped[int] = mapped_column(
        ForeignKey("platform_banks.id", ondelete="CASCADE"), index=True
    )
    md5: Mapped[str | None] = mapped_column(String(32), index=True, default=None)
    sha1: Mapped[str | None] = mapped_column(String(40), index=True, default=None)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    pdq: Mapped[str | None] = mapped_column(String(64), default=None)
    # none_as_null: a missing value is SQL NULL (filterable), not the JSON text 'null'.
    vpdq: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True), default=None)
    photodna: Mapped[str | None] = mapped_column(Text, default=None)
    category: Mapped[int | None] = mapped_column(Integer, default=None)
    source_category: Mapped[str | None] = mapped_column(String(64), default=None)
    source_list: Mapped[str | None] = mapped_column(String(256), default=None)
    original_id: Mapped[str | None] = mapped_column(String(256), default=None)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    source_added_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    meta: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    # Removal is soft: serving processes read a removed entry's hashes to drop them, and
    # law-enforcement reports keep the provenance of what matched.
    removed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class PlatformEntryFeatures(PlatformBase):
    """The local features (`lf1:` text, 64 ORB keypoints) of a banked picture (issue 13),
    kept beside the entry as the workspace's `hash_entry_features` is: the entry table,
    read whole to load the index, stays narrow. Only content banked as a file has a row."""

    __tablename__ = "platform_entry_features"

    entry_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("platform_entries.id", ondelete="CASCADE"), primary_key=True
    )
    local_features: Mapped[str] = mapped_column(Text)


class PlatformBulkSegment(PlatformBase):
    """A bank's bulk-imported PDQ hashes (issue 17): entries `first_id .. first_id+count-1`
    of `bank_id`, stored not as rows but as a memory-mapped index directory at `path`
    (docs/decisions/platform.md, "Bulk banks"). The id range is reserved in the entries' id
    space; a removed bulk entry gets a tombstone row in `platform_entries` (its id, hash and
    `removed_at`), so the database stays the record of what was withdrawn."""

    __tablename__ = "platform_bulk_segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(
        ForeignKey("platform_banks.id", ondelete="CASCADE"), index=True
    )
    first_id: Mapped[int] = mapped_column(BigId)
    count: Mapped[int] = mapped_column(BigId)
    path: Mapped[str] = mapped_column(Text)
    # What the files must look like (header digest, file sizes, sampled rows' digest):
    # checked at every load, so a damaged or swapped directory is refused by name.
    check: Mapped[dict[str, Any]] = mapped_column(JSON)
    category: Mapped[int | None] = mapped_column(Integer, default=None)
    source_list: Mapped[str | None] = mapped_column(String(256), default=None)
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PlatformIndexChange(PlatformBase):
    __tablename__ = "platform_index_changes"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    op: Mapped[str] = mapped_column(String(8))  # "add" | "remove"
    first_id: Mapped[int] = mapped_column(BigId)  # a run of entry ids, inclusive
    last_id: Mapped[int] = mapped_column(BigId)
    bank_id: Mapped[int] = mapped_column(Integer)


class PlatformApiKey(PlatformBase):
    __tablename__ = "platform_api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(64))
    rate_per_s: Mapped[float] = mapped_column(Float)
    burst: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class PlatformRateBucket(PlatformBase):
    """One API key's token bucket, shared by every host that serves this database
    (`serve --rate-limits database`; platform/ratelimit_db.py). `stamp` is the database
    server's clock in seconds since the epoch, the one clock all hosts see."""

    __tablename__ = "platform_rate_buckets"

    key_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tokens: Mapped[float] = mapped_column(Float)
    stamp: Mapped[float] = mapped_column(Float)
    granted: Mapped[bool] = mapped_column(Boolean)


class PlatformRule(PlatformBase):
    __tablename__ = "platform_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    bank_id: Mapped[int | None] = mapped_column(
        ForeignKey("platform_banks.id", ondelete="CASCADE"), default=None
    )
    category: Mapped[int | None] = mapped_column(Integer, default=None)
    max_distance: Mapped[int | None] = mapped_column(Integer, default=None)
    action: Mapped[str] = mapped_column(String(128))
    review: Mapped[bool] = mapped_column(Boolean, default=False)
    webhook_url: Mapped[str] = mapped_column(Text)
    webhook_secret: Mapped[str] = mapped_column(String(256))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PlatformMatchEvent(PlatformBase):
    """One lookup that matched one entry, with the upload context the caller supplied."""

    __tablename__ = "platform_match_events"
    __table_args__ = (Index("ix_platform_match_events_account", "account_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    api_key_id: Mapped[int | None] = mapped_column(Integer, default=None)
    entry_id: Mapped[int] = mapped_column(BigId)
    bank_id: Mapped[int] = mapped_column(Integer)
    signal_type: Mapped[str] = mapped_column(String(16))
    distance: Mapped[int] = mapped_column(Integer)
    content_ref: Mapped[str | None] = mapped_column(String(256), default=None)
    account_id: Mapped[str | None] = mapped_column(String(256), default=None)
    account: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    upload: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    file_hashes: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)


class PlatformReviewItem(PlatformBase):
    __tablename__ = "platform_review_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    match_event_id: Mapped[int] = mapped_column(
        ForeignKey("platform_match_events.id", ondelete="CASCADE")
    )
    rule_id: Mapped[int] = mapped_column(ForeignKey("platform_rules.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    taken_by: Mapped[str | None] = mapped_column(String(128), default=None)
    taken_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    decision: Mapped[str | None] = mapped_column(String(16), default=None)
    decided_by: Mapped[str | None] = mapped_column(String(128), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    notes: Mapped[str | None] = mapped_column(Text, default=None)


class PlatformDelivery(PlatformBase):
    """One webhook call to make; `delivery_id` is sent with every attempt (idempotency)."""

    __tablename__ = "platform_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(64), unique=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("platform_rules.id", ondelete="CASCADE"))
    match_event_id: Mapped[int] = mapped_column(
        ForeignKey("platform_match_events.id", ondelete="CASCADE")
    )
    review_item_id: Mapped[int | None] = mapped_column(Integer, default=None)
    action: Mapped[str] = mapped_column(String(128))
    payload: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class PlatformDeliveryAttempt(PlatformBase):
    __tablename__ = "platform_delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    delivery_pk: Mapped[int] = mapped_column(
        ForeignKey("platform_deliveries.id", ondelete="CASCADE"), index=True
    )
    attempt: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status_code: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    duration_ms: Mapped[float] = mapped_column(Float)


class PlatformSubscription(PlatformBase):
    """A bank fed by a signed list (issue #11): where in the list's chain the bank is."""

    __tablename__ = "platform_subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bank_id: Mapped[int] = mapped_column(
        ForeignKey("platform_banks.id", ondelete="CASCADE"), unique=True
    )
    source: Mapped[str] = mapped_column(Text)
    list_name: Mapped[str] = mapped_column(String(200))
    trusted_key: Mapped[str] = mapped_column(Text)  # PEM, pinned at subscribe time
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_digest: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_pull_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)


class PlatformAuditEvent(PlatformBase):
    """The platform's own hash-chained audit (issue 11), the workspace's chain
    (store/audit.py, same `event_hash`) on its own tables: `actor` stands where a workspace
    names a user (`cli:<login>`, `key:<prefix>`), the API key's id where it has a user id.
    Details carry names, sequence numbers, counts and errors, never hash values."""

    __tablename__ = "platform_audit_events"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    key_id: Mapped[int | None] = mapped_column(Integer, default=None)
    actor: Mapped[str | None] = mapped_column(String(128), default=None)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(32), default=None)
    object_id: Mapped[str | None] = mapped_column(String(256), default=None)
    detail: Mapped[str] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64))


class PlatformAuditHead(PlatformBase):
    __tablename__ = "platform_audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
