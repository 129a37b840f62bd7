"""A vocabulary of binary visual words: ORB descriptors quantized to the nearest of W words
(a two-level vocabulary: C coarse cells of binary k-means, each split into about W / C fine
words), so that a reference keypoint is one entry of its word's posting list and a query
keypoint costs a quantization (C + F Hamming distances per probed cell) instead of a scan.

Coarse cells are faiss binary k-means centroids; a cell's fine words are descriptors of that
cell drawn from the training sample and moved twice to the bitwise majority of the
descriptors nearest them (binary Lloyd steps). Assignment is one faiss call: an
`IndexBinaryIVF` whose quantizer holds the coarse centroids and whose vectors are the fine
words (ids = word numbers), searched for the `soft` nearest words in `probe` cells.

The vocabulary is trained on the references' own descriptors when an index is built
(nothing is shipped or downloaded) and kept while references are added; `words_for`
sizes it from the number of descriptors (about 4 descriptors per word, 2^4 to 2^18 words:
the 800-2,400 words of a query must be a small share of the vocabulary, or every reference
shares many of them).
"""

from __future__ import annotations

import math

import faiss
import numpy as np
from numpy.typing import NDArray

from tantalio.localfeat.record import DESCRIPTOR_BYTES

BITS = DESCRIPTOR_BYTES * 8
MIN_WORDS, MAX_WORDS = 1 << 4, 1 << 18
PER_WORD = 4  # reference descriptors per word the sizing aims at
LLOYD_STEPS = 2


def words_for(n_descriptors: int) -> int:
    """Vocabulary size for an index of that many descriptors (a power of 2)."""
    want = max(1, n_descriptors // PER_WORD)
    return int(min(MAX_WORDS, max(MIN_WORDS, 1 << max(0, math.ceil(math.log2(want))))))


class Vocabulary:
    """Coarse centroids (C x 32) and fine words (W x 32), uint8; `assign` maps descriptors
    to word numbers."""

    def __init__(self, coarse: NDArray[np.uint8], fine: NDArray[np.uint8]) -> None:
        self.coarse = np.ascontiguousarray(coarse, np.uint8)
        self.fine = np.ascontiguousarray(fine, np.uint8)
        quantizer = faiss.IndexBinaryFlat(BITS)
        quantizer.add(self.coarse)
        ivf = faiss.IndexBinaryIVF(quantizer, BITS, len(self.coarse))
        ivf.own_fields = False
        ivf.add(self.fine)
        self._quantizer = quantizer  # kept alive: the IVF does not own it
        self._ivf = ivf

    def __len__(self) -> int:
        return len(self.fine)

    @classmethod
    def train(cls, sample: NDArray[np.uint8], words: int, seed: int = 0) -> Vocabulary:
        """A vocabulary of about `words` words from a sample of descriptors (k x 32)."""
        rng = np.random.default_rng(seed)
        sample = np.ascontiguousarray(sample, np.uint8)
        n = len(sample)
        if n == 0:
            raise ValueError("no descriptors to train a vocabulary on")
        words = max(1, min(words, n))
        cells = max(1, min(int(round(math.sqrt(words))), n))
        fine_per_cell = max(1, words // cells)
        # coarse: binary k-means (faiss trains an IVF's quantizer that way)
        if cells == 1:
            coarse = sample[:1].copy()
        else:
            train = sample[rng.permutation(n)[: cells * 64]]
            ivf = faiss.IndexBinaryIVF(faiss.IndexBinaryFlat(BITS), BITS, cells)
            ivf.cp.verbose = False
            ivf.train(train)
            q = faiss.downcast_IndexBinary(ivf.quantizer)
            xb = q.xb  # type: ignore[attr-defined]
            coarse = faiss.vector_to_array(xb).reshape(-1, DESCRIPTOR_BYTES).copy()
        assign = _nearest(coarse, sample)
        fine_parts = []
        for c in range(len(coarse)):
            members = sample[assign == c]
            if not len(members):
                continue
            k = min(fine_per_cell, len(members))
            words_c = members[rng.choice(len(members), k, replace=False)].copy()
            for _ in range(LLOYD_STEPS):
                words_c = _lloyd_step(words_c, members)
            fine_parts.append(words_c)
        return cls(coarse, np.concatenate(fine_parts))

    def assign(
        self, descriptors: NDArray[np.uint8], soft: int = 1, probe: int = 1
    ) -> NDArray[np.int64]:
        """Word numbers (n x soft; -1 where fewer words were found)."""
        if not len(descriptors):
            return np.zeros((0, soft), np.int64)
        self._ivf.nprobe = probe
        _, ids = self._ivf.search(np.ascontiguousarray(descriptors, np.uint8), soft)
        return np.asarray(ids, np.int64)


def _nearest(centroids: NDArray[np.uint8], x: NDArray[np.uint8]) -> NDArray[np.int64]:
    index = faiss.IndexBinaryFlat(BITS)
    index.add(np.ascontiguousarray(centroids))
    out = np.empty(len(x), np.int64)
    for lo in range(0, len(x), 1 << 18):
        _, ids = index.search(np.ascontiguousarray(x[lo : lo + (1 << 18)]), 1)
        out[lo : lo + len(ids)] = ids[:, 0]
    return out


def _lloyd_step(words: NDArray[np.uint8], members: NDArray[np.uint8]) -> NDArray[np.uint8]:
    """Each word moved to the bitwise majority of the members nearest it (kept if none)."""
    if len(words) < 2:
        return words
    near = _nearest(words, members)
    order = np.argsort(near, kind="stable")
    bits = np.unpackbits(members[order], axis=1).astype(np.int32)
    counts = np.bincount(near, minlength=len(words))
    present = np.flatnonzero(counts)
    starts = np.concatenate([[0], np.cumsum(counts[present])[:-1]])
    sums = np.zeros((len(words), BITS), np.int32)
    sums[present] = np.add.reduceat(bits, starts, axis=0)
    moved = np.packbits((2 * sums > counts[:, None]).astype(np.uint8), axis=1)
    keep = counts == 0
    moved[keep] = words[keep]
    return moved
