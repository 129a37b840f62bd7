"""Who investigates what: agencies, cases, exhibits, and every file occurrence in an exhibit.

A `File` is one occurrence (a path inside an exhibit); its content lives once in `Media`,
keyed by SHA-256, however many exhibits and cases it appears in. That sharing is what lets
triage say "seen in another case" and what links cases to each other.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tantalio.store.base import Base
from tantalio.store.timeutil import utcnow
from tantalio.store.types import Json

if TYPE_CHECKING:
    from tantalio.store.media import Media

# The verdicts triage gives a file (issue 3), strongest first.
VERDICTS = (
    "known",
    "near-known",
    "known-good",
    "known-non-pertinent",
    "seen-elsewhere",
    "unreadable",
    "non-media",
    "new",
)


class Agency(Base):
    __tablename__ = "agency"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    country: Mapped[str | None] = mapped_column(String(2), default=None)  # ISO 3166-1 alpha-2
    unit: Mapped[str | None] = mapped_column(String(200), default=None)


class Case(Base):
    """A case, named on the command line by its `reference` (unique in the workspace)."""

    __tablename__ = "case"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(200), unique=True)
    title: Mapped[str | None] = mapped_column(Text, default=None)
    agency_id: Mapped[int | None] = mapped_column(
        ForeignKey("agency.id", ondelete="SET NULL"), default=None
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    notes: Mapped[str | None] = mapped_column(Text, default=None)

    exhibits: Mapped[list[Exhibit]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="Exhibit.label"
    )


class Exhibit(Base):
    """One seized item (a phone dump, a disk image, a folder), labelled uniquely in its case.

    `status` is `ingesting` until a run over the exhibit has finished (then `complete`, or
    `fast` after `ingest --fast`: hashed, not yet decoded), so an interrupted ingest is
    visible and a rerun knows to finish it. `verification` is what
    `repo.record_verification` last stored (docs/decisions/integrity.md).
    """

    __tablename__ = "exhibit"
    __table_args__ = (UniqueConstraint("case_id", "label"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str | None] = mapped_column(String(32), default=None)
    source_path: Mapped[str | None] = mapped_column(Text, default=None)
    acquisition_hash: Mapped[str | None] = mapped_column(String(128), default=None)
    status: Mapped[str] = mapped_column(String(16), default="ingesting")
    file_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    # what the imaging tool recorded (E01: md5, sha1, case_number...) and the outcome of
    # reading the image whole against it: match | mismatch | not verified (NULL: no hashes)
    acquisition: Mapped[dict[str, Any] | None] = mapped_column(Json, default=None)
    verification: Mapped[str | None] = mapped_column(String(16), default=None)
    verification_detail: Mapped[dict[str, Any] | None] = mapped_column(Json, default=None)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)

    case: Mapped[Case] = relationship(back_populates="exhibits")
    # every source the exhibit was read from (`source_path` keeps only the first)
    sources: Mapped[list[ExhibitSource]] = relationship(
        back_populates="exhibit",
        cascade="all, delete-orphan",
        order_by="ExhibitSource.position",
        passive_deletes=True,
    )


class ExhibitSource(Base):
    """One source (folder, archive, disk image, report package) an exhibit was read from,
    with the `prefix` its paths got in the exhibit: `ingest --exhibit X A B` puts several
    sources in one exhibit, each folder's paths under its name (`A/...`), and whatever
    reads a file again (`ingest --finish`, retro matching, the media page's thumbnail) must
    know which source holds a stored path and where (issue 17).

    `kind` is `folder` for a folder; for a file source (an archive, an image, one file) its
    walk already names every member `<file name>/...`, so the prefix is empty and the name
    tells its paths apart from the other sources'. `path` is absolute (the run's working
    directory is not the next run's).
    """

    __tablename__ = "exhibit_source"
    __table_args__ = (UniqueConstraint("exhibit_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exhibit_id: Mapped[int] = mapped_column(ForeignKey("exhibit.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # order of recording: the walk order
    path: Mapped[str] = mapped_column(Text)
    prefix: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str | None] = mapped_column(String(32), default=None)

    exhibit: Mapped[Exhibit] = relationship(back_populates="sources")

    def walk_path(self, path: str) -> str | None:
        """The path `evidence.open_source(self.path)` yields for the exhibit path `path`
        (folder sources: relative to the folder), or None when `path` is another source's."""
        return source_walk_path(self.path, self.prefix, self.kind, path)


def source_walk_path(source: str, prefix: str, kind: str | None, path: str) -> str | None:
    """`ExhibitSource.walk_path` on plain values (for query rows). A folder without a prefix
    (the exhibit's only source) holds every path; a file source without one holds its own
    name and what lies under it."""
    if not path.startswith(prefix):
        return None
    rest = path[len(prefix) :]
    if prefix or kind in (None, "folder"):
        return rest
    name = os.path.basename(os.path.normpath(source))
    return rest if rest == name or rest.startswith(name + "/") else None


class File(Base):
    """One file occurrence. `path` is the path inside the exhibit (`phone1.zip/DCIM/a.jpg`).

    `path_key` (SHA-1 of the path) carries the uniqueness, because PostgreSQL cannot index
    arbitrarily long text. `media_id` is None only when the bytes could not be read at all,
    in which case `error` says why. `verdict` and `priority` are written by
    `tantalio.triage.verdicts.refresh` (stored, so pages can filter 100,000s of files fast).
    Times are naive UTC.
    """

    __tablename__ = "file"
    __table_args__ = (
        UniqueConstraint("exhibit_id", "path_key"),
        Index("ix_file_verdict", "exhibit_id", "verdict"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    exhibit_id: Mapped[int] = mapped_column(ForeignKey("exhibit.id", ondelete="CASCADE"))
    path: Mapped[str] = mapped_column(Text)
    path_key: Mapped[str] = mapped_column(String(40))
    size: Mapped[int | None] = mapped_column(BigInteger, default=None)
    mtime: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    ctime: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    atime: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    crtime: Mapped[datetime | None] = mapped_column(DateTime, default=None)  # birth time
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    media_id: Mapped[int | None] = mapped_column(
        ForeignKey("media.id", ondelete="RESTRICT"), index=True, default=None
    )
    verdict: Mapped[str | None] = mapped_column(String(32), default=None)
    priority: Mapped[float | None] = mapped_column(Float, default=None)

    exhibit: Mapped[Exhibit] = relationship()
    media: Mapped[Media | None] = relationship()
