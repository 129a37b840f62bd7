"""Facts verdicts are decided from, and the stored verdict columns they are written to.

The rule itself (which fact wins) lives in `tantalio.triage.verdicts`; this module only
gathers per-file and per-media facts in a few set-based queries and writes results back.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from tantalio.store.bulk import chunks
from tantalio.store.cases import Case, Exhibit, File
from tantalio.store.hashsets import HashEntry, HashSet
from tantalio.store.media import Match, Media


@dataclass(slots=True)
class FileFact:
    file_id: int
    case_id: int
    exhibit_id: int
    exhibit: str
    path: str
    size: int | None
    deleted: bool
    mtime: datetime | None
    file_error: str | None
    media_id: int | None
    sha256: str | None
    kind: str | None
    type: str | None
    media_error: str | None
    camera: bool  # EXIF make, model or serial present
    gps: bool
    datetime_original: str | None
    verdict: str | None = None
    priority: float | None = None
    md5: str | None = None  # the key of a media known only by MD5 (a report package's file)


@dataclass(slots=True)
class MatchFact:
    """One match of a media against a hash entry, with what the entry's set says of it."""

    media_id: int
    algorithm: str
    distance: int
    score: float | None
    orientation: str | None
    entry_id: int
    hash_set: str
    hash_set_kind: str
    category: int | None
    series: str | None
    victim_identified: bool | None
    offender_identified: bool | None
    entry_sha256: str | None = None  # the reference file's SHA-256, when the entry has one
    transform: dict[str, Any] | None = None  # pdq-trimmed / local-features (issue 13)


def _file_query():  # type: ignore[no-untyped-def]
    return (
        select(
            File.id,
            Exhibit.case_id,
            File.exhibit_id,
            Exhibit.label,
            File.path,
            File.size,
            File.deleted,
            File.mtime,
            File.error,
            File.media_id,
            Media.sha256,
            Media.kind,
            Media.type,
            Media.error,
            or_(Media.make.is_not(None), Media.model.is_not(None), Media.serial.is_not(None)),
            Media.gps_latitude.is_not(None),
            Media.datetime_original,
            File.verdict,
            File.priority,
            Media.md5,
        )
        .join(Exhibit, Exhibit.id == File.exhibit_id)
        .outerjoin(Media, Media.id == File.media_id)
    )


def _fact(row: Sequence[object]) -> FileFact:
    return FileFact(*row)  # type: ignore[arg-type]


def case_file_facts(session: Session, case_id: int) -> list[FileFact]:
    q = _file_query().where(Exhibit.case_id == case_id).order_by(Exhibit.label, File.path)
    return [_fact(r) for r in session.execute(q)]


def case_ids_of_media(session: Session, media_ids: Iterable[int]) -> set[int]:
    out: set[int] = set()
    for batch in chunks(media_ids):
        q = (
            select(Exhibit.case_id)
            .join(File, File.exhibit_id == Exhibit.id)
            .where(File.media_id.in_(batch))
            .distinct()
        )
        out.update(session.scalars(q))
    return out


def entry_match_facts(
    session: Session, media_ids: Iterable[int], *, ordered: bool = False
) -> dict[int, list[MatchFact]]:
    """Each media's matches with what the entry's set says of them (`ordered`: nearest
    first, then by hash-set name, as the media page lists them)."""
    out: dict[int, list[MatchFact]] = defaultdict(list)
    for batch in chunks(media_ids):
        q = (
            select(
                Match.media_id,
                Match.algorithm,
                Match.distance,
                Match.score,
                Match.orientation,
                HashEntry.id,
                HashSet.name,
                HashSet.kind,
                HashEntry.category,
                HashEntry.series,
                HashEntry.victim_identified,
                HashEntry.offender_identified,
                HashEntry.sha256,
                Match.transform,
            )
            .join(HashEntry, HashEntry.id == Match.hash_entry_id)
            .join(HashSet, HashSet.id == HashEntry.hash_set_id)
            .where(Match.media_id.in_(batch))
        )
        if ordered:
            q = q.order_by(Match.distance, HashSet.name)
        for row in session.execute(q):
            out[row[0]].append(MatchFact(*row))  # type: ignore[call-arg]
    return out


def media_case_refs(session: Session, media_ids: Iterable[int]) -> dict[int, dict[int, str]]:
    """For each media, the cases it occurs in: {media id: {case id: reference}}."""
    out: dict[int, dict[int, str]] = defaultdict(dict)
    for batch in chunks(media_ids):
        q = (
            select(File.media_id, Case.id, Case.reference)
            .join(Exhibit, Exhibit.id == File.exhibit_id)
            .join(Case, Case.id == Exhibit.case_id)
            .where(File.media_id.in_(batch))
            .distinct()
        )
        for mid, cid, ref in session.execute(q):
            if mid is not None:
                out[mid][cid] = ref
    return out


