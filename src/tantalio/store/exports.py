"""Media of a case with every occurrence, streamed for exports (VICS)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from tantalio.store.cases import Exhibit, File
from tantalio.store.media import Media


@dataclass(slots=True)
class OccurrenceOut:
    exhibit: str
    path: str
    size: int | None
    mtime: datetime | None
    ctime: datetime | None
    atime: datetime | None
    crtime: datetime | None
    deleted: bool
    verdict: str | None


@dataclass(slots=True)
class MediaOut:
    media_id: int
    sha256: str | None  # None: known only by MD5/SHA-1 (a report package's file)
    md5: str
    sha1: str
    size: int
    kind: str
    category: int | None  # the examiner's categorization
    tags: list[str] | None
    notes: str | None
    files: list[OccurrenceOut] = field(default_factory=list)


def case_media(session: Session, case_id: int) -> Iterator[MediaOut]:
    """Each media of the case once, with its occurrences in the case, by media id."""
    q = (
        select(Media, Exhibit.label, File)
        .join(File, File.media_id == Media.id)
        .join(Exhibit, Exhibit.id == File.exhibit_id)
        .where(Exhibit.case_id == case_id)
        .order_by(Media.id, Exhibit.label, File.path)
        .execution_options(yield_per=2000)
    )
    current: MediaOut | None = None
    for media, label, f in session.execute(q):
        if current is None or current.media_id != media.id:
            if current is not None:
                yield current
            current = MediaOut(
                media.id,
                media.sha256,
                media.md5,
                media.sha1,
                media.size,
                media.kind,
                media.category,
                media.tags,
                media.notes,
            )
        current.files.append(
            OccurrenceOut(
                label, f.path, f.size, f.mtime, f.ctime, f.atime, f.crtime, f.deleted, f.verdict
            )
        )
    if current is not None:
        yield current
