"""Exact-hash lookup and exact PDQ radius search, incremental and persisted without pickle.

- `PDQIndex`: 256-bit PDQ hashes -> ids within a Hamming radius (multi-index hashing,
  exact at any radius: no missed match), add/remove without rebuild, save/load.
- `ExactIndex`: MD5 / SHA-1 / SHA-256 digest -> ids.
- `filter_quality` / `quality_mask`: the PDQ quality gate callers apply (quality >= 50).
"""

from __future__ import annotations

from tantalio.index.codec import (
    MIN_QUALITY,
    filter_quality,
    pdq_distance,
    quality_mask,
)
from tantalio.index.exact import ExactIndex, algorithm_of
from tantalio.index.pdq import PDQIndex

__all__ = [
    "MIN_QUALITY",
    "ExactIndex",
    "PDQIndex",
    "algorithm_of",
    "filter_quality",
    "pdq_distance",
    "quality_mask",
]
