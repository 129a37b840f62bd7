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


def near_duplicate_pairs(
    media_index: PdqSearch, media: Iterable[tuple[int, list[str]]]
) -> list[dict[str, Any]]:
    """Pairs of workspace media within the threshold, lower id first.

    The distance of a pair is the smallest over "identity of one against any orientation
    of the other", taken both ways — symmetric, so it does not depend on which of the two
    was stored first (a resumed ingest ends exactly like an uninterrupted one). No
    orientation is recorded for pairs, for the same reason."""
    best: dict[tuple[int, int], int] = {}
    media = list(media)
    results = iter(media_index.search([h for _, hashes in media for h in hashes]))
    for mid, hashes in media:
        for j in range(len(hashes)):
            for hid, dist in next(results):
                other, k = divmod(hid, N_ORIENT)
                if other == mid or (j and k):
                    continue
                pair = (min(mid, other), max(mid, other))
                if pair not in best or dist < best[pair]:
                    best[pair] = dist
    return [
        {"media_id": a, "other_media_id": b, "algorithm": "pdq", "distance": d}
        for (a, b), d in sorted(best.items())
    ]


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

    def match_media(self, session: Session, media_ids: Sequence[int]) -> int:
        """Match media just written (in this transaction); returns match rows written."""
        if not media_ids:
            return 0
        rows = store.exact_matches_for_media(session, media_ids)
        pdq_media = list(store.media_pdq_rows(session, self.indexes.min_quality, 0, media_ids))
        rows += pdq_entry_matches(self.indexes.entries(session), pdq_media)
        media_index = self.indexes.media(session)  # now includes these media
        rows += near_duplicate_pairs(media_index, pdq_media)
        video = self._video(session)
        for mid, frames in store.video_frames(session, media_ids):
            rows += video.match(mid, frames)
        store.insert_matches(session, rows)
        return len(rows)


def match_hash_set(session: Session, indexes: WorkspaceIndexes, hash_set_id: int) -> list[int]:
    """Match one newly imported set against every stored media; returns media matched."""
    rows = store.exact_matches_for_set(session, hash_set_id)
    media_index = indexes.media(session)
    entries = list(store.entry_pdq_rows(session, hash_set_id=hash_set_id))
    if entries and len(media_index):
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
    video = VpdqMatcher(store.entry_vpdq_rows(session, hash_set_id), indexes.threshold)
    if video.sizes:
        for mid, frames in store.video_frames(session):
            rows += video.match(mid, frames)
    store.insert_matches(session, rows)
    indexes.entries(session)  # extend the entry index with the new set
    return sorted({r["media_id"] for r in rows})
