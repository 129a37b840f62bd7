"""PDQ search backends behind one small interface.

`make_pdq_backend()` returns an adapter over `tantalio.index.PDQIndex` (numpy multi-index
hashing, exact at any radius, incremental). `NumpyPDQ` is an exact brute-force scan that
allows repeated ids: the vPDQ frame table uses it (videos are few; frames of one video share
the video's id).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from tantalio.signals.rules import DEFAULT_PDQ_THRESHOLD

_BATCH = 1 << 21  # elements per vectorised distance pass


def hex_to_words(hashes: Sequence[str]) -> NDArray[np.uint64]:
    if not hashes:
        return np.zeros((0, 4), dtype=np.uint64)
    raw = bytes.fromhex("".join(hashes))
    if len(raw) != 32 * len(hashes):
        raise ValueError("PDQ hashes must be 64 hex characters each")
    return np.frombuffer(raw, dtype=">u8").astype(np.uint64).reshape(-1, 4)


class PDQBackend(Protocol):
    def add(self, ids: NDArray[np.int64], hashes: Sequence[str]) -> None: ...
    def bulk_build(self, ids: NDArray[np.int64], hashes: NDArray[np.uint8]) -> None: ...
    def remove(self, ids: NDArray[np.int64]) -> None: ...
    def search(self, queries: Sequence[str], radius: int) -> list[list[tuple[int, int]]]: ...
    def search_frames(
        self, queries: Sequence[str], radius: int
    ) -> list[list[tuple[int, int, int]]]: ...
    def __len__(self) -> int: ...
    def memory_bytes(self) -> int: ...


class NumpyPDQ:
    """Exact brute force over packed 256-bit words; removal marks rows dead and the arrays
    are compacted once dead rows pass a quarter of them, so memory stays flat under churn."""

    def __init__(self, capacity: int = 1024) -> None:
        self._words = np.zeros((capacity, 4), dtype=np.uint64)
        self._ids = np.zeros(capacity, dtype=np.int64)
        self._alive = np.zeros(capacity, dtype=np.bool_)
        self._n = 0
        self._dead = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._n - self._dead

    def memory_bytes(self) -> int:
        return self._words.nbytes + self._ids.nbytes + self._alive.nbytes

    def add(self, ids: NDArray[np.int64], hashes: Sequence[str]) -> None:
        words = hex_to_words(list(hashes))
        with self._lock:
            need = self._n + len(words)
            if need > len(self._ids):
                self._resize(max(need, 2 * len(self._ids)))
            self._words[self._n : need] = words
            self._ids[self._n : need] = ids
            self._alive[self._n : need] = True
            self._n = need

    def bulk_build(self, ids: NDArray[np.int64], hashes: NDArray[np.uint8]) -> None:
        self.add(ids, [row.tobytes().hex() for row in hashes])

    def remove(self, ids: NDArray[np.int64]) -> None:
        with self._lock:
            rows = np.nonzero(self._alive[: self._n] & np.isin(self._ids[: self._n], ids))[0]
            self._alive[rows] = False
            self._dead += len(rows)
            if self._dead > max(256, self._n // 4):
                self._compact()

    def _resize(self, capacity: int) -> None:
        words = np.zeros((capacity, 4), dtype=np.uint64)
        ids = np.zeros(capacity, dtype=np.int64)
        alive = np.zeros(capacity, dtype=np.bool_)
        words[: self._n] = self._words[: self._n]
        ids[: self._n] = self._ids[: self._n]
        alive[: self._n] = self._alive[: self._n]
        self._words, self._ids, self._alive = words, ids, alive

    def _compact(self) -> None:
        keep = np.nonzero(self._alive[: self._n])[0]
        live = len(keep)
        capacity = max(1024, 2 * live)
        words = np.zeros((capacity, 4), dtype=np.uint64)
        ids = np.zeros(capacity, dtype=np.int64)
        alive = np.zeros(capacity, dtype=np.bool_)
        words[:live] = self._words[keep]
        ids[:live] = self._ids[keep]
        alive[:live] = True
        self._words, self._ids, self._alive = words, ids, alive
        self._n, self._dead = live, 0

    def _scan(self, queries: Sequence[str], radius: int) -> tuple[Any, Any, Any]:
        q = hex_to_words(list(queries))
        with self._lock:
            words, alive, n = self._words, self._alive, self._n
        if n == 0 or len(q) == 0:
            e = np.zeros(0, dtype=np.int64)
            return e, e, e
        step = max(1, _BATCH // (4 * n))
        qs, rs, ds = [], [], []
        for i in range(0, len(q), step):
            d = np.bitwise_count(q[i : i + step, None, :] ^ words[None, :n, :]).sum(
                axis=-1, dtype=np.int64
            )
            qi, row = np.nonzero((d <= radius) & alive[None, :n])
            qs.append(qi + i)
            rs.append(row)
            ds.append(d[qi, row])
        return np.concatenate(qs), np.concatenate(rs), np.concatenate(ds)

    def search(self, queries: Sequence[str], radius: int) -> list[list[tuple[int, int]]]:
        qi, rows, dist = self._scan(queries, radius)
        ids = self._ids
        out: list[list[tuple[int, int]]] = [[] for _ in queries]
        for a, r, d in zip(qi.tolist(), rows.tolist(), dist.tolist(), strict=True):
            out[a].append((int(ids[r]), d))
        return out

    def search_frames(
        self, queries: Sequence[str], radius: int
    ) -> list[list[tuple[int, int, int]]]:
        """Per query: (id, stored row, distance) of every stored frame within `radius` (a
        video's frames share its id; the row tells them apart)."""
        qi, rows, dist = self._scan(queries, radius)
        ids = self._ids
        out: list[list[tuple[int, int, int]]] = [[] for _ in queries]
        for a, r, d in zip(qi.tolist(), rows.tolist(), dist.tolist(), strict=True):
            out[a].append((int(ids[r]), r, d))
        return out


class TantalioPDQ:
    """Adapter over `tantalio.index.PDQIndex` (the case-workspace index)."""

    def __init__(self, index: Any) -> None:
        self._index = index

    @property
    def index(self) -> Any:
        return self._index

    def __len__(self) -> int:
        return len(self._index)

    def memory_bytes(self) -> int:
        fn = getattr(self._index, "memory_bytes", None)
        return int(fn()) if callable(fn) else 0

    def add(self, ids: NDArray[np.int64], hashes: Sequence[str]) -> None:
        self._index.add(np.asarray(ids, dtype=np.int64), list(hashes))

    def bulk_build(self, ids: NDArray[np.int64], hashes: NDArray[np.uint8]) -> None:
        """Replace the contents with one freshly built segment (start-up load)."""
        self._index = type(self._index).build_from(ids, hashes, self._index.threshold)

    def remove(self, ids: NDArray[np.int64]) -> None:
        self._index.remove(np.asarray(ids, dtype=np.int64))

    def search(self, queries: Sequence[str], radius: int) -> list[list[tuple[int, int]]]:
        # PDQIndex answers plain (int id, int distance) tuples, nearest first: as they are.
        return self._index.search(list(queries), max_distance=radius)

    def search_frames(
        self, queries: Sequence[str], radius: int
    ) -> list[list[tuple[int, int, int]]]:
        raise NotImplementedError("vPDQ frames use NumpyPDQ")


def make_pdq_backend(
    *, fallback: bool = False, threshold: int = DEFAULT_PDQ_THRESHOLD
) -> PDQBackend:
    """The case-workspace `PDQIndex` (exact multi-index hashing), or `NumpyPDQ` when asked
    (the vPDQ frame table, whose frames share their video's id)."""
    if fallback:
        return NumpyPDQ()
    from tantalio.index import PDQIndex

    return TantalioPDQ(PDQIndex(threshold))
