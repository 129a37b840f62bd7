"""Media per category in a case, counted one way for the dashboard and the report (issue 16).

A media has up to two categories: the examiner's (`media.category`) and the one its hash-set
matches say (the most severe code 1-4 of its matches outside known-good sets, else 0 when a
match says non-pertinent). **The examiner's category wins** when set: it is a decision made
on this case's file; the hash set's is shown beside it. `effective` counts use that rule,
`examiner` and `hashset` count each source on its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tantalio.store.cases import Exhibit, File
from tantalio.store.hashsets import HashEntry, HashSet
from tantalio.store.media import Match, Media

VIEWABLE = ("image", "video")
Key = str | int  # a code 0..4, or "none"


@dataclass(slots=True)
class CategoryCounts:
    effective: dict[Key, int] = field(default_factory=dict)
    examiner: dict[Key, int] = field(default_factory=dict)
    hashset: dict[Key, int] = field(default_factory=dict)


def _key(code: int | None) -> Key:
    return "none" if code is None else int(code)


def case_category_counts(session: Session, case_id: int) -> CategoryCounts:
    """Distinct images and videos of the case per category."""
    case_media = (
        select(File.media_id)
        .join(Exhibit, Exhibit.id == File.exhibit_id)
        .where(Exhibit.case_id == case_id, File.media_id.is_not(None))
        .distinct()
        .subquery()
    )
    severe = func.min(sql_case((HashEntry.category > 0, HashEntry.category)))
    non_pertinent = func.max(sql_case((HashEntry.category == 0, 1), else_=0))
    by_media = (
        select(Match.media_id.label("mid"), severe.label("sev"), non_pertinent.label("np"))
        .join(HashEntry, HashEntry.id == Match.hash_entry_id)
        .join(HashSet, HashSet.id == HashEntry.hash_set_id)
        .where(HashSet.kind != "known-good", Match.media_id.in_(select(case_media.c.media_id)))
        .group_by(Match.media_id)
        .subquery()
    )
    hs_category = func.coalesce(by_media.c.sev, sql_case((by_media.c.np == 1, 0)))
    q = (
        select(Media.category, hs_category, func.count())
        .join(case_media, case_media.c.media_id == Media.id)
        .outerjoin(by_media, by_media.c.mid == Media.id)
        .where(Media.kind.in_(VIEWABLE))
        .group_by(Media.category, hs_category)
    )
    out = CategoryCounts()
    for examiner, hashset, n in session.execute(q):
        n = int(n)
        for counts, code in (
            (out.examiner, examiner),
            (out.hashset, hashset),
            (out.effective, examiner if examiner is not None else hashset),
        ):
            k = _key(code)
            counts[k] = counts.get(k, 0) + n
    return out


def examiner_facts(
    session: Session, media_ids: list[int] | set[int]
) -> dict[int, tuple[int | None, list[str]]]:
    """{media id: (the examiner's category, names of the series it is in)}."""
    from tantalio.store.bulk import chunks
    from tantalio.store.series import MediaSeries, Series

    out: dict[int, tuple[int | None, list[str]]] = {}
    for batch in chunks(sorted(media_ids)):
        for mid, category in session.execute(
            select(Media.id, Media.category).where(Media.id.in_(batch))
        ):
            out[int(mid)] = (category, [])
        q = (
            select(MediaSeries.media_id, Series.name)
            .join(Series, Series.id == MediaSeries.series_id)
            .where(MediaSeries.media_id.in_(batch))
            .order_by(Series.name)
        )
        for mid, name in session.execute(q):
            if int(mid) in out and name:
                out[int(mid)][1].append(str(name))
    return out