def near_pairs(session: Session, media_ids: Iterable[int]) -> list[tuple[int, int, int]]:
    """Media↔media PDQ/vPDQ matches with both ends among `media_ids`: (a, b, distance)."""
    ids = set(media_ids)
    out: list[tuple[int, int, int]] = []
    for batch in chunks(ids):
        q = select(Match.media_id, Match.other_media_id, Match.distance).where(
            Match.other_media_id.is_not(None), Match.media_id.in_(batch)
        )
        for a, b, d in session.execute(q):
            if b in ids:
                out.append((a, b, d))
    return out


def serials(session: Session, media_ids: Iterable[int]) -> dict[int, str]:
    """Camera identity (make/model/serial joined) of media whose serial is known."""
    out: dict[int, str] = {}
    for batch in chunks(media_ids):
        q = select(Media.id, Media.make, Media.model, Media.serial).where(
            Media.id.in_(batch), Media.serial.is_not(None)
        )
        for mid, make, model, serial in session.execute(q):
            out[mid] = f"{make or ''}|{model or ''}|{serial}"
    return out


def write_verdicts(session: Session, facts: Sequence[FileFact]) -> int:
    """Store verdict and priority of the given files; return how many."""
    rows = [{"id": f.file_id, "verdict": f.verdict, "priority": f.priority} for f in facts]
    if rows:
        session.execute(update(File), rows)
    return len(rows)


@dataclass(slots=True)
class MediaDetail:
    thumbnail: str | None
    width: int | None
    height: int | None
    duration: float | None
    make: str | None
    model: str | None
    serial: str | None
    datetime_original: str | None
    gps: bool
    category: int | None  # the examiner's categorization, if any


def media_details(session: Session, media_ids: Iterable[int]) -> dict[int, MediaDetail]:
    out: dict[int, MediaDetail] = {}
    for batch in chunks(media_ids):
        q = select(
            Media.id,
            Media.thumbnail,
            Media.width,
            Media.height,
            Media.duration,
            Media.make,
            Media.model,
            Media.serial,
            Media.datetime_original,
            Media.gps_latitude.is_not(None),
            Media.category,
        ).where(Media.id.in_(batch))
        for row in session.execute(q):
            out[row[0]] = MediaDetail(*row[1:])
    return out


def link_known_series(session: Session, media_ids: Iterable[int]) -> int:
    """Put media matched to hash entries that name a series into that series (created on
    first sight, victim/offender-identified when an entry says so). Returns links added."""
    from tantalio.store.bulk import insert_ignore
    from tantalio.store.series import MediaSeries, Series
    from tantalio.store.timeutil import utcnow

    pairs: dict[int, set[str]] = defaultdict(set)
    flags: dict[str, tuple[bool, bool]] = {}
    for batch in chunks(media_ids):
        q = (
            select(
                Match.media_id,
                HashEntry.series,
                HashEntry.victim_identified,
                HashEntry.offender_identified,
            )
            .join(HashEntry, HashEntry.id == Match.hash_entry_id)
            .join(HashSet, HashSet.id == HashEntry.hash_set_id)
            .where(
                Match.media_id.in_(batch),
                HashEntry.series.is_not(None),
                HashSet.kind != "known-good",
            )
        )
        for mid, name, victim, offender in session.execute(q):
            if name is None:
                continue
            pairs[mid].add(name)
            v, o = flags.get(name, (False, False))
            flags[name] = (v or bool(victim), o or bool(offender))
    if not pairs:
        return 0
    now = utcnow()
    insert_ignore(
        session,
        Series,
        [
            {
                "name": name,
                "status": "identified" if v else "unidentified",
                "victim_identified": v,
                "offender_identified": o,
                "created_at": now,
                "updated_at": now,
            }
            for name, (v, o) in sorted(flags.items())
        ],
    )
    ids = {
        name: sid
        for name, sid in session.execute(
            select(Series.name, Series.id).where(Series.name.in_(list(flags)))
        )
    }
    rows = [
        {"media_id": mid, "series_id": ids[name], "source": "hashset", "added_at": now}
        for mid, names in sorted(pairs.items())
        for name in sorted(names)
    ]
    insert_ignore(session, MediaSeries, rows)
    return len(rows)
