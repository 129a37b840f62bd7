"""Tables of the exchange (all prefixed `exchange_`).

`ExchangeRecord` is one agency's hash-only record of one piece of media (docs/exchange-api.md);
its identity within the agency is `identity` ("sha256:<hex>", "pdq:<hex>", ...), unique per
agency. Nothing here holds media, file names, paths, thumbnails or EXIF: `shared` holds only
the fields an agency chose to share.
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
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tantalio.store.exchange.base import BigId, ExchangeBase


class ExchangeAgency(ExchangeBase):
    __tablename__ = "exchange_agencies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    country: Mapped[str] = mapped_column(String(2))
    contact: Mapped[str | None] = mapped_column(Text, default=None)
    # Token bucket of the agency (all its keys together).
    rate_per_s: Mapped[float] = mapped_column(Float, default=20.0)
    burst: Mapped[int] = mapped_column(Integer, default=40)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ExchangeApiKey(ExchangeBase):
    __tablename__ = "exchange_api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(
        ForeignKey("exchange_agencies.id", ondelete="CASCADE"), index=True
    )
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class ExchangeRecord(ExchangeBase):
    __tablename__ = "exchange_records"
    __table_args__ = (
        UniqueConstraint("agency_id", "identity", name="uq_exchange_records_agency_identity"),
        Index("ix_exchange_records_category", "category"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("exchange_agencies.id", ondelete="CASCADE"))
    identity: Mapped[str] = mapped_column(String(80))
    sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    sha1: Mapped[str | None] = mapped_column(String(40), default=None)
    md5: Mapped[str | None] = mapped_column(String(32), default=None)
    pdq: Mapped[str | None] = mapped_column(String(64), default=None)
    pdq_quality: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    vpdq: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True), default=None)
    category: Mapped[int | None] = mapped_column(SmallInteger, default=None)
    series: Mapped[str | None] = mapped_column(String(256), default=None)
    status: Mapped[str] = mapped_column(String(16), default="unidentified")
    victim_identified: Mapped[bool] = mapped_column(Boolean, default=False)
    offender_identified: Mapped[bool] = mapped_column(Boolean, default=False)
    case_ref: Mapped[str | None] = mapped_column(String(256), default=None)
    first_seen: Mapped[str | None] = mapped_column(String(32), default=None)
    last_seen: Mapped[str | None] = mapped_column(String(32), default=None)
    shared: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    retracted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class ExchangeWatch(ExchangeBase):
    """A hash an agency queried: changes to other agencies' records with it reach its feed.
    (Pushed hashes are watched through the agency's own records.)"""

    __tablename__ = "exchange_watches"
    __table_args__ = (
        UniqueConstraint("agency_id", "kind", "value", name="uq_exchange_watches_agency_kind"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("exchange_agencies.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))
    value: Mapped[str] = mapped_column(String(64))


class ExchangeChange(ExchangeBase):
    """The change feed, fanned out on write: one row per (agency that watches, changed record)."""

    __tablename__ = "exchange_changes"
    __table_args__ = (
        Index("ix_exchange_changes_agency_seq", "agency_id", "seq"),
        {"sqlite_autoincrement": True},
    )

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    agency_id: Mapped[int] = mapped_column(Integer)
    record_id: Mapped[int] = mapped_column(BigInteger)
    info: Mapped[dict[str, Any]] = mapped_column(JSON)  # watched, match, distance
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ExchangeFanout(ExchangeBase):
    """Records of a bulk push whose PDQ fan-out (feed rows, pairs) is still to be done; the
    server's worker drains it after the push has answered, and again after a restart."""

    __tablename__ = "exchange_fanout_queue"

    record_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class ExchangeMeta(ExchangeBase):
    """Facts about the database itself: `database_id` (a random id made by migration 0002,
    so an index snapshot of another database is never taken for this one's)."""

    __tablename__ = "exchange_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(256))


class ExchangeIndexLog(ExchangeBase):
    """Records changed in place (hashes, agency, retraction) or deleted, written by database
    triggers (migration 0002): a restart from an index snapshot replays those after its
    mark. Inserts need no log row: record ids only grow."""

    __tablename__ = "exchange_index_log"
    __table_args__ = ({"sqlite_autoincrement": True},)

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    record_id: Mapped[int] = mapped_column(BigInteger)
    agency_id: Mapped[int] = mapped_column(Integer)


class ExchangePair(ExchangeBase):
    """Two agencies' records of the same media (exact or PDQ): the ground of series links."""

    __tablename__ = "exchange_pairs"

    a_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    b_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, index=True)
    match: Mapped[str] = mapped_column(String(8))
    distance: Mapped[int] = mapped_column(Integer, default=0)


class ExchangeList(ExchangeBase):
    __tablename__ = "exchange_lists"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    category: Mapped[int] = mapped_column(SmallInteger)
    min_agencies: Mapped[int] = mapped_column(Integer)
    last_seq: Mapped[int] = mapped_column(Integer, default=0)
    last_digest: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ExchangeListDelta(ExchangeBase):
    __tablename__ = "exchange_list_deltas"
    __table_args__ = (UniqueConstraint("list_id", "seq", name="uq_exchange_list_deltas_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    list_id: Mapped[int] = mapped_column(ForeignKey("exchange_lists.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    digest: Mapped[str] = mapped_column(String(64))
    document: Mapped[str] = mapped_column(Text)
    added: Mapped[int] = mapped_column(Integer)
    retracted: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ExchangeListEntry(ExchangeBase):
    """What a list holds as of its last delta (the base the next delta is computed from)."""

    __tablename__ = "exchange_list_entries"

    list_id: Mapped[int] = mapped_column(
        ForeignKey("exchange_lists.id", ondelete="CASCADE"), primary_key=True
    )
    identity: Mapped[str] = mapped_column(String(80), primary_key=True)
    entry: Mapped[dict[str, Any]] = mapped_column(JSON)


class ExchangeAuditEvent(ExchangeBase):
    """Hash-chained like the workspace's audit (store/audit.py, same `event_hash`): the
    agency's name stands where a workspace names a user, the key id where it has a user id."""

    __tablename__ = "exchange_audit_events"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    key_id: Mapped[int | None] = mapped_column(Integer, default=None)
    agency: Mapped[str | None] = mapped_column(String(128), default=None)
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(32), default=None)
    object_id: Mapped[str | None] = mapped_column(String(128), default=None)
    detail: Mapped[str] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64))


class ExchangeAuditHead(ExchangeBase):
    __tablename__ = "exchange_audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    hash: Mapped[str] = mapped_column(String(64))
