"""Sets created after the media (issue 13): a reference set made, imported or pulled after a
case was ingested re-matches that case's earlier pictures by local features, as an ingest
after the set would have.

Only pictures nothing matched yet are searched (what exact hashes, PDQ, the trimmed PDQ of
this set or any earlier match settled keeps its verdict), against the new references only.
Ingest keeps no query features (400 keypoints a picture would cost far more than they are
worth for the few sets made later), so each such picture is read again from its evidence:
read-only, through the evidence walker for containers; its SHA-256 must be the stored one,
else it is not used and the reason is reported. A picture whose evidence is gone is
reported and left as it is.
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tantalio.signals.local_features import inliers_distance
from tantalio.store import matching as store

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from tantalio.triage.indexes import WorkspaceIndexes


@dataclass(slots=True)
class RetroReport:
    """What re-reading earlier pictures did: searched, matched, and the ones that could not
    be read (`media id: reason`)."""

    searched: int = 0
    matched: int = 0
    problems: list[str] = field(default_factory=list)


def _read_candidates(
    session: Session, wanted: dict[int, str], report: RetroReport
) -> dict[int, bytes]:
    """{media id: bytes} read again from the evidence, each checked against its SHA-256."""
    import hashlib

    from tantalio.evidence import open_source

    places = store.media_sources(session, list(wanted))
    out: dict[int, bytes] = {}
    by_container: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))

    def accept(mid: int, data: bytes) -> bool:
        if hashlib.sha256(data).hexdigest() != wanted[mid]:
            return False
        out[mid] = data
        return True

    for mid, rows in places.items():
        for source, path in rows:
            if mid in out:
                break
            if os.path.isdir(source):
                # the parent: a sibling folder of a multi-source exhibit that was ingested
                # before exhibits recorded every source (migrated with its first one only)
                for base in (Path(source), Path(source).parent):
                    candidate = base / path
                    try:
                        if candidate.is_file() and accept(mid, candidate.read_bytes()):
                            break
                    except OSError:
                        continue
            elif os.path.isfile(source):
                by_container[source][path].append(mid)
    for source, paths in by_container.items():
        todo = {p: [m for m in mids if m not in out] for p, mids in paths.items()}
        todo = {p: mids for p, mids in todo.items() if mids}
        if not todo:
            continue
        try:
            for ef in open_source(source):
                mids = todo.get(ef.path)
                if not mids or ef.open is None:
                    continue
                with ef.open() as stream:
                    data = stream.read()
                for mid in mids:
                    accept(mid, data)
        except Exception as exc:  # an unreadable container costs its pictures, not the run
            report.problems.append(f"{source}: cannot be read again ({exc})")
    for mid in wanted:
        if mid not in out:
            report.problems.append(
                f"media {mid}: its evidence is not readable with the stored SHA-256 "
                "(moved, changed or gone); not re-matched"
            )
    return out


def local_rows_for_set(
    session: Session,
    indexes: WorkspaceIndexes,
    hash_set_id: int,
    after_entry_id: int,
    settled: set[int],
    report: RetroReport | None = None,
) -> list[dict[str, Any]]:
    """`local-features` match rows of earlier pictures against the set's new references."""
    report = report if report is not None else RetroReport()
    rules = indexes.rules
    if not rules.local_features:
        return []
    refs = store.entry_local_rows(session, hash_set_id=hash_set_id, after_entry_id=after_entry_id)
    if not refs:
        return []
    wanted = {mid: sha for mid, sha in store.unmatched_pictures(session) if mid not in settled}
    if not wanted:
        return []
    from tantalio.fingerprint import fingerprint_bytes
    from tantalio.fingerprint.config import FingerprintConfig
    from tantalio.localfeat.index import LocalIndex
    from tantalio.localfeat.record import decode

    index = LocalIndex([decode(text) for _, text in refs], [eid for eid, _ in refs])
    query = FingerprintConfig(local_features="query")
    rows: list[dict[str, Any]] = []
    for mid, data in sorted(_read_candidates(session, wanted, report).items()):
        fp = fingerprint_bytes(data, config=query)
        variants = [fp.extra["local_features"]] if fp.extra.get("local_features") else []
        variants += fp.extra.get("local_features_variants") or []
        if not variants:
            continue
        report.searched += 1
        hits = index.local_features(variants, rules)
        if hits:
            report.matched += 1
        rows += [local_match_row(mid, hit) for hit in hits]
    return rows


def local_match_row(media_id: int, hit: Any) -> dict[str, Any]:
    """The match row a verified local-features hit stores: its "distance" counts the
    keypoints short of a full match, so fewer inliers sort as a weaker match."""
    return {
        "media_id": media_id,
        "hash_entry_id": hit.ref,
        "algorithm": "local-features",
        "distance": inliers_distance(hit.inliers),
        "transform": {**hit.transform, "false_match_probability": hit.false_match_probability},
    }


@dataclass(frozen=True, slots=True)
class VerdictChange:
    case_id: int
    file_id: int
    path: str
    before: str
    after: str


def refresh_and_report(
    session: Session,
    media_ids: set[int],
    set_name: str,
    kind: str,
    heading: str,
    detail: dict[str, Any] | None = None,
) -> list[VerdictChange]:
    """Refresh the verdicts of `media_ids`, and tell each case whose files changed verdict
    (a dashboard notice listing them, as a list pull does); returns the changes."""
    from tantalio.store import subscriptions as notices
    from tantalio.triage.verdicts import refresh_media

    before = notices.file_verdicts(session, media_ids)
    refresh_media(session, media_ids)
    after = notices.file_verdicts(session, media_ids)
    changes = [
        VerdictChange(case_id, fid, path, old, after[fid][2])
        for fid, (case_id, path, old) in sorted(before.items())
        if fid in after and after[fid][2] != old
    ]
    per_case: dict[int, list[VerdictChange]] = defaultdict(list)
    for c in changes:
        per_case[c.case_id].append(c)
    for case_id, items in per_case.items():
        moves: dict[str, int] = defaultdict(int)
        for c in items:
            moves[f"{c.before} → {c.after}"] += 1
        summary = ", ".join(f"{n} {m}" for m, n in sorted(moves.items()))
        notices.add_notice(
            session,
            case_id,
            kind,
            f"{heading} changed {len(items)} verdict(s): {summary}",
            {
                "hash_set": set_name,
                **(detail or {}),
                "files": [
                    {"file_id": c.file_id, "path": c.path, "before": c.before, "after": c.after}
                    for c in items[:500]
                ],
                "more": max(0, len(items) - 500),
            },
        )
    return changes
