"""Matching rules (DESIGN.md): exact hashes, PDQ in 8 orientations with the quality gate,
vPDQ for videos, and near-duplicates between media of the workspace.

Both directions use the same rules: new media against stored hash entries (ingest), and
newly imported entries against stored media (`hashset import`), so verdicts do not depend
on which came first.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tantalio.fingerprint.record import ORIENTATIONS
from tantalio.store import matching as store
from tantalio.store.bulk import chunks
from tantalio.triage.indexes import ORIENTATIONS as N_ORIENT
from tantalio.triage.indexes import WorkspaceIndexes
from tantalio.triage.pdqsearch import PdqSearch

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

VPDQ_FRAME_SHARE = 0.8  # a video matches when >= 80% of the known video's unique frames do


def _orientation(k: int) -> str:
    return ORIENTATIONS[k] if k < len(ORIENTATIONS) else str(k)


def pdq_entry_matches(
    entry_index: PdqSearch, media: Sequence[tuple[int, list[str]]]
) -> list[dict[str, Any]]:
    """Each media's orientations against the entry index; the closest orientation per entry."""
    if not len(entry_index) or not media:
        return []
    results = entry_index.search_groups([hashes for _, hashes in media])
    return [
        {
            "media_id": mid,
            "hash_entry_id": eid,
            "algorithm": "pdq",
            "distance": d,
            "orientation": _orientation(k),
        }
        for (mid, _), hits in zip(media, results, strict=True)
        for eid, d, k in sorted(hits)
    ]


def near_duplicates_pending(session: Session, indexes: WorkspaceIndexes) -> int:
    """Search every media not yet searched for near-duplicates in the workspace; store the
    pairs (lower id first) within the threshold; returns pairs written.

    Images: the identity PDQ of each pending media is queried against all 8 orientations of
    every stored image. Videos: the vPDQ rule, both ways (`video_pairs`). Run once per
    ingest, after the last batch: the media of one run are thus compared with each other
    both ways, and with earlier media one way, whatever the order batches were written in
    — so a resumed ingest ends exactly like an uninterrupted one. An image pair's distance
    is the closest orientation; no orientation is recorded for pairs."""
    pending = store.near_pending(session, indexes.min_quality)
    written = 0
    if pending:
        media_index = indexes.media(session)
        best: dict[tuple[int, int], int] = {}
        for start in range(0, len(pending), 5000):
            part = pending[start : start + 5000]
            results = media_index.search([pdq for _, pdq in part])
            for (mid, _), hits in zip(part, results, strict=True):
                for hid, dist in hits:
                    other = hid // N_ORIENT
                    if other == mid:
                        continue
                    pair = (min(mid, other), max(mid, other))
                    if pair not in best or dist < best[pair]:
                        best[pair] = dist
        rows = [
            {"media_id": a, "other_media_id": b, "algorithm": "pdq", "distance": d}
            for (a, b), d in sorted(best.items())
        ]
        store.insert_matches(session, rows)
        written = len(rows)
    pending_videos = store.near_pending_videos(session)
    if pending_videos:
        videos = {
            mid: unique_frames(frames, indexes.min_quality)
            for mid, frames in store.video_frames(session)
        }
        rows = video_pairs(videos, pending_videos, indexes.threshold)
        store.insert_matches(session, rows)
        written += len(rows)
    store.mark_near_checked(session)
    return written


def unique_frames(frames: Sequence[Sequence[Any]], min_quality: int = 50) -> list[str]:
    """A stored video's unique frame PDQs ([[pdq, quality, t], ...]), quality-gated."""
    return list(
        dict.fromkeys(str(f[0]) for f in frames if f and (len(f) < 2 or f[1] >= min_quality))
    )


