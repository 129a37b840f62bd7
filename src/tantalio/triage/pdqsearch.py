"""Radius search over PDQ hashes keyed by integer ids, as triage needs it.

A thin adapter over `tantalio.index.PDQIndex` (multi-index hashing, exact at the
threshold: no match within the radius is ever missed), so the pipeline depends on one
small surface: bulk add, batched search, save and load of a directory.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tantalio.index import PDQIndex
from tantalio.signals.rules import DEFAULT_PDQ_THRESHOLD as DEFAULT_THRESHOLD


class PdqSearch:
    """Ids and PDQ hashes; `search` returns, per query, (id, distance) within the radius."""

    def __init__(self, threshold: int = DEFAULT_THRESHOLD, index: PDQIndex | None = None) -> None:
        self.threshold = threshold
        self.index = index if index is not None else PDQIndex(threshold)

    def __len__(self) -> int:
        return len(self.index)

    def add(self, ids: Sequence[int], hashes: Sequence[str]) -> None:
        if len(ids) != len(hashes):
            raise ValueError("ids and hashes differ in length")
        if ids:
            self.index.add(list(ids), list(hashes))

    def search(
        self, hashes: Sequence[str], threshold: int | None = None
    ) -> list[list[tuple[int, int]]]:
        if not hashes:
            return []
        if not len(self.index):
            return [[] for _ in hashes]
        return self.index.search(list(hashes), threshold)

    def search_groups(
        self, groups: Sequence[Sequence[str]], threshold: int | None = None
    ) -> list[list[tuple[int, int, int]]]:
        """Per group of orientation hashes (one image), each id's best match:
        (id, distance, orientation number), nearest first."""
        if not groups:
            return []
        if not len(self.index):
            return [[] for _ in groups]
        return self.index.search_orientations_many(groups, threshold)

    def save(self, path: Path) -> None:
        self.index.save(path)

    @classmethod
    def load(cls, path: Path, threshold: int = DEFAULT_THRESHOLD) -> PdqSearch:
        index = PDQIndex.load(path)
        if index.threshold != threshold:
            raise ValueError(f"{path}: index built for threshold {index.threshold}")
        return cls(threshold, index)
