"""The exchange's in-memory index: every live record's hashes (exact and PDQ indexes), and
every query watch in exact and PDQ indexes of their own. A query searches the records only; a
push's fan-out searches both, to find the other agencies that hold the media and those that
asked about it.

Why watches are apart: every query batch adds its hashes as watches, and each add lands in the
PDQ index's brute-force tail and then in small MIH segments, whose fixed per-query probing
cost grows with their number: mixed into the records' index, 10,000 watches cut a 200,000
record index's query rate from about 5,400/s to about 600/s (docs/perf/exchange.md). Queries
never want watches (they are dropped from answers), so they no longer pay for them.

Codes (index ids) carry the owning agency in their low 16 bits, as the platform's match
index carries the bank, so "not the caller's own" and "which agency" are read off the code
without a lookup:
- a record: ``record_id << 16 | agency_id``;
- a watch (a hash an agency queried): bit 62 set, then 46 bits of SHA-256 of kind and value,
  then the agency. Watching the same hash again is a no-op in memory and in the database,
  and a restart rebuilds the same codes from the `exchange_watches` rows.
vPDQ frames sit in a PDQ index of their own under ``record code << 10 | frame number`` (at
most 1,024 unique frames a video).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tantalio.index import ExactIndex, PDQIndex
from tantalio.signals.rules import (
    DEFAULT_MIN_QUALITY,
    DEFAULT_PDQ_THRESHOLD,
    DEFAULT_VPDQ_SHARE,
)
from tantalio.store.exchange import IndexRow

AGENCY_BITS = 16
AGENCY_MASK = (1 << AGENCY_BITS) - 1
WATCH_BIT = 1 << 62
FRAME_BITS = 10
WATCH_FLUSH = 100_000  # buffered watches moved into their indexes at the latest
EXACT = ("sha256", "sha1", "md5")

Hits = tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]  # query, code, distance


def encode(record_id: int, agency_id: int) -> int:
    return (record_id << AGENCY_BITS) | agency_id


def agency_of(code: int) -> int:
    return code & AGENCY_MASK


def record_of(code: int) -> int:
    return code >> AGENCY_BITS


def is_watch(code: int) -> bool:
    return bool(code & WATCH_BIT)


def watch_code(agency_id: int, kind: str, value: str) -> int:
    digest = hashlib.sha256(f"{kind}:{value}".encode()).digest()
    return WATCH_BIT | ((int.from_bytes(digest[:6], "big") >> 2) << AGENCY_BITS) | agency_id


@dataclass(slots=True)
class IndexRules:
    """The exchange's match rules (configuration, not constants): the defaults are
    `tantalio.signals.MatchRules`' (no copied numbers)."""

    pdq_threshold: int = DEFAULT_PDQ_THRESHOLD
    min_pdq_quality: int = DEFAULT_MIN_QUALITY
    vpdq_frame_distance: int = DEFAULT_PDQ_THRESHOLD
    vpdq_min_fraction: float = DEFAULT_VPDQ_SHARE

    def pdq_usable(self, quality: int | None) -> bool:
        return quality is None or quality >= self.min_pdq_quality


