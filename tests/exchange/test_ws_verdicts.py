"""The verdict rule with other agencies' records (a pure function: no database needed)."""

from __future__ import annotations

from tantalio.store.exchange_ws_ops import AgencyFact
from tantalio.store.verdicts import FileFact, MatchFact
from tantalio.triage.verdicts import decide


def _file() -> FileFact:
    return FileFact(1, 1, 1, "ex", "a.jpg", 10, False, None, None, 7, "s" * 64, "image",
                    "jpeg", None, False, False, None)  # fmt: skip


def _entry(algorithm: str, kind: str, distance: int = 0) -> MatchFact:
    return MatchFact(7, algorithm, distance, None, None, 1, "set", kind, 1, None, None, None)


def _agency(algorithm: str, category: int | None, distance: int = 0) -> AgencyFact:
    return AgencyFact(7, "Agency A", "DE", None, "S1", "identified", True, False, category,
                      algorithm, distance, "2026-12-06T10:00:00Z")  # fmt: skip


def test_other_agencies_in_the_order_of_the_rule() -> None:
    f = _file()
    cat1_exact, cat1_pdq = _agency("sha256", 1), _agency("pdq", 1, 12)
    # another agency's categorized exact record: known, named in the decision
    d = decide(f, [], 0, [cat1_exact])
    assert (d.verdict, d.agency) == ("known", cat1_exact)
    # by PDQ: near-known
    assert decide(f, [], 0, [cat1_pdq]).verdict == "near-known"
    # uncategorized or category 0 elsewhere: seen elsewhere, not known
    assert decide(f, [], 0, [_agency("sha256", None)]).verdict == "seen-elsewhere"
    assert decide(f, [], 0, [_agency("sha256", 0)]).verdict == "seen-elsewhere"
    # local known-bad exact comes first; the local set is the one named
    local = _entry("md5", "known-bad")
    assert decide(f, [local], 0, [cat1_exact]).match == local
    # an exact record elsewhere outranks a local near match (exact before perceptual)
    d = decide(f, [_entry("pdq", "known-bad", 20)], 0, [cat1_exact])
    assert (d.verdict, d.agency) == ("known", cat1_exact)
    # a local near match outranks a near match elsewhere (local before remote)
    assert decide(f, [_entry("pdq", "known-bad", 20)], 0, [cat1_pdq]).agency is None
    # safety first: categorized material elsewhere outranks a known-good listing
    assert decide(f, [_entry("sha1", "known-good")], 0, [cat1_pdq]).verdict == "near-known"
    # no record anywhere: as before
    assert decide(f, [], 0, []).verdict == "new"
    assert decide(f, [], 2, []).verdict == "seen-elsewhere"
