"""The examiner's writes from the web app (categorize, tags, notes, series) and the reads of
the media detail and series pages.

Categorization lives on `Media` (one decision per content, shared by every case it appears
in; docs/decisions/store.md). Functions return what changed so the caller can write one
audit event per object; they never commit (the action and its audit event commit together).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tantalio.store.bulk import chunks, insert_ignore
from tantalio.store.cases import Case, Exhibit, File
from tantalio.store.media import Media
from tantalio.store.series import SERIES_STATUSES, MediaSeries, Series
from tantalio.store.timeutil import utcnow

MAX_TAG = 64


def _media(session: Session, media_ids: Iterable[int]) -> list[Media]:
    out: list[Media] = []
    for batch in chunks(sorted(set(media_ids))):
        out.extend(session.scalars(select(Media).where(Media.id.in_(batch))))
    return out


def categorize(
    session: Session, media_ids: Sequence[int], category: int | None
) -> dict[int, int | None]:
    """Set the VICS category of each media; returns {media id: previous category} of those
    that changed."""
    changed: dict[int, int | None] = {}
    now = utcnow()
    for m in _media(session, media_ids):
        if m.category != category:
            changed[m.id] = m.category
            m.category = category
            m.categorized_at = now
    return changed


def clean_tags(tags: Iterable[str]) -> list[str]:
    out: list[str] = []
    for tag in tags:
        value = " ".join(str(tag).split())[:MAX_TAG]
        if value and value not in out:
            out.append(value)
    return out


def edit_tags(
    session: Session, media_ids: Sequence[int], add: Iterable[str] = (), remove: Iterable[str] = ()
) -> dict[int, tuple[list[str], list[str]]]:
    """Add and remove tags; returns {media id: (before, after)} of those that changed."""
    plus, minus = clean_tags(add), set(clean_tags(remove))
    changed: dict[int, tuple[list[str], list[str]]] = {}
    for m in _media(session, media_ids):
        before = list(m.tags or [])
        after = [t for t in before if t not in minus] + [
            t for t in plus if t not in before and t not in minus
        ]
        if after != before:
            m.tags = after or None
            changed[m.id] = (before, after)
    return changed


def set_notes(
    session: Session, media_id: int, notes: str | None
) -> tuple[str | None, str | None] | None:
    m = session.get(Media, media_id)
    if m is None:
        raise LookupError(f"no media {media_id}")
    value = (notes or "").strip() or None
    if value == m.notes:
        return None
    before, m.notes = m.notes, value
    return before, value


# --- series ------------------------------------------------------------------------------------


def get_series(session: Session, series_id: int) -> Series | None:
    return session.get(Series, series_id)


def create_series(
    session: Session,
    name: str,
    media_ids: Sequence[int] = (),
    notes: str | None = None,
    agency_id: int | None = None,
) -> Series:
    name = " ".join(name.split())
    if not name:
        raise ValueError("a series needs a name")
    if session.scalar(select(Series.id).where(Series.name == name)) is not None:
        raise ValueError(f"a series named {name!r} exists already")
    now = utcnow()
    series = Series(
        name=name[:200],
        notes=notes or None,
        agency_id=agency_id,
        status="unidentified",
        victim_identified=False,
        offender_identified=False,
        created_at=now,
        updated_at=now,
    )
    session.add(series)
    session.flush()
    add_members(session, series.id, media_ids)
    return series


def add_members(
    session: Session, series_id: int, media_ids: Sequence[int], source: str = "examiner"
) -> list[int]:
    """Add media to a series; returns the ids that were not members yet."""
    present = set(member_ids(session, series_id))
    known = {m.id for m in _media(session, media_ids)}
    new = sorted(known - present)
    now = utcnow()
    insert_ignore(
        session,
        MediaSeries,
        [
            {"media_id": mid, "series_id": series_id, "source": source, "added_at": now}
            for mid in new
        ],
    )
    if new:
        _touch(session, series_id)
    return new


def remove_members(session: Session, series_id: int, media_ids: Sequence[int]) -> list[int]:
    present = set(member_ids(session, series_id))
    gone = sorted(present & set(media_ids))
    for batch in chunks(gone):
        session.execute(
            delete(MediaSeries).where(
                MediaSeries.series_id == series_id, MediaSeries.media_id.in_(batch)
            )
        )
    if gone:
        _touch(session, series_id)
    return gone


def _touch(session: Session, series_id: int) -> None:
    s = session.get(Series, series_id)
    if s is not None:
        s.updated_at = utcnow()


def update_series(session: Session, series: Series, **fields: Any) -> dict[str, list[Any]]:
    """Change name, status, victim_identified, offender_identified or notes; returns
    {field: [before, after]} of those that changed."""
    changes: dict[str, list[Any]] = {}
    for key, value in fields.items():
        if value is None and key != "notes":
            continue
        if key == "status" and value not in SERIES_STATUSES:
            raise ValueError(f"status must be one of {', '.join(SERIES_STATUSES)}")
        if key == "notes":
            value = (value or "").strip() or None
        if key == "name":
            value = " ".join(str(value).split())[:200]
            if not value:
                raise ValueError("a series needs a name")
            clash = session.scalar(
                select(Series.id).where(Series.name == value, Series.id != series.id)
            )
            if clash is not None:
                raise ValueError(f"a series named {value!r} exists already")
        if key not in ("name", "status", "victim_identified", "offender_identified", "notes"):
            raise ValueError(f"unknown series field {key!r}")
        if getattr(series, key) != value:
            changes[key] = [getattr(series, key), value]
            setattr(series, key, value)
    if changes:
        series.updated_at = utcnow()
    return changes


def member_ids(session: Session, series_id: int) -> list[int]:
    return list(
        session.scalars(select(MediaSeries.media_id).where(MediaSeries.series_id == series_id))
    )


@dataclass(slots=True)
class SeriesRow:
    series: Series
    members: int
    cases: int


def list_series(session: Session) -> list[SeriesRow]:
    members = (
        select(MediaSeries.series_id, func.count().label("n"))
        .group_by(MediaSeries.series_id)
        .subquery()
    )
    cases = (
        select(MediaSeries.series_id, func.count(func.distinct(Exhibit.case_id)).label("n"))
        .join(File, File.media_id == MediaSeries.media_id)
        .join(Exhibit, Exhibit.id == File.exhibit_id)
        .group_by(MediaSeries.series_id)
        .subquery()
    )
    rows = session.execute(
        select(Series, func.coalesce(members.c.n, 0), func.coalesce(cases.c.n, 0))
        .outerjoin(members, members.c.series_id == Series.id)
        .outerjoin(cases, cases.c.series_id == Series.id)
        .order_by(Series.name)
    ).all()
    return [SeriesRow(s, int(m), int(c)) for s, m, c in rows]


def series_cases(session: Session, series_id: int) -> list[dict[str, Any]]:
    """Every case of the workspace where the series' media appear, with how many."""
    rows = session.execute(
        select(Case.id, Case.reference, Case.title, func.count(func.distinct(File.media_id)))
        .join(Exhibit, Exhibit.case_id == Case.id)
        .join(File, File.exhibit_id == Exhibit.id)
        .join(MediaSeries, MediaSeries.media_id == File.media_id)
        .where(MediaSeries.series_id == series_id)
        .group_by(Case.id, Case.reference, Case.title)
        .order_by(Case.reference)
    ).all()
    return [{"id": i, "reference": r, "title": t, "media": int(n)} for i, r, t, n in rows]


def set_thumbnail(session: Session, media_id: int, relative_path: str) -> None:
    m = session.get(Media, media_id)
    if m is not None:
        m.thumbnail = relative_path
