"""Rank new media: what an examiner should look at first (docs/decisions/triage.md).

New material may show a child still being abused, and victim identification works from
sets and from originals. The score of a `new` file adds:

    +3  it belongs to a cluster of new media in the case (near-duplicates within PDQ
        distance 31, or the same camera body by EXIF make/model/serial): a series,
        +1 more when the cluster has 5 or more members
    +2  camera EXIF present (make, model or serial): likely an original, not a download
    +1  GPS position in EXIF
    +1  video
    +1  the file was deleted (someone tried to hide it)
    +0..1 recency: percentile of its time (EXIF DateTimeOriginal, else modification time)
        among the case's new media that have one
    ±0..2 per classifier plug-in: the bonuses of its stored scores (`tantalio.classify`),
        e.g. the built-in media-kind: camera photo +0.5, screenshot -0.5, document -1

Ties are ordered by exhibit and path. Other verdicts have no priority (None).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from tantalio.series.cluster import cluster_sizes, clusters
from tantalio.store import verdicts as store
from tantalio.store.verdicts import FileFact

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def _when(fact: FileFact) -> float | None:
    if fact.datetime_original:
        text = fact.datetime_original.strip().replace(" ", "T", 1)
        try:
            return datetime.fromisoformat(text.replace(":", "-", 2)).timestamp()
        except ValueError:
            try:
                return datetime.fromisoformat(text).timestamp()
            except ValueError:
                pass
    return fact.mtime.timestamp() if fact.mtime else None


def score(fact: FileFact, cluster_size: int, recency: float, bonus: float = 0.0) -> float:
    value = bonus
    if cluster_size >= 2:
        value += 3 + (1 if cluster_size >= 5 else 0)
    if fact.camera:
        value += 2
    if fact.gps:
        value += 1
    if fact.kind == "video":
        value += 1
    if fact.deleted:
        value += 1
    return round(value + recency, 3)


def assign_priorities(session: Session, facts: Sequence[FileFact]) -> None:
    """Set `priority` on the `new` facts (of one case) in place."""
    new = [f for f in facts if f.verdict == "new" and f.media_id is not None]
    if not new:
        return
    ids = {f.media_id for f in new if f.media_id is not None}
    pairs = [(a, b) for a, b, _ in store.near_pairs(session, ids)]
    assignment = clusters(ids, pairs, store.serials(session, ids))
    sizes = cluster_sizes(assignment)
    times = sorted({t for f in new if (t := _when(f)) is not None})
    rank = {t: (i / (len(times) - 1) if len(times) > 1 else 1.0) for i, t in enumerate(times)}
    bonuses = classifier_bonuses(session, ids)
    for f in new:
        assert f.media_id is not None
        t = _when(f)
        f.priority = score(
            f,
            sizes[assignment[f.media_id]],
            rank[t] if t is not None else 0.0,
            bonuses.get(f.media_id, 0.0),
        )


def classifier_bonuses(session: Session, media_ids: set[int]) -> dict[int, float]:
    """Sum of each classifier's score bonuses, each classifier bounded to ±MAX_BONUS."""
    from tantalio.classify.base import MAX_BONUS
    from tantalio.store.scores import scores_of

    out: dict[int, float] = {}
    for mid, rows in scores_of(session, media_ids).items():
        per: dict[str, float] = {}
        for r in rows:
            per[r.classifier] = per.get(r.classifier, 0.0) + r.priority
        out[mid] = sum(max(-MAX_BONUS, min(MAX_BONUS, v)) for v in per.values())
    return out


def new_media_clusters(session: Session, media_ids: set[int]) -> dict[int, int]:
    """Cluster size of each media among `media_ids` (1: alone) — the report's "series"."""
    pairs = [(a, b) for a, b, _ in store.near_pairs(session, media_ids)]
    assignment = clusters(media_ids, pairs, store.serials(session, media_ids))
    sizes = cluster_sizes(assignment)
    return {m: sizes[root] for m, root in assignment.items()}


def cluster_ids(session: Session, media_ids: set[int]) -> dict[int, int]:
    """Cluster (its smallest media id) of each media among `media_ids`."""
    pairs = [(a, b) for a, b, _ in store.near_pairs(session, media_ids)]
    return clusters(media_ids, pairs, store.serials(session, media_ids))
