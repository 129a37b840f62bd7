"""Large batches against a large segment: candidates grouped by row range, hashes read in order.

Why: at 100M hashes a radius-31 query has ~29,000 candidates, each a random 32-byte read of
a 3.2 GB array, and on the 2-core box a random read costs 20-45 ns of a core however many
are in flight (the host's memory, measured); the same bytes read in order stream at ~5 GB/s
a core. A batch of B queries has 29,000 x B candidates: from a few hundred queries on, most
lines of the hash array hold at least one, so reading the whole array once in order is
cheaper than one random read per candidate. This is a hash join on the row number:

1. gather (`kernel.join_gather`, the queries split across threads): the probes and row
   tables as in the one-query kernel, each candidate appended as (row offset, query) to the
   list of its coarse row range (~64 ranges: the lists' tails stay in the L1 cache);
2. verify (`kernel.join_verify`, the ranges split across threads): each range's candidates
   regrouped by fine range (8,192 rows, 256 KB of hashes: the L2 cache) and checked in row
   order while the next fine range is streamed in.

The lists hold 4 bytes a candidate, ~120 KB a query at 100M; a batch is cut into calls of
at most `BUFFER_BYTES` of lists (~2,000 queries at 100M) so the resident memory stays
within its budget. Same answers as `Segment.search` (tests compare them); chosen by
`pays`, for large segments and large batches only. docs/perf/index_100m.md has the figures.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from tantalio.index import kernel
from tantalio.index.mih import concat3

if TYPE_CHECKING:
    from tantalio.index.codec import Words
    from tantalio.index.mih import Segment

USE_JOIN = True
MIN_ROWS = 1 << 22  # below, the hashes are a few hundred MB: random reads stay cheap
# Candidates per stored row from which the join pays: at 100M measured 1.6x faster at 1,000
# queries (0.29 a row) and 1.8x at 2,000; break-even near 500 (0.15).
PAIRS_PER_ROW = 0.25
BUFFER_BYTES = 272 << 20  # candidate lists per call: the index's resident budget allows it
COARSE_LOG2 = 6  # about this many coarse ranges (log2)
FINE_SHIFT = 13  # fine ranges of 8,192 rows (256 KB of hashes)
MARGIN = 1.06  # list room over the expected candidates per range (uniform hashes)
SLACK = 2048  # and this many more per range
OUT_PER_QUERY = 16  # first room for hits per query (grown on demand)
GATE = threading.Lock()  # held by the one join running (pdq.py)
# The lists are kept between joins only while this small a share of the segment's own
# arrays (at 100M: 272 MiB beside ~9 GB; at 10M a push of 360k hashes would keep 272 MiB
# beside ~1 GB, so they are freed after each batch there).
KEEP_FRACTION = 0.05

Mapper = Callable[[Callable[[Any], Any], Iterable[Any]], Iterable[Any]]


def expected_candidates(seg: Segment, radius: int) -> float:
    """Candidates per query for uniform hashes: n / 2**k rows behind each probe."""
    plan = seg._plan(radius)
    if plan is None:
        return 0.0
    key_bits = np.asarray(seg.key_bits, dtype=np.float64)
    per_chunk = len(seg) / np.exp2(key_bits)
    return float(per_chunk.take(plan[0]).sum())


def pays(seg: Segment, n_queries: int, radius: int) -> bool:
    """Whether this batch goes through the join on this segment."""
    if not USE_JOIN or len(seg) < MIN_ROWS or n_queries < 2:
        return False
    return n_queries * expected_candidates(seg, radius) >= PAIRS_PER_ROW * len(seg)


def coarse_shift_for(n: int) -> int:
    return max(FINE_SHIFT + 1, (n - 1).bit_length() - COARSE_LOG2)


def queries_per_call(seg: Segment, radius: int) -> int:
    """The most queries one call holds: 4-byte list entries (row offset and query number
    share 32 bits) within `BUFFER_BYTES`."""
    shift = coarse_shift_for(len(seg))
    by_bits = 1 << (32 - shift)
    per_query = max(expected_candidates(seg, radius), 1.0) * 4 * MARGIN
    parts = (len(seg) >> shift) + 1
    by_memory = int((BUFFER_BYTES - parts * SLACK * 4) // per_query)
    return max(1, min(by_bits, by_memory))


def search(
    seg: Segment,
    qwords: Words,
    values: NDArray[np.int64],
    radius: int,
    mapper: Mapper = map,
    workers: int = 1,
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """(query number, row, distance) of every alive row within `radius`, each pair once,
    as `Segment.search` gives them. `mapper` runs the per-thread parts (a thread pool's
    `map`); `workers` is how many run at once."""
    n = len(qwords)
    limit = queries_per_call(seg, radius)
    calls = math.ceil(n / limit)
    bounds = np.linspace(0, n, calls + 1).astype(int)
    # Room for the largest call any batch can make (kept from one join to the next).
    threads = max(1, min(workers, limit))
    space = _list_space(threads * _parts(seg) * _room(seg, radius, limit, threads))
    parts = [
        _call(seg, qwords[a:b], values[a:b], radius, mapper, workers, a, space)
        for a, b in zip(bounds[:-1], bounds[1:], strict=True)
    ]
    del space
    if _space is not None and _space.nbytes > KEEP_FRACTION * seg.memory_bytes():
        release_now()  # large next to this index: not worth holding between batches
    q, rows, dist = seg._live_once(*concat3(parts))
    return q.astype(np.int64), rows.astype(np.int64), dist.astype(np.int64)


def _call(
    seg: Segment,
    qwords: Words,
    values: NDArray[np.int64],
    radius: int,
    mapper: Mapper,
    workers: int,
    q_offset: int,
    space: NDArray[np.uint32],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """One join over up to `queries_per_call` queries, its lists carved from `space`; a
    list that overflows (hashes far from uniform) splits the call in two, and a single query
    takes the one-query kernel."""
    n = len(qwords)
    plan = seg._plan(radius)
    assert plan is not None  # `pays` checked it
    if n == 1:
        q, rows, dist = seg._search_kernel(qwords, values, radius, plan)
        return q + q_offset, rows, dist
    size = len(seg)
    shift = coarse_shift_for(size)
    n_parts = _parts(seg)
    q_bits = max(1, (n - 1).bit_length())
    threads = max(1, min(workers, n))
    q_bounds = np.linspace(0, n, threads + 1).astype(int)
    cap = _room(seg, radius, n, threads)
    bufs = space[: threads * n_parts * cap].reshape(threads, n_parts, cap)
    fills = np.zeros((threads, n_parts), dtype=np.int64)
    tables = seg.kernel_tables()
    values = np.ascontiguousarray(values)

    def gather(t: int) -> None:
        kernel.join_gather(
            tables, plan, values, kernel.PREFETCH, shift, q_bits,
            int(q_bounds[t]), int(q_bounds[t + 1]), bufs[t], fills[t],
        )  # fmt: skip

    list(mapper(gather, range(threads)))
    if int(fills.max()) > cap:
        half = n // 2
        a = _call(seg, qwords[:half], values[:half], radius, mapper, workers, q_offset, space)
        b = _call(
            seg, qwords[half:], values[half:], radius, mapper, workers, q_offset + half, space
        )
        return concat3([a, b])
    words = np.ascontiguousarray(seg.words)
    qwords = np.ascontiguousarray(qwords)
    # Coarse ranges in interleaved pieces, so a thread that lost its core for a while
    # leaves little for the other to wait on.
    pieces = max(1, min(n_parts, 4 * threads))
    p_bounds = np.linspace(0, n_parts, pieces + 1).astype(int)
    per_part = fills.sum(axis=0)

    def verify(piece: int) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        p0, p1 = int(p_bounds[piece]), int(p_bounds[piece + 1])
        fine = np.empty(max(1, int(per_part[p0:p1].max(initial=0))), dtype=np.uint32)
        room = OUT_PER_QUERY * n // pieces + 64
        while True:
            out = [np.empty(room, dtype=np.int64) for _ in range(3)]
            found = kernel.join_verify(
                words, qwords, radius, shift, FINE_SHIFT, q_bits, p0, p1, bufs, fills, fine,
                *out,
            )  # fmt: skip
            if found <= room:
                return out[0][:found], out[1][:found], out[2][:found]
            room = found

    q, rows, dist = concat3(list(mapper(verify, range(pieces))))
    return q + q_offset, rows, dist


_space: NDArray[np.uint32] | None = None


def _list_space(size: int) -> NDArray[np.uint32]:
    """`size` uint32 for the candidate lists, kept from one join to the next (one runs at a
    time: `GATE`). Fresh memory for every batch cost more than the lists' writes: the
    kernel zeroes (and, for huge pages, compacts memory for) every page on first touch,
    measured 85-157 µs of system time per query at 100M. Kept, it stays resident (at most
    `BUFFER_BYTES`, and only while `KEEP_FRACTION` of the segment's arrays)."""
    global _space
    if _space is None or len(_space) < size:
        _space = None  # the old one freed before the new one is touched
        _space = np.empty(size, dtype=np.uint32)
    return _space


def release() -> None:
    """Free the kept candidate lists (a long-lived process done with large batches)."""
    with GATE:
        release_now()


def release_now() -> None:
    """`release` for a caller that holds `GATE`."""
    global _space
    _space = None


def _parts(seg: Segment) -> int:
    return (len(seg) >> coarse_shift_for(len(seg))) + 1


def _room(seg: Segment, radius: int, n_queries: int, threads: int) -> int:
    """Entries per list: a thread's share of the expected candidates of one range."""
    share = math.ceil(n_queries / threads)
    return int(expected_candidates(seg, radius) * share / _parts(seg) * MARGIN) + SLACK
