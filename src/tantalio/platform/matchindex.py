"""The in-memory match index: PDQ near-neighbour search, exact hashes, vPDQ frames.

Index ids encode both the entry and its bank: ``entry_id << 16 | bank_id``. A match then
says which bank it belongs to without any lookup, so the per-bank threshold and enabled
flag are applied to raw search results with no per-entry table in memory (flat memory at
10M hashes). At most 65,535 banks.

The PDQ search is `tantalio.index.PDQIndex` (exact at the threshold, incremental, no
pickle); vPDQ frames live in a brute-force numpy table (`NumpyPDQ`), each frame under its
video's id.

A value the index cannot hold (a PDQ that is not 64 hex digits, a vPDQ frame list that does
not parse) never stops a load or the follower: the row's bad value is logged by entry id,
skipped and counted (`skipped`); its other values are still indexed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tantalio.index import ExactIndex
from tantalio.index.exact import ALGORITHM_BYTES
from tantalio.platform.bulkindex import LayeredPDQ
from tantalio.platform.pdq_backend import PDQBackend, TantalioPDQ, make_pdq_backend
from tantalio.signals.base import SignalError, check_hex
from tantalio.signals.vpdq import parse_frames, unique_pdqs
from tantalio.store.platform.records import IndexRow

log = logging.getLogger(__name__)

_BLOCK = 4096  # hex values decoded at a time
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

    def __init__(self, pdq_backend: PDQBackend | None = None, min_quality: int = 0) -> None:
        backend = pdq_backend or make_pdq_backend()
        # The in-memory index beside the bank's mapped bulk segments (platform/bulkindex.py).
        self.pdq: PDQBackend = (
            LayeredPDQ(backend, BANK_BITS) if isinstance(backend, TantalioPDQ) else backend
        )
        self.vpdq = make_pdq_backend(fallback=True)  # frames; few, duplicates per id
        self._vpdq_frames: dict[int, int] = {}  # encoded id -> unique frame count
        self.exact = ExactIndex()
        self.min_quality = min_quality  # frames of known lower quality are not indexed
        self.bank_quality: dict[int, int] = {}  # a bank's own quality gate (its rules)
        self.skipped = 0  # bad values left out (logged)
        self._write = threading.Lock()

    def _skip(self, entry_id: int, column: str, why: str) -> None:
        self.skipped += 1
        log.warning("index: entry %d: %s value skipped (%s)", entry_id, column, why)

    def _hex_block(
        self, ids: Sequence[int], enc: NDArray[np.int64], values: Sequence[Any], column: str
    ) -> tuple[NDArray[np.int64], NDArray[np.uint8]]:
        """Non-empty hex values of one column as (encoded ids, uint8 rows); bad ones skipped."""
        width = 32 if column == "pdq" else ALGORITHM_BYTES[column]
        sel = [i for i, h in enumerate(values) if h]
        if not sel:
            return enc[:0], np.zeros((0, width), dtype=np.uint8)
        out = np.empty((len(sel), width), dtype=np.uint8)
        bad: list[int] = []
        for start in range(0, len(sel), _BLOCK):  # blocks: no chunk-sized temporary strings
            block = [values[i] for i in sel[start : start + _BLOCK]]
            try:
                raw = bytes.fromhex("".join(block))
            except (TypeError, ValueError):
                raw = b""
            if len(raw) != width * len(block) or any(len(h) != 2 * width for h in block):
                raw = b"".join(self._row_bytes(ids, sel, start, block, column, width, bad))
            out[start : start + len(block)] = np.frombuffer(raw, dtype=np.uint8).reshape(-1, width)
        if bad:
            keep = np.ones(len(sel), dtype=np.bool_)
            keep[bad] = False
            return enc[sel][keep], out[keep]
        return enc[sel], out

    def _row_bytes(
        self,
        ids: Sequence[int],
        sel: list[int],
        start: int,
        block: list[Any],
        column: str,
        width: int,
        bad: list[int],
    ) -> Iterator[bytes]:
        """One block value by value: a bad value is skipped (logged, counted) and its row
        noted in `bad`; it yields zero bytes in its place so the block keeps its shape."""
        for j, value in enumerate(block):
            try:
                yield bytes.fromhex(check_hex(column, str(value), 2 * width))
            except SignalError as exc:
                self._skip(int(ids[sel[start + j]]), column, str(exc))
                bad.append(start + j)
                yield bytes(width)

    def _frames(self, entry_id: int, bank_id: int, frames: Any) -> list[str]:
        """A row's vPDQ frames as unique frame PDQs (stored as bare PDQs or HMA cells),
        gated at its bank's quality."""
        try:
            if not isinstance(frames, list):
                raise SignalError("vpdq value is not a list of frames")
            gate = self.bank_quality.get(bank_id, self.min_quality)
            return unique_pdqs(parse_frames(frames), gate)
        except SignalError as exc:
            self._skip(entry_id, "vpdq", str(exc))
            return []

    def bulk_load(self, chunks: Iterable[tuple[list[Any], ...]]) -> tuple[int, int]:
        """Start-up load from column chunks (`PlatformStore.iter_index_columns`): one bulk
        build of each index instead of many incremental adds. Returns (rows, last id)."""
        pdq_ids: list[NDArray[np.int64]] = []
        pdq_bytes: list[NDArray[np.uint8]] = []
        exact: dict[str, tuple[list[NDArray[np.int64]], list[NDArray[np.uint8]]]] = {
            a: ([], []) for a in ("md5", "sha1", "sha256")
        }
        video_rows: list[IndexRow] = []
        n = last = 0
        for ids, banks, md5, sha1, sha256, pdq, vpdq in chunks:
            n += len(ids)
            last = max(last, int(ids[-1]))
            enc = (np.asarray(ids, dtype=np.int64) << BANK_BITS) | np.asarray(banks, dtype=np.int64)
            got_ids, got = self._hex_block(ids, enc, pdq, "pdq")
            if len(got_ids):
                pdq_ids.append(got_ids)
                pdq_bytes.append(got)
            for algo, col in (("md5", md5), ("sha1", sha1), ("sha256", sha256)):
                got_ids, got = self._hex_block(ids, enc, col, algo)
                if len(got_ids):
                    exact[algo][0].append(got_ids)
                    exact[algo][1].append(got)
            for i, frames in enumerate(vpdq):
                if frames:
                    video_rows.append(IndexRow(ids[i], banks[i], None, None, None, None, frames))
        with self._write:
            if pdq_ids:
                self.pdq.bulk_build(np.concatenate(pdq_ids), np.concatenate(pdq_bytes))
            for algo, (id_parts, values) in exact.items():
                if id_parts:
                    self.exact.add(np.concatenate(id_parts), np.concatenate(values), algo)
        if video_rows:
            self.add_rows(video_rows)
        return n, last

    # -- writes ------------------------------------------------------------------------

    def add_rows(self, rows: Iterable[IndexRow]) -> int:
        rows = list(rows)
        n = len(rows)
        if not rows:
            return 0
        ids = [r.id for r in rows]
        enc = np.fromiter(((r.id << BANK_BITS) | r.bank_id for r in rows), dtype=np.int64)
        with self._write:
            pdq_ids, pdq_raw = self._hex_block(ids, enc, [r.pdq for r in rows], "pdq")
            if len(pdq_ids):
                self.pdq.add(pdq_ids, [bytes(row).hex() for row in pdq_raw])
            for algo in ("md5", "sha1", "sha256"):
                got_ids, got = self._hex_block(ids, enc, [getattr(r, algo) for r in rows], algo)
                if len(got_ids):
                    self.exact.add(got_ids, got, algo)
            for r, idx in zip(rows, enc.tolist(), strict=True):
                if not r.vpdq:
                    continue
                frames = self._frames(r.id, r.bank_id, r.vpdq)
                if idx in self._vpdq_frames:  # re-applied (snapshot replay): no duplicates
                    self.vpdq.remove(np.asarray([idx], dtype=np.int64))
                    del self._vpdq_frames[idx]
                if frames:
                    self.vpdq.add(np.full(len(frames), idx, dtype=np.int64), frames)
                    self._vpdq_frames[idx] = len(frames)
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

    def search_frames(self, frames: Sequence[str], radius: int) -> list[list[tuple[int, int, int]]]:
        """Per query frame: (encoded id, stored frame row, distance) within `radius`."""
        if not self._vpdq_frames or not frames:
            return [[] for _ in frames]
        return self.vpdq.search_frames(list(frames), radius)

    def frame_count(self, idx: int) -> int:
        """Unique indexed frames of one video (encoded id)."""
        return self._vpdq_frames.get(idx, 0)
