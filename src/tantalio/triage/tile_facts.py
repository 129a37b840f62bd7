"""What a tile says about a media, beyond its verdict (issue 16): the hash-set entry behind a
known / near-known / non-pertinent / reference verdict (set, category name, series,
distance), the labels classifier plug-ins gave it, and for new media why it ranks where it
does. Computed for the page shown only (a few dozen media), from the same rule the verdict
used (`triage.verdicts.best_matches`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from tantalio.hashsets.categories import category_name
from tantalio.store import verdicts as store
from tantalio.store.scores import scores_of
from tantalio.triage.verdicts import best_matches

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tantalio.store.web_queries import GridItem


def annotate(session: Session, items: Sequence[GridItem]) -> None:
    ids = [i.media_id for i in items if i.media_id]
    if not ids:
        return
    matches = store.entry_match_facts(session, ids)
    scores = scores_of(session, ids)
    for item in items:
        best = best_matches(matches.get(item.media_id, []))
        chosen = {
            "known": best.alerting,
            "near-known": best.alerting,
            "known-good": best.good,
            "known-non-pertinent": best.non_pertinent,
            "seen-elsewhere": best.seen,
        }.get(item.verdict or "")
        if chosen is not None:
            item.match = {
                "hash_set": chosen.hash_set,
                "category": chosen.category,
                "category_name": category_name(chosen.category),
                "series": chosen.series,
                "algorithm": chosen.algorithm,
                "distance": chosen.distance,
                "orientation": chosen.orientation,
            }
        item.labels = [
            {"label": r.label, "score": r.score, "source": f"{r.classifier} {r.version}",
             "reason": r.reason}
            for r in scores.get(item.media_id, [])
        ]  # fmt: skip
        if item.verdict == "new":
            item.reasons = new_media_reasons(item)


def new_media_reasons(item: GridItem) -> list[str]:
    """The facts behind a new media's priority that a tile can show (triage.priority)."""
    reasons = []
    if item.make or item.model:
        reasons.append("camera EXIF")
    if item.has_gps:
        reasons.append("GPS")
    if item.kind == "video":
        reasons.append("video")
    if item.deleted:
        reasons.append("deleted")
    reasons += [f"{label['label']} ({label['source']})" for label in item.labels if label["label"]]
    return reasons
