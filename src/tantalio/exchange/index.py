"""The exchange's in-memory indexes: every live record's hashes, and every query watch.

Index ids carry the owning agency: ``record_id << 16 | agency_id`` (as the platform's match
index carries the bank), so "not the caller's own records" and "which agencies watch this"
are read off the ids without a lookup. vPDQ frames sit in a PDQ index of their own under
``record code << 10 | frame number`` (at most 1,024 unique frames a video).

Watch ids are derived from what is watched (47 bits of SHA-256 of kind and value, then the
agency): watching the same hash again is a no-op in memory and in the database, and a
restart rebuilds the same ids from the `exchange_watches` rows.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from tantalio.index import ExactIndex, PDQIndex
from tantalio.store.exchange import IndexRow

AGENCY_BITS = 16
AGENCY_MASK = (1 << AGENCY_BITS) - 1
FRAME_BITS = 10
EXACT = ("sha256", "sha1", "md5")

Hits = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]  # query, code, distance


def encode(record_id: int, agency_id: int) -> int:
    return (record_id << AGENCY_BITS) | agency_id


def agency_of(code: int) -> int:
    return code & AGENCY_MASK


def record_of(code: int) -> int:
    return code >> AGENCY_BITS


@dataclass(slots=True)
class IndexRules:
    """The exchange's match rules (configuration, not constants)."""

    pdq_threshold: int = 31
    min_pdq_quality: int = 50
    vpdq_frame_distance: int = 31
    vpdq_min_fraction: float = 0.8

    def pdq_usable(self, quality: int | None) -> bool:
        return quality is None or quality >= self.min_pdq_quality


