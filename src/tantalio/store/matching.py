"""Queries behind matching: exact joins, rows to build PDQ/vPDQ indexes, match writes.

Exact matching is a join on indexed hash columns, so it needs no index of its own. The
PDQ indexes themselves live in `tantalio.index`; this module only feeds them rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from tantalio.store.bulk import chunks, insert_ignore
from tantalio.store.hashsets import HashEntry, HashEntryFeatures, HashSet
from tantalio.store.media import Match, Media
from tantalio.store.timeutil import utcnow

EXACT_ALGORITHMS = ("md5", "sha1", "sha256")


def _exact_query(algorithm: str) -> Any:
    return select(Media.id, HashEntry.id).join(
        HashEntry, getattr(HashEntry, algorithm) == getattr(Media, algorithm)
    )


def exact_matches_for_media(session: Session, media_ids: Iterable[int]) -> list[dict[str, Any]]:
    """Match rows for media whose MD5, SHA-1 or SHA-256 equals a hash entry's."""
    rows: list[dict[str, Any]] = []
    for batch in chunks(media_ids):
        for algorithm in EXACT_ALGORITHMS:
            q = _exact_query(algorithm).where(Media.id.in_(batch))
            rows.extend(_exact_row(r[0], r[1], algorithm) for r in session.execute(q))
    return rows


def exact_matches_for_set(
    session: Session, hash_set_id: int, after_entry_id: int = 0
) -> list[dict[str, Any]]:
    """Match rows between one hash set's entries (those with an id above `after_entry_id`:
    the ones a pulled delta just added) and every media of the workspace."""
    rows: list[dict[str, Any]] = []
    for algorithm in EXACT_ALGORITHMS:
        q = _exact_query(algorithm).where(
            HashEntry.hash_set_id == hash_set_id, HashEntry.id > after_entry_id
        )
        rows.extend(_exact_row(r[0], r[1], algorithm) for r in session.execute(q))
    return rows


def _exact_row(media_id: int, entry_id: int, algorithm: str) -> dict[str, Any]:
    return {
        "media_id": media_id,
        "hash_entry_id": entry_id,
        "other_media_id": None,
        "algorithm": algorithm,
        "distance": 0,
        "orientation": None,
        "score": None,
        "created_at": utcnow(),
    }


