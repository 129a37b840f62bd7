"""Matching rules (`tantalio.signals.MatchRules`, the workspace's `match_rules`): exact
hashes, PDQ in 8 orientations with the quality gate, vPDQ for videos (query share and index
share), video frames against pictures both ways, and near-duplicates between media of the
workspace.

Both directions use the same rules: new media against stored hash entries (ingest), and
newly imported entries against stored media (`hashset import`), so verdicts do not depend
on which came first. Videos and pictures are judged by the one lookup
(`signals.lookup.lookup`); exact hashes are joined in SQL and the PDQ of new pictures is
searched by the workers, by the same rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from tantalio.fingerprint.record import ORIENTATIONS
from tantalio.signals import MatchRules
from tantalio.signals.base import SignalError
from tantalio.signals.lookup import Query, SignalMatch, lookup
from tantalio.signals.vpdq import Shares, parse_frames, unique_pdqs
from tantalio.store import matching as store
from tantalio.store.bulk import chunks
from tantalio.triage.indexes import ORIENTATIONS as N_ORIENT
from tantalio.triage.indexes import WorkspaceIndexes
from tantalio.triage.pdqsearch import PdqSearch
from tantalio.triage.retro_local import RetroReport, local_match_row, local_rows_for_set

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tantalio.localfeat.index import LocalIndex


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


# Orientation number -> (counter-clockwise degrees, mirrored) of the query picture that
# matched, as `fingerprint.record.ORIENTATIONS` orders them.
_TURN = ((0, False), (90, False), (180, False), (270, False),
         (0, True), (180, True), (90, True), (270, True))  # fmt: skip


def trim_transform(box: Sequence[int] | None, k: int) -> dict[str, Any]:
    """The `transform` of a `pdq-trimmed` match: the picture sits in `query_box` of the
    file (the rest is frame: bars, borders, screenshot chrome) and matched the whole
    reference in orientation `k`. No keypoints are involved, so no inliers and no
    false-match probability (a PDQ distance has the PDQ threshold's error rate)."""
    rotation, flip = _TURN[k] if k < len(_TURN) else (0, False)
    return {
        "model": "trim",
        "query_box": list(box) if box else None,
        "crop_box": None,
        "scale": None,
        "rotation_deg": rotation,
        "flip": flip,
        "orientation": _orientation(k),
        "inliers": None,
        "false_match_probability": None,
    }


def trimmed_entry_matches(
    entry_index: PdqSearch,
    media: Sequence[tuple[int, list[str], list[int] | None]],
    settled: set[tuple[int, int]],
) -> list[dict[str, Any]]:
    """Framed pictures' trimmed PDQs (all orientations) against the entry index: a
    `pdq-trimmed` row per (media, entry) that the plain PDQ did not match (`settled`)."""
    if not len(entry_index) or not media:
        return []
    results = entry_index.search_groups([hashes for _, hashes, _ in media])
    return [
        {
            "media_id": mid,
            "hash_entry_id": eid,
            "algorithm": "pdq-trimmed",
            "distance": d,
            "orientation": _orientation(k),
            "transform": trim_transform(box, k),
        }
        for (mid, _, box), hits in zip(media, results, strict=True)
        for eid, d, k in sorted(hits)
        if (mid, eid) not in settled
    ]


def _settled(rows: Sequence[dict[str, Any]]) -> set[tuple[int, int]]:
    return {(r["media_id"], r["hash_entry_id"]) for r in rows if r.get("hash_entry_id")}


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
        rows += _trimmed_pairs(session, indexes, pending, set(best))
        store.insert_matches(session, rows)
        written = len(rows)
    pending_videos = store.near_pending_videos(session)
    if pending_videos:
        videos = {
            mid: unique_frames(frames, indexes.min_quality)
            for mid, frames in store.video_frames(session)
        }
        rows = video_pairs(videos, pending_videos, indexes.rules)
        store.insert_matches(session, rows)
        written += len(rows)
    store.mark_near_checked(session)
    return written


def _trimmed_pairs(
    session: Session,
    indexes: WorkspaceIndexes,
    pending: Sequence[tuple[int, str]],
    settled: set[tuple[int, int]],
) -> list[dict[str, Any]]:
    """Framed copies among the workspace's pictures (`pdq-trimmed` pairs the plain PDQ did
    not already link), both ways so the order of ingest does not matter: a pending framed
    picture's trimmed PDQ against every stored picture in its 8 orientations, and a pending
    picture's PDQ against every stored framed picture's trimmed PDQ in its 8 orientations."""
    pending_ids = {mid for mid, _ in pending}
    framed = list(store.media_trimmed_rows(session, indexes.min_quality))
    if not framed:
        return []
    boxes = {mid: box for mid, _, box in framed}
    best: dict[tuple[int, int], tuple[int, int]] = {}  # pair -> (distance, framed media)

    def keep(framed_mid: int, other: int, dist: int) -> None:
        pair = (min(framed_mid, other), max(framed_mid, other))
        if other == framed_mid or pair in settled:
            return
        if pair not in best or dist < best[pair][0]:
            best[pair] = (dist, framed_mid)

    mine = [(mid, hashes) for mid, hashes, _ in framed if mid in pending_ids]
    if mine:
        media_index = indexes.media(session)
        results = media_index.search([hashes[0] for _, hashes in mine])
        for (mid, _), hits in zip(mine, results, strict=True):
            for hid, dist in hits:
                keep(mid, hid // N_ORIENT, dist)
    trimmed_index = PdqSearch(indexes.rules.pdq_threshold)
    ids = [mid * N_ORIENT + k for mid, hashes, _ in framed for k in range(len(hashes))]
    trimmed_index.add(ids, [h for _, hashes, _ in framed for h in hashes])
    results = trimmed_index.search([pdq for _, pdq in pending])
    for (mid, _), hits in zip(pending, results, strict=True):
        for hid, dist in hits:
            keep(hid // N_ORIENT, mid, dist)
    return [
        {
            "media_id": a,
            "other_media_id": b,
            "algorithm": "pdq-trimmed",
            "distance": d,
            "transform": {**trim_transform(boxes.get(f), 0), "framed_media_id": f},
        }
        for (a, b), (d, f) in sorted(best.items())
    ]


def unique_frames(frames: Sequence[Sequence[Any]], min_quality: int) -> list[str]:
    """A stored video's unique frame PDQs ([[pdq, quality, t], ...]), quality-gated."""
    return list(
        dict.fromkeys(str(f[0]) for f in frames if f and (len(f) < 2 or f[1] >= min_quality))
    )


def video_pairs(
    videos: dict[int, list[str]], pending: Sequence[int], rules: MatchRules
) -> list[dict[str, Any]]:
    """Video near-duplicates inside the workspace by the vPDQ rule, applied both ways.

    Neither video of a pair is "the known one", so a pair is stored when the rules accept
    the shares with either video as the query (with the defaults: either video has >= 80 %
    of its unique frames within the frame distance of some frame of the other): a trimmed
    copy (all its frames in the original) or a re-encode (nearly all frames, both ways) is
    linked. `score` is the larger of the two shares and `distance` the mean distance of the
    matched frames on that side. Both shares are computed from one search of the pending
    video's frames, and the pair's values are the same whichever of its videos is searched
    — so the result does not depend on the order media were written in."""
    index = PdqSearch(rules.pdq_threshold)
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
        for i, hits in enumerate(index.search(frames, rules.vpdq_frame_distance)):
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
            (a, _), (b, _) = sides
            if rules.vpdq_verdict(Shares(a, b, 0)) or rules.vpdq_verdict(Shares(b, a, 0)):
                pairs[key] = {
                    "media_id": key[0],
                    "other_media_id": key[1],
                    "algorithm": "vpdq",
                    "distance": round(-neg_mean),
                    "score": round(share, 4),
                }
    return [pairs[k] for k in sorted(pairs)]


def _row(media_id: int, m: SignalMatch) -> dict[str, Any]:
    """A stored match row from the one lookup's answer (the media was the query)."""
    score = None
    if m.query_share is not None:
        score = m.query_share if m.rule == "vpdq-query-share" else m.index_share
    return {
        "media_id": media_id,
        "hash_entry_id": m.ref,
        "algorithm": m.signal_type,
        "distance": m.distance,
        "orientation": m.orientation,
        "score": score,
    }


class EntryVideos:
    """Hash entries as the one lookup's `Indexes` for media queries: the unique frames of
    known videos (refs: entry ids) and, optionally, a PDQ index of known pictures (a frame
    of a video near a known picture). Exact hashes are joined in SQL instead."""

    def __init__(
        self,
        known: Iterable[tuple[int, Sequence[Any]]],
        rules: MatchRules,
        pictures: PdqSearch | None = None,
    ) -> None:
        self.rules = rules
        self.pictures = pictures
        self.index = PdqSearch(rules.pdq_threshold)
        self.owner: list[tuple[int, int]] = []  # frame id -> (entry id, unique frame number)
        self.sizes: dict[int, int] = {}
        self.bad: list[int] = []  # entries whose frames do not parse (left out)
        hashes: list[str] = []
        for entry_id, frames in known:
            try:
                unique = unique_pdqs(parse_frames(list(frames)), rules.min_quality)
            except SignalError:
                self.bad.append(entry_id)
                continue
            if not unique:
                continue
            self.sizes[entry_id] = len(unique)
            self.owner.extend((entry_id, n) for n in range(len(unique)))
            hashes += unique
        self.index.add(list(range(len(hashes))), hashes)

    def exact(self, column: str, value: str) -> list[int]:
        return []

    def pdq(self, hashes: Sequence[str], radius: int) -> list[list[tuple[int, int]]]:
        if self.pictures is None:
            return [[] for _ in hashes]
        return self.pictures.search(hashes, radius)

    def frames(self, hashes: Sequence[str], radius: int) -> list[list[tuple[int, int, int]]]:
        if not self.sizes:
            return [[] for _ in hashes]
        return [
            [(*self.owner[fid], d) for fid, d in per] for per in self.index.search(hashes, radius)
        ]

    def frame_count(self, ref: int) -> int:
        return self.sizes.get(ref, 0)

    def match_video(self, media_id: int, frames: Sequence[Sequence[Any]]) -> list[dict[str, Any]]:
        """A stored video (frames [[pdq, quality, t], ...]) against the known videos, and
        its frames against the known pictures."""
        unique = unique_frames(frames, self.rules.min_quality)
        if not unique:
            return []
        return [_row(media_id, m) for m in lookup(Query(frames=unique), self, self.rules)]

    def match_images(self, media: Sequence[tuple[int, list[str]]]) -> list[dict[str, Any]]:
        """Pictures (media id, orientation PDQs) against the known videos' frames; their
        PDQ against known pictures is matched elsewhere (workers, `pdq_entry_matches`)."""
        if not self.sizes or not self.rules.frames_vs_images:
            return []
        saved, self.pictures = self.pictures, None
        try:
            rows = []
            for mid, hashes in media:
                q = Query(pdq=hashes[0], orientations=hashes)
                rows += [_row(mid, m) for m in lookup(q, self, self.rules)]
            return rows
        finally:
            self.pictures = saved


class Matcher:
    """Matching for one ingest run: indexes loaded once, extended batch by batch."""

    def __init__(self, indexes: WorkspaceIndexes) -> None:
        self.indexes = indexes
        self._videos: EntryVideos | None = None

    def _local_index(self, session: Session) -> LocalIndex | None:
        """The reference files' local features (the workspace's persisted index, brought in
        step with the database once per run; None when none)."""
        return self.indexes.local(session)

    def _local_rows(
        self, session: Session, local: dict[int, list[str]], settled: set[int]
    ) -> list[dict[str, Any]]:
        """Local-feature matches of the media that exact hashes and PDQ left unmatched."""
        todo = {mid: v for mid, v in local.items() if mid not in settled}
        if not todo or not self.indexes.rules.local_features:
            return []
        index = self._local_index(session)
        if index is None:
            return []
        return [
            local_match_row(mid, hit)
            for mid in sorted(todo)
            for hit in index.local_features(todo[mid], self.indexes.rules)
        ]

    def _known(self, session: Session) -> EntryVideos:
        if self._videos is None:
            rules = self.indexes.rules
            pictures = self.indexes.entries(session) if rules.frames_vs_images else None
            self._videos = EntryVideos(store.entry_vpdq_rows(session), rules, pictures)
        return self._videos

    def match_media(
        self,
        session: Session,
        media_ids: Sequence[int],
        entry_hits: dict[int, list[tuple[int, int, int]]] | None = None,
        local: dict[int, list[str]] | None = None,
    ) -> int:
        """Match media just written (in this transaction); returns match rows written.

        `entry_hits` holds PDQ searches the workers already made against the entry index
        ({media id: [(entry id, distance, orientation)]}); other media are searched here.
        `local` holds the local features workers extracted ({media id: `lf1:` variants}):
        verified against reference files only for media nothing else matched."""
        if not media_ids:
            return 0
        rules = self.indexes.rules
        entry_hits = (entry_hits or {}) if rules.orientations else {}
        rows = store.exact_matches_for_media(session, media_ids)
        pdq_media = list(store.media_pdq_rows(session, rules.min_quality, 0, media_ids))
        if not rules.orientations:
            pdq_media = [(mid, hashes[:1]) for mid, hashes in pdq_media]
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
        trimmed = list(store.media_trimmed_rows(session, rules.min_quality, media_ids))
        if not rules.orientations:
            trimmed = [(mid, hashes[:1], box) for mid, hashes, box in trimmed]
        rows += trimmed_entry_matches(self.indexes.entries(session), trimmed, _settled(rows))
        self.indexes.media(session)  # extended with these media
        known = self._known(session)
        rows += known.match_images(pdq_media)
        for mid, frames in store.video_frames(session, media_ids):
            rows += known.match_video(mid, frames)
        if local:
            settled = {r["media_id"] for r in rows if r.get("hash_entry_id")}
            rows += self._local_rows(session, local, settled)
        store.insert_matches(session, _one_per_key(rows))
        return len(rows)


def _one_per_key(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per (media, entry, algorithm): the closest (the table's unique key)."""
    best: dict[tuple[Any, Any, Any], dict[str, Any]] = {}
    for r in rows:
        key = (r["media_id"], r.get("hash_entry_id"), r["algorithm"])
        if key not in best or r["distance"] < best[key]["distance"]:
            best[key] = r
    return list(best.values())


def _trimmed_against_set(
    session: Session,
    indexes: WorkspaceIndexes,
    hash_set_id: int,
    after_entry_id: int,
    settled: set[tuple[int, int]],
) -> list[dict[str, Any]]:
    """Stored framed pictures' trimmed PDQs against a newly imported set's PDQs, so a
    set imported after the media gives the same `pdq-trimmed` matches as one before."""
    rules = indexes.rules
    trimmed = list(store.media_trimmed_rows(session, rules.min_quality))
    if not trimmed or not store.set_has_pdq(session, hash_set_id):
        return []
    if not rules.orientations:
        trimmed = [(mid, hashes[:1], box) for mid, hashes, box in trimmed]
    entries = PdqSearch(rules.pdq_threshold)
    new_rows = store.entry_pdq_rows(session, after_entry_id, hash_set_id=hash_set_id)
    for part in chunks(new_rows, 100_000):
        entries.add([e for e, _ in part], [h for _, h in part])
    return trimmed_entry_matches(entries, trimmed, settled)


def match_hash_set(
    session: Session,
    indexes: WorkspaceIndexes,
    hash_set_id: int,
    after_entry_id: int = 0,
    retro: RetroReport | None = None,
) -> list[int]:
    """Match one newly imported set against every stored media; returns media matched.
    With `after_entry_id`, only the set's entries above that id (those a pulled delta added).

    The media stay the query, as at ingest: a stored picture's orientations against the
    set's PDQs (searched the other way round, in the media index: the same distances),
    and each stored video against the set's videos and pictures by the one lookup."""
    rules = indexes.rules
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
                    if k and not rules.orientations:
                        continue
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
    rows += _trimmed_against_set(session, indexes, hash_set_id, after_entry_id, _settled(rows))
    videos = list(store.video_frames(session))
    pictures = None
    if videos and rules.frames_vs_images and media_index is not None:
        pictures = PdqSearch(rules.pdq_threshold)
        new_rows = store.entry_pdq_rows(session, after_entry_id, hash_set_id=hash_set_id)
        for entries in chunks(new_rows, 100_000):
            pictures.add([e for e, _ in entries], [h for _, h in entries])
    known = EntryVideos(
        store.entry_vpdq_rows(session, hash_set_id, after_entry_id), rules, pictures
    )
    if known.sizes and rules.frames_vs_images:
        rows += known.match_images(list(store.media_pdq_rows(session, rules.min_quality)))
    if known.sizes or pictures is not None:
        for mid, frames in videos:
            rows += known.match_video(mid, frames)
    # earlier pictures nothing settled, against the set's reference files' local features
    settled = {r["media_id"] for r in rows if r.get("hash_entry_id")}
    rows += local_rows_for_set(session, indexes, hash_set_id, after_entry_id, settled, retro)
    store.insert_matches(session, _one_per_key(rows))
    indexes.entries(session)  # extend the entry index with the new set
    return sorted({r["media_id"] for r in rows})
