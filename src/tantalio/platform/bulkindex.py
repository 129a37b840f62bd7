"""Serving side of bulk banks (issue 17): map a bulk segment checked against its database
record (`load_segment`), and search it beside the in-memory index (`LayeredPDQ`).
The import side and the format are described in `platform/bulkbank.py`."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tantalio.index import PDQIndex
from tantalio.index.codec import to_bytes
from tantalio.platform.pdq_backend import TantalioPDQ
from tantalio.store.platform.records import BulkSegmentRecord

FORMAT = "tantalio-platform-bulk-segment"
VERSION = 1
SAMPLES = 64  # rows whose digest the database keeps


class BulkIndexError(ValueError):
    """A bulk segment's files are not what the database recorded (message names the file)."""


def sample_positions(n: int) -> list[int]:
    return sorted({int(p) for p in np.linspace(0, n - 1, min(n, SAMPLES))})


def digest(hexes: Sequence[str | None]) -> str:
    return hashlib.sha256("\n".join(h or "-" for h in hexes).encode()).hexdigest()


def load_segment(seg: BulkSegmentRecord) -> PDQIndex:
    """Map a segment's index after checking its files against the database's record."""
    base = Path(seg.path)
    check = seg.check
    meta_file = base / "bulk.json"
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BulkIndexError(f"{meta_file}: missing (bulk segment {seg.id})") from None
    except (OSError, ValueError) as exc:
        raise BulkIndexError(f"{meta_file}: unreadable: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise BulkIndexError(f"{meta_file}: not a {FORMAT}")
    if meta.get("token") != check.get("token"):
        raise BulkIndexError(
            f"{meta_file}: another import's segment (token {str(meta.get('token'))[:12]}, "
            f"the database expects {str(check.get('token'))[:12]})"
        )
    index_dir = base / "index"
    for name, size in check.get("files", {}).items():
        f = index_dir / name
        try:
            got = f.stat().st_size
        except OSError:
            raise BulkIndexError(f"{f}: missing (bulk segment {seg.id})") from None
        if got != size:
            raise BulkIndexError(f"{f}: {got} bytes, expected {size} (damaged or replaced)")
    header = index_dir / "index.json"
    try:
        header_digest = hashlib.sha256(header.read_bytes()).hexdigest()
    except OSError as exc:
        raise BulkIndexError(f"{header}: unreadable: {exc}") from None
    if header_digest != check.get("header_sha256"):
        raise BulkIndexError(f"{header}: changed since the import (digest differs)")
    try:
        idx = PDQIndex.load(index_dir, mmap=True)
    except (OSError, ValueError) as exc:
        raise BulkIndexError(str(exc)) from None
    if len(idx) != seg.count:
        raise BulkIndexError(f"{header}: {len(idx)} hashes, the database expects {seg.count}")
    pos = sample_positions(seg.count)
    if digest([idx.get(p) for p in pos]) != check.get("samples"):
        raise BulkIndexError(
            f"{index_dir}: sampled hashes differ from the imported ones (damaged or replaced)"
        )
    return idx


# -- serving: the in-memory index beside the mapped segments -----------------------------------


@dataclass(frozen=True, slots=True)
class _Mapped:
    seg_id: int
    bank_id: int
    first_id: int
    count: int
    index: PDQIndex


class LayeredPDQ:
    """The service's PDQ backend: the incremental in-memory index (`main`, every entry with
    a row) plus the mapped bulk segments. Searches ask all of them (one query conversion);
    ids come back encoded (`entry_id << 16 | bank_id`) as from the main index."""

    def __init__(self, main: TantalioPDQ, bank_bits: int = 16) -> None:
        self.main = main
        self._bits = bank_bits
        self._segs: tuple[_Mapped, ...] = ()
        self._lock = threading.Lock()

    @property
    def index(self) -> Any:  # the main index (snapshots save only it)
        return self.main.index

    @property
    def segments(self) -> tuple[_Mapped, ...]:
        return self._segs

    def has_segment(self, seg_id: int) -> bool:
        return any(s.seg_id == seg_id for s in self._segs)

    def add_segment(self, seg: BulkSegmentRecord, index: PDQIndex, removed: Sequence[int]) -> None:
        if removed:
            index.remove(np.asarray(removed, dtype=np.int64) - seg.first_id)
        with self._lock:
            if not self.has_segment(seg.id):
                self._segs = (
                    *self._segs,
                    _Mapped(seg.id, seg.bank_id, seg.first_id, seg.count, index),
                )

    def __len__(self) -> int:
        return len(self.main) + sum(len(s.index) for s in self._segs)

    def memory_bytes(self) -> int:
        return self.main.memory_bytes()

    def add(self, ids: NDArray[np.int64], hashes: Sequence[str]) -> None:
        self.main.add(ids, hashes)

    def bulk_build(self, ids: NDArray[np.int64], hashes: NDArray[np.uint8]) -> None:
        self.main.bulk_build(ids, hashes)

    def remove(self, ids: NDArray[np.int64]) -> None:
        ids = np.asarray(ids, dtype=np.int64)
        self.main.remove(ids)
        if not len(ids):
            return
        entry = ids >> self._bits
        bank = ids & ((1 << self._bits) - 1)
        for s in self._segs:
            sel = (bank == s.bank_id) & (entry >= s.first_id) & (entry < s.first_id + s.count)
            if sel.any():
                s.index.remove(entry[sel] - s.first_id)

    def search(self, queries: Sequence[str], radius: int) -> list[list[tuple[int, int]]]:
        segs = self._segs
        if not segs:
            return self.main.search(queries, radius)
        qwords = to_bytes(list(queries))  # converted once for every index
        out = self.main.index.search(qwords, max_distance=radius)
        for s in segs:
            hits = s.index.search(qwords, max_distance=radius)
            for i, per in enumerate(hits):
                if per:
                    out[i] = sorted(
                        out[i]
                        + [(((s.first_id + p) << self._bits) | s.bank_id, d) for p, d in per],
                        key=lambda h: h[1],
                    )
        return out

    def search_frames(
        self, queries: Sequence[str], radius: int
    ) -> list[list[tuple[int, int, int]]]:
        raise NotImplementedError("vPDQ frames use NumpyPDQ")
