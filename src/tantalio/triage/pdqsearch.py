"""Radius search over PDQ hashes keyed by integer ids, as triage needs it.

A thin adapter over `tantalio.index.PDQIndex` (FAISS/MIH, exact at the threshold) so the
pipeline depends on one small surface: add, search, save, load. Until that index is
importable, a vectorised brute-force scan stands in with the same exact results.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

DEFAULT_THRESHOLD = 31


def to_words(hashes: Sequence[str]) -> NDArray[np.uint64]:
    if not hashes:
        return np.zeros((0, 4), dtype=np.uint64)
    raw = bytes.fromhex("".join(hashes))
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64).reshape(len(hashes), 4)


class PdqSearch:
    """Ids and PDQ hashes; `search` returns, per query, (id, distance) within the radius."""

    def __init__(self, threshold: int = DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold
        self._ids = np.zeros(0, dtype=np.int64)
        self._words = np.zeros((0, 4), dtype=np.uint64)
        self._pending_ids: list[int] = []
        self._pending: list[str] = []

    def __len__(self) -> int:
        return len(self._ids) + len(self._pending_ids)

    def add(self, ids: Sequence[int], hashes: Sequence[str]) -> None:
        if len(ids) != len(hashes):
            raise ValueError("ids and hashes differ in length")
        self._pending_ids.extend(ids)
        self._pending.extend(hashes)

    def _flush(self) -> None:
        if self._pending_ids:
            self._ids = np.concatenate([self._ids, np.asarray(self._pending_ids, np.int64)])
            self._words = np.concatenate([self._words, to_words(self._pending)])
            self._pending_ids, self._pending = [], []

    def search(
        self, hashes: Sequence[str], threshold: int | None = None
    ) -> list[list[tuple[int, int]]]:
        self._flush()
        radius = self.threshold if threshold is None else threshold
        out: list[list[tuple[int, int]]] = []
        if not len(self._ids):
            return [[] for _ in hashes]
        for q in to_words(list(hashes)):
            dist = np.bitwise_count(self._words ^ q).sum(axis=1, dtype=np.int64)
            hit = np.nonzero(dist <= radius)[0]
            out.append([(int(self._ids[i]), int(dist[i])) for i in hit])
        return out

    def save(self, path: Path) -> None:
        self._flush()
        tmp = path.with_name(path.name + ".tmp.npz")
        with open(tmp, "wb") as fh:
            np.savez(fh, ids=self._ids, words=self._words)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path, threshold: int = DEFAULT_THRESHOLD) -> PdqSearch:
        with np.load(path) as data:
            index = cls(threshold)
            index._ids = data["ids"].astype(np.int64)
            index._words = data["words"].astype(np.uint64)
        return index