class RecordIndex:
    """Exact, PDQ and vPDQ indexes of the live records of every agency."""

    def __init__(self, rules: IndexRules) -> None:
        self.rules = rules
        self.pdq = PDQIndex(rules.pdq_threshold)
        self.exact = ExactIndex()
        self.frames = PDQIndex(rules.vpdq_frame_distance)
        self._frame_counts: dict[int, int] = {}
        self._write = threading.Lock()

    def __len__(self) -> int:
        return len(self.exact) + len(self.pdq)

    def bulk_load(self, chunks: Iterable[list[IndexRow]]) -> int:
        """Start-up: one bulk build of each index from the store's chunks; returns rows read."""
        pdq_ids: list[NDArray[np.int64]] = []
        pdq_hex: list[str] = []
        exact: dict[str, tuple[list[int], list[str]]] = {a: ([], []) for a in EXACT}
        videos: list[IndexRow] = []
        n = 0
        for rows in chunks:
            n += len(rows)
            codes = [encode(r.id, r.agency_id) for r in rows]
            sel = [i for i, r in enumerate(rows) if r.pdq and self.rules.pdq_usable(r.pdq_quality)]
            if sel:
                pdq_ids.append(np.asarray([codes[i] for i in sel], dtype=np.int64))
                pdq_hex.extend(rows[i].pdq for i in sel)  # type: ignore[misc]
            for algo, (ids, values) in exact.items():
                for code, r in zip(codes, rows, strict=True):
                    value = getattr(r, algo)
                    if value:
                        ids.append(code)
                        values.append(value)
            videos.extend(r for r in rows if r.vpdq)
        with self._write:
            if pdq_ids:
                self.pdq = PDQIndex.build_from(
                    np.concatenate(pdq_ids), pdq_hex, self.rules.pdq_threshold
                )
            for algo, (ids, values) in exact.items():
                if ids:
                    self.exact.add(np.asarray(ids, dtype=np.int64), values, algo)
        if videos:
            self.add(videos)
        return n

    def add(self, rows: Sequence[IndexRow]) -> None:
        """Add or replace records (a record's old hashes must be removed first if they
        changed: see `replace`)."""
        pdq_ids: list[int] = []
        pdq_hex: list[str] = []
        exact: dict[str, tuple[list[int], list[str]]] = {a: ([], []) for a in EXACT}
        frame_ids: list[int] = []
        frame_hex: list[str] = []
        with self._write:
            for r in rows:
                code = encode(r.id, r.agency_id)
                if r.pdq and self.rules.pdq_usable(r.pdq_quality):
                    pdq_ids.append(code)
                    pdq_hex.append(r.pdq)
                for algo, (ids, values) in exact.items():
                    value = getattr(r, algo)
                    if value:
                        ids.append(code)
                        values.append(value)
                if r.vpdq:
                    frames = sorted(set(r.vpdq))[: 1 << FRAME_BITS]
                    frame_ids.extend((code << FRAME_BITS) | i for i in range(len(frames)))
                    frame_hex.extend(frames)
                    self._frame_counts[code] = len(frames)
            if pdq_ids:
                self.pdq.add(np.asarray(pdq_ids, dtype=np.int64), pdq_hex)
            for algo, (ids, values) in exact.items():
                if ids:
                    self.exact.add(np.asarray(ids, dtype=np.int64), values, algo)
            if frame_ids:
                self.frames.add(np.asarray(frame_ids, dtype=np.int64), frame_hex)

    def remove(self, rows: Sequence[IndexRow]) -> None:
        if not rows:
            return
        codes = np.asarray([encode(r.id, r.agency_id) for r in rows], dtype=np.int64)
        with self._write:
            self.pdq.remove(codes)
            self.exact.remove(codes)
            frames: list[int] = []
            for code in codes.tolist():
                count = self._frame_counts.pop(code, 0)
                frames.extend((code << FRAME_BITS) | i for i in range(count))
            if frames:
                self.frames.remove(np.asarray(frames, dtype=np.int64))

    def replace(self, old: Sequence[IndexRow], new: Sequence[IndexRow]) -> None:
        self.remove(old)
        self.add(new)

    # -- reads ------------------------------------------------------------------------

    def search_exact(self, algo: str, values: Sequence[str]) -> tuple[NDArray[np.int64], ...]:
        """(query number, code) of every record holding each digest."""
        if not values:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        return self.exact.lookup_arrays(list(values), algo)

    def search_pdq(self, hashes: Sequence[str]) -> Hits:
        if not hashes:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        return self.pdq.search_arrays(list(hashes), self.rules.pdq_threshold)

    def search_vpdq(self, frames: Sequence[str]) -> list[tuple[int, int]]:
        """(code, distance) of videos whose unique frames are matched at least
        `vpdq_min_fraction` by the query's frames at `vpdq_frame_distance` (the platform's
        rule); distance: the worst of the best per-frame distances."""
        if not frames or not self._frame_counts:
            return []
        _, ids, dist = self.frames.search_arrays(
            sorted(set(frames)), self.rules.vpdq_frame_distance
        )
        best: dict[int, dict[int, int]] = {}
        for fid, d in zip(ids.tolist(), dist.tolist(), strict=True):
            per = best.setdefault(fid >> FRAME_BITS, {})
            frame = fid & ((1 << FRAME_BITS) - 1)
            if frame not in per or d < per[frame]:
                per[frame] = d
        out = []
        for code, per in best.items():
            total = self._frame_counts.get(code, 0)
            if total and len(per) / total >= self.rules.vpdq_min_fraction:
                out.append((code, max(per.values())))
        return out


def watch_code(agency_id: int, kind: str, value: str) -> int:
    digest = hashlib.sha256(f"{kind}:{value}".encode()).digest()
    return ((int.from_bytes(digest[:6], "big") >> 1) << AGENCY_BITS) | agency_id


class WatchIndex:
    """The hashes each agency queried: exact digests and PDQ (searched at the PDQ threshold)."""

    def __init__(self, rules: IndexRules) -> None:
        self.rules = rules
        self.pdq = PDQIndex(rules.pdq_threshold)
        self.exact = ExactIndex()

    def add(self, rows: Sequence[tuple[int, str, str]]) -> None:
        """(agency_id, kind, value) rows; kind is sha256/sha1/md5/pdq."""
        by_kind: dict[str, tuple[list[int], list[str]]] = {}
        for agency_id, kind, value in rows:
            ids, values = by_kind.setdefault(kind, ([], []))
            ids.append(watch_code(agency_id, kind, value))
            values.append(value)
        for kind, (ids, values) in by_kind.items():
            arr = np.asarray(ids, dtype=np.int64)
            if kind == "pdq":
                self.pdq.add(arr, values)
            else:
                self.exact.add(arr, values, kind)

    def search_exact(self, algo: str, values: Sequence[str]) -> tuple[NDArray[np.int64], ...]:
        if not values:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        return self.exact.lookup_arrays(list(values), algo)

    def search_pdq(self, hashes: Sequence[str]) -> Hits:
        if not hashes:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        return self.pdq.search_arrays(list(hashes), self.rules.pdq_threshold)
