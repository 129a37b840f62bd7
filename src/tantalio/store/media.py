"""Media: one row per distinct content (SHA-256), fingerprinted once for the whole workspace.

Columns mirror `tantalio.fingerprint.record.Fingerprint` (EXIF fields flattened to columns so
pages can filter on camera and GPS); vPDQ frames and orientation hashes are JSON lists since
they are only ever read whole, to build indexes. `category`, `tags` and `notes` are the
examiner's categorization, shared by every case the media appears in (Project VIC practice).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tantalio.store.base import Base
from tantalio.store.hashsets import HashEntry
from tantalio.store.timeutil import utcnow
from tantalio.store.types import Json


class Media(Base):
    __tablename__ = "media"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    md5: Mapped[str] = mapped_column(String(32), index=True)
    sha1: Mapped[str] = mapped_column(String(40), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(8), default="other")  # image / video / other
    type: Mapped[str] = mapped_column(String(16), default="other")
    mime: Mapped[str | None] = mapped_column(String(100), default=None)
    width: Mapped[int | None] = mapped_column(Integer, default=None)
    height: Mapped[int | None] = mapped_column(Integer, default=None)
    duration: Mapped[float | None] = mapped_column(Float, default=None)
    pdq: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    pdq_quality: Mapped[int | None] = mapped_column(Integer, default=None)
    pdq_orientations: Mapped[list[str] | None] = mapped_column(Json, default=None)
    # PDQ of the picture inside its frame (letterbox, borders, screenshot chrome; issue 13),
    # its 8 orientations and the box it was cut from (file pixels x0, y0, x1, y1).
    pdq_trimmed: Mapped[str | None] = mapped_column(String(64), default=None)
    pdq_trimmed_quality: Mapped[int | None] = mapped_column(Integer, default=None)
    pdq_trimmed_orientations: Mapped[list[str] | None] = mapped_column(Json, default=None)
    pdq_trimmed_box: Mapped[list[int] | None] = mapped_column(Json, default=None)
    # vPDQ: [[pdq_hex, quality, timestamp_s], ...] at 1 frame per second.
    frames: Mapped[list[list[Any]] | None] = mapped_column(Json, default=None)
    keyframes: Mapped[list[float] | None] = mapped_column(Json, default=None)
    make: Mapped[str | None] = mapped_column(String(200), default=None)
    model: Mapped[str | None] = mapped_column(String(200), default=None)
    serial: Mapped[str | None] = mapped_column(String(200), default=None)
    lens: Mapped[str | None] = mapped_column(String(200), default=None)
    datetime_original: Mapped[str | None] = mapped_column(String(40), default=None)
    gps_latitude: Mapped[float | None] = mapped_column(Float, default=None)
    gps_longitude: Mapped[float | None] = mapped_column(Float, default=None)
    software: Mapped[str | None] = mapped_column(String(200), default=None)
    exif_orientation: Mapped[int | None] = mapped_column(Integer, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)  # decoding failed: why
    thumbnail: Mapped[str | None] = mapped_column(String(200), default=None)  # workspace-relative
    fingerprinted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Searched for near-duplicates among the workspace's media (triage.matching).
    near_checked: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), index=True
    )
    # Stored by a fast pass (`ingest --fast`): hashes, type and exact matches only; the
    # PDQ/vPDQ/thumbnail come from a later `tantalio ingest` of the same sources.
    perceptual_pending: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false(), index=True
    )
    category: Mapped[int | None] = mapped_column(Integer, default=None)  # VICS 2.0 (US) 0..4
    tags: Mapped[list[str] | None] = mapped_column(Json, default=None)
    notes: Mapped[str | None] = mapped_column(Text, default=None)
    categorized_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)


MATCH_ALGORITHMS = ("md5", "sha1", "sha256", "pdq", "vpdq", "pdq-trimmed", "local-features")


class Match(Base):
    """Media matched to a hash entry, or to another media of the workspace (near-duplicate).

    Exactly one of `hash_entry_id` / `other_media_id` is set. For media pairs the lower id is
    in `media_id`. `distance` is the PDQ Hamming distance (0 for exact hashes; for vPDQ the
    mean distance of the matched frames) and `score` the vPDQ share of the known video's unique
    frames matched. `orientation` names which orientation of this media matched (PDQ only).
    """

    __tablename__ = "match"
    __table_args__ = (
        UniqueConstraint("media_id", "hash_entry_id", "algorithm", name="uq_match_entry"),
        UniqueConstraint("media_id", "other_media_id", "algorithm", name="uq_match_pair"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    media_id: Mapped[int] = mapped_column(ForeignKey("media.id", ondelete="CASCADE"), index=True)
    hash_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("hash_entry.id", ondelete="CASCADE"), index=True, default=None
    )
    other_media_id: Mapped[int | None] = mapped_column(
        ForeignKey("media.id", ondelete="CASCADE"), index=True, default=None
    )
    algorithm: Mapped[str] = mapped_column(String(16))
    distance: Mapped[int] = mapped_column(Integer, default=0)
    orientation: Mapped[str | None] = mapped_column(String(16), default=None)
    score: Mapped[float | None] = mapped_column(Float, default=None)
    transform: Mapped[dict[str, Any] | None] = mapped_column(Json, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    media: Mapped[Media] = relationship(foreign_keys=[media_id])
    hash_entry: Mapped[HashEntry | None] = relationship()
    other_media: Mapped[Media | None] = relationship(foreign_keys=[other_media_id])
