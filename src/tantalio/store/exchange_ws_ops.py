"""Reads and writes of the exchange tables (store/exchange_ws.py): what to push and to ask, the
answers and changes the exchange sent, series links, and which files a change touches.

Nothing here talks to the network: `tantalio.exchange.sync` calls the client, then these.
Functions never commit; the caller's transaction holds an answer and its verdicts together.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from tantalio.store.bulk import chunks, insert_ignore
from tantalio.store.cases import Exhibit, File
from tantalio.store.exchange_ws import (
    ExchangeMatch,
    ExchangeQuery,
    ExchangeSeriesLink,
    ExchangeSync,
)
from tantalio.store.media import Media
from tantalio.store.series import MediaSeries, Series
from tantalio.store.timeutil import utcnow

# The exchange spells "in-progress" with a hyphen; local series with a space.
TO_EXCHANGE_STATUS = {"unidentified": "unidentified", "in progress": "in-progress",
                      "identified": "identified"}  # fmt: skip
EXACT = ("sha256", "sha1", "md5")


@dataclass(slots=True)
class AgencyFact:
    """One other agency's record that matched a media, as the exchange described it."""

    media_id: int
    agency: str
    country: str | None
    contact: str | None
    series: str | None
    status: str
    victim_identified: bool
    offender_identified: bool
    category: int | None
    algorithm: str
    distance: int
    updated_at: str | None

    def to_json(self) -> dict[str, Any]:
        """The triage JSON `agencies` item (issue 11 names these keys)."""
        return {
            "agency": self.agency,
            "country": self.country,
            "series": self.series,
            "status": self.status,
            "victim_identified": self.victim_identified,
        }

    @property
    def date(self) -> str | None:
        return self.updated_at[:10] if self.updated_at else None


def match_key(agency: str, algorithm: str, series: str | None) -> str:
    return hashlib.sha256(f"{agency}\n{algorithm}\n{series or ''}".encode()).hexdigest()


def _row(media_id: int, m: dict[str, Any], now: datetime) -> dict[str, Any]:
    agency = str(m.get("agency") or "?")[:200]
    algorithm = str(m.get("match") or "sha256")[:8]
    series = m.get("series")
    series = str(series)[:200] if series else None
    return {
        "media_id": media_id,
        "key": match_key(agency, algorithm, series),
        "agency": agency,
        "country": (str(m["country"])[:8] if m.get("country") else None),
        "contact": (str(m["contact"]) if m.get("contact") else None),
        "series": series,
        "status": str(m.get("status") or "unidentified")[:16],
        "victim_identified": bool(m.get("victim_identified")),
        "offender_identified": bool(m.get("offender_identified")),
        "category": m.get("category") if isinstance(m.get("category"), int) else None,
        "algorithm": algorithm,
        "distance": int(m.get("distance") or 0),
        "first_seen": (str(m["first_seen"])[:40] if m.get("first_seen") else None),
        "last_seen": (str(m["last_seen"])[:40] if m.get("last_seen") else None),
        "updated_at": (str(m["updated_at"])[:40] if m.get("updated_at") else None),
        "received_at": now,
    }


# --- reads ------------------------------------------------------------------------------------


def agency_facts(session: Session, media_ids: Iterable[int]) -> dict[int, list[AgencyFact]]:
    """Each media's matching records at other agencies, by agency then series."""
    out: dict[int, list[AgencyFact]] = defaultdict(list)
    for batch in chunks(sorted(set(media_ids))):
        q = (
            select(
                ExchangeMatch.media_id,
                ExchangeMatch.agency,
                ExchangeMatch.country,
                ExchangeMatch.contact,
                ExchangeMatch.series,
                ExchangeMatch.status,
                ExchangeMatch.victim_identified,
                ExchangeMatch.offender_identified,
                ExchangeMatch.category,
                ExchangeMatch.algorithm,
                ExchangeMatch.distance,
                ExchangeMatch.updated_at,
            )
            .where(ExchangeMatch.media_id.in_(batch))
            .order_by(ExchangeMatch.agency, ExchangeMatch.series, ExchangeMatch.distance)
        )
        for row in session.execute(q):
            out[row[0]].append(AgencyFact(*row))  # type: ignore[call-arg]
    return out


def case_media_ids(session: Session, case_id: int) -> list[int]:
    q = (
        select(File.media_id)
        .join(Exhibit, Exhibit.id == File.exhibit_id)
        .where(Exhibit.case_id == case_id, File.media_id.is_not(None))
        .distinct()
    )
    return sorted(m for m in session.scalars(q) if m is not None)


ASKED_KINDS = ("image", "video")  # the exchange is about media, not every file's hash


