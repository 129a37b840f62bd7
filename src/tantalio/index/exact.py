"""ExactIndex: MD5 / SHA-1 / SHA-256 digest -> ids, sized for tens of millions of entries.

Each algorithm keeps a short stack of sorted, immutable segments (the same log-structured
scheme as the PDQ index): digests as big-endian uint64 words stored column-major, sorted
by the first word, so a lookup is a `searchsorted` on one contiguous uint64 column plus an
equality check of the remaining words. 10M SHA-256 digests take about 410 MB
(32 bytes digest + 8 id + 1 alive flag). A digest may map to several ids (the same file in
two hash sets); an id has at most one digest per algorithm. Ids are the caller's (hash-entry
or media row ids).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from tantalio.index import persist
from tantalio.index.pdq import as_ids, last_occurrences

ALGORITHM_BYTES = {"md5": 16, "sha1": 20, "sha256": 32}
_BY_HEX_LENGTH = {2 * n: name for name, n in ALGORITHM_BYTES.items()}
MERGE_RATIO = 8
DEAD_FRACTION = 0.25
FORMAT = "tantalio-exact-index"
VERSION = 1

Cols = NDArray[np.uint64]  # shape (words, n)


def algorithm_of(digest: str) -> str:
    """md5 / sha1 / sha256 from the length of a hex digest."""
    name = _BY_HEX_LENGTH.get(len(digest))
    if name is None:
        raise ValueError(f"not an MD5, SHA-1 or SHA-256 hex digest (length {len(digest)})")
    return name


def digests_to_cols(digests: Iterable[str] | NDArray[np.uint8], algorithm: str) -> Cols:
    """Hex digests (or a uint8 array (n, bytes)) -> column-major big-endian uint64 words."""
    width = ALGORITHM_BYTES[algorithm]
    if isinstance(digests, np.ndarray):
        raw = np.ascontiguousarray(digests)
        if raw.dtype != np.uint8 or raw.ndim != 2 or raw.shape[1] != width:
            raise ValueError(f"{algorithm} array must be uint8 of shape (n, {width})")
    else:
        items = list(digests)
        try:
            data = bytes.fromhex("".join(items))
        except (TypeError, ValueError):
            data = b""
        if len(data) != width * len(items) or any(len(d) != 2 * width for d in items):
            for i, d in enumerate(items):
                if not isinstance(d, str) or len(d) != 2 * width:
                    raise ValueError(f"{algorithm} digest #{i} is not {2 * width} hex characters")
                try:
                    bytes.fromhex(d)
                except ValueError:
                    raise ValueError(f"{algorithm} digest #{i} is not hexadecimal") from None
        raw = np.frombuffer(data, dtype=np.uint8).reshape(len(items), width)
    n_words = math.ceil(width / 8)
    padded = np.zeros((len(raw), n_words * 8), dtype=np.uint8)
    padded[:, :width] = raw
    return np.ascontiguousarray(padded.view(">u8").astype(np.uint64).T)


class _Segment:
    __slots__ = ("cols", "ids", "alive", "n_dead", "_id_sorted", "_id_rows")

    def __init__(
        self,
        cols: Cols,
        ids: NDArray[np.int64],
        alive: NDArray[np.bool_] | None = None,
        *,
        presorted: bool = False,
    ) -> None:
        if not presorted:
            order = np.argsort(cols[0], kind="stable")
            cols = np.ascontiguousarray(cols[:, order])
            ids = ids[order]
            alive = None if alive is None else alive[order]
        self.cols = cols
        self.ids = ids
        self.alive = np.ones(len(ids), dtype=np.bool_) if alive is None else alive
        self.n_dead = int(len(ids) - np.count_nonzero(self.alive))
        self._id_sorted: NDArray[np.int64] | None = None
        self._id_rows: NDArray[np.int64] | None = None

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def n_alive(self) -> int:
        return len(self.ids) - self.n_dead

    def lookup(self, qcols: Cols) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """(query number, id) for every alive row equal to a query digest."""
        prefix = self.cols[0]
        lo = np.searchsorted(prefix, qcols[0], side="left")
        hi = np.searchsorted(prefix, qcols[0], side="right")
        lens = hi - lo
        total = int(lens.sum())
        if total == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        ends = np.cumsum(lens)
        pos = np.repeat(lo - (ends - lens), lens) + np.arange(total)
        qi = np.repeat(np.arange(len(lens)), lens)
        ok = self.alive[pos]
        for c in range(1, len(self.cols)):
            ok &= self.cols[c][pos] == qcols[c][qi]
        return qi[ok], self.ids[pos[ok]]

    def locate(self, ids: NDArray[np.int64]) -> NDArray[np.int64]:
        """Alive rows whose id is in `ids` (an id may own several rows here)."""
        if self._id_sorted is None or self._id_rows is None:
            self._id_rows = np.argsort(self.ids, kind="stable")
            self._id_sorted = self.ids[self._id_rows]
        lo = np.searchsorted(self._id_sorted, ids, side="left")
        hi = np.searchsorted(self._id_sorted, ids, side="right")
        lens = hi - lo
        ends = np.cumsum(lens)
        pos = np.repeat(lo - (ends - lens), lens) + np.arange(int(lens.sum()))
        rows = self._id_rows[pos]
        return rows[self.alive[rows]]

    def kill(self, rows: NDArray[np.int64]) -> None:
        self.alive[rows] = False
        self.n_dead += len(rows)

    def memory_bytes(self) -> int:
        extra = (
            0
            if self._id_sorted is None or self._id_rows is None
            else (self._id_sorted.nbytes + self._id_rows.nbytes)
        )
        return self.cols.nbytes + self.ids.nbytes + self.alive.nbytes + extra


def _merge(segments: list[_Segment]) -> _Segment:
    cols = np.concatenate([s.cols[:, s.alive] for s in segments], axis=1)
    ids = np.concatenate([s.ids[s.alive] for s in segments])
    return _Segment(cols, ids)


class ExactIndex:
    """Exact digest lookup for MD5, SHA-1 and SHA-256 together.

    The algorithm of a hex digest is known from its length (32 / 40 / 64), so callers pass
    digests of any of the three mixed. Thread-safe like `PDQIndex`: lookups read a snapshot.
    """

    def __init__(self) -> None:
        self._tables: dict[str, tuple[_Segment, ...]] = {name: () for name in ALGORITHM_BYTES}
        self._write = threading.Lock()

    @classmethod
    def build_from(
        cls,
        ids: Sequence[int] | NDArray[np.integer],
        digests: Sequence[str] | NDArray[np.uint8],
        algorithm: str | None = None,
    ) -> ExactIndex:
        """Bulk build (a store refresh): one sorted segment per algorithm."""
        index = cls()
        for name, (id_arr, cols) in _grouped(ids, digests, algorithm).items():
            index._tables[name] = (_Segment(cols, id_arr),)
        return index

    def add(
        self,
        ids: Sequence[int] | NDArray[np.integer],
        digests: Sequence[str] | NDArray[np.uint8],
        algorithm: str | None = None,
    ) -> None:
        """Add (id, digest) pairs. An id carries one digest per algorithm: adding it again
        replaces that digest (so replaying the same rows never grows the index), and an id
        given twice in one call keeps its last digest."""
        groups = _grouped(ids, digests, algorithm)
        with self._write:
            for name, (id_arr, cols) in groups.items():
                keep = last_occurrences(id_arr)
                if keep is not None:
                    id_arr, cols = id_arr[keep], cols[:, keep]
                self._drop(name, np.unique(id_arr))
                segments = [*self._tables[name], _Segment(cols, id_arr)]
                while (
                    len(segments) >= 2
                    and segments[-1].n_alive * MERGE_RATIO >= segments[-2].n_alive
                ):
                    segments[-2:] = [_merge(segments[-2:])]
                self._tables[name] = tuple(segments)

    def remove(self, ids: Sequence[int] | NDArray[np.integer]) -> int:
        """Remove every digest of these ids; returns the number of (id, digest) rows removed."""
        id_arr = np.unique(as_ids(ids))
        with self._write:
            return sum(self._drop(name, id_arr) for name in self._tables)

    def _drop(self, name: str, ids: NDArray[np.int64]) -> int:
        """Remove these ids' rows from one algorithm's table (caller holds the lock)."""
        removed = 0
        kept = []
        for seg in self._tables[name]:
            rows = seg.locate(ids)
            if len(rows):
                seg.kill(rows)
                removed += len(rows)
                if seg.n_dead > DEAD_FRACTION * len(seg):
                    seg = _merge([seg])
            if seg.n_alive:
                kept.append(seg)
        self._tables[name] = tuple(kept)
        return removed

    def lookup(self, digests: Sequence[str], algorithm: str | None = None) -> list[list[int]]:
        """For each digest, the ids stored under it (ascending; empty when unknown)."""
        out: list[list[int]] = [[] for _ in digests]
        by_alg: dict[str, list[int]] = {}
        for i, d in enumerate(digests):
            by_alg.setdefault(algorithm or algorithm_of(d), []).append(i)
        for name, positions in by_alg.items():
            qi, ids = self.lookup_arrays([digests[i].lower() for i in positions], name)
            for q, entry in zip(qi.tolist(), ids.tolist(), strict=True):
                out[positions[q]].append(entry)
        return out

    def lookup_arrays(
        self, digests: Sequence[str] | NDArray[np.uint8], algorithm: str
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Bulk form for one algorithm: (query number, id) pairs sorted, without repeats."""
        qcols = digests_to_cols(digests, algorithm)
        parts = [seg.lookup(qcols) for seg in self._tables[algorithm]]
        if not parts:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty
        qi = np.concatenate([p[0] for p in parts])
        ids = np.concatenate([p[1] for p in parts])
        pairs = np.unique(np.stack([qi, ids], axis=1), axis=0)
        return pairs[:, 0], pairs[:, 1]

    def __len__(self) -> int:
        return sum(s.n_alive for segments in self._tables.values() for s in segments)

    def count(self, algorithm: str) -> int:
        return sum(s.n_alive for s in self._tables[algorithm])

    def memory_bytes(self) -> int:
        return sum(s.memory_bytes() for segments in self._tables.values() for s in segments)

    def compact(self) -> None:
        with self._write:
            for name, segments in self._tables.items():
                if len(segments) > 1 or (segments and segments[0].n_dead):
                    merged = _merge(list(segments))
                    self._tables[name] = (merged,) if len(merged) else ()

    def save(self, path: str | Path) -> None:
        """Directory of .npy arrays + `index.json` (format, version); no pickle."""
        with self._write:
            arrays: dict[str, np.ndarray] = {}
            tables: dict[str, list[dict[str, object]]] = {}
            for name, segments in self._tables.items():
                tables[name] = []
                for i, seg in enumerate(segments):
                    key = f"{name}.{i}"
                    arrays[f"{key}.cols"] = seg.cols
                    arrays[f"{key}.ids"] = seg.ids
                    arrays[f"{key}.alive"] = seg.alive
                    tables[name].append({"name": key, "rows": len(seg)})
            header = {"format": FORMAT, "version": VERSION, "count": len(self), "tables": tables}
            persist.write_dir(path, header, arrays)

    @classmethod
    def load(cls, path: str | Path, *, mmap: bool = False) -> ExactIndex:
        header, load = persist.read_dir(path, FORMAT, VERSION)
        index = cls()
        try:
            for name, segs in header["tables"].items():
                if name not in ALGORITHM_BYTES:
                    raise ValueError(f"unknown algorithm {name!r}")
                n_words = math.ceil(ALGORITHM_BYTES[name] / 8)
                loaded = []
                for seg in segs:
                    rows = int(seg["rows"])
                    loaded.append(
                        _Segment(
                            load(f"{seg['name']}.cols", np.uint64, (n_words, rows), mmap),
                            load(f"{seg['name']}.ids", np.int64, (rows,), mmap),
                            np.array(load(f"{seg['name']}.alive", np.bool_, (rows,), False)),
                            presorted=True,
                        )
                    )
                index._tables[name] = tuple(loaded)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"{path}: damaged exact index: {exc}") from None
        return index