class ExchangeIndex:
    """Exact, PDQ and vPDQ indexes of the live records of every agency, plus the watches."""

    def __init__(self, rules: IndexRules) -> None:
        self.rules = rules
        self.pdq = PDQIndex(rules.pdq_threshold)
        self.exact = ExactIndex()
        self.frames = PDQIndex(rules.vpdq_frame_distance)
        self.watch_pdq = PDQIndex(rules.pdq_threshold)
        self.watch_exact = ExactIndex()
        self._frame_counts: dict[int, int] = {}
        self._write = threading.Lock()
        self._watch_lock = threading.Lock()
        self._pending: list[tuple[int, str, str]] = []  # (code, kind, value) not indexed yet
        self._pending_codes: set[int] = set()

    def bulk_load(self, chunks: Iterable[tuple[list[Any], ...]]) -> int:
        """Start-up: one bulk build of each index from column chunks (store
        `iter_index_columns`); returns the records read."""
        pdq_ids: list[NDArray[np.int64]] = []
        pdq_hex: list[str] = []
        exact: dict[str, tuple[list[NDArray[np.int64]], list[str]]] = {a: ([], []) for a in EXACT}
        videos: list[IndexRow] = []
        n = 0
        usable = self.rules.pdq_usable
        for ids, agencies, sha256, sha1, md5, pdq, quality, vpdq in chunks:
            n += len(ids)
            codes = (np.asarray(ids, dtype=np.int64) << AGENCY_BITS) | np.asarray(
                agencies, dtype=np.int64
            )
            sel = [i for i, h in enumerate(pdq) if h and usable(quality[i])]
            if sel:
                pdq_ids.append(codes[sel])
                pdq_hex.extend(pdq[i] for i in sel)
            for algo, col in (("sha256", sha256), ("sha1", sha1), ("md5", md5)):
                sel = [i for i, h in enumerate(col) if h]
                if sel:
                    exact[algo][0].append(codes[sel])
                    exact[algo][1].extend(col[i] for i in sel)
            for i, frames in enumerate(vpdq):
                if frames:
                    videos.append(
                        IndexRow(ids[i], agencies[i], None, None, None, None, None, frames)
                    )
        with self._write:
            if pdq_ids:
                self.pdq = PDQIndex.build_from(
                    np.concatenate(pdq_ids), pdq_hex, self.rules.pdq_threshold
                )
            for algo, (id_parts, values) in exact.items():
                if id_parts:
                    self.exact.add(np.concatenate(id_parts), values, algo)
        if videos:
            self.add(videos)
        return n

    def _select(
        self, chunk: dict[str, Any]
    ) -> tuple[NDArray[np.int64], NDArray[np.bool_], dict[str, NDArray[np.bool_]]]:
        """Codes, which rows go to the PDQ index, which to each exact table (a chunk of
        `ExchangeStore.iter_index_arrays`)."""
        codes = (chunk["ids"] << AGENCY_BITS) | chunk["agencies"]
        has, quality = chunk["has"], chunk["quality"]
        usable = (quality < 0) | (quality >= self.rules.min_pdq_quality)
        pdq = ((has & 8) > 0) & usable
        exact = {algo: (has & (1 << i)) > 0 for i, algo in enumerate(EXACT)}
        return codes, pdq, exact

    def _videos(self, chunk: dict[str, Any]) -> list[IndexRow]:
        agency = dict(zip(chunk["ids"].tolist(), chunk["agencies"].tolist(), strict=True))
        return [
            IndexRow(rid, agency[rid], None, None, None, None, None, frames)
            for rid, frames in chunk["vpdq"].items()
            if frames
        ]

    def bulk_load_arrays(self, chunks: Iterable[dict[str, Any]]) -> int:
        """Start-up from `ExchangeStore.iter_index_arrays`: one bulk build of each index
        with no Python object per record; returns the records read."""
        pdq_codes: list[NDArray[np.int64]] = []
        pdq_bytes: list[NDArray[np.uint8]] = []
        exact: dict[str, tuple[list[NDArray[np.int64]], list[NDArray[np.uint8]]]] = {
            a: ([], []) for a in EXACT
        }
        videos: list[IndexRow] = []
        n = 0
        for chunk in chunks:
            n += len(chunk["ids"])
            codes, pdq, sel = self._select(chunk)
            pdq_codes.append(codes[pdq])
            pdq_bytes.append(chunk["pdq"][pdq])
            for algo in EXACT:
                exact[algo][0].append(codes[sel[algo]])
                exact[algo][1].append(chunk[algo][sel[algo]])
            videos += self._videos(chunk)
        with self._write:
            if pdq_codes and sum(len(c) for c in pdq_codes):
                ids = np.concatenate(pdq_codes)
                words = np.concatenate(pdq_bytes)
                del pdq_codes, pdq_bytes
                self.pdq = PDQIndex.build_from(ids, words, self.rules.pdq_threshold)
                del ids, words
            for algo, (id_parts, values) in exact.items():
                # One algorithm at a time, its chunks freed as soon as they are joined
                # (the rebuild's peak memory at 10M records).
                ids = np.concatenate(id_parts) if id_parts else np.zeros(0, np.int64)
                digests = np.concatenate(values) if values else np.zeros((0, 1), np.uint8)
                id_parts.clear()
                values.clear()
                if len(ids):
                    self.exact.add(ids, digests, algo)
                del ids, digests
        if videos:
            self.add(videos)
        return n

    def add_arrays(self, chunk: dict[str, Any]) -> int:
        """Add (or replace) the records of one `iter_index_arrays` chunk."""
        codes, pdq, sel = self._select(chunk)
        with self._write:
            if pdq.any():
                self.pdq.add(codes[pdq], chunk["pdq"][pdq])
            for algo in EXACT:
                if sel[algo].any():
                    self.exact.add(codes[sel[algo]], chunk[algo][sel[algo]], algo)
        videos = self._videos(chunk)
        if videos:
            self.add(videos)
        return len(codes)

    # -- snapshot (exchange/snapshot.py writes the header and checks) -----------------

    PARTS = ("pdq", "exact", "frames")

    def save_parts(self, directory: Path) -> None:
        """The records' indexes (not the watches: they are reloaded from the database)
        under `directory`: one saved index per part plus the vPDQ frame counts. The caller
        holds the service's write lock, so no record changes meanwhile."""
        self.pdq.save(directory / "pdq")
        self.exact.save(directory / "exact")
        self.frames.save(directory / "frames")
        codes = np.fromiter(self._frame_counts.keys(), np.int64, len(self._frame_counts))
        counts = np.fromiter(self._frame_counts.values(), np.int64, len(self._frame_counts))
        np.save(directory / "frame_codes.npy", codes, allow_pickle=False)
        np.save(directory / "frame_counts.npy", counts, allow_pickle=False)

    @classmethod
    def load_parts(cls, directory: Path, rules: IndexRules, *, mmap: bool = True) -> ExchangeIndex:
        index = cls(rules)
        index.pdq = PDQIndex.load(directory / "pdq", mmap=mmap)
        index.exact = ExactIndex.load(directory / "exact", mmap=mmap)
        index.frames = PDQIndex.load(directory / "frames", mmap=mmap)
        if index.pdq.threshold != rules.pdq_threshold:
            raise ValueError(
                f"PDQ threshold {index.pdq.threshold}, configured {rules.pdq_threshold}"
            )
        if index.frames.threshold != rules.vpdq_frame_distance:
            raise ValueError(
                f"vPDQ frame distance {index.frames.threshold}, configured "
                f"{rules.vpdq_frame_distance}"
            )
        codes = np.load(directory / "frame_codes.npy", allow_pickle=False)
        counts = np.load(directory / "frame_counts.npy", allow_pickle=False)
        if codes.dtype != np.int64 or counts.dtype != np.int64 or codes.shape != counts.shape:
            raise ValueError("frame counts: unexpected arrays")
        index._frame_counts = dict(zip(codes.tolist(), counts.tolist(), strict=True))
        return index

    def add(self, rows: Sequence[IndexRow], *, bulk: bool = False) -> None:
        """Add or replace records (see `replace` when a record's hashes may have changed).
        With `bulk` (a push of many records) the PDQ index takes them as a segment of their
        own without merging (`PDQIndex.add(merge=False)`); the fan-out worker compacts it."""
        usable = self.rules.pdq_usable
        codes = [(r.id << AGENCY_BITS) | r.agency_id for r in rows]
        pdq_sel = [i for i, r in enumerate(rows) if r.pdq and usable(r.pdq_quality)]
        pdq_ids = [codes[i] for i in pdq_sel]
        pdq_hex = [rows[i].pdq for i in pdq_sel]
        exact: dict[str, tuple[list[int], list[str]]] = {}
        for k, algo in enumerate(EXACT, start=2):  # sha256, sha1, md5: fields 2, 3, 4
            sel = [i for i, r in enumerate(rows) if r[k]]
            exact[algo] = ([codes[i] for i in sel], [rows[i][k] for i in sel])  # type: ignore[misc]
        frame_ids: list[int] = []
        frame_hex: list[str] = []
        with self._write:
            for code, r in zip(codes, rows, strict=True):
                if r.vpdq:
                    frames = sorted(set(r.vpdq))[: 1 << FRAME_BITS]
                    frame_ids.extend((code << FRAME_BITS) | i for i in range(len(frames)))
                    frame_hex.extend(frames)
                    self._frame_counts[code] = len(frames)
            self._apply(pdq_ids, pdq_hex, exact, merge=not bulk)  # type: ignore[arg-type]
            if frame_ids:
                self.frames.add(np.asarray(frame_ids, dtype=np.int64), frame_hex)

    def add_watches(
        self, rows: Sequence[tuple[int, str, str]], codes: Sequence[int] | None = None
    ) -> None:
        """(agency_id, kind, value) rows; kind is sha256/sha1/md5/pdq; `codes`: their
        `watch_code`s when the caller has them. They wait in a buffer until a fan-out
        searches the watches (or WATCH_FLUSH are waiting): a query batch then pays no index
        add, and the watch index is built in large steps instead of 1,000 at a time."""
        if codes is None:
            codes = [watch_code(*r) for r in rows]
        with self._watch_lock:
            for (_, kind, value), code in zip(rows, codes, strict=True):
                if code in self._pending_codes:
                    continue
                self._pending_codes.add(code)
                self._pending.append((code, kind, value))
            full = len(self._pending) >= WATCH_FLUSH
        if full:
            self.flush_watches()

    def flush_watches(self) -> None:
        """Move buffered watches into the watch indexes (fan-out calls this first)."""
        with self._watch_lock:
            if not self._pending:
                return
            pending, self._pending = self._pending, []
            pdq_ids: list[int] = []
            pdq_hex: list[str] = []
            exact: dict[str, tuple[list[int], list[str]]] = {a: ([], []) for a in EXACT}
            for code, kind, value in pending:
                if kind == "pdq":
                    pdq_ids.append(code)
                    pdq_hex.append(value)
                else:
                    exact[kind][0].append(code)
                    exact[kind][1].append(value)
            with self._write:
                self._apply(pdq_ids, pdq_hex, exact, self.watch_pdq, self.watch_exact)
            self._pending_codes = set()

    def watch_count(self) -> int:
        """Watches held, buffered ones included."""
        with self._watch_lock:
            return len(self.watch_pdq) + len(self.watch_exact) + len(self._pending)

    def unwatched(self, rows: Sequence[tuple[int, str, str]]) -> list[tuple[int, str, str]]:
        """The (agency_id, kind, value) rows not watched yet, each once: a repeated query
        then writes nothing to the database or the index."""
        return self.unwatched_codes(rows)[0]

    def unwatched_codes(
        self, rows: Sequence[tuple[int, str, str]]
    ) -> tuple[list[tuple[int, str, str]], list[int]]:
        """`unwatched` and the rows' watch codes (for `add_watches`)."""
        rows = list(dict.fromkeys(rows))
        if not rows:
            return [], []
        code_list = [watch_code(*r) for r in rows]
        codes = np.asarray(code_list, dtype=np.int64)
        with self._watch_lock:
            pending = self._pending_codes
            known = np.fromiter((c in pending for c in code_list), bool, len(code_list))
        pdq = np.asarray([r[1] == "pdq" for r in rows], dtype=bool)
        if pdq.any():
            known[pdq] |= self.watch_pdq.contains_many(codes[pdq])
        for algo in EXACT:
            sel = np.flatnonzero(np.asarray([r[1] == algo for r in rows], dtype=bool))
            if len(sel):
                qi, found = self.watch_exact.lookup_arrays([rows[i][2] for i in sel], algo)
                hit = found == codes[sel][qi]
                known[sel[qi[hit]]] = True
        keep = np.flatnonzero(~known).tolist()
        return [rows[i] for i in keep], [code_list[i] for i in keep]

    def _apply(
        self,
        pdq_ids: list[int],
        pdq_hex: list[str],
        exact: dict[str, tuple[list[int], list[str]]],
        pdq_index: PDQIndex | None = None,
        exact_index: ExactIndex | None = None,
        *,
        merge: bool = True,
    ) -> None:
        if pdq_ids:
            (self.pdq if pdq_index is None else pdq_index).add(
                np.asarray(pdq_ids, dtype=np.int64), pdq_hex, merge=merge
            )
        for algo, (ids, values) in exact.items():
            if ids:
                (self.exact if exact_index is None else exact_index).add(
                    np.asarray(ids, dtype=np.int64), values, algo
                )

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

    def fragmented(self) -> bool:
        """Whether the records' PDQ index holds more than one segment or a tail: each small
        segment is scanned (or probed) by every query at a fixed cost, so after a bulk push
        a search can cost several times what it costs on one segment."""
        return self.pdq.segment_count > 1 or self.pdq.tail_count > 0

    def compact(self) -> None:
        """One segment again (PDQIndex.compact); adds wait meanwhile, searches do not."""
        self.pdq.compact()

    def replace(
        self, old: Sequence[IndexRow], new: Sequence[IndexRow], *, bulk: bool = False
    ) -> None:
        self.remove(old)
        self.add(new, bulk=bulk)

    # -- reads ------------------------------------------------------------------------

    def search_exact(
        self, algo: str, values: Sequence[str], *, watches: bool = False
    ) -> tuple[NDArray[np.int64], ...]:
        """(query number, code) of every record holding each digest, and with `watches`
        every watch of it too."""
        if not values:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        if watches:
            self.flush_watches()
        found = [self.exact.lookup_arrays(list(values), algo)]
        if watches:
            found.append(self.watch_exact.lookup_arrays(list(values), algo))
        if len(found) == 1:
            return found[0]
        return tuple(np.concatenate(cols) for cols in zip(*found, strict=True))

    def search_pdq(self, hashes: Sequence[str], *, watches: bool = False) -> Hits:
        """(query number, code, distance) of every record within the threshold, and with
        `watches` every watch too."""
        if not hashes:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        if watches:
            self.flush_watches()
        words = list(hashes)
        radius = self.rules.pdq_threshold
        found = [self.pdq.search_arrays(words, radius)]
        if watches:
            found.append(self.watch_pdq.search_arrays(words, radius))
        if len(found) == 1:
            return found[0]
        q, codes, dist = (np.concatenate(cols) for cols in zip(*found, strict=True))
        return q, codes, dist

    def pdq_of(self, code: int) -> str | None:
        """The PDQ hash stored under a record's or a watch's code."""
        if is_watch(code):
            self.flush_watches()
        return (self.watch_pdq if is_watch(code) else self.pdq).get(code)

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
