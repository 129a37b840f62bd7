"""Imported hash sets and their entries (the store side of `tantalio.hashsets` records)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tantalio.store.base import Base
from tantalio.store.timeutil import utcnow
from tantalio.store.types import Json


class HashSet(Base):
    """A named list: `kind` is known-bad / known-good / alert / reference (hashsets.record);
    `format` the reader used."""

    __tablename__ = "hash_set"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="known-bad")
    format: Mapped[str | None] = mapped_column(String(32), default=None)
    source: Mapped[str | None] = mapped_column(Text, default=None)  # file name imported
    source_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    imported_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    entry_count: Mapped[int] = mapped_column(Integer, default=0)

    entries: Mapped[list[HashEntry]] = relationship(
        back_populates="hash_set", cascade="all, delete-orphan", passive_deletes=True
    )


class HashEntry(Base):
    """One known item; mirrors `tantalio.hashsets.record.HashEntry` field for field."""

    __tablename__ = "hash_entry"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hash_set_id: Mapped[int] = mapped_column(
        ForeignKey("hash_set.id", ondelete="CASCADE"), index=True
    )
    md5: Mapped[str | None] = mapped_column(String(32), index=True, default=None)
    sha1: Mapped[str | None] = mapped_column(String(40), index=True, default=None)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    pdq: Mapped[str | None] = mapped_column(String(64), index=True, default=None)
    vpdq: Mapped[list[str] | None] = mapped_column(Json, default=None)
    photodna: Mapped[str | None] = mapped_column(Text, default=None)  # stored, never computed
    category: Mapped[int | None] = mapped_column(Integer, default=None)
    source_category: Mapped[str | None] = mapped_column(String(64), default=None)
    series: Mapped[str | None] = mapped_column(String(200), index=True, default=None)
    victim_identified: Mapped[bool | None] = mapped_column(Boolean, default=None)
    offender_identified: Mapped[bool | None] = mapped_column(Boolean, default=None)
    is_distributed: Mapped[bool | None] = mapped_column(Boolean, default=None)
    comments: Mapped[str | None] = mapped_column(Text, default=None)
    tags: Mapped[list[str] | None] = mapped_column(Json, default=None)
    original_id: Mapped[str | None] = mapped_column(String(200), default=None)
    added_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)

    hash_set: Mapped[HashSet] = relationship(back_populates="entries")


class HashEntryFeatures(Base):
    """The signals of a reference *file* that a hash list has no column for (issue 13,
    `tantalio hashset create --from DIR`): the PDQ of the picture inside its frame, when it
    has one, and its local features (`lf1:` text, 64 ORB keypoints, about 3 KB). A table
    of its own so that the entry table, read whole to build PDQ indexes and exports, stays
    narrow; an entry imported from a hash list has no row here."""

    __tablename__ = "hash_entry_features"

    hash_entry_id: Mapped[int] = mapped_column(
        ForeignKey("hash_entry.id", ondelete="CASCADE"), primary_key=True
    )
    pdq_trimmed: Mapped[str | None] = mapped_column(String(64), default=None)
    local_features: Mapped[str | None] = mapped_column(Text, default=None)
