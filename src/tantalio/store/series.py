"""Series: media that belong together (one production, one victim), and their status.

A series is created from a hash set's series name when a media matches it, from the
examiner's selection in the web app, or proposed by clustering new media of a case.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tantalio.store.base import Base
from tantalio.store.timeutil import utcnow

SERIES_STATUSES = ("unidentified", "in progress", "identified")


class Series(Base):
    __tablename__ = "series"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    agency_id: Mapped[int | None] = mapped_column(
        ForeignKey("agency.id", ondelete="SET NULL"), default=None
    )
    status: Mapped[str] = mapped_column(String(16), default="unidentified")
    victim_identified: Mapped[bool] = mapped_column(Boolean, default=False)
    offender_identified: Mapped[bool] = mapped_column(Boolean, default=False)
    notes: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class MediaSeries(Base):
    """Membership; `source` says who put it there: `hashset`, `examiner` or `cluster`."""

    __tablename__ = "media_series"

    media_id: Mapped[int] = mapped_column(
        ForeignKey("media.id", ondelete="CASCADE"), primary_key=True
    )
    series_id: Mapped[int] = mapped_column(
        ForeignKey("series.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    source: Mapped[str] = mapped_column(String(16), default="examiner")
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