def video_pairs(
    videos: dict[int, list[str]], pending: Sequence[int], threshold: int
) -> list[dict[str, Any]]:
    """Video near-duplicates inside the workspace by the vPDQ rule, applied both ways.

    Neither video of a pair is "the known one", so a pair is stored when either video has
    >= 80 % of its unique frames within `threshold` of some frame of the other: a trimmed
    copy (all its frames in the original) or a re-encode (nearly all frames, both ways) is
    linked. `score` is the larger of the two shares and `distance` the mean distance of the
    matched frames on that side. Both shares are computed from one search of the pending
    video's frames, and the pair's values are the same whichever of its videos is searched
    — so the result does not depend on the order media were written in."""
    index = PdqSearch(threshold)
    owner: list[tuple[int, int]] = []  # frame id -> (media id, unique frame number)
    hashes: list[str] = []
    for mid in sorted(videos):
        owner.extend((mid, n) for n in range(len(videos[mid])))
        hashes += videos[mid]
    index.add(list(range(len(hashes))), hashes)
    pairs: dict[tuple[int, int], dict[str, Any]] = {}
    for mid in pending:
        frames = videos.get(mid) or []
        theirs: dict[int, dict[int, int]] = {}  # other video -> its frame -> closest distance
        ours: dict[int, dict[int, int]] = {}  # other video -> our frame -> closest distance
        for i, hits in enumerate(index.search(frames)):
            for fid, dist in hits:
                other, n = owner[fid]
                if other == mid:
                    continue
                t, o = theirs.setdefault(other, {}), ours.setdefault(other, {})
                t[n] = min(dist, t.get(n, dist))
                o[i] = min(dist, o.get(i, dist))
        for other in sorted(theirs):
            key = (min(mid, other), max(mid, other))
            if key in pairs:
                continue
            sides = [
                (len(d) / len(videos[v]), -sum(d.values()) / len(d))
                for v, d in ((other, theirs[other]), (mid, ours[other]))
            ]
            share, neg_mean = max(sides)
            if share >= VPDQ_FRAME_SHARE:
                pairs[key] = {
                    "media_id": key[0],
                    "other_media_id": key[1],
                    "algorithm": "vpdq",
                    "distance": round(-neg_mean),
                    "score": round(share, 4),
                }
    return [pairs[k] for k in sorted(pairs)]


@dataclass(slots=True)
class KnownVideo:
    entry_id: int
    unique: list[str]  # unique frame PDQs of the known video


def parse_vpdq(frames: Sequence[str]) -> list[str]:
    """Unique frame PDQs (quality-gated) from entry frames `pdq,quality,timestamp`."""
    seen: dict[str, None] = {}
    for frame in frames:
        parts = frame.split(",")
        if len(parts) >= 2 and parts[1].strip().isdigit() and int(parts[1]) < 50:
            continue
        seen.setdefault(parts[0].strip().lower(), None)
    return list(seen)


