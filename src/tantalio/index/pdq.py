"""PDQIndex: exact radius search over 256-bit PDQ hashes, incremental, persisted without pickle.

Shape of the structure (a small log-structured merge tree):
- a *tail* of the most recent adds (at most TAIL_MAX rows), searched by brute force, so an
  add is matchable the moment `add` returns;
- a stack of immutable multi-index-hashing *segments* (`mih.Segment`), oldest and largest
  first. When the tail fills it becomes a segment; a segment is merged into the one below
  it once it reaches 1/MERGE_RATIO of its size, so there are O(log n) segments;
- removals mark rows dead; a segment more than DEAD_FRACTION dead is rebuilt, so memory
  stays proportional to the live entries however many add/remove cycles run.

Readers never block: a search reads one immutable snapshot (`_State`); writers serialise on
a lock and publish a new snapshot. Ids are unique: adding an id that is present replaces its
hash, and an id given twice in one call keeps its last hash (replaying a change feed twice
leaves the index as it was).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from tantalio.index import join, persist
from tantalio.index.codec import HashInput, Words, to_words, words_to_hex
from tantalio.index.mih import Layout, Segment, default_chunks, scan
from tantalio.signals.rules import DEFAULT_PDQ_THRESHOLD

TAIL_MAX = 2048
MERGE_RATIO = 8
DEAD_FRACTION = 0.25
# Queries per worker below which a batch is not split across threads.
PARALLEL_MIN_QUERIES = 64
# A large batch is cut into this many parts per thread (at least PARALLEL_MIN_QUERIES
# queries each), taken in turn by whichever thread is free: with one part per thread, a
# thread that lost its core to another process for a while leaves the other idle at the
# end. At 100M on the shared box, 4,000 queries: 1.05-1.97 cores busy whatever the count
# (2, 4, 16, 32 alternating); the finer counts had the best rounds (2,359/s at 16).
PARTS_PER_THREAD = 16
FORMAT = "tantalio-pdq-index"
VERSION = 2  # 2: packed row tables, rows sorted by the last chunk (1 still loads)

Ids = NDArray[np.int64]
Match = tuple[int, int]  # (id, distance)

# Threads a large batch is split across (numpy releases the GIL in the heavy gathers).
SEARCH_THREADS = min(os.cpu_count() or 1, 8)
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _search_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=SEARCH_THREADS, thread_name_prefix="pdq-search")
        return _pool


@dataclass(frozen=True, slots=True)
class _State:
    segments: tuple[Segment, ...]
    tail_words: Words
    tail_ids: Ids


def as_ids(ids: Sequence[int] | NDArray[np.integer]) -> Ids:
    arr = np.asarray(ids)
    if arr.ndim != 1:
        raise ValueError("ids must be one-dimensional")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(f"ids must be integers, got {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def last_occurrences(ids: Ids) -> NDArray[np.intp] | None:
    """Positions keeping each id's last occurrence, in order; None when ids are unique."""
    if len(ids) < 2:
        return None
    _, first_from_end = np.unique(ids[::-1], return_index=True)
    if len(first_from_end) == len(ids):
        return None
    return np.sort(len(ids) - 1 - first_from_end)


