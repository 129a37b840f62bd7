"""The store side of ingest: batched, idempotent writes of files and media.

Every write is an INSERT that ignores rows already present (media by SHA-256, files by
exhibit and path), so a batch replayed after a crash, or a whole ingest run twice, adds
nothing twice. The caller commits once per batch.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tantalio.fingerprint.record import Fingerprint
from tantalio.store.bulk import chunks, insert_ignore
from tantalio.store.cases import Exhibit, File
from tantalio.store.media import Match, Media
from tantalio.store.timeutil import to_naive_utc, utcnow


@dataclass(slots=True)
class Occurrence:
    """One file occurrence as ingest hands it to the store (`sha256` None: unreadable).

    `sha256` is the content key of its media (`content_key`): the SHA-256, or `md5:<hex>` /
    `sha1:<hex>` for a file known only by those hashes (a report package's MD5-only file).
    """

    path: str
    size: int | None
    sha256: str | None
    mtime: datetime | None = None
    ctime: datetime | None = None
    atime: datetime | None = None
    deleted: bool = False
    error: str | None = None
    crtime: datetime | None = None


def path_key(path: str) -> str:
    return hashlib.sha1(path.encode("utf-8", "surrogatepass")).hexdigest()


def existing_path_keys(session: Session, exhibit_id: int) -> set[str]:
    """Path keys of the files already stored for an exhibit (what a rerun skips)."""
    return set(session.scalars(select(File.path_key).where(File.exhibit_id == exhibit_id)))


def content_key(row: dict[str, Any]) -> str:
    """The key a media row is found by: its SHA-256, else `md5:<hex>`, else `sha1:<hex>`.

    Only a hashes-only row (a report package's file) can lack a SHA-256; its column then
    stays NULL, so the key's prefix is never mistaken for a SHA-256 (none is made up).
    """
    if row.get("sha256"):
        return str(row["sha256"])
    if row.get("md5"):
        return f"md5:{row['md5']}"
    if row.get("sha1"):
        return f"sha1:{row['sha1']}"
    raise ValueError("a media row needs a SHA-256, MD5 or SHA-1")


def media_ids(session: Session, keys: Iterable[str]) -> dict[str, int]:
    """Media ids by content key (`content_key`): SHA-256s, and `md5:`/`sha1:` keys, which
    find only media without a SHA-256 (a file with bytes is never merged into them)."""
    out: dict[str, int] = {}
    groups: dict[str, set[str]] = {"sha256": set(), "md5": set(), "sha1": set()}
    for key in set(keys):
        algorithm, _, value = key.rpartition(":")
        groups[algorithm or "sha256"].add(value)
    for algorithm, values in groups.items():
        column = getattr(Media, algorithm)
        prefix = "" if algorithm == "sha256" else f"{algorithm}:"
        for batch in chunks(values):
            q = select(column, Media.id).where(column.in_(batch))
            if prefix:
                q = q.where(Media.sha256.is_(None)).order_by(Media.id.desc())
            out.update((f"{prefix}{value}", mid) for value, mid in session.execute(q))
    return out


def media_exists(session: Session, sha256: str) -> bool:
    return session.scalar(select(Media.id).where(Media.sha256 == sha256)) is not None


_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def clean_error(error: str | None) -> str | None:
    """An error message without process memory addresses (`<... object at 0x7f...>`), which
    decoders' exception texts carry: the same file must store the same text on every run."""
    return _ADDRESS.sub("", error) if error else error


def media_row(fp: Fingerprint, thumbnail: str | None = None) -> dict[str, Any]:
    """A `media` row from a fingerprint (EXIF flattened, frames as [pdq, quality, t]); an
    empty SHA-256 (a hashes-only file known by MD5 or SHA-1) is stored as NULL."""
    exif = fp.exif
    return {
        "sha256": fp.sha256.lower() or None,
        "md5": fp.md5.lower(),
        "sha1": fp.sha1.lower(),
        "size": fp.size,
        "kind": fp.kind,
        "type": fp.type,
        "mime": fp.mime,
        "width": fp.width,
        "height": fp.height,
        "duration": fp.duration,
        "pdq": fp.pdq,
        "pdq_quality": fp.pdq_quality,
        "pdq_orientations": list(fp.pdq_orientations) if fp.pdq_orientations else None,
        "pdq_trimmed": fp.extra.get("pdq_trimmed"),
        "pdq_trimmed_quality": fp.extra.get("pdq_trimmed_quality"),
        "pdq_trimmed_orientations": fp.extra.get("pdq_trimmed_orientations"),
        "pdq_trimmed_box": fp.extra.get("pdq_trimmed_box"),
        "frames": [[f.pdq, f.quality, f.timestamp] for f in fp.frames] if fp.frames else None,
        "keyframes": list(fp.keyframes) if fp.keyframes else None,
        "make": exif.make if exif else None,
        "model": exif.model if exif else None,
        "serial": exif.serial if exif else None,
        "lens": exif.lens if exif else None,
        "datetime_original": exif.datetime_original if exif else None,
        "gps_latitude": exif.gps_latitude if exif else None,
        "gps_longitude": exif.gps_longitude if exif else None,
        "software": exif.software if exif else None,
        "exif_orientation": exif.orientation if exif else None,
        "error": clean_error(fp.error),
        "thumbnail": thumbnail,
        "fingerprinted_at": utcnow(),
    }


@dataclass(slots=True)
class BatchWritten:
    inserted: dict[str, int]  # media this batch inserted (they still need matching)
    media: dict[str, int]  # every media the batch's files point to


def write_batch(
    session: Session,
    exhibit_id: int,
    files: Sequence[Occurrence],
    new_media: Sequence[dict[str, Any]],
) -> BatchWritten:
    """Insert the batch's new media and its file rows (both idempotently)."""
    wanted = {content_key(m): m for m in new_media}
    present = media_ids(session, wanted)
    rows = [m for key, m in wanted.items() if key not in present]
    insert_ignore(session, Media, rows)
    inserted = media_ids(session, (content_key(m) for m in rows))
    ids = present | inserted
    missing = {f.sha256 for f in files if f.sha256 and f.sha256 not in ids}
    if missing:
        ids |= media_ids(session, missing)
    file_rows = [
        {
            "exhibit_id": exhibit_id,
            "path": f.path,
            "path_key": path_key(f.path),
            "size": f.size,
            "mtime": to_naive_utc(f.mtime),
            "ctime": to_naive_utc(f.ctime),
            "atime": to_naive_utc(f.atime),
            "crtime": to_naive_utc(f.crtime),
            "deleted": f.deleted,
            "error": f.error,
            "media_id": ids.get(f.sha256) if f.sha256 else None,
        }
        for f in files
    ]
    for f, row in zip(files, file_rows, strict=True):
        if f.sha256 and row["media_id"] is None:
            raise ValueError(f"{f.path}: media {f.sha256[:12]}… neither stored nor in the batch")
    insert_ignore(session, File, file_rows)
    return BatchWritten(inserted, ids)


def finish_exhibit(session: Session, exhibit_id: int, status: str = "complete") -> int:
    """Mark an exhibit complete (or `fast`: hashed by a fast pass); return its file count."""
    count = session.scalar(select(func.count(File.id)).where(File.exhibit_id == exhibit_id)) or 0
    session.execute(
        update(Exhibit)
        .where(Exhibit.id == exhibit_id)
        .values(status=status, file_count=count, completed_at=utcnow())
    )
    return int(count)


# ------------------------------------------------------------- the fast pass and after

PERCEPTUAL_KINDS = ("image", "video")
EXACT_ALGORITHMS = ("md5", "sha1", "sha256")


@dataclass(slots=True)
class PendingFile:
    """A file of an exhibit whose media still waits for its perceptual pass."""

    sha256: str
    settled: bool  # exact-matched to a hash entry: decoded after the unsettled ones
    md5: str | None = None  # stored digests: the decoding pass computes none again
    sha1: str | None = None
    path: str = ""
    size: int | None = None  # as the fast pass read it: a source changed since is reported
    mtime: datetime | None = None


def pending_files(session: Session, exhibit_id: int) -> dict[str, PendingFile]:
    """{path key: PendingFile} for the exhibit's images and videos stored by a fast pass."""
    q = (
        select(
            File.path_key,
            Media.id,
            Media.sha256,
            Media.md5,
            Media.sha1,
            File.path,
            File.size,
            File.mtime,
        )
        .join(Media, Media.id == File.media_id)
        .where(
            File.exhibit_id == exhibit_id,
            Media.perceptual_pending.is_(True),
            Media.kind.in_(PERCEPTUAL_KINDS),
        )
    )
    rows = list(session.execute(q))
    settled = exact_matched({r[1] for r in rows}, session)
    return {
        key: PendingFile(str(sha), mid in settled, md5, sha1, path, size, mtime)
        for key, mid, sha, md5, sha1, path, size, mtime in rows
        if sha
    }


def exact_matched(media_ids: set[int], session: Session) -> set[int]:
    """Which of these media match a hash entry exactly (their verdict needs no PDQ)."""
    out: set[int] = set()
    for batch in chunks(media_ids):
        q = select(Match.media_id).where(
            Match.media_id.in_(batch),
            Match.hash_entry_id.is_not(None),
            Match.algorithm.in_(EXACT_ALGORITHMS),
        )
        out.update(int(m) for m in session.scalars(q))
    return out


def complete_media(session: Session, rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    """Fill in the perceptual fields of media a fast pass stored; {sha256: id} of those
    completed. Hashes and size stay as the fast pass wrote them (never recomputed);
    `near_checked` is cleared so the closing step searches their new PDQ."""
    keep = ("sha256", "md5", "sha1", "size", "type", "mime")
    done: dict[str, int] = {}
    for row in rows:
        values = {k: v for k, v in row.items() if k not in keep}
        values.update(perceptual_pending=False, near_checked=False)
        result = session.execute(
            update(Media)
            .where(Media.sha256 == row["sha256"], Media.perceptual_pending.is_(True))
            .values(**values)
            .returning(Media.id)
        )
        mid = result.scalar()
        if mid is not None:
            done[row["sha256"]] = int(mid)
    return done


def clear_pending(session: Session, exhibit_id: int, keep: Iterable[str] = ()) -> int:
    """After an exhibit's full pass: its media with nothing to decode (neither image nor
    video, or whose decode was not possible) are no longer pending; those in `keep`
    (SHA-256s whose source changed or went missing since the fast pass) stay pending."""
    ids = select(File.media_id).where(File.exhibit_id == exhibit_id, File.media_id.is_not(None))
    kept = sorted(set(keep))
    where = [Media.perceptual_pending.is_(True), Media.id.in_(ids)]
    if kept:
        where.append(Media.sha256.not_in(kept))
    result = session.execute(
        update(Media)
        .where(*where)
        .values(perceptual_pending=False)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