class VpdqMatcher:
    """Known videos' unique frames in one index; a query video matches a known one when at
    least 80% of the known video's unique frames are within the threshold of some frame of
    the query (DESIGN.md's vPDQ rule)."""

    def __init__(self, known: Iterable[tuple[int, Sequence[str]]], threshold: int) -> None:
        self.index = PdqSearch(threshold)
        self.owner: list[tuple[int, int]] = []  # frame id -> (entry id, unique frame number)
        self.sizes: dict[int, int] = {}
        hashes: list[str] = []
        for entry_id, frames in known:
            unique = parse_vpdq(frames)
            if not unique:
                continue
            self.sizes[entry_id] = len(unique)
            self.owner.extend((entry_id, n) for n in range(len(unique)))
            hashes += unique
        self.index.add(list(range(len(hashes))), hashes)

    def match(self, media_id: int, frames: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        if not self.sizes:
            return []
        hashes = list(dict.fromkeys(str(f[0]) for f in frames if f and (len(f) < 2 or f[1] >= 50)))
        if not hashes:
            return []
        closest: dict[tuple[int, int], int] = {}
        for hits in self.index.search(hashes):
            for fid, dist in hits:
                key = self.owner[fid]
                if key not in closest or dist < closest[key]:
                    closest[key] = dist
        per_entry: dict[int, list[int]] = {}
        for (entry_id, _n), dist in closest.items():
            per_entry.setdefault(entry_id, []).append(dist)
        rows = []
        for entry_id, dists in sorted(per_entry.items()):
            share = len(dists) / self.sizes[entry_id]
            if share >= VPDQ_FRAME_SHARE:
                rows.append(
                    {
                        "media_id": media_id,
                        "hash_entry_id": entry_id,
                        "algorithm": "vpdq",
                        "distance": round(sum(dists) / len(dists)),
                        "score": round(share, 4),
                    }
                )
        return rows


class Matcher:
    """Matching for one ingest run: indexes loaded once, extended batch by batch."""

    def __init__(self, indexes: WorkspaceIndexes) -> None:
        self.indexes = indexes
        self._vpdq: VpdqMatcher | None = None

    def _video(self, session: Session) -> VpdqMatcher:
        if self._vpdq is None:
            self._vpdq = VpdqMatcher(store.entry_vpdq_rows(session), self.indexes.threshold)
        return self._vpdq

    def match_media(
        self,
        session: Session,
        media_ids: Sequence[int],
        entry_hits: dict[int, list[tuple[int, int, int]]] | None = None,
    ) -> int:
        """Match media just written (in this transaction); returns match rows written.

        `entry_hits` holds PDQ searches the workers already made against the entry index
        ({media id: [(entry id, distance, orientation)]}); other media are searched here."""
        if not media_ids:
            return 0
        entry_hits = entry_hits or {}
        rows = store.exact_matches_for_media(session, media_ids)
        pdq_media = list(store.media_pdq_rows(session, self.indexes.min_quality, 0, media_ids))
        rows += [
            {
                "media_id": mid,
                "hash_entry_id": eid,
                "algorithm": "pdq",
                "distance": d,
                "orientation": _orientation(k),
            }
            for mid in sorted(entry_hits)
            for eid, d, k in sorted(entry_hits[mid])
        ]
        todo = [(mid, hashes) for mid, hashes in pdq_media if mid not in entry_hits]
        rows += pdq_entry_matches(self.indexes.entries(session), todo)
        self.indexes.media(session)  # extended with these media
        video = self._video(session)
        for mid, frames in store.video_frames(session, media_ids):
            rows += video.match(mid, frames)
        store.insert_matches(session, rows)
        return len(rows)


def match_hash_set(
    session: Session, indexes: WorkspaceIndexes, hash_set_id: int, after_entry_id: int = 0
) -> list[int]:
    """Match one newly imported set against every stored media; returns media matched.
    With `after_entry_id`, only the set's entries above that id (those a pulled delta added)."""
    rows = store.exact_matches_for_set(session, hash_set_id, after_entry_id)
    media_index = indexes.media(session) if store.set_has_pdq(session, hash_set_id) else None
    if media_index is not None and len(media_index):
        new_rows = store.entry_pdq_rows(session, after_entry_id, hash_set_id=hash_set_id)
        for entries in chunks(new_rows, 100_000):
            results = media_index.search([pdq for _, pdq in entries])
            for (eid, _pdq), hits in zip(entries, results, strict=True):
                best: dict[int, tuple[int, int]] = {}
                for hid, dist in hits:
                    mid, k = divmod(hid, N_ORIENT)
                    if mid not in best or dist < best[mid][0]:
                        best[mid] = (dist, k)
                rows.extend(
                    {
                        "media_id": mid,
                        "hash_entry_id": eid,
                        "algorithm": "pdq",
                        "distance": d,
                        "orientation": _orientation(k),
                    }
                    for mid, (d, k) in sorted(best.items())
                )
    video = VpdqMatcher(
        store.entry_vpdq_rows(session, hash_set_id, after_entry_id), indexes.threshold
    )
    if video.sizes:
        for mid, frames in store.video_frames(session):
            rows += video.match(mid, frames)
    store.insert_matches(session, rows)
    indexes.entries(session)  # extend the entry index with the new set
    return sorted({r["media_id"] for r in rows})
