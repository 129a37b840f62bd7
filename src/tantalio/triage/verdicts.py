"""The verdict rule: one verdict per file, decided from stored facts, written back.

Order (docs/decisions/triage.md): a file whose bytes could not be read is `unreadable`;
then `known` (an exact MD5/SHA-1/SHA-256 match to an *alerting* entry), `near-known` (a
PDQ/vPDQ match to such an entry: the closest wins), `known-good` (an exact match in a
known-good set), `known-non-pertinent` (a match to an entry of category 0, non-pertinent:
known, and known not to matter), `seen-elsewhere` (the same content occurs in another case,
or an uncategorized entry of a `reference` set says it was seen), `unreadable` (the content
could not be decoded), `non-media`, and finally `new`. Safety first: a near-copy of known
material outranks a known-good listing of the same bytes.

Which entries alert follows the entry's category and its set's kind (issue 16):
category 1-4 alerts in any set but a known-good one; category 0 never alerts; an
uncategorized entry alerts in a known-bad or alert set (a list without categories says
"illegal" by being that list) but not in a reference set (it says "seen", not "illegal").

Another agency's record at the central exchange (issue 11) that it categorized (category
1-4) counts as known material: an exact match makes the file `known` and a PDQ/vPDQ match
`near-known`, each just after the local sets' own alerting match of the same strength (exact
before perceptual, local before remote). Uncategorized or category-0 records elsewhere make
it `seen-elsewhere` (another agency's "non-pertinent" never silences this one's review).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tantalio.hashsets.record import entry_alerts
from tantalio.store import verdicts as store
from tantalio.store.exchange_ws_ops import AgencyFact, agency_facts
from tantalio.store.verdicts import FileFact, MatchFact
from tantalio.triage.priority import assign_priorities

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

BAD_KINDS = ("known-bad", "alert")
REFERENCE = "reference"
NON_PERTINENT = 0
EXACT = ("md5", "sha1", "sha256")


@dataclass(slots=True)
class Decision:
    verdict: str
    match: MatchFact | None = None
    reason: str | None = None
    agency: AgencyFact | None = None  # the other agency's record behind known/near-known


@dataclass(slots=True)
class BestMatches:
    """The closest match of each role a match can play (None when there is none)."""

    alerting: MatchFact | None = None
    good: MatchFact | None = None
    non_pertinent: MatchFact | None = None
    seen: MatchFact | None = None  # an uncategorized entry of a reference set


def match_role(m: MatchFact) -> str | None:
    """'alerting', 'good', 'non_pertinent', 'seen', or None (a perceptual known-good match,
    which proves nothing about these bytes)."""
    if m.hash_set_kind == "known-good":
        return "good" if m.algorithm in EXACT else None
    if entry_alerts(m.hash_set_kind, m.category):
        return "alerting"
    return "non_pertinent" if m.category == NON_PERTINENT else "seen"


def _closest(m: MatchFact) -> tuple[int, int, int, int]:
    """Exact beats perceptual, then smaller distance, then known-bad before alert and
    reference, then the lowest entry id."""
    return (
        0 if m.algorithm in EXACT else 1,
        m.distance,
        0 if m.hash_set_kind == "known-bad" else 1,
        m.entry_id,
    )


def best_matches(matches: Sequence[MatchFact]) -> BestMatches:
    out = BestMatches()
    for m in sorted(matches, key=_closest):
        role = match_role(m)
        if role is not None and getattr(out, role) is None:
            setattr(out, role, m)
    return out


def best_match(matches: Sequence[MatchFact]) -> tuple[MatchFact | None, MatchFact | None]:
    """(best alerting match, best known-good exact match)."""
    best = best_matches(matches)
    return best.alerting, best.good


def best_agency(agencies: Sequence[AgencyFact]) -> AgencyFact | None:
    """The other agency's categorized record (category >= 1) that weighs most: exact before
    perceptual, then smaller distance, then the lower category code, then agency name."""
    known = [a for a in agencies if a.category is not None and a.category >= 1]
    if not known:
        return None
    return min(
        known,
        key=lambda a: (0 if a.algorithm in EXACT else 1, a.distance, a.category, a.agency),
    )


def decide(
    fact: FileFact,
    matches: Sequence[MatchFact],
    other_cases: int,
    agencies: Sequence[AgencyFact] = (),
) -> Decision:
    if fact.media_id is None:
        return Decision("unreadable", reason=fact.file_error or "not read")
    best = best_matches(matches)
    bad, remote = best.alerting, best_agency(agencies)
    if bad is not None and bad.algorithm in EXACT:
        return Decision("known", bad)
    if remote is not None and remote.algorithm in EXACT:
        return Decision("known", agency=remote)
    if bad is not None:
        return Decision("near-known", bad)
    if remote is not None:
        return Decision("near-known", agency=remote)
    if best.good is not None:
        return Decision("known-good", best.good)
    if best.non_pertinent is not None:
        return Decision("known-non-pertinent", best.non_pertinent)
    if best.seen is not None:
        return Decision(
            "seen-elsewhere", best.seen, reason=f"in reference set {best.seen.hash_set!r}"
        )
    if other_cases or agencies:
        return Decision("seen-elsewhere")
    if fact.file_error:
        return Decision("unreadable", reason=fact.file_error)
    if fact.media_error and fact.kind in ("image", "video"):
        return Decision("unreadable", reason=fact.media_error)
    if fact.kind not in ("image", "video"):
        return Decision("non-media")
    return Decision("new")


def refresh_cases(session: Session, case_ids: Iterable[int]) -> dict[str, int]:
    """Recompute and store the verdict and priority of every file of the given cases.

    Returns counts per verdict over those cases. Idempotent: run after every ingest and
    every hash-set change (a case's verdicts depend on other cases and on hash sets)."""
    totals: dict[str, int] = {}
    for case_id in sorted(set(case_ids)):
        facts = store.case_file_facts(session, case_id)
        media = {f.media_id for f in facts if f.media_id is not None}
        matches = store.entry_match_facts(session, media)
        remote = agency_facts(session, media)
        store.link_known_series(session, media)
        cases = store.media_case_refs(session, media)
        before = {f.file_id: (f.verdict, f.priority) for f in facts}
        for fact in facts:
            others = 0
            if fact.media_id is not None:
                others = len(set(cases.get(fact.media_id, {})) - {case_id})
            mid = fact.media_id or -1
            decision = decide(fact, matches.get(mid, ()), others, remote.get(mid, ()))
            fact.verdict = decision.verdict
            fact.priority = None
            totals[decision.verdict] = totals.get(decision.verdict, 0) + 1
        assign_priorities(session, facts)
        changed = [f for f in facts if before[f.file_id] != (f.verdict, f.priority)]
        store.write_verdicts(session, changed)
    return totals


def refresh_media(session: Session, media_ids: Iterable[int]) -> dict[str, int]:
    """Refresh every case in which any of these media occur."""
    return refresh_cases(session, store.case_ids_of_media(session, media_ids))


def count_by(facts: Iterable[FileFact]) -> Mapping[str, int]:
    out: dict[str, int] = {}
    for f in facts:
        out[f.verdict or "pending"] = out.get(f.verdict or "pending", 0) + 1
    return out