def _grouped(
    ids: Sequence[int] | NDArray[np.integer],
    digests: Sequence[str] | NDArray[np.uint8],
    algorithm: str | None,
) -> dict[str, tuple[NDArray[np.int64], Cols]]:
    id_arr = as_ids(ids)
    if len(id_arr) != len(digests):
        raise ValueError(f"{len(id_arr)} ids but {len(digests)} digests")
    if algorithm is not None:
        if algorithm not in ALGORITHM_BYTES:
            raise ValueError(f"unknown algorithm {algorithm!r}; use md5, sha1 or sha256")
        if not len(id_arr):
            return {}
        return {algorithm: (id_arr, digests_to_cols(digests, algorithm))}
    if isinstance(digests, np.ndarray):
        raise ValueError("pass algorithm= with a byte array of digests")
    positions: dict[str, list[int]] = {}
    for i, d in enumerate(digests):
        if not isinstance(d, str):
            raise ValueError(f"digest #{i} is not a string")
        try:
            name = algorithm_of(d)
        except ValueError as exc:
            raise ValueError(f"digest #{i}: {exc}") from None
        positions.setdefault(name, []).append(i)
    return {
        name: (id_arr[pos], digests_to_cols([digests[i] for i in pos], name))
        for name, pos in positions.items()
    }
