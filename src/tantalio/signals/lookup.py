"""The one lookup: a query (a fingerprint or one raw signal) + indexes + rules -> matches.

Triage (new media against hash entries), the web query and the platform (`/m/*`, `/v1/match*`)
all call `lookup`; each supplies its indexes through the small `Indexes` protocol, whose
reference ids mean what the caller wants (entry ids, media ids, encoded bank entries).

What is compared:
- exact signals (MD5, SHA-1, SHA-256, video_md5): equal values;
- PDQ: the query's PDQ (all 8 orientations when `rules.orientations`) when its quality
  passes the gate, within `rules.pdq_threshold`; the closest orientation is reported;
- vPDQ: the query's unique frames within `rules.vpdq_frame_distance` of a reference's
  frames, scored by query share and index share (`rules.vpdq_verdict`);
- with `rules.frames_vs_images`, for content (not a raw signal): a video's frames against
  picture hashes (a known picture inside a video) and a picture against known videos'
  frames (a frame saved as a picture);
- pdq-trimmed: the PDQ of the picture inside its frame (borders, letterbox, screenshot
  chrome) against picture PDQs, for references the plain PDQ did not match;
- local features (`rules.local_features`): the query's keypoint variants through the
  caller's `local_features` method, when its indexes have one and nothing above matched
  (issue 13); each match carries its transform and false-match probability.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from tantalio.fingerprint.record import ORIENTATIONS
from tantalio.signals import registry
from tantalio.signals.local_features import inliers_distance
from tantalio.signals.rules import (
    RULE_EXACT,
    RULE_FRAME_IN_IMAGE,
    RULE_IMAGE_IN_VIDEO,
    RULE_LOCAL,
    RULE_PDQ,
    RULE_PDQ_TRIMMED,
    MatchRules,
)
from tantalio.signals.vpdq import parse_frames, shares, unique_pdqs

if TYPE_CHECKING:
    from tantalio.fingerprint.record import Fingerprint


class Indexes(Protocol):
    """What a caller's indexes answer. Any method may return nothing (no such index)."""

    def exact(self, column: str, value: str) -> list[int]:
        """References whose `column` (md5, sha1, sha256) equals `value`."""
        ...

    def pdq(self, hashes: Sequence[str], radius: int) -> list[list[tuple[int, int]]]:
        """Per query hash: (reference, distance) of picture PDQs within `radius`."""
        ...

    def frames(self, hashes: Sequence[str], radius: int) -> list[list[tuple[int, int, int]]]:
        """Per query hash: (reference, its unique frame number, distance) within `radius`."""
        ...

    def frame_count(self, ref: int) -> int:
        """Unique frames of a reference video (quality-gated as it was indexed)."""
        ...


class LocalIndexes(Protocol):
    """What indexes that hold local features also answer (optional: `lookup` asks for it
    with getattr, so the other callers' indexes need nothing new)."""

    def local_features(self, variants: Sequence[str], rules: MatchRules) -> list[LocalHit]:
        """References whose local features verify against one of the query's variants
        (`lf1:` texts) with at least `rules.local_min_inliers` inliers."""
        ...


@dataclass(frozen=True, slots=True)
class LocalHit:
    ref: int
    inliers: int
    false_match_probability: float
    transform: dict[str, Any]