def unasked(session: Session, media_ids: Iterable[int] | None = None) -> list[int]:
    """Images and videos the exchange has not answered about yet (never asked, or
    pending), of the given media or of the whole workspace."""
    done = select(ExchangeQuery.media_id).where(ExchangeQuery.state == "done")
    base = select(Media.id).where(Media.kind.in_(ASKED_KINDS), Media.id.not_in(done))
    if media_ids is None:
        return list(session.scalars(base.order_by(Media.id)))
    out: list[int] = []
    for batch in chunks(sorted(set(media_ids))):
        out += sorted(session.scalars(base.where(Media.id.in_(batch))))
    return out


def forget_answers(session: Session) -> list[int]:
    """Another exchange or another agency's key: the answers, the feed position and the
    series links of the old one mean nothing now; every media is asked again. Returns the
    media that had answers (their verdicts need refreshing)."""
    had = list(session.scalars(select(ExchangeMatch.media_id).distinct()))
    for model in (ExchangeMatch, ExchangeQuery, ExchangeSync, ExchangeSeriesLink):
        session.execute(delete(model))
    return had


def pending_count(session: Session) -> int:
    return int(
        session.scalar(
            select(func.count()).select_from(ExchangeQuery).where(ExchangeQuery.state == "pending")
        )
        or 0
    )


def _frames(frames: list[list[Any]] | None) -> list[str]:
    seen: dict[str, None] = {}
    for frame in frames or []:
        if frame and isinstance(frame[0], str):
            seen.setdefault(frame[0], None)
    return list(seen)


def query_rows(session: Session, media_ids: Sequence[int]) -> list[dict[str, Any]]:
    """The `/v1/query` objects for these media (id = the media id)."""
    out: list[dict[str, Any]] = []
    for batch in chunks(sorted(set(media_ids))):
        q = select(
            Media.id, Media.sha256, Media.sha1, Media.md5, Media.pdq, Media.pdq_quality,
            Media.pdq_orientations, Media.frames,
        ).where(Media.id.in_(batch))  # fmt: skip
        for mid, sha256, sha1, md5, pdq, quality, turned, frames in session.execute(q):
            item: dict[str, Any] = {"id": str(mid), "sha256": sha256, "sha1": sha1, "md5": md5}
            if pdq:
                item["pdq"] = pdq
                if quality is not None:
                    item["pdq_quality"] = int(quality)
                if turned:  # the exchange cannot turn a hash: it searches what it is sent
                    item["pdq_orientations"] = [h for h in turned if h != pdq][:8]
            vpdq = _frames(frames)
            if vpdq:
                item["vpdq"] = vpdq
            out.append(item)
    return out


# --- push -------------------------------------------------------------------------------------


@dataclass(slots=True)
class PushPlan:
    records: list[dict[str, Any]] = field(default_factory=list)
    media_ids: list[int] = field(default_factory=list)
    categorized: int = 0
    flagged: int = 0  # tagged or put in a series by an examiner, not categorized


def push_plan(
    session: Session, case_id: int, *, all_media: bool = False, case_ref: str | None = None
) -> PushPlan:
    """The records `tantalio exchange push CASE` sends: the case's media its examiners
    categorized or flagged (tags, examiner series), and with `all_media` every image and
    video of the case. Hashes, the examiner's category, series reference and status only."""
    media = case_media_ids(session, case_id)
    series = _series_of(session, media)
    seen = _seen_dates(session, media)
    plan = PushPlan()
    for batch in chunks(media):
        q = select(Media).where(Media.id.in_(batch)).order_by(Media.id)
        for m in session.scalars(q):
            s = series.get(m.id)
            categorized = m.category is not None
            flagged = bool(m.tags) or (s is not None and s[1] == "examiner")
            if not (categorized or flagged or (all_media and m.kind in ("image", "video"))):
                continue
            plan.categorized += categorized
            plan.flagged += flagged and not categorized
            record: dict[str, Any] = {"sha256": m.sha256, "sha1": m.sha1, "md5": m.md5}
            if m.pdq:
                record["pdq"] = m.pdq
                if m.pdq_quality is not None:
                    record["pdq_quality"] = m.pdq_quality
                if m.pdq_orientations:
                    record["pdq_orientations"] = list(m.pdq_orientations)
            vpdq = _frames(m.frames)
            if vpdq:
                record["vpdq"] = vpdq
            sr = s[0] if s is not None else None
            first, last = seen.get(m.id, (None, None))
            record |= {
                "category": m.category,
                "series": sr.name if sr is not None else None,
                "status": TO_EXCHANGE_STATUS.get(sr.status, "unidentified") if sr else
                "unidentified",
                "victim_identified": bool(sr.victim_identified) if sr else False,
                "offender_identified": bool(sr.offender_identified) if sr else False,
                "case_ref": case_ref,
                "first_seen": first,
                "last_seen": last,
            }  # fmt: skip
            plan.records.append(record)
            plan.media_ids.append(m.id)
    return plan


