"""The in-memory match index: PDQ near-neighbour search, exact hashes, vPDQ frames.

Index ids encode both the entry and its bank: ``entry_id << 16 | bank_id``. A match then
says which bank it belongs to without any lookup, so the per-bank threshold and enabled
flag are applied to raw search results with no per-entry table in memory (flat memory at
10M hashes). At most 65,535 banks.

The PDQ search is `tantalio.index.PDQIndex` (exact at the threshold, incremental, no
pickle). Until that lands, or where it is missing, a brute-force numpy backend with the same
behaviour stands in (`PDQBackend`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tantalio.index import ExactIndex
from tantalio.index.codec import to_bytes
from tantalio.platform.pdq_backend import PDQBackend, make_pdq_backend
from tantalio.store.platform.records import IndexRow

BANK_BITS = 16
BANK_MASK = (1 << BANK_BITS) - 1
MAX_BANKS = BANK_MASK


def encode(entry_ids: NDArray[np.int64] | Sequence[int], bank_id: int) -> NDArray[np.int64]:
    return (np.asarray(entry_ids, dtype=np.int64) << BANK_BITS) | np.int64(bank_id)


def decode(idx: int) -> tuple[int, int]:
    return idx >> BANK_BITS, idx & BANK_MASK


@dataclass(frozen=True, slots=True)
class RawMatch:
    """One index hit before bank filtering: entry, bank, signal type, distance."""

    entry_id: int
    bank_id: int
    signal_type: str
    distance: int


class MatchIndex:
    """PDQ + exact + vPDQ indexes of every entry of every bank, kept current incrementally."""

    def __init__(self, pdq_backend: PDQBackend | None = None) -> None:
        self.pdq = pdq_backend or make_pdq_backend()
        self.vpdq = make_pdq_backend(fallback=True)  # frames; few, duplicates per id
        self._vpdq_frames: dict[int, int] = {}  # encoded id -> unique frame count
        self.exact = ExactIndex()
        self._write = threading.Lock()

    def bulk_load(self, chunks: Iterable[tuple[list[Any], ...]]) -> tuple[int, int]:
        """Start-up load from column chunks (`PlatformStore.iter_index_columns`): one bulk
        build of each index instead of many incremental adds. Returns (rows, last id)."""
        pdq_ids: list[NDArray[np.int64]] = []
        pdq_bytes: list[NDArray[np.uint8]] = []
        exact: dict[str, tuple[list[NDArray[np.int64]], list[str]]] = {
            a: ([], []) for a in ("md5", "sha1", "sha256")
        }
        video_rows: list[IndexRow] = []
        n = last = 0
        for ids, banks, md5, sha1, sha256, pdq, vpdq in chunks:
            n += len(ids)
            last = max(last, int(ids[-1]))
            enc = (np.asarray(ids, dtype=np.int64) << BANK_BITS) | np.asarray(banks, dtype=np.int64)
            sel = [i for i, h in enumerate(pdq) if h]
            if sel:
                pdq_ids.append(enc[sel])
                pdq_bytes.append(to_bytes([pdq[i] for i in sel]))
            for algo, col in (("md5", md5), ("sha1", sha1), ("sha256", sha256)):
                sel = [i for i, h in enumerate(col) if h]
                if sel:
                    exact[algo][0].append(enc[sel])
                    exact[algo][1].extend(col[i] for i in sel)
            for i, frames in enumerate(vpdq):
                if frames:
                    video_rows.append(IndexRow(ids[i], banks[i], None, None, None, None, frames))
        with self._write:
            if pdq_ids:
                self.pdq.bulk_build(np.concatenate(pdq_ids), np.concatenate(pdq_bytes))
            for algo, (id_parts, values) in exact.items():
                if id_parts:
                    self.exact.add(np.concatenate(id_parts), values, algo)
        if video_rows:
            self.add_rows(video_rows)
        return n, last

    # -- writes ------------------------------------------------------------------------

    def add_rows(self, rows: Iterable[IndexRow]) -> int:
        pdq_ids: list[int] = []
        pdq_hex: list[str] = []
        exact: dict[str, tuple[list[int], list[str]]] = {
            a: ([], []) for a in ("md5", "sha1", "sha256")
        }
        n = 0
        with self._write:
            for r in rows:
                n += 1
                idx = (r.id << BANK_BITS) | r.bank_id
                if r.pdq:
                    pdq_ids.append(idx)
                    pdq_hex.append(r.pdq)
                for algo, (ids, values) in exact.items():
                    value = getattr(r, algo)
                    if value:
                        ids.append(idx)
                        values.append(value)
                if r.vpdq:
                    if idx in self._vpdq_frames:  # re-applied (snapshot replay): no duplicates
                        self.vpdq.remove(np.asarray([idx], dtype=np.int64))
                    frames = sorted(set(r.vpdq))
                    self.vpdq.add(np.full(len(frames), idx, dtype=np.int64), frames)
                    self._vpdq_frames[idx] = len(frames)
            if pdq_ids:
                self.pdq.add(np.asarray(pdq_ids, dtype=np.int64), pdq_hex)
            for algo, (ids, values) in exact.items():
                if ids:
                    self.exact.add(np.asarray(ids, dtype=np.int64), values, algo)
        return n

    def remove_rows(self, rows: Iterable[IndexRow]) -> None:
        """Drop entries given their hashes (removal is soft in the store, so a removed
        entry's values are still readable)."""
        rows = list(rows)
        if not rows:
            return
        ids = np.fromiter(((r.id << BANK_BITS) | r.bank_id for r in rows), dtype=np.int64)
        with self._write:
            self.pdq.remove(ids)
            if any(r.md5 or r.sha1 or r.sha256 for r in rows):
                self.exact.remove(ids)
            if self._vpdq_frames:
                gone = [int(i) for i in ids if int(i) in self._vpdq_frames]
                if gone:
                    self.vpdq.remove(np.asarray(gone, dtype=np.int64))
                    for i in gone:
                        del self._vpdq_frames[i]

    # -- reads -------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.pdq)

    def memory_bytes(self) -> int:
        return self.pdq.memory_bytes() + self.vpdq.memory_bytes() + self.exact.memory_bytes()

    def search_pdq(self, queries: Sequence[str], max_distance: int) -> list[list[RawMatch]]:
        """Per query, every entry within `max_distance` (min over the query's variants)."""
        hits = self.pdq.search(list(queries), max_distance)
        out: list[list[RawMatch]] = []
        for per_query in hits:
            out.append(
                [
                    RawMatch(int(i) >> BANK_BITS, int(i) & BANK_MASK, "pdq", int(d))
                    for i, d in per_query
                ]
            )
        return out

    def search_exact(self, algo: str, value: str) -> list[RawMatch]:
        ids = self.exact.lookup([value], algo)[0]
        return [RawMatch(i >> BANK_BITS, i & BANK_MASK, algo, 0) for i in ids]

    def search_vpdq(
        self, frames: Sequence[str], frame_distance: int, min_fraction: float
    ) -> list[RawMatch]:
        """Videos whose unique frames are matched at least `min_fraction` by the query's
        frames (DESIGN.md: >= 80% at distance <= 31). Distance reported: the worst
        distance among the best per-frame matches (0 = every frame identical)."""
        if not self._vpdq_frames or not frames:
            return []
        uniq = sorted(set(frames))
        hits = self.vpdq.search_frames(uniq, frame_distance)
        # For each known video: which of its frames were matched, and how closely.
        best: dict[int, dict[int, int]] = {}
        for idx, frame_row, dist in hits:
            per = best.setdefault(idx, {})
            if frame_row not in per or dist < per[frame_row]:
                per[frame_row] = dist
        out = []
        for idx, per in best.items():
            total = self._vpdq_frames.get(idx, 0)
            if total and len(per) / total >= min_fraction:
                out.append(RawMatch(idx >> BANK_BITS, idx & BANK_MASK, "vpdq", max(per.values())))
        return out