@dataclass(slots=True)
class Query:
    """What is looked up: exact values by column, a PDQ with its orientations, video frames."""

    exact: dict[str, str] = field(default_factory=dict)  # signal type -> value
    pdq: str | None = None
    pdq_quality: int | None = None
    orientations: list[str] | None = None  # ORIENTATIONS order; [0] == pdq
    frames: list[str] | None = None  # unique, quality-gated frame PDQs
    trimmed: list[str] | None = None  # PDQ of the picture inside its frame, orientations
    trimmed_quality: int | None = None
    local: list[str] | None = None  # local-features variants (identity, mirror, trimmed)
    # Content (a fingerprint) is also compared across pictures and video frames; a raw
    # signal searches its own type's index only, as HMA's raw lookups do.
    cross: bool = True

    @classmethod
    def of_fingerprint(cls, fp: Fingerprint, rules: MatchRules) -> Query:
        exact = {n: v for n in ("md5", "sha1", "sha256") if (v := getattr(fp, n, None))}
        frames = None
        if fp.frames:
            frames = unique_pdqs(
                ((f.pdq, f.quality, f.timestamp) for f in fp.frames), rules.min_quality
            )
        extra = fp.extra
        trimmed = extra.get("pdq_trimmed_orientations") or (
            [extra["pdq_trimmed"]] if extra.get("pdq_trimmed") else None
        )
        local = [extra["local_features"]] if extra.get("local_features") else []
        local += extra.get("local_features_variants") or []
        return cls(
            exact,
            fp.pdq,
            fp.pdq_quality,
            fp.pdq_orientations,
            frames,
            trimmed=trimmed,
            trimmed_quality=extra.get("pdq_trimmed_quality"),
            local=local or None,
        )

    @classmethod
    def of_signal(cls, signal_type: str, value: str, rules: MatchRules) -> Query:
        """One raw signal (HMA's `signal_type` + `signal`); raises `SignalError`."""
        st = registry.get(signal_type)
        if st.index == "frames":
            frames = unique_pdqs(parse_frames(value), rules.min_quality)
            return cls(frames=frames, cross=False)
        clean = st.normalize(value)
        if st.index == "local":
            return cls(local=[clean], cross=False)
        if st.index == "hamming":
            return cls(pdq=clean, cross=False)
        return cls(exact={st.name: clean}, cross=False)


class SignalMatch(NamedTuple):
    """One reference matched: by which signal type and rule, how closely. A NamedTuple:
    immutable like a frozen dataclass, built at a fraction of its cost (the platform's raw
    lookup makes one per hit on its hottest path)."""

    ref: int
    signal_type: str  # the reference's signal: md5 / sha1 / sha256 / video_md5 / pdq / vpdq
    distance: int
    rule: str  # rules.RULES
    orientation: str | None = None  # the query orientation that matched (PDQ)
    query_share: float | None = None  # vPDQ
    index_share: float | None = None  # vPDQ
    transform: dict[str, Any] | None = None  # local features: crop box, scale, rotation, ...
    false_match_probability: float | None = None  # local features


_COLUMNS = registry.exact_columns()


def _orientation(k: int) -> str:
    return ORIENTATIONS[k] if k < len(ORIENTATIONS) else str(k)


def pdq_variants(query: Query, rules: MatchRules) -> list[str]:
    """The PDQ hashes a query searches with: none below the quality gate; 8 orientations
    when the rules say so and the query has them."""
    if not query.pdq or not rules.pdq_ok(query.pdq_quality):
        return []
    if rules.orientations and query.orientations:
        return list(query.orientations)
    return [query.pdq]


def best_per_ref(
    per_variant: Sequence[Sequence[tuple[int, int]]],
) -> dict[int, tuple[int, int]]:
    """Closest (distance, variant number) per reference over the variants' hits."""
    best: dict[int, tuple[int, int]] = {}
    for k, hits in enumerate(per_variant):
        for ref, d in hits:
            if ref not in best or d < best[ref][0]:
                best[ref] = (d, k)
    return best


def video_matches(
    frames: Sequence[str],
    hits: Sequence[Sequence[tuple[int, int, int]]],
    frame_count: dict[int, int] | Indexes,
    rules: MatchRules,
) -> list[SignalMatch]:
    """vPDQ verdicts from the frame hits of a query video's unique frames."""
    closest: dict[int, dict[tuple[int, int], int]] = {}
    for qi, per in enumerate(hits):
        for ref, fi, d in per:
            c = closest.setdefault(ref, {})
            key = (qi, fi)
            if key not in c or d < c[key]:
                c[key] = d
    out = []
    for ref in sorted(closest):
        total = (
            frame_count.get(ref, 0)
            if isinstance(frame_count, dict)
            else frame_count.frame_count(ref)
        )
        s = shares(len(frames), total, closest[ref])
        rule = rules.vpdq_verdict(s)
        if rule is not None:
            out.append(
                SignalMatch(
                    ref,
                    "vpdq",
                    s.distance,
                    rule,
                    None,
                    round(s.query_share, 4),
                    round(s.index_share, 4),
                )
            )
    return out


