"""Local features (issue 13): ORB keypoints of a picture, matched by descriptor votes and a
geometric check (tantalio.localfeat), for the copies PDQ misses: crops, overlays,
screenshots, small rotations.

Its index kind is `local`: a caller's `Indexes` that can search local features has a
`local_features(variants, rules)` method (signals/lookup.py); one that has none simply
finds no such match. The text form is `lf1:` + base64 (localfeat/record.py).

`distance` is `64 - inliers` of the verified pair (0 at 64 inliers or more: a reference
keeps 64 keypoints), and 64 when the pair does not verify, so smaller is closer as for
every other type.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from tantalio.signals.base import IndexKind, SignalType

if TYPE_CHECKING:
    from tantalio.fingerprint.record import Fingerprint

# A reference keeps this many keypoints (localfeat/extract.py's REFERENCE_KEYPOINTS is this
# constant): a verified pair never counts more inliers, so `distance` is FULL - inliers.
FULL = 64


def inliers_distance(inliers: int) -> int:
    """The signal's distance of a verified pair: keypoints short of a full match (smaller is
    closer, as for every other type); what lookup, triage and retro-matching store."""
    return max(0, FULL - inliers)


class LocalFeatures(SignalType):
    name = "local-features"
    description = "ORB local features (lf1: base64), verified inliers of a similarity"
    index: ClassVar[IndexKind] = "local"

    def normalize(self, value: str) -> str:
        from tantalio.localfeat.record import decode

        return decode(value).encode()

    def from_fingerprint(self, fp: Fingerprint) -> str | None:
        value = fp.extra.get("local_features")
        return value if isinstance(value, str) and value else None

    def distance(self, a: str, b: str) -> int:
        from tantalio.localfeat.index import one_to_one
        from tantalio.localfeat.record import decode
        from tantalio.localfeat.verify import verify

        fa, fb = decode(a), decode(b)
        if not len(fa) or not len(fb):
            return FULL
        bits = np.unpackbits(fa.descriptors[:, None, :] ^ fb.descriptors[None, :, :], axis=2)
        d = bits.sum(axis=2)
        qi, rj = np.nonzero(d <= 64)
        found = verify(fa, fb, one_to_one(qi, rj.astype(np.int64), d[qi, rj]))
        return FULL if found is None else inliers_distance(found.inliers)


SIGNAL_TYPES = (LocalFeatures(),)
