"""What triage tells about each file of a case: the rows `tantalio triage` prints and the
report and exports are built from."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from tantalio.store import verdicts as store
from tantalio.store.cases import VERDICTS
from tantalio.store.categories import examiner_facts
from tantalio.store.exchange_ws_ops import agency_facts
from tantalio.triage.verdicts import EXACT, best_agency, best_matches

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

# Keys issue 3 requires, first, in this order; more follow.
JSON_KEYS = ("path", "exhibit", "sha256", "verdict", "hashset", "category", "series",
             "distance", "cases", "error")  # fmt: skip


@dataclass(slots=True)
class TriageRow:
    path: str
    exhibit: str
    sha256: str | None
    verdict: str
    hashset: str | None = None
    category: int | None = None
    series: str | None = None
    distance: int | None = None
    cases: list[str] = field(default_factory=list)  # other cases holding the same content
    error: str | None = None
    algorithm: str | None = None
    victim_identified: bool | None = None
    priority: float | None = None
    size: int | None = None
    type: str | None = None
    kind: str | None = None
    deleted: bool = False
    examiner_category: int | None = None  # the examiner's decision (wins over `category`)
    examiner_series: list[str] = field(default_factory=list)  # series the media is in here
    # Other agencies' records at the central exchange (issue 11): agency, country, series,
    # status, victim_identified.
    agencies: list[dict[str, Any]] = field(default_factory=list)
    media_id: int | None = None
    # Set when the content has no SHA-256 (a report package's MD5-only file): its identity.
    md5: str | None = None
    # Issue 13: which signal matched the reference behind the verdict (`md5`, `sha1`,
    # `sha256`, `pdq`, `vpdq`, `pdq-trimmed`, `local-features`), the reference file's
    # SHA-256 when the entry has one, and how this file relates to it (crop box, scale,
    # rotation, flip, inliers, false-match probability; null for exact and plain PDQ).
    match_kind: str | None = None
    match_sha256: str | None = None
    transform: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("media_id")
        return {k: data.pop(k) for k in JSON_KEYS} | data


def triage_rows(
    session: Session, case_id: int, shown_cases: Collection[int] | None = None
) -> Iterator[TriageRow]:
    """Every file of the case with its stored verdict and the details behind it, ordered by
    exhibit and path. `cases` names the other cases holding the same content, only those in
    `shown_cases` when given (the web app's exports for a user who is no member of the rest;
    the verdict `seen-elsewhere` stays)."""
    facts = store.case_file_facts(session, case_id)
    media = {f.media_id for f in facts if f.media_id is not None}
    matches = store.entry_match_facts(session, media)
    cases = store.media_case_refs(session, media)
    review = examiner_facts(session, media)
    remote = agency_facts(session, media)
    for f in facts:
        row = TriageRow(
            path=f.path,
            exhibit=f.exhibit,
            sha256=f.sha256,
            verdict=f.verdict or "pending",
            error=f.file_error or f.media_error,
            priority=f.priority,
            size=f.size,
            type=f.type,
            kind=f.kind,
            deleted=f.deleted,
            media_id=f.media_id,
            md5=f.md5 if f.sha256 is None and f.media_id is not None else None,
        )
        if f.media_id is not None:
            row.cases = sorted(
                ref
                for cid, ref in cases.get(f.media_id, {}).items()
                if cid != case_id and (shown_cases is None or cid in shown_cases)
            )
            row.examiner_category, row.examiner_series = review.get(f.media_id, (None, []))
            best = best_matches(matches.get(f.media_id, []))
            chosen = {
                "known": best.alerting,
                "near-known": best.alerting,
                "known-good": best.good,
                "known-non-pertinent": best.non_pertinent,
                "seen-elsewhere": best.seen,
            }.get(f.verdict or "")
            if f.verdict == "known" and chosen is not None and chosen.algorithm not in EXACT:
                chosen = None  # known through another agency's exact record, not this set
            if chosen is not None:
                row.hashset = chosen.hash_set
                row.category = chosen.category
                row.series = chosen.series
                row.distance = chosen.distance
                row.algorithm = chosen.algorithm
                row.victim_identified = chosen.victim_identified
                row.match_kind = chosen.algorithm
                row.match_sha256 = chosen.entry_sha256
                row.transform = chosen.transform
            agencies = remote.get(f.media_id, [])
            row.agencies = [a.to_json() for a in agencies]
            agency = best_agency(agencies)
            if chosen is None and agency is not None and f.verdict in ("known", "near-known"):
                row.category = agency.category
                row.series = agency.series
                row.distance = agency.distance
                row.algorithm = agency.algorithm
                row.victim_identified = agency.victim_identified
                row.match_kind = agency.algorithm
        yield row


def review_order(rows: list[TriageRow]) -> list[TriageRow]:
    """The files in the order an examiner reviews them: every file that is not `new` in
    exhibit and path order, then the `new` media ranked by priority (highest first; ties by
    exhibit and path), as the report ranks them (issue 16)."""
    settled = [r for r in rows if r.verdict != "new"]
    return settled + sorted((r for r in rows if r.verdict == "new"), key=priority_key)


def priority_key(row: TriageRow) -> tuple[float, str, str]:
    return (-(row.priority or 0.0), row.exhibit, row.path)


def counts_by_exhibit(rows: list[TriageRow]) -> dict[str, dict[str, int]]:
    """{exhibit: {verdict: count}} with verdicts in their canonical order."""
    out: dict[str, dict[str, int]] = {}
    for r in rows:
        per = out.setdefault(r.exhibit, {})
        per[r.verdict] = per.get(r.verdict, 0) + 1
    order = {v: i for i, v in enumerate(VERDICTS)}
    return {
        ex: dict(sorted(per.items(), key=lambda kv: order.get(kv[0], 99)))
        for ex, per in sorted(out.items())
    }