class PDQIndex:
    """All stored hashes within a Hamming radius of a query, exactly (no missed match).

    `threshold` is the default radius (31, PDQ's confident-match distance); any
    `max_distance` may be passed per search and stays exact (only slower when large).
    Thread-safe: searches run concurrently with each other and with writers.
    """

    def __init__(
        self, threshold: int = DEFAULT_PDQ_THRESHOLD, *, n_chunks: int | None = None
    ) -> None:
        if not 0 <= threshold <= 256:
            raise ValueError("threshold must be between 0 and 256")
        self.threshold = int(threshold)
        self.layout = Layout.even(n_chunks or default_chunks(self.threshold))
        self._state = _State((), np.zeros((0, 4), np.uint64), np.zeros(0, np.int64))
        self._write = threading.Lock()

    # -- building -------------------------------------------------------------------

    @classmethod
    def build_from(
        cls,
        ids: Sequence[int] | NDArray[np.integer],
        hashes: HashInput,
        threshold: int = DEFAULT_PDQ_THRESHOLD,
        *,
        n_chunks: int | None = None,
    ) -> PDQIndex:
        """One bulk build (the fast path for a store refresh); a repeated id keeps its last hash."""
        index = cls(threshold, n_chunks=n_chunks)
        id_arr, words = index._checked(ids, hashes)
        if len(id_arr):
            index._state = _State(
                (Segment.sorted(words, id_arr, index.layout),), *index._empty_tail()
            )
        return index

    def add(
        self, ids: Sequence[int] | NDArray[np.integer], hashes: HashInput, *, merge: bool = True
    ) -> None:
        """Add (or replace) entries; they are searchable when this returns. With
        `merge=False` (a bulk load arriving in parts) the new segment is left as it is, not
        merged into the ones below: each merge rebuilds the larger segment, so 36 adds of
        10,000 to 1M entries would rebuild over a million rows twice; `compact` merges once
        afterwards."""
        id_arr, words = self._checked(ids, hashes)
        if not len(id_arr):
            return
        with self._write:
            fresh = ~self._unchanged(id_arr, words)
            if not fresh.all():  # a replay: entries already stored as given cost nothing
                id_arr, words = id_arr[fresh], words[fresh]
                if not len(id_arr):
                    return
            self._remove_locked(id_arr)
            state = self._state
            segments = list(state.segments)
            if len(id_arr) >= TAIL_MAX:
                segments.append(Segment.sorted(words, id_arr, self.layout))
                tail_words, tail_ids = state.tail_words, state.tail_ids
            else:
                tail_words = np.concatenate([state.tail_words, words])
                tail_ids = np.concatenate([state.tail_ids, id_arr])
                if len(tail_ids) > TAIL_MAX:
                    segments.append(Segment.sorted(tail_words, tail_ids, self.layout))
                    tail_words, tail_ids = self._empty_tail()
            if merge:
                segments = self._merged(segments)
            self._state = _State(tuple(segments), tail_words, tail_ids)

    def remove(self, ids: Sequence[int] | NDArray[np.integer]) -> int:
        """Remove entries by id (absent ids are ignored); returns how many were removed."""
        id_arr = np.unique(as_ids(ids))
        if not len(id_arr):
            return 0
        with self._write:
            return self._remove_locked(id_arr)

    def compact(self) -> None:
        """Merge everything into one segment without dead rows (before a save, say)."""
        with self._write:
            state = self._state
            segments = list(state.segments)
            if len(state.tail_ids):
                segments.append(Segment.sorted(state.tail_words, state.tail_ids, self.layout))
            if len(segments) > 1 or (segments and segments[0].n_dead):
                segments = [self._merge(segments)]
            segments = [s for s in segments if s.n_alive]
            self._state = _State(tuple(segments), *self._empty_tail())

    def _checked(
        self, ids: Sequence[int] | NDArray[np.integer], hashes: HashInput
    ) -> tuple[Ids, Words]:
        id_arr = as_ids(ids)
        words = to_words(hashes)
        if len(id_arr) != len(words):
            raise ValueError(f"{len(id_arr)} ids but {len(words)} hashes")
        keep = last_occurrences(id_arr)
        if keep is not None:
            id_arr, words = id_arr[keep], words[keep]
        return np.ascontiguousarray(id_arr), words

    def _unchanged(self, ids: Ids, words: Words) -> NDArray[np.bool_]:
        """True where `ids[i]` is already stored with exactly `words[i]`."""
        state = self._state
        order = np.argsort(ids)
        sorted_ids = ids[order]
        same = np.zeros(len(ids), dtype=bool)
        blocks = [(seg.ids, seg.words, seg.locate(ids)) for seg in state.segments]
        blocks.append(
            (state.tail_ids, state.tail_words, np.flatnonzero(np.isin(state.tail_ids, ids)))
        )
        for block_ids, block_words, rows in blocks:
            if len(rows):
                pos = order[np.searchsorted(sorted_ids, block_ids[rows])]
                equal = (block_words[rows] == words[pos]).all(axis=1)
                same[pos[equal]] = True
        return same

    def _remove_locked(self, ids: Ids) -> int:
        state = self._state
        removed = 0
        for seg in state.segments:
            rows = seg.locate(ids)
            seg.kill(rows)
            removed += len(rows)
        tail_words, tail_ids = state.tail_words, state.tail_ids
        if len(tail_ids):
            gone = np.isin(tail_ids, ids)
            if gone.any():
                removed += int(gone.sum())
                tail_words, tail_ids = tail_words[~gone], tail_ids[~gone]
        if removed:
            segments = [
                self._merge([s]) if s.n_dead > DEAD_FRACTION * len(s) else s for s in state.segments
            ]
            segments = [s for s in segments if s.n_alive]
            self._state = _State(tuple(segments), tail_words, tail_ids)
        return removed

    def _merged(self, segments: list[Segment]) -> list[Segment]:
        while len(segments) >= 2 and segments[-1].n_alive * MERGE_RATIO >= segments[-2].n_alive:
            segments[-2:] = [self._merge(segments[-2:])]
        return segments

    def _merge(self, segments: list[Segment]) -> Segment:
        words = np.concatenate([s.words[s.alive] for s in segments])
        ids = np.concatenate([s.ids[s.alive] for s in segments])
        return Segment.sorted(words, ids, self.layout)

    @staticmethod
    def _empty_tail() -> tuple[Words, Ids]:
        return np.zeros((0, 4), np.uint64), np.zeros(0, np.int64)

    # -- searching ------------------------------------------------------------------

    def search_arrays(
        self, hashes: HashInput, max_distance: int | None = None
    ) -> tuple[NDArray[np.int64], Ids, NDArray[np.int64]]:
        """The bulk form of `search`: (query number, id, distance) arrays, sorted by query,
        then distance, then id. Large batches are split across CPU threads."""
        return self._search_words(to_words(hashes), self._radius(max_distance))

    def _search_words(
        self, qwords: Words, radius: int
    ) -> tuple[NDArray[np.int64], Ids, NDArray[np.int64]]:
        state = self._state
        n = len(qwords)
        # Large batches on large segments: the row-ordered join (join.py), its threads
        # inside; the other segments and the tail as below.
        # One join at a time (its candidate lists are the memory budget's); a batch that
        # finds one running takes the per-query path.
        joined = [s for s in state.segments if join.pays(s, n, radius)]
        if joined and not join.GATE.acquire(blocking=False):
            joined = []
        rest = [s for s in state.segments if not any(s is j for j in joined)]
        found = []
        if joined:
            try:
                values = state.segments[0].layout.values(qwords)
                threads = max(1, SEARCH_THREADS)
                mapper = _search_pool().map if threads > 1 else map
                for seg in joined:
                    q, rows, dist = join.search(seg, qwords, values, radius, mapper, threads)
                    found.append((q, seg.ids[rows], dist))
            finally:
                join.GATE.release()
        if SEARCH_THREADS < 2 or n < 2 * PARALLEL_MIN_QUERIES:
            found.append(_search_state(state, qwords, radius, rest))
        else:
            pool = _search_pool()
            parts = min(SEARCH_THREADS * PARTS_PER_THREAD, n // PARALLEL_MIN_QUERIES)
            bounds = np.linspace(0, n, parts + 1).astype(int)
            futures = [
                pool.submit(_search_state, state, qwords[a:b], radius, rest)
                for a, b in zip(bounds[:-1], bounds[1:], strict=True)
            ]
            for f, a in zip(futures, bounds[:-1], strict=True):
                q, ids, dist = f.result()
                found.append((q + a, ids, dist))
        q = np.concatenate([r[0] for r in found])
        ids = np.concatenate([r[1] for r in found])
        dist = np.concatenate([r[2] for r in found])
        order = np.lexsort((ids, dist, q))
        return q[order], ids[order], dist[order]

    def search(self, hashes: HashInput, max_distance: int | None = None) -> list[list[Match]]:
        """For each query, every (id, distance) within the radius, nearest first."""
        qwords = to_words(hashes)
        n = len(qwords)
        q, ids, dist = self._search_words(qwords, self._radius(max_distance))
        bounds = np.searchsorted(q, np.arange(n + 1)).tolist()
        pairs = list(zip(ids.tolist(), dist.tolist(), strict=True))
        return [pairs[bounds[i] : bounds[i + 1]] for i in range(n)]

    def search_orientations(
        self, orientation_hashes: Sequence[str], max_distance: int | None = None
    ) -> list[tuple[int, int, int]]:
        """Query one image's orientation hashes (up to 8, `Fingerprint.pdq_orientations`
        order) and keep each id's best: (id, distance, orientation index), nearest first."""
        return self.search_orientations_many([orientation_hashes], max_distance)[0]

    def search_orientations_many(
        self, groups: Sequence[Sequence[str]], max_distance: int | None = None
    ) -> list[list[tuple[int, int, int]]]:
        """`search_orientations` for many images in one batch (ingest's fast path)."""
        flat = [h for group in groups for h in group]
        owner = np.repeat(np.arange(len(groups)), [len(g) for g in groups])
        first = np.concatenate([[0], np.cumsum([len(g) for g in groups])])
        q, ids, dist = self.search_arrays(flat, max_distance)
        img = owner[q]
        orient = q - first[img]
        # Best per (image, id): smallest distance, then lowest orientation index.
        order = np.lexsort((orient, dist, ids, img))
        img, ids, dist, orient = img[order], ids[order], dist[order], orient[order]
        keep = np.ones(len(img), dtype=bool)
        keep[1:] = (img[1:] != img[:-1]) | (ids[1:] != ids[:-1])
        img, ids, dist, orient = img[keep], ids[keep], dist[keep], orient[keep]
        order = np.lexsort((ids, dist, img))
        img, ids, dist, orient = img[order], ids[order], dist[order], orient[order]
        bounds = np.searchsorted(img, np.arange(len(groups) + 1)).tolist()
        rows = list(zip(ids.tolist(), dist.tolist(), orient.tolist(), strict=True))
        return [rows[bounds[i] : bounds[i + 1]] for i in range(len(groups))]

    def _radius(self, max_distance: int | None) -> int:
        radius = self.threshold if max_distance is None else int(max_distance)
        if not 0 <= radius <= 256:
            raise ValueError("max_distance must be between 0 and 256")
        return radius

    # -- inspection -----------------------------------------------------------------

    def __len__(self) -> int:
        state = self._state
        return sum(s.n_alive for s in state.segments) + len(state.tail_ids)

    def __contains__(self, entry_id: object) -> bool:
        if not isinstance(entry_id, int | np.integer):
            return False
        ids = np.array([entry_id], dtype=np.int64)
        state = self._state
        return bool(np.isin(ids, state.tail_ids).any()) or any(
            len(s.locate(ids)) for s in state.segments
        )

    def contains_many(self, ids: Sequence[int] | NDArray[np.integer]) -> NDArray[np.bool_]:
        """For each id, whether it is in the index (one vectorised pass per segment)."""
        want = as_ids(ids)
        state = self._state
        found = np.isin(want, state.tail_ids)
        for seg in state.segments:
            if found.all():
                break
            rest = np.flatnonzero(~found)
            rows = seg.locate(want[rest])
            if len(rows):
                found[rest[np.isin(want[rest], seg.ids[rows])]] = True
        return found

    def get(self, entry_id: int) -> str | None:
        """The stored hash (hex) of one id, or None."""
        ids = np.array([entry_id], dtype=np.int64)
        state = self._state
        hit = np.flatnonzero(state.tail_ids == entry_id)
        if len(hit):
            return words_to_hex(state.tail_words[hit[:1]])[0]
        for seg in state.segments:
            rows = seg.locate(ids)
            if len(rows):
                return words_to_hex(seg.words[rows[:1]])[0]
        return None

    @property
    def segment_count(self) -> int:
        return len(self._state.segments)

    @property
    def tail_count(self) -> int:
        """Entries in the brute-force tail (not yet in a segment)."""
        return len(self._state.tail_ids)

    def memory_bytes(self) -> int:
        """Bytes held by the index's arrays (hashes, ids, bucket tables)."""
        state = self._state
        return (
            sum(s.memory_bytes() for s in state.segments)
            + state.tail_words.nbytes
            + state.tail_ids.nbytes
        )

    # -- persistence ----------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write the index to directory `path` (replaced atomically): .npy arrays plus an
        `index.json` header with a format version. No pickle anywhere."""
        with self._write:
            state = self._state
            arrays: dict[str, np.ndarray] = {}
            segs = []
            for i, seg in enumerate(state.segments):
                name = f"seg{i}"
                arrays.update(
                    {
                        f"{name}.words": seg.words,
                        f"{name}.ids": seg.ids,
                        f"{name}.alive": seg.alive,
                        f"{name}.order": seg.order,
                        f"{name}.offsets": seg.offsets,
                        f"{name}.occupied": seg.occupied,
                    }
                )
                segs.append(
                    {
                        "name": name,
                        "rows": len(seg),
                        "key_bits": list(seg.key_bits),
                        "direct": seg.direct,
                    }
                )
            arrays["tail.words"] = state.tail_words
            arrays["tail.ids"] = state.tail_ids
            header = {
                "format": FORMAT,
                "version": VERSION,
                "threshold": self.threshold,
                "widths": list(self.layout.widths),
                "count": len(self),
                "segments": segs,
                "tail_rows": len(state.tail_ids),
            }
            persist.write_dir(path, header, arrays)

    @classmethod
    def load(cls, path: str | Path, *, mmap: bool = False) -> PDQIndex:
        """Read an index written by `save`. With `mmap`, the big arrays are mapped rather
        than read (instant load; pages come in as searches touch them)."""
        header, load = persist.read_dir(path, FORMAT, VERSION)
        try:
            index = cls(int(header["threshold"]))
            index.layout = Layout(tuple(int(w) for w in header["widths"]))
            if sum(index.layout.widths) != 256:
                raise ValueError("chunk widths do not cover 256 bits")
            segments = []
            for seg in header["segments"]:
                name = seg["name"]
                words = load(f"{name}.words", np.uint64, (int(seg["rows"]), 4), mmap)
                ids = load(f"{name}.ids", np.int64, (len(words),), mmap)
                alive = np.array(load(f"{name}.alive", np.bool_, (len(words),), False))
                if header["version"] < 2:  # 32-bit row tables: rebuilt in the packed form
                    segments.append(
                        Segment.sorted(
                            np.asarray(words), np.asarray(ids), index.layout, alive=alive
                        )
                    )
                    continue
                id_index = None
                if seg.get("id_index") is True:  # bulk.build_dir: no argsort on first write
                    id_index = (
                        load(f"{name}.id_sorted", np.int64, (len(words),), mmap),
                        load(f"{name}.id_rows", np.uint32, (len(words),), mmap),
                    )
                segments.append(
                    Segment(
                        words,
                        ids,
                        index.layout,
                        alive=alive,
                        key_bits=tuple(int(k) for k in seg["key_bits"]),
                        order=load(f"{name}.order", np.uint64, None, mmap),
                        offsets=load(f"{name}.offsets", np.uint32, None, mmap),
                        occupied=load(f"{name}.occupied", np.uint8, None, False),
                        direct=bool(seg.get("direct", False)),
                        id_index=id_index,
                    )
                )
                if seg.get("ids_ascending") is True:  # rows in id order: no lookup needed
                    segments[-1].mark_ids_ascending()
            rows = int(header["tail_rows"])
            tail_words = np.array(load("tail.words", np.uint64, (rows, 4), False))
            tail_ids = np.array(load("tail.ids", np.int64, (rows,), False))
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{path}: damaged PDQ index: {exc}") from None
        index._state = _State(tuple(segments), tail_words, tail_ids)
        return index


def _search_state(
    state: _State, qwords: Words, radius: int, segments: Sequence[Segment] | None = None
) -> tuple[NDArray[np.int64], Ids, NDArray[np.int64]]:
    """Search `segments` (default: all of the state's) and the tail."""
    segments = state.segments if segments is None else segments
    qs, ids, ds = [], [], []
    values = segments[0].layout.values(qwords) if segments else None
    for seg in segments:
        q, rows, d = seg.search(qwords, radius, values)
        qs.append(q)
        ids.append(seg.ids[rows])
        ds.append(d)
    q, rows, d = scan(state.tail_words, qwords, radius)
    qs.append(q)
    ids.append(state.tail_ids[rows])
    ds.append(d)
    return np.concatenate(qs), np.concatenate(ids), np.concatenate(ds)