def insert_matches(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Insert match rows, ignoring pairs already recorded (reruns add nothing)."""
    now = utcnow()
    full = [
        {
            "hash_entry_id": None,
            "other_media_id": None,
            "orientation": None,
            "score": None,
            "transform": None,
            "created_at": now,
            **r,
        }
        for r in rows
    ]
    for batch in chunks(full, 2000):
        insert_ignore(session, Match, batch)


# ---- rows that build indexes -----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Coverage:
    """Which rows an index holds: all ids <= `max_id`, `count` of them (a persisted index
    whose coverage no longer agrees with the table is rebuilt)."""

    max_id: int
    count: int


def media_pdq_coverage(session: Session, min_quality: int, upto: int | None = None) -> Coverage:
    q = select(func.max(Media.id), func.count(Media.id)).where(_pdq_media(min_quality))
    if upto is not None:
        q = q.where(Media.id <= upto)
    max_id, count = session.execute(q).one()
    return Coverage(int(max_id or 0), int(count or 0))


def _pdq_media(min_quality: int) -> Any:
    return and_(Media.pdq.is_not(None), Media.pdq_quality >= min_quality)


def media_pdq_rows(
    session: Session, min_quality: int, after_id: int = 0, media_ids: Iterable[int] | None = None
) -> Iterator[tuple[int, list[str]]]:
    """(media id, its 8 orientation PDQs — or just its PDQ when orientations are missing)
    for images whose PDQ quality passes the gate, in id order."""
    q = (
        select(Media.id, Media.pdq, Media.pdq_orientations)
        .where(_pdq_media(min_quality), Media.id > after_id)
        .order_by(Media.id)
    )
    if media_ids is not None:
        for batch in chunks(media_ids):
            for mid, pdq, orients in session.execute(q.where(Media.id.in_(batch))):
                yield mid, list(orients) if orients else [str(pdq)]
        return
    for mid, pdq, orients in session.execute(q.execution_options(yield_per=10000)):
        yield mid, list(orients) if orients else [str(pdq)]


def media_trimmed_rows(
    session: Session, min_quality: int, media_ids: Iterable[int] | None = None
) -> Iterator[tuple[int, list[str], list[int] | None]]:
    """(media id, the 8 orientation PDQs of its trimmed picture — or just the trimmed PDQ —,
    the box it was cut from) for framed pictures whose trimmed PDQ passes the gate."""
    q = (
        select(Media.id, Media.pdq_trimmed, Media.pdq_trimmed_orientations, Media.pdq_trimmed_box)
        .where(
            Media.pdq_trimmed.is_not(None),
            func.coalesce(Media.pdq_trimmed_quality, min_quality) >= min_quality,
        )
        .order_by(Media.id)
    )
    batches = (
        [q.where(Media.id.in_(b)) for b in chunks(media_ids)] if media_ids is not None else [q]
    )
    for query in batches:
        for mid, pdq, orients, box in session.execute(query):
            yield mid, list(orients) if orients else [str(pdq)], box


def entry_local_rows(
    session: Session,
    hash_set_id: int | None = None,
    after_entry_id: int = 0,
    ids: Sequence[int] | None = None,
) -> list[tuple[int, str]]:
    """(entry id, `lf1:` local features) of every entry made from a reference file (of one
    set, above `after_entry_id`, when given; of those `ids` only, when given)."""
    q = (
        select(HashEntryFeatures.hash_entry_id, HashEntryFeatures.local_features)
        .where(HashEntryFeatures.local_features.is_not(None))
        .order_by(HashEntryFeatures.hash_entry_id)
    )
    if hash_set_id is not None:
        q = q.join(HashEntry, HashEntry.id == HashEntryFeatures.hash_entry_id).where(
            HashEntry.hash_set_id == hash_set_id, HashEntry.id > after_entry_id
        )
    if ids is None:
        return [(int(eid), str(text)) for eid, text in session.execute(q)]
    out: list[tuple[int, str]] = []
    for part in chunks(sorted(set(ids)), 5000):
        sub = q.where(HashEntryFeatures.hash_entry_id.in_(part))
        out += [(int(eid), str(text)) for eid, text in session.execute(sub)]
    return out


def entry_local_ids(session: Session) -> list[int]:
    """Ids of the entries that have local features, ascending."""
    q = (
        select(HashEntryFeatures.hash_entry_id)
        .where(HashEntryFeatures.local_features.is_not(None))
        .order_by(HashEntryFeatures.hash_entry_id)
    )
    return [int(eid) for eid in session.scalars(q)]


def unmatched_pictures(session: Session) -> list[tuple[int, str]]:
    """(media id, SHA-256) of the decoded pictures no hash-set entry matched (what a set
    made later may find by local features)."""
    matched = select(Match.media_id).where(Match.hash_entry_id.is_not(None))
    q = (
        select(Media.id, Media.sha256)
        .where(
            Media.kind == "image",
            Media.sha256.is_not(None),
            Media.pdq.is_not(None),
            Media.id.not_in(matched),
        )
        .order_by(Media.id)
    )
    return [(int(mid), str(sha)) for mid, sha in session.execute(q)]


def media_sources(session: Session, media_ids: Sequence[int]) -> dict[int, list[tuple[str, str]]]:
    """{media id: [(exhibit source path, path in that source)]} of each occurrence whose
    exhibit recorded its sources; the path is the one `evidence.open_source(source)` yields
    (an exhibit of several sources: the source holding the file, its prefix taken off)."""
    from tantalio.store.repo import occurrence_sources

    out: dict[int, list[tuple[str, str]]] = {}
    for mid, src, inside, _size in occurrence_sources(session, media_ids):
        out.setdefault(mid, []).append((src, inside))
    return out


def has_local_features(session: Session) -> bool:
    q = select(HashEntryFeatures.hash_entry_id).where(HashEntryFeatures.local_features.is_not(None))
    return session.scalar(q.limit(1)) is not None


def entry_pdq_coverage(session: Session, upto: int | None = None) -> Coverage:
    q = select(func.max(HashEntry.id), func.count(HashEntry.id)).where(HashEntry.pdq.is_not(None))
    if upto is not None:
        q = q.where(HashEntry.id <= upto)
    max_id, count = session.execute(q).one()
    return Coverage(int(max_id or 0), int(count or 0))


def entry_pdq_rows(
    session: Session, after_id: int = 0, hash_set_id: int | None = None
) -> Iterator[tuple[int, str]]:
    q = (
        select(HashEntry.id, HashEntry.pdq)
        .where(HashEntry.pdq.is_not(None), HashEntry.id > after_id)
        .order_by(HashEntry.id)
    )
    if hash_set_id is not None:
        q = q.where(HashEntry.hash_set_id == hash_set_id)
    for row in session.execute(q.execution_options(yield_per=10000)):
        yield int(row[0]), str(row[1])


def entry_vpdq_rows(
    session: Session, hash_set_id: int | None = None, after_entry_id: int = 0
) -> Iterator[tuple[int, list[str]]]:
    q = select(HashEntry.id, HashEntry.vpdq).where(
        HashEntry.vpdq.is_not(None), HashEntry.id > after_entry_id
    )
    if hash_set_id is not None:
        q = q.where(HashEntry.hash_set_id == hash_set_id)
    for eid, frames in session.execute(q.order_by(HashEntry.id)):
        if frames:
            yield eid, list(frames)


def video_frames(
    session: Session, media_ids: Iterable[int] | None = None
) -> Iterator[tuple[int, list[list[Any]]]]:
    """(media id, [[pdq, quality, t], ...]) of videos with vPDQ frames."""
    q = select(Media.id, Media.frames).where(Media.kind == "video", Media.frames.is_not(None))
    if media_ids is None:
        for mid, frames in session.execute(q.order_by(Media.id)):
            yield mid, frames
        return
    for batch in chunks(media_ids):
        for mid, frames in session.execute(q.where(Media.id.in_(batch)).order_by(Media.id)):
            yield mid, frames


def hash_set_kinds(session: Session) -> dict[int, str]:
    return {i: k for i, k in session.execute(select(HashSet.id, HashSet.kind))}


def near_pending(session: Session, min_quality: int) -> list[tuple[int, str]]:
    """(id, identity PDQ) of media not yet searched for near-duplicates that pass the gate."""
    q = (
        select(Media.id, Media.pdq)
        .where(Media.near_checked.is_(False), _pdq_media(min_quality))
        .order_by(Media.id)
    )
    return [(int(mid), str(pdq)) for mid, pdq in session.execute(q)]


def near_pending_videos(session: Session) -> list[int]:
    """Ids of videos with vPDQ frames not yet searched for near-duplicates."""
    q = (
        select(Media.id)
        .where(Media.near_checked.is_(False), Media.kind == "video", Media.frames.is_not(None))
        .order_by(Media.id)
    )
    return [int(mid) for mid in session.scalars(q)]


def mark_near_checked(session: Session) -> None:
    session.execute(update(Media).where(Media.near_checked.is_(False)).values(near_checked=True))


def set_has_pdq(session: Session, hash_set_id: int) -> bool:
    q = select(HashEntry.id).where(HashEntry.hash_set_id == hash_set_id, HashEntry.pdq.is_not(None))
    return session.scalar(q.limit(1)) is not None
