"""A canonical dump of a workspace's case data, independent of row ids and timestamps.

Two databases that hold the same facts dump to the same structure, whatever order rows
were inserted in or when. The resumability test compares a run killed and resumed with an
uninterrupted one through this; it is also a handy diff tool between workspaces.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from tantalio.store.cases import Case, Exhibit, File
from tantalio.store.hashsets import HashEntry, HashSet
from tantalio.store.media import Match, Media
from tantalio.store.series import MediaSeries, Series

_MEDIA_SKIP = {"id", "fingerprinted_at", "categorized_at"}


def _entry_key(e: HashEntry, set_name: str) -> tuple[Any, ...]:
    return (set_name, e.md5, e.sha1, e.sha256, e.pdq, e.original_id)


def canonical_dump(session: Session) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    out["cases"] = sorted((c.reference, c.title) for c in session.scalars(select(Case)))
    out["exhibits"] = sorted(
        (ref, e.label, e.kind, e.status, e.file_count, e.verification)
        for e, ref in session.execute(select(Exhibit, Case.reference).join(Case))
    )
    files = session.execute(
        select(Case.reference, Exhibit.label, File, Media.sha256)
        .join(Exhibit, Exhibit.id == File.exhibit_id)
        .join(Case, Case.id == Exhibit.case_id)
        .outerjoin(Media, Media.id == File.media_id)
    )
    out["files"] = sorted(
        (
            ref,
            label,
            f.path,
            f.size,
            str(f.mtime),
            f.deleted,
            f.error,
            sha,
            f.verdict,
            f.priority,
        )
        for ref, label, f, sha in files
    )
    columns = [c.key for c in Media.__table__.columns if c.key not in _MEDIA_SKIP]
    out["media"] = sorted(
        [repr(getattr(m, c)) for c in columns] for m in session.scalars(select(Media))
    )
    sets = {s.id: s.name for s in session.scalars(select(HashSet))}
    out["hash_sets"] = sorted(
        (s.name, s.kind, s.format, s.entry_count) for s in session.scalars(select(HashSet))
    )
    entries = {e.id: _entry_key(e, sets[e.hash_set_id]) for e in session.scalars(select(HashEntry))}
    other = aliased(Media)
    rows = session.execute(
        select(Match, Media.sha256, other.sha256)
        .join(Media, Media.id == Match.media_id)
        .outerjoin(other, other.id == Match.other_media_id)
    )
    matches = []
    for m, sha, other_sha in rows:
        if other_sha:
            ends: tuple[Any, ...] = tuple(sorted((sha, other_sha)))
        else:
            ends = (sha, entries[m.hash_entry_id or -1])
        matches.append((repr(ends), m.algorithm, m.distance, m.orientation, m.score))
    out["matches"] = sorted(matches)
    out["series"] = sorted(
        (s.name, s.status, s.victim_identified, s.offender_identified)
        for s in session.scalars(select(Series))
    )
    out["media_series"] = sorted(
        (sha, name, ms.source)
        for ms, sha, name in session.execute(
            select(MediaSeries, Media.sha256, Series.name)
            .join(Media, Media.id == MediaSeries.media_id)
            .join(Series, Series.id == MediaSeries.series_id)
        )
    )
    return out