def lookup(query: Query, indexes: Indexes, rules: MatchRules) -> list[SignalMatch]:
    """Every match of `query`, one per (reference, signal type), closest first."""
    only_pdq = not (query.exact or query.frames or query.trimmed or query.local)
    if only_pdq and not (query.cross and rules.frames_vs_images):
        return _pdq_only(query, indexes, rules)
    found: dict[tuple[int, str], SignalMatch] = {}

    def keep(m: SignalMatch) -> None:
        key = (m.ref, m.signal_type)
        cur = found.get(key)
        if cur is None or m.distance < cur.distance:
            found[key] = m

    for name, value in query.exact.items():
        for ref in indexes.exact(_COLUMNS.get(name, name), value):
            keep(SignalMatch(ref, name, 0, RULE_EXACT))
    variants = pdq_variants(query, rules)
    if variants:
        for ref, (d, k) in best_per_ref(indexes.pdq(variants, rules.pdq_threshold)).items():
            keep(SignalMatch(ref, "pdq", d, RULE_PDQ, _orientation(k)))
        if rules.frames_vs_images and query.cross:
            flat = [
                [(ref, d) for ref, _fi, d in per]
                for per in indexes.frames(variants, rules.pdq_threshold)
            ]
            for ref, (d, k) in best_per_ref(flat).items():
                keep(SignalMatch(ref, "vpdq", d, RULE_IMAGE_IN_VIDEO, _orientation(k)))
    if query.trimmed and rules.pdq_ok(query.trimmed_quality):
        trimmed = query.trimmed if rules.orientations else query.trimmed[:1]
        for ref, (d, k) in best_per_ref(indexes.pdq(trimmed, rules.pdq_threshold)).items():
            if (ref, "pdq") not in found:
                keep(SignalMatch(ref, "pdq-trimmed", d, RULE_PDQ_TRIMMED, _orientation(k)))
    search_local = getattr(indexes, "local_features", None)
    # local features only for content the exact and PDQ signals did not settle: they cost
    # more than all of those together, and a settled file's verdict would not change
    if query.local and rules.local_features and search_local is not None and not found:
        for hit in search_local(query.local, rules):
            keep(
                SignalMatch(
                    hit.ref,
                    "local-features",
                    inliers_distance(hit.inliers),
                    RULE_LOCAL,
                    transform=hit.transform,
                    false_match_probability=hit.false_match_probability,
                )
            )
    if query.frames:
        hits = indexes.frames(query.frames, rules.vpdq_frame_distance)
        for m in video_matches(query.frames, hits, indexes, rules):
            keep(m)
        if rules.frames_vs_images and query.cross:
            best = best_per_ref(indexes.pdq(query.frames, rules.pdq_threshold))
            for ref, (d, _k) in best.items():
                keep(SignalMatch(ref, "pdq", d, RULE_FRAME_IN_IMAGE))
    return sorted(found.values(), key=_closest)


def _pdq_only(query: Query, indexes: Indexes, rules: MatchRules) -> list[SignalMatch]:
    """`lookup` for a query that is a PDQ alone (HMA's raw lookup, the platform's hottest
    path): the same matches, without the bookkeeping that several signal types need."""
    variants = pdq_variants(query, rules)
    if not variants:
        return []
    per_variant = indexes.pdq(variants, rules.pdq_threshold)
    hits = per_variant[0] if len(per_variant) == 1 else None
    if hits is not None and len({ref for ref, _d in hits}) == len(hits):
        # One hash (a raw PDQ) whose references come once each: nothing to merge.
        out = [SignalMatch(ref, "pdq", d, RULE_PDQ, ORIENTATIONS[0]) for ref, d in hits]
    else:
        best = best_per_ref(per_variant)
        out = [
            SignalMatch(ref, "pdq", d, RULE_PDQ, _orientation(k)) for ref, (d, k) in best.items()
        ]
    if len(out) > 1:
        out.sort(key=_closest)
    return out


def _closest(m: SignalMatch) -> tuple[int, int, str]:
    return (m.distance, m.ref, m.signal_type)
