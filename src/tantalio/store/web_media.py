"""Read-only queries about media for the web app: the detail page (occurrences across
cases, hash-set matches, near-duplicates, series, chat messages), tile facts, thumbnail
facts, and the exact lookups of query by example."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from tantalio.signals.explain import describe
from tantalio.store.bulk import chunks
from tantalio.store.cases import Case, Exhibit, File
from tantalio.store.hashsets import HashEntry, HashEntryFeatures, HashSet
from tantalio.store.media import Match, Media
from tantalio.store.repo import occurrence_sources
from tantalio.store.series import MediaSeries, Series
from tantalio.store.verdicts import entry_match_facts


def media_summaries(session: Session, media_ids: Sequence[int]) -> list[dict[str, Any]]:
    """Grid-tile facts of given media (no case context): kind, category, camera, one path."""
    out: dict[int, dict[str, Any]] = {}
    for batch in chunks(sorted(set(media_ids))):
        first = (
            select(File.media_id, func.min(File.id).label("fid"))
            .where(File.media_id.in_(batch))
            .group_by(File.media_id)
            .subquery()
        )
        rows = session.execute(
            select(Media, File.path)
            .outerjoin(first, first.c.media_id == Media.id)
            .outerjoin(File, File.id == first.c.fid)
            .where(Media.id.in_(batch))
        ).all()
        for m, path in rows:
            out[m.id] = {
                "media_id": m.id,
                "sha256": m.sha256,
                "kind": m.kind,
                "type": m.type,
                "category": m.category,
                "tags": m.tags,
                "make": m.make,
                "model": m.model,
                "serial": m.serial,
                "width": m.width,
                "height": m.height,
                "path": path,
                "has_gps": m.gps_latitude is not None,
            }
    return [out[i] for i in media_ids if i in out]


def similar_to(
    session: Session, media_ids: Sequence[int], limit: int = 500
) -> list[dict[str, Any]]:
    """Proposals for a series: near-duplicates of the given media (stored PDQ/vPDQ matches
    between workspace media, distance ≤ the ingest threshold) and media from the same camera
    (same serial, or same make and model when no serial is recorded)."""
    ids = set(media_ids)
    found: dict[int, dict[str, Any]] = {}
    for batch in chunks(sorted(ids)):
        rows = session.execute(
            select(Match.media_id, Match.other_media_id, Match.algorithm, Match.distance).where(
                Match.other_media_id.is_not(None),
                or_(Match.media_id.in_(batch), Match.other_media_id.in_(batch)),
            )
        ).all()
        for a, b, algorithm, distance in rows:
            other, via = (b, a) if a in ids else (a, b)
            if other in ids or other is None:
                continue
            best = found.get(other)
            if best is None or (best["reason"] == "near-duplicate" and distance < best["distance"]):
                found[other] = {
                    "media_id": other,
                    "reason": "near-duplicate",
                    "algorithm": algorithm,
                    "distance": int(distance),
                    "via": via,
                }
    cameras = session.execute(
        select(Media.make, Media.model, Media.serial)
        .where(Media.id.in_(sorted(ids)[:900]))
        .distinct()
    ).all()
    for make, model, serial in cameras:
        if serial:
            cond = Media.serial == serial
        elif make or model:
            cond = (Media.make == make) & (Media.model == model) & Media.serial.is_(None)
        else:
            continue
        for (mid,) in session.execute(select(Media.id).where(cond).limit(limit)).all():
            if mid not in ids and mid not in found:
                camera = " ".join(x for x in (make, model) if x) + (f" #{serial}" if serial else "")
                found[mid] = {
                    "media_id": mid,
                    "reason": "same camera",
                    "camera": camera,
                    "distance": None,
                }
    ranked = sorted(
        found.values(),
        key=lambda r: (r["reason"] != "near-duplicate", r["distance"] or 0, r["media_id"]),
    )
    return ranked[:limit]


# --- media detail -------------------------------------------------------------------------------


@dataclass(slots=True)
class MediaDetail:
    media: Media
    occurrences: list[dict[str, Any]]
    matches: list[dict[str, Any]]
    near_duplicates: list[dict[str, Any]]
    series: list[dict[str, Any]]
    messages: list[dict[str, Any]] = field(default_factory=list)


def media_detail(session: Session, media_id: int) -> MediaDetail | None:
    m = session.get(Media, media_id)
    if m is None:
        return None
    occurrences = [
        {
            "file_id": fid,
            "path": path,
            "exhibit": label,
            "exhibit_id": eid,
            "case_id": cid,
            "case": ref,
            "deleted": bool(deleted),
            "verdict": verdict,
            "priority": priority,
            "size": size,
            "mtime": mtime.isoformat() if mtime else None,
        }
        for (
            fid,
            path,
            label,
            eid,
            cid,
            ref,
            deleted,
            verdict,
            priority,
            size,
            mtime,
        ) in session.execute(
            select(
                File.id,
                File.path,
                Exhibit.label,
                Exhibit.id,
                Case.id,
                Case.reference,
                File.deleted,
                File.verdict,
                File.priority,
                File.size,
                File.mtime,
            )
            .join(Exhibit, Exhibit.id == File.exhibit_id)
            .join(Case, Case.id == Exhibit.case_id)
            .where(File.media_id == media_id)
            .order_by(Case.reference, Exhibit.label, File.path)
        ).all()
    ]
    # One row per hash-set entry: an entry that matched by MD5, SHA-1 and SHA-256 is one
    # entry, shown once with its algorithms joined (issue 16).
    by_entry: dict[int, dict[str, Any]] = {}
    for f in entry_match_facts(session, [media_id], ordered=True).get(media_id, []):
        row = by_entry.get(f.entry_id)
        if row is not None:
            if f.algorithm not in row["algorithms"]:
                order = ("md5", "sha1", "sha256", "pdq", "vpdq", "pdq-trimmed", "local-features")
                row["algorithms"] = sorted(
                    [*row["algorithms"], f.algorithm],
                    key=lambda a: order.index(a) if a in order else len(order),
                )
                row["algorithm"] = ", ".join(row["algorithms"])
            row["distance"] = min(row["distance"], f.distance)
            continue
        by_entry[f.entry_id] = {
            "hash_set": f.hash_set,
            "kind": f.hash_set_kind,
            "algorithm": f.algorithm,
            "algorithms": [f.algorithm],
            "distance": f.distance,
            "score": f.score,
            "orientation": f.orientation,
            "category": f.category,
            "series": f.series,
            "victim_identified": f.victim_identified,
            "offender_identified": f.offender_identified,
            "entry_id": f.entry_id,
            "match_sha256": f.entry_sha256,
            "transform": f.transform,
            "how": describe(f.algorithm, f.transform),
        }
    matches = list(by_entry.values())
    near = similar_to(session, [media_id], limit=200)
    near_duplicates = [r for r in near if r["reason"] == "near-duplicate"]
    series = [
        {"id": sid, "name": name, "status": status, "source": source}
        for sid, name, status, source in session.execute(
            select(Series.id, Series.name, Series.status, MediaSeries.source)
            .join(MediaSeries, MediaSeries.series_id == Series.id)
            .where(MediaSeries.media_id == media_id)
            .order_by(Series.name)
        ).all()
    ]
    return MediaDetail(m, occurrences, matches, near_duplicates, series, _messages(session, m))


def _messages(session: Session, m: Media, limit: int = 200) -> list[dict[str, Any]]:
    """Chat messages that carried this media (when the chat tables exist)."""
    try:
        from tantalio.store.chats import ChatAccount, ChatGroup, ChatMessage
    except ImportError:
        return []
    rows = session.execute(
        select(
            ChatMessage.id,
            ChatMessage.timestamp,
            ChatMessage.chat_kind,
            ChatMessage.text,
            ChatMessage.media_name,
            ChatMessage.forwarded,
            ChatMessage.from_me,
            ChatAccount.jid,
            ChatAccount.phone,
            ChatAccount.names,
            ChatGroup.subject,
            Exhibit.label,
            Case.reference,
            ChatMessage.only_in_export,
        )
        .outerjoin(ChatAccount, ChatAccount.id == ChatMessage.sender_id)
        .outerjoin(ChatGroup, ChatGroup.id == ChatMessage.group_id)
        .join(Exhibit, Exhibit.id == ChatMessage.exhibit_id)
        .join(Case, Case.id == Exhibit.case_id)
        .where(or_(ChatMessage.media_id == m.id, ChatMessage.media_sha256 == m.sha256))
        .order_by(ChatMessage.timestamp)
        .limit(limit)
    ).all()
    return [
        {
            "id": r[0],
            "timestamp": r[1].isoformat() if r[1] else None,
            "chat_kind": r[2],
            "text": r[3],
            "media_name": r[4],
            "forwarded": bool(r[5]),
            "from_me": bool(r[6]),
            "sender": (r[9][0] if r[9] else None) or r[8] or r[7],
            "sender_jid": r[7],
            "group": r[10],
            "exhibit": r[11],
            "case": r[12],
            "only_in_export": bool(r[13]),
        }
        for r in rows
    ]


def thumbnail_facts(session: Session, media_id: int) -> dict[str, Any] | None:
    """What serving a thumbnail needs: sha256, kind, stored thumbnail, keyframes, size."""
    row = session.execute(
        select(Media.sha256, Media.kind, Media.thumbnail, Media.keyframes, Media.size).where(
            Media.id == media_id
        )
    ).first()
    if row is None:
        return None
    return {
        "sha256": row[0],
        "kind": row[1],
        "thumbnail": row[2],
        "keyframes": row[3],
        "size": row[4],
    }


def reference_pictures(session: Session, entry_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """What the media page needs to draw a matched reference (issue 13), per hash entry:
    its SHA-256, its local features' text (their header holds the picture's size), and,
    when the reference file is also stored media of an earlier case, that media's size and
    stored thumbnail. An entry of a hash-only list has no features and no such media."""
    out: dict[int, dict[str, Any]] = {}
    for batch in chunks(sorted(set(entry_ids))):
        q = (
            select(HashEntry.id, HashEntry.sha256, HashEntryFeatures.local_features)
            .outerjoin(HashEntryFeatures, HashEntryFeatures.hash_entry_id == HashEntry.id)
            .where(HashEntry.id.in_(batch))
        )
        for eid, sha, features in session.execute(q):
            out[eid] = {"sha256": sha, "features": features, "media": None}
    shas = {r["sha256"] for r in out.values() if r["sha256"]}
    media: dict[str, tuple[int | None, int | None, str | None]] = {}
    for batch in chunks(sorted(shas)):
        q2 = select(Media.sha256, Media.width, Media.height, Media.thumbnail).where(
            Media.sha256.in_(batch), Media.kind == "image"
        )
        for sha, w, h, thumb in session.execute(q2):
            if sha is not None and (sha not in media or (thumb and not media[sha][2])):
                media[sha] = (w, h, thumb)
    for r in out.values():
        if r["sha256"] in media:
            w, h, thumb = media[r["sha256"]]
            r["media"] = {"width": w, "height": h, "thumbnail": thumb}
    return out


def matched_entry(session: Session, media_id: int, entry_id: int) -> bool:
    """Whether `media_id` matched hash entry `entry_id` (the reference picture it may show)."""
    q = select(Match.id).where(Match.media_id == media_id, Match.hash_entry_id == entry_id)
    return session.execute(q.limit(1)).first() is not None


def source_candidates(
    session: Session, media_id: int, limit: int = 5
) -> list[tuple[str, str, int | None]]:
    """(exhibit source path, path in that source, size) of the media's occurrences, for
    making a missing thumbnail from a folder source still on disk; an exhibit of several
    sources names the one holding the file (`ExhibitSource.walk_path`)."""
    out: list[tuple[str, str, int | None]] = []
    # a few occurrences are enough; rows are (file, source) pairs
    for _mid, src, inside, size in occurrence_sources(session, [media_id], max_rows=50 * limit):
        out.append((src, inside, size))
        if len(out) >= limit:
            break
    return out


def media_ids_existing(session: Session, media_ids: Sequence[int]) -> list[int]:
    out: list[int] = []
    for batch in chunks(sorted(set(media_ids))):
        out.extend(session.scalars(select(Media.id).where(Media.id.in_(batch))))
    return out


# --- query by example ---------------------------------------------------------------------------

_HASH_COLUMNS = {
    "md5": (Media.md5, HashEntry.md5),
    "sha1": (Media.sha1, HashEntry.sha1),
    "sha256": (Media.sha256, HashEntry.sha256),
    "pdq": (Media.pdq, HashEntry.pdq),
}


def exact_lookup(
    session: Session, algorithm: str, value: str, limit: int = 100
) -> tuple[list[int], list[int]]:
    """Media ids and hash entry ids holding exactly this hash value (lower-case hex)."""
    media_col, entry_col = _HASH_COLUMNS[algorithm]
    media = list(session.scalars(select(Media.id).where(media_col == value).limit(limit)))
    entries = list(session.scalars(select(HashEntry.id).where(entry_col == value).limit(limit)))
    return media, entries


def entry_facts(session: Session, entry_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """What a query result may say of a hash entry: its set and what the set says of it
    (never the entry's other hash values)."""
    out: dict[int, dict[str, Any]] = {}
    for batch in chunks(sorted(set(entry_ids))):
        rows = session.execute(
            select(
                HashEntry.id,
                HashSet.name,
                HashSet.kind,
                HashEntry.category,
                HashEntry.series,
                HashEntry.victim_identified,
                HashEntry.offender_identified,
            )
            .join(HashSet, HashSet.id == HashEntry.hash_set_id)
            .where(HashEntry.id.in_(batch))
        ).all()
        for eid, name, kind, cat, ser, vi, oi in rows:
            out[eid] = {
                "entry_id": eid,
                "hash_set": name,
                "kind": kind,
                "category": cat,
                "series": ser,
                "victim_identified": vi,
                "offender_identified": oi,
            }
    return out


def media_cases(session: Session, media_ids: Sequence[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for batch in chunks(sorted(set(media_ids))):
        rows = session.execute(
            select(File.media_id, Case.reference)
            .join(Exhibit, Exhibit.id == File.exhibit_id)
            .join(Case, Case.id == Exhibit.case_id)
            .where(File.media_id.in_(batch))
            .distinct()
        ).all()
        for mid, ref in rows:
            out.setdefault(mid or 0, []).append(str(ref))
    return {k: sorted(v) for k, v in out.items()}
