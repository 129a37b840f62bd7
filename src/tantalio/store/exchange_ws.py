"""What the central exchange told this workspace (issue 11), kept in the case store.

- `exchange_match`: per media, each other agency's record that matched it (agency, country,
  contact line, series, status, identified flags, category, how it matched). One row per
  (media, agency, algorithm, series), named by `key`; a fresh query answer replaces a media's
  rows, a change from `/v1/changes` updates or removes one.
- `exchange_query`: per media, whether the exchange has answered about it (`done`) or the
  query failed and waits for the next `tantalio exchange sync` (`pending`).
- `exchange_sync`: one row, the change-feed position of the last sync.
- `exchange_series_link`: the exchange's series links (own series ↔ another agency's).

What a sync changed is told per case as `case_notice` rows (store/subscriptions.py).

Never the other agency's case content: the exchange sends none, and these tables hold only
what its answers carry.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from tantalio.store.base import Base
from tantalio.store.timeutil import utcnow

QUERY_STATES = ("done", "pending")


class ExchangeMatch(Base):
    __tablename__ = "exchange_match"
    __table_args__ = (UniqueConstraint("media_id", "key", name="uq_exchange_match_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(64))  # sha256 of agency, algorithm, series
    agency: Mapped[str] = mapped_column(String(200), index=True)
    country: Mapped[str | None] = mapped_column(String(8), default=None)
    contact: Mapped[str | None] = mapped_column(Text, default=None)
    series: Mapped[str | None] = mapped_column(String(200), default=None)
    status: Mapped[str] = mapped_column(String(16), default="unidentified")
    victim_identified: Mapped[bool] = mapped_column(Boolean, default=False)
    offender_identified: Mapped[bool] = mapped_column(Boolean, default=False)
    category: Mapped[int | None] = mapped_column(Integer, default=None)
    algorithm: Mapped[str] = mapped_column(String(8))
    distance: Mapped[int] = mapped_column(Integer, default=0)
    first_seen: Mapped[str | None] = mapped_column(String(40), default=None)
    last_seen: Mapped[str | None] = mapped_column(String(40), default=None)
    updated_at: Mapped[str | None] = mapped_column(String(40), default=None)  # the exchange's
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ExchangeQuery(Base):
    __tablename__ = "exchange_query"

    media_id: Mapped[int] = mapped_column(
        ForeignKey("media.id", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(8), index=True)  # done | pending
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    error: Mapped[str | None] = mapped_column(Text, default=None)


class ExchangeSync(Base):
    __tablename__ = "exchange_sync"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)  # always 1
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_sync_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)


class ExchangeSeriesLink(Base):
    __tablename__ = "exchange_series_link"
    __table_args__ = (
        UniqueConstraint("series", "agency", "other_series", name="uq_exchange_series_link"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series: Mapped[str] = mapped_column(String(200), index=True)  # this agency's reference
    agency: Mapped[str] = mapped_column(String(200))
    country: Mapped[str | None] = mapped_column(String(8), default=None)
    other_series: Mapped[str] = mapped_column(String(200))
    shared_media: Mapped[int] = mapped_column(Integer, default=0)
    other_status: Mapped[str | None] = mapped_column(String(16), default=None)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