def _series_of(session: Session, media_ids: Sequence[int]) -> dict[int, tuple[Series, str]]:
    """Each media's series for the record (one per record): an examiner's first, then the
    oldest."""
    out: dict[int, tuple[Series, str]] = {}
    for batch in chunks(media_ids):
        q = (
            select(MediaSeries.media_id, MediaSeries.source, Series)
            .join(Series, Series.id == MediaSeries.series_id)
            .where(MediaSeries.media_id.in_(batch))
            .order_by(MediaSeries.media_id, MediaSeries.source != "examiner", Series.id)
        )
        for mid, source, s in session.execute(q):
            out.setdefault(mid, (s, source))
    return out


def _seen_dates(session: Session, media_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """First and last date the workspace stored each media (its exhibits' creation)."""
    out: dict[int, tuple[str, str]] = {}
    for batch in chunks(media_ids):
        q = (
            select(File.media_id, func.min(Exhibit.created_at), func.max(Exhibit.created_at))
            .join(Exhibit, Exhibit.id == File.exhibit_id)
            .where(File.media_id.in_(batch))
            .group_by(File.media_id)
        )
        for mid, first, last in session.execute(q):
            if mid is not None:
                out[mid] = (first.date().isoformat(), last.date().isoformat())
    return out


# --- answers ----------------------------------------------------------------------------------


def store_answers(session: Session, answers: dict[int, list[dict[str, Any]]]) -> int:
    """Replace each media's exchange matches with a fresh answer and mark it asked; returns
    the number of matches stored."""
    now = utcnow()
    ids = sorted(answers)
    for batch in chunks(ids):
        session.execute(delete(ExchangeMatch).where(ExchangeMatch.media_id.in_(batch)))
        session.execute(delete(ExchangeQuery).where(ExchangeQuery.media_id.in_(batch)))
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    for mid in ids:
        for m in answers[mid]:
            row = _row(mid, m, now)
            best = rows.get((mid, row["key"]))
            if best is None or row["distance"] < best["distance"]:
                rows[(mid, row["key"])] = row
    insert_ignore(session, ExchangeMatch, list(rows.values()))
    insert_ignore(
        session, ExchangeQuery, [{"media_id": m, "state": "done", "at": now} for m in ids]
    )
    return len(rows)


def mark_pending(session: Session, media_ids: Iterable[int], error: str) -> int:
    """Record that the exchange could not be asked about these media (yet)."""
    now = utcnow()
    ids = sorted(set(media_ids))
    for batch in chunks(ids):
        session.execute(
            delete(ExchangeQuery).where(
                ExchangeQuery.media_id.in_(batch), ExchangeQuery.state == "pending"
            )
        )
    insert_ignore(
        session,
        ExchangeQuery,
        [{"media_id": m, "state": "pending", "at": now, "error": error[:2000]} for m in ids],
    )
    return len(ids)


def sync_state(session: Session) -> ExchangeSync:
    state = session.get(ExchangeSync, 1)
    if state is None:
        state = ExchangeSync(id=1, last_seq=0)
        session.add(state)
        session.flush()
    return state


# --- changes ----------------------------------------------------------------------------------


@dataclass(slots=True)
class Change:
    """One media's record at another agency that a sync added, changed or removed."""

    media_id: int
    agency: str
    country: str | None
    series: str | None
    kind: str  # new | identified | status | retracted | updated
    before: str | None  # status before
    after: str | None  # status after (None when retracted)


def _watched_media(session: Session, watched: dict[str, Any]) -> list[int]:
    for column, name in ((Media.sha256, "sha256"), (Media.sha1, "sha1"), (Media.md5, "md5"),
                         (Media.pdq, "pdq")):  # fmt: skip
        value = watched.get(name)
        if isinstance(value, str) and value:
            ids = list(session.scalars(select(Media.id).where(column == value.lower())))
            if ids:
                return ids
    return []


def apply_changes(session: Session, changes: Sequence[dict[str, Any]]) -> list[Change]:
    """Apply `/v1/changes` items to the stored matches; returns what changed per media."""
    now = utcnow()
    out: list[Change] = []
    for item in changes:
        match = item.get("match") or {}
        watched = item.get("watched") or {}
        if not isinstance(match, dict) or not isinstance(watched, dict):
            continue
        for mid in _watched_media(session, watched):
            change = _apply_one(session, mid, match, now)
            if change is not None:
                out.append(change)
    session.flush()
    return out


def _apply_one(
    session: Session, media_id: int, match: dict[str, Any], now: datetime
) -> Change | None:
    row = _row(media_id, match, now)
    same = list(
        session.scalars(
            select(ExchangeMatch).where(
                ExchangeMatch.media_id == media_id,
                ExchangeMatch.agency == row["agency"],
                ExchangeMatch.algorithm == row["algorithm"],
            )
        )
    )
    existing = next((r for r in same if r.key == row["key"]), None)
    if existing is None and len(same) == 1:
        existing = same[0]  # the agency renamed its series: the same record
    if match.get("retracted"):
        if existing is None:
            return None
        change = Change(media_id, existing.agency, existing.country, existing.series,
                        "retracted", existing.status, None)  # fmt: skip
        session.delete(existing)
        return change
    if existing is None:
        session.add(ExchangeMatch(**row))
        return Change(media_id, row["agency"], row["country"], row["series"], "new", None,
                      row["status"])  # fmt: skip
    before = existing.status
    before_victim = existing.victim_identified
    for key, value in row.items():
        setattr(existing, key, value)
    if (
        row["status"] == "identified"
        and before != "identified"
        or (row["victim_identified"] and not before_victim)
    ):
        kind = "identified"
    elif row["status"] != before:
        kind = "status"
    else:
        kind = "updated"
    return Change(media_id, row["agency"], row["country"], row["series"], kind, before,
                  row["status"])  # fmt: skip


@dataclass(slots=True)
class LinkChange:
    series: str
    agency: str
    country: str | None
    other_series: str
    before: str | None
    after: str | None


def replace_series_links(session: Session, links: Sequence[dict[str, Any]]) -> list[LinkChange]:
    """Store the exchange's series links; returns links that are new or whose other
    status changed."""
    now = utcnow()
    old = {
        (r.series, r.agency, r.other_series): r for r in session.scalars(select(ExchangeSeriesLink))
    }
    out: list[LinkChange] = []
    keep: set[tuple[str, str, str]] = set()
    for link in links:
        key = (str(link.get("series") or "")[:200], str(link.get("agency") or "")[:200],
               str(link.get("other_series") or "")[:200])  # fmt: skip
        if not all(key):
            continue
        keep.add(key)
        status = str(link["other_status"])[:16] if link.get("other_status") else None
        row = old.get(key)
        if row is None:
            row = ExchangeSeriesLink(series=key[0], agency=key[1], other_series=key[2])
            session.add(row)
            before = None
        else:
            before = row.other_status
        row.country = str(link["country"])[:8] if link.get("country") else None
        row.shared_media = int(link.get("shared_media") or 0)
        row.other_status = status
        row.updated_at = now
        if before != status:
            out.append(LinkChange(key[0], key[1], row.country, key[2], before, status))
    for key, row in old.items():
        if key not in keep:
            session.delete(row)
    session.flush()
    return out


def series_links(session: Session, series_name: str | None = None) -> list[ExchangeSeriesLink]:
    q = select(ExchangeSeriesLink).order_by(
        ExchangeSeriesLink.series, ExchangeSeriesLink.agency, ExchangeSeriesLink.other_series
    )
    if series_name is not None:
        q = q.where(ExchangeSeriesLink.series == series_name)
    return list(session.scalars(q))


def media_of_series_named(session: Session, name: str) -> list[int]:
    q = (
        select(MediaSeries.media_id)
        .join(Series, Series.id == MediaSeries.series_id)
        .where(Series.name == name)
    )
    return list(session.scalars(q))


# --- what a sync tells each case --------------------------------------------------------------


def case_files(session: Session, media_ids: Iterable[int]) -> dict[int, list[tuple[str, int]]]:
    """{case id: [(exhibit/path, media id), ...]} of the files holding these media."""
    out: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for batch in chunks(sorted(set(media_ids))):
        q = (
            select(Exhibit.case_id, Exhibit.label, File.path, File.media_id)
            .join(Exhibit, Exhibit.id == File.exhibit_id)
            .where(File.media_id.in_(batch))
            .order_by(Exhibit.case_id, Exhibit.label, File.path)
        )
        for case_id, label, path, mid in session.execute(q):
            if mid is not None:
                out[case_id].append((f"{label}/{path}", mid))
    return out


def agency_summary(session: Session, media_ids: Iterable[int]) -> list[dict[str, Any]]:
    """Per agency: how many of these media it holds, how many identified, the latest date."""
    per: dict[str, dict[str, Any]] = {}
    for mid, facts in agency_facts(session, media_ids).items():
        for f in facts:
            a = per.setdefault(
                f.agency,
                {"agency": f.agency, "country": f.country, "media": set(), "identified": set(),
                 "series": set(), "date": None},
            )  # fmt: skip
            a["media"].add(mid)
            if f.series:
                a["series"].add(f.series)
            if f.status == "identified" or f.victim_identified:
                a["identified"].add(mid)
                if f.date and (a["date"] is None or f.date > a["date"]):
                    a["date"] = f.date
    return [
        a
        | {
            "media": len(a["media"]),
            "identified": len(a["identified"]),
            "series": sorted(a["series"]),
        }  # fmt: skip
        for _, a in sorted(per.items())
    ]
