"""How likely is a verified local-features match to be false? (issue 13)

A match between unrelated pictures happens when enough of their descriptor matches agree by
chance on one similarity. Over pairs of distinct benign pictures (the distractor set of
bench/bench_copies.py), the share of (query, reference) pairs whose best similarity gathers
at least k inliers falls off geometrically with k; we fit log10 P(>= k) = a - b k on that
tail and read the probability of a chance match of k inliers against N references as
min(1, N * P(>= k)) (a union bound: each reference is one more chance).

The constants below come from the run recorded in docs/perf/local-features.md and the
operating point chosen in docs/decisions/local-features.md; `bench_copies.py --calibrate`
refits them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, slots=True)
class FalseMatchModel:
    """log10 P(a chance pair has >= k inliers) = intercept - slope * k."""

    intercept: float
    slope: float

    def pair_probability(self, inliers: int) -> float:
        return float(min(1.0, 10 ** (self.intercept - self.slope * inliers)))

    def probability(self, inliers: int, references: int) -> float:
        """Chance that some unrelated reference among `references` matches this well."""
        return float(min(1.0, max(1, references) * self.pair_probability(inliers)))

    def inliers_for(self, probability: float, references: int) -> int:
        """The fewest inliers whose false-match probability at `references` is at most
        `probability`."""
        need = (self.intercept - math.log10(probability / max(1, references))) / self.slope
        return max(3, math.ceil(need))


def fit(best_inliers: Sequence[int], pairs: int, tail_share: float = 0.1) -> FalseMatchModel:
    """Fit the tail from the inlier counts of chance pairs (one per verified pair; pairs
    never verified count as 0) out of `pairs` pairs in all. Only the tail is fitted: the
    counts k reached by at most `tail_share` of the pairs (the bulk below falls off at
    another rate, and a threshold lives in the tail)."""
    counts = np.asarray(best_inliers, np.int64)
    ks, logs = [], []
    tail_from = next(
        (
            k
            for k in range(int(counts.max(initial=0)) + 1)
            if (counts >= k).sum() <= tail_share * pairs
        ),
        3,
    )
    for k in range(tail_from, int(counts.max(initial=0)) + 1):
        share = float((counts >= k).sum()) / pairs
        if share > 0:
            ks.append(k)
            logs.append(math.log10(share))
    if len(ks) < 2:  # too few chance matches to fit: a conservative default slope
        top = int(counts.max(initial=tail_from))
        share = max(1.0, float((counts >= top).sum())) / pairs
        return FalseMatchModel(math.log10(share) + 0.25 * top, 0.25)
    slope, intercept = np.polyfit(np.asarray(ks, float), np.asarray(logs), 1)
    return FalseMatchModel(float(intercept), float(-slope))


# Fitted on the run in docs/perf/local-features.md (updated by bench_copies.py --calibrate):
# the chance pairs of the corpus suite with 1,000 distractors (2026-12-07): 24 inliers is
# 4.9e-7 per query at 1M references (22, the earlier point, 1.0e-5).
DEFAULT_MODEL = FalseMatchModel(intercept=3.599, slope=0.663)
