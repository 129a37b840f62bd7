"""The reference side of local features: every reference keypoint's descriptor in one faiss
binary index, each query keypoint's nearest descriptors, a vote per reference, and the
geometric check of the best-voted references only.

Why faiss: a descriptor's true partner is 20-60 bits away among millions of descriptors; an
exact radius search (our MIH PDQ index) is hopeless at such radii, and a k-nearest search is
what copy detection uses. faiss (already a dependency) runs it exactly over a flat index and,
past `IVF_FROM` descriptors, over an inverted file of binary k-means cells (`nprobe` cells
searched per descriptor), which keeps a 1M-reference index at a few milliseconds per query.

Memory per reference keypoint: 32 bytes of descriptor, 8 of faiss id (IVF) and 8 of our own
(owning reference and position): 48 bytes, so 64 keypoints are about 3 KB per reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import faiss
import numpy as np
from numpy.typing import NDArray

from tantalio.localfeat.calibration import DEFAULT_MODEL, FalseMatchModel
from tantalio.localfeat.record import DESCRIPTOR_BYTES, Features, decode
from tantalio.localfeat.verify import Verified, verify
from tantalio.signals.lookup import LocalHit
from tantalio.signals.rules import MatchRules

# One query per worker: tantalio runs pictures in parallel, and OpenMP threads spin-waiting
# for each small search cost ten times the search itself on a busy machine (measured).
faiss.omp_set_num_threads(1)

IVF_FROM = 2_000_000  # descriptors: below this the exact flat index is fast enough
K_NEAREST = 4  # reference descriptors looked at per query descriptor
MAX_DESCRIPTOR_DISTANCE = 64  # of 256 bits: farther descriptors never vote
CANDIDATES = 8  # best-voted references verified per query variant
MIN_VOTES = 5  # a reference with fewer voting query keypoints is not verified


@dataclass(frozen=True, slots=True)
class LocalMatch:
    """A reference verified against the query, with its explanation."""

    ref: int
    inliers: int
    votes: int
    verified: Verified
    false_match_probability: float


class LocalIndex:
    """A static index of reference features (build once; rebuild to add)."""

    def __init__(
        self,
        refs: Sequence[Features],
        ids: Sequence[int] | None = None,
        nlist: int | None = None,
        nprobe: int = 16,
    ) -> None:
        self.ids = np.asarray(ids if ids is not None else range(len(refs)), np.int64)
        counts = np.array([len(f) for f in refs], np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(counts)])
        total = int(self.offsets[-1])
        self.owner = np.repeat(np.arange(len(refs), dtype=np.int32), counts)
        self.xy = (
            np.concatenate([f.xy for f in refs]).astype(np.float32)
            if total
            else np.zeros((0, 2), np.float32)
        )
        self.size = np.array([(f.width, f.height) for f in refs], np.int64).reshape(-1, 2)
        self.scale = np.array([f.scale for f in refs], np.float32)
        desc = (
            np.concatenate([f.descriptors for f in refs])
            if total
            else np.zeros((0, DESCRIPTOR_BYTES), np.uint8)
        )
        self.index = _faiss_index(desc, nlist, nprobe)

    def __len__(self) -> int:
        return len(self.ids)

    def memory_bytes(self) -> int:
        n = int(self.offsets[-1])
        ivf = 8 if isinstance(self.index, faiss.IndexBinaryIVF) else 0
        ours = self.owner.nbytes + self.xy.nbytes + self.size.nbytes + self.offsets.nbytes
        return n * (DESCRIPTOR_BYTES + ivf) + ours + self.ids.nbytes + self.scale.nbytes

    def reference(self, i: int) -> Features:
        lo, hi = int(self.offsets[i]), int(self.offsets[i + 1])
        w, h = (int(v) for v in self.size[i])
        return Features(w, h, float(self.scale[i]), self.xy[lo:hi], np.zeros((0, 32), np.uint8))

    def local_features(self, variants: Sequence[str], rules: MatchRules) -> list[LocalHit]:
        """`signals.lookup.LocalIndexes`: the query's `lf1:` variants, at the rules' operating
        point; refs are this index's ids."""
        found = self.search([decode(v) for v in variants], rules.local_min_inliers)
        return [
            LocalHit(m.ref, m.inliers, m.false_match_probability, m.verified.transform())
            for m in found
        ]

    def search(
        self,
        variants: Sequence[Features],
        min_inliers: int,
        model: FalseMatchModel = DEFAULT_MODEL,
        references: int | None = None,
    ) -> list[LocalMatch]:
        """References verified with at least `min_inliers` inliers, best first; `variants`
        are the query's features (and those of its mirror image). The false-match
        probability is reckoned against `references` (default: this index's size)."""
        best: dict[int, LocalMatch] = {}
        n_refs = references or len(self)
        for q in variants:
            if not len(q) or not self.index.ntotal:
                continue
            dist, gid = self.index.search(np.ascontiguousarray(q.descriptors), K_NEAREST)
            for m in self._verify_candidates(q, dist, gid, min_inliers, model, n_refs):
                cur = best.get(m.ref)
                if cur is None or m.inliers > cur.inliers:
                    best[m.ref] = m
        return sorted(best.values(), key=lambda m: (-m.inliers, m.ref))

    def _verify_candidates(
        self,
        q: Features,
        dist: NDArray[np.int32],
        gid: NDArray[np.int64],
        min_inliers: int,
        model: FalseMatchModel,
        n_refs: int,
    ) -> list[LocalMatch]:
        ok = (gid >= 0) & (dist <= MAX_DESCRIPTOR_DISTANCE)
        qi = np.broadcast_to(np.arange(len(q))[:, None], gid.shape)[ok]
        g = gid[ok]
        d = dist[ok]
        if not len(g):
            return []
        owner = self.owner[g]
        # votes: distinct query keypoints per reference
        pair_key = np.unique(owner.astype(np.int64) * (len(q) + 1) + qi)
        refs, votes = np.unique(pair_key // (len(q) + 1), return_counts=True)
        order = np.argsort(-votes, kind="stable")[:CANDIDATES]
        out = []
        for r, v in zip(refs[order], votes[order], strict=True):
            if v < MIN_VOTES or v < min_inliers:
                break
            sel = np.flatnonzero(owner == r)
            pairs = one_to_one(qi[sel], g[sel] - self.offsets[r], d[sel])
            found = verify(q, self.reference(int(r)), pairs)
            if found is not None and found.inliers >= min_inliers:
                out.append(
                    LocalMatch(
                        int(self.ids[r]),
                        found.inliers,
                        int(v),
                        found,
                        model.probability(found.inliers, n_refs),
                    )
                )
        return out


def one_to_one(
    qi: NDArray[np.intp], rj: NDArray[np.int64], dist: NDArray[np.int32]
) -> NDArray[np.intp]:
    """Pairs (query keypoint, reference keypoint) in which each keypoint of either side
    occurs once, closest descriptors first: an inlier is then one keypoint of each picture,
    so a reference of 64 keypoints never counts more than 64 (and a repeated texture does
    not vote many times for one spot)."""
    order = np.argsort(dist, kind="stable")
    seen_q: set[int] = set()
    seen_r: set[int] = set()
    out = []
    for k in order:
        a, b = int(qi[k]), int(rj[k])
        if a in seen_q or b in seen_r:
            continue
        seen_q.add(a)
        seen_r.add(b)
        out.append((a, b))
    return np.asarray(out, np.intp).reshape(-1, 2)


def _faiss_index(desc: NDArray[np.uint8], nlist: int | None, nprobe: int) -> faiss.IndexBinary:
    d = DESCRIPTOR_BYTES * 8
    n = len(desc)
    index: faiss.IndexBinary
    if nlist is None and n < IVF_FROM:
        index = faiss.IndexBinaryFlat(d)
    else:
        lists = nlist or int(4 * np.sqrt(n))
        ivf = faiss.IndexBinaryIVF(faiss.IndexBinaryFlat(d), d, lists)
        ivf.train(desc[np.random.default_rng(0).permutation(n)[: lists * 40]])
        ivf.nprobe = nprobe
        index = ivf
    if n:
        index.add(np.ascontiguousarray(desc))
    return index
