"""Multi-index hashing over numpy arrays: one static, exact segment of PDQ hashes.

Why this is exact (docs/decisions/index.md has the longer note): the 256 bits are cut into
`m` disjoint chunks. If two hashes differ in at most `r` bits and chunk j is searched with
radius r_j (every chunk value within r_j bit flips is probed), then choosing the r_j so that
sum(r_j + 1) >= r + 1 guarantees a hit: were every chunk off by more than its r_j, the total
distance would be at least sum(r_j + 1) > r. A chunk may be skipped (r_j = -1). Probing only
the top `k_j` bits of a chunk (the bucket table is sized to the segment) keeps this true —
the stored chunk, truncated the same way, is among the truncated probes. Every candidate is
then verified with the exact 256-bit Hamming distance, so there are no false positives
either.

A segment is immutable once built (rows are only marked dead); the index in `pdq.py` stacks
segments and merges them.
"""

from __future__ import annotations

import math
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from typing import Any

import numpy as np
from numpy.typing import NDArray

from tantalio.index.codec import PDQ_BITS, Words, hamming

MIN_KEY_BITS = 6
MAX_KEY_BITS = 24  # a bucket table of 2**24 uint32 = 64 MiB per chunk at most
# A gathered probe or candidate costs about this many rows of a sequential brute-force scan;
# a segment is scanned instead of probed when that is cheaper (small segments, huge radii).
SCAN_COST_RATIO = 10
# Probe and candidate elements handled per vectorised pass (bounds temporary memory).
BATCH_ELEMENTS = 1 << 17  # ~1 MB per temporary: measured best at 1M and 10M
SMALL_VALUES = 16  # up to this many hashes, `Layout.values` uses Python ints
PACK_BLOCK = 1 << 16  # row-table entries packed per step (`pack_rows`: stays in L2)
# Probe and verify in the compiled loop (kernel.py); False: the numpy passes below (the
# reference the tests compare it with).
USE_KERNEL = True

# Per radius: probe -> chunk, probe -> flip mask, probe -> table base, chunk -> key shift.
_Plan = tuple[NDArray[np.intp], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]


@dataclass(frozen=True, slots=True)
class Layout:
    """How the 256 bits are cut: chunk j covers bits [starts[j], starts[j] + widths[j])."""

    widths: tuple[int, ...]

    @property
    def starts(self) -> tuple[int, ...]:
        out, pos = [], 0
        for w in self.widths:
            out.append(pos)
            pos += w
        return tuple(out)

    @classmethod
    def even(cls, n_chunks: int) -> Layout:
        if not 1 <= n_chunks <= 64:
            raise ValueError("n_chunks must be between 1 and 64")
        base, extra = divmod(PDQ_BITS, n_chunks)
        if base > 63:
            raise ValueError("chunks wider than 63 bits are not supported; use more chunks")
        return cls(tuple(base + 1 if j < extra else base for j in range(n_chunks)))

    def values(self, qwords: Words) -> NDArray[np.int64]:
        """Every chunk's value for each hash, shape (n, chunks), by integer shifts and masks.
        Was a float matrix product over the unpacked bits: OpenBLAS ran even a one-query
        product on helper threads that spin after each call (2.2 cores busy, measured),
        taking a core from the other search thread. A few hashes (a single lookup, an
        image's orientations) go through Python ints: ~5 µs a hash against ~40 µs for the
        ~50 numpy calls of the column path."""
        if len(qwords) <= SMALL_VALUES:
            cuts = [
                (PDQ_BITS - start - width, (1 << width) - 1)
                for start, width in zip(self.starts, self.widths, strict=True)
            ]
            rows = []
            for a, b, c, d in qwords.tolist():
                v = (a << 192) | (b << 128) | (c << 64) | d
                rows.append([(v >> shift) & mask for shift, mask in cuts])
            return np.array(rows, dtype=np.int64).reshape(len(qwords), len(cuts))
        out = np.empty((len(qwords), len(self.widths)), dtype=np.int64)
        for j, (start, width) in enumerate(zip(self.starts, self.widths, strict=True)):
            out[:, j] = chunk_column(qwords, start, width)
        return out


def default_chunks(threshold: int) -> int:
    """About three bits of slack per chunk at the threshold (radius 2 per chunk), never
    chunks wider than 24 bits: the fewest probes plus candidates for 1M-10M random hashes."""
    return max(11, min(32, math.ceil((threshold + 1) / 3)))


def chunk_column(words: Words, start: int, width: int) -> NDArray[np.uint64]:
    """The value of bits [start, start + width) of each hash, as uint64 (MSB first)."""
    a, s = divmod(start, 64)
    if s + width <= 64:
        shifted = words[:, a] >> np.uint64(64 - s - width)
        return shifted & np.uint64((1 << width) - 1)
    w1 = 64 - s
    w2 = width - w1
    hi = (words[:, a] & np.uint64((1 << w1) - 1)) << np.uint64(w2)
    return hi | (words[:, a + 1] >> np.uint64(64 - w2))


def allocate_radii(
    radius: int,
    widths: tuple[int, ...],
    key_bits: tuple[int, ...] | None = None,
    rows: int = 0,
    *,
    direct: bool = False,
) -> list[int]:
    """Per-chunk search radii r_j with sum(r_j + 1) == radius + 1 (-1 = chunk skipped).

    Without `key_bits`: the widest chunks get the smaller radii. With the segment's
    `key_bits` and row count: the radii that minimise the expected random reads per query
    (`probe_cost`). Any split with that sum is exact; they differ only in cost. At 100M and
    31 the radius-1 chunk is then a 23-bit chunk with a row table (~12 rows a bucket)
    instead of a 24-bit one (~6): 4 % fewer reads, 6 % less time per query (measured)."""
    m = len(widths)
    if key_bits is None or rows <= 0:
        q, rem = divmod(radius + 1, m)
        by_width = sorted(range(m), key=lambda j: (-widths[j], j))
        radii = [0] * m
        for rank, j in enumerate(by_width):
            radii[j] = q if rank >= m - rem else q - 1
        return radii
    budget = radius + 1
    # best[s]: (cost, radii of the chunks so far) with sum(r + 1) == s; a chunk's radius
    # beyond its key bits probes nothing more, so r is capped at k (more slack is wasted).
    best: dict[int, tuple[float, tuple[int, ...]]] = {0: (0.0, ())}
    for j, k in enumerate(key_bits):
        is_direct = direct and j == m - 1
        step: dict[int, tuple[float, tuple[int, ...]]] = {}
        for used, (cost, chosen) in best.items():
            for r in range(-1, min(k, budget - used - 1) + 1):
                total = used + r + 1
                c = cost + probe_cost(k, r, rows, direct=is_direct)
                if total not in step or c < step[total][0] - 1e-9:
                    step[total] = (c, (*chosen, r))
        best = step
    if budget in best:
        return list(best[budget][1])
    # Radius beyond what the chunks can split (every chunk at full width): probe them all.
    return [min(k, budget) for k in key_bits]


def probe_cost(k: int, r: int, rows: int, *, direct: bool = False) -> float:
    """Expected random reads per query for one chunk with a `k`-bit table searched at
    radius `r` over `rows` uniform hashes: per probe the bucket bounds and, where the bucket
    holds rows, its row-table slice (none for the chunk the rows are sorted by), plus one
    hash per candidate (a quarter of a read for that chunk: its rows lie side by side)."""
    if r < 0:
        return 0.0
    probes = chunk_probes(k, r)
    per_bucket = rows / float(1 << k)
    non_empty = -math.expm1(-per_bucket)
    per_probe = 1.0 + (0.0 if direct else non_empty) + per_bucket * (0.25 if direct else 1.0)
    return probes * per_probe


def chunk_probes(k: int, r: int) -> int:
    """Probes of one chunk with a `k`-bit table searched at radius `r` (none when skipped):
    every key within `r` bit flips."""
    return sum(math.comb(k, i) for i in range(min(r, k) + 1)) if r >= 0 else 0


def probes_per_query(key_bits: tuple[int, ...], radii: list[int]) -> int:
    return sum(chunk_probes(k, r) for k, r in zip(key_bits, radii, strict=True))


@lru_cache(maxsize=64)
def flip_masks(bits: int, radius: int) -> NDArray[np.int64]:
    """Every `bits`-wide mask with at most `radius` bits set (0 first)."""
    masks = [0]
    for count in range(1, min(radius, bits) + 1):
        for positions in combinations(range(bits), count):
            value = 0
            for p in positions:
                value |= 1 << p
            masks.append(value)
    out = np.array(masks, dtype=np.int64)
    out.setflags(write=False)
    return out


def key_bits_for(n: int, widths: tuple[int, ...]) -> tuple[int, ...]:
    """Bucket-table width per chunk: about four slots per stored hash (2.8 to 5.7), capped
    by the chunk. Sparse tables mean few random candidates per probe — the gathers that
    dominate a search — for at most ~250 bytes of table per hash (between 1M and 4M
    hashes; at 10M the 23/24-bit chunks cap it at ~45)."""
    k = max(MIN_KEY_BITS, min(MAX_KEY_BITS, round(math.log2(max(4 * n, 1)))))
    return tuple(min(k, w) for w in widths)


def table_sizes(key_bits: tuple[int, ...]) -> list[int]:
    """Slots of each chunk's bucket-boundary table (2**k + 1: one past the last bucket)."""
    return [(1 << k) + 1 for k in key_bits]


def row_bits_for(n: int) -> int:
    """Bits per packed row number: 27 at 100M instead of 32 (625 MB less at 100M)."""
    return max(1, (n - 1).bit_length())


def stride_for(n: int) -> int:
    """Each chunk's share of the bucket positions: n rounded up to 64 rows, so every
    chunk's packed rows start on a word boundary (chunks are packed in parallel)."""
    return -(-n // 64) * 64


def packed_words(n: int, chunks: int, direct: bool) -> int:
    """Length of a segment's packed row table: one chunk fewer when the rows are sorted by
    the last chunk's key (`direct`), plus one word of padding for the two-word read."""
    entries = (chunks - int(direct)) * stride_for(n)
    return entries * row_bits_for(n) // 64 + 1


def sorted_chunk_order(words: Words, layout: Layout, key_bits: tuple[int, ...]) -> NDArray[np.intp]:
    """The row order that sorts the hashes by their last chunk's key (rows ascending within
    a bucket). Stored in this order, that chunk's buckets are ranges of rows: no row table
    to store or read for it, and its candidates lie side by side (`Segment`, `direct`).
    The last chunk: one of the narrowest, so among the most probed (radius 2 at 31 with 11
    chunks: 277 probes and ~3,300 candidates at 100M; `allocate_radii` gives radius 1 to a
    chunk with a row table, where a probe costs more)."""
    n = len(words)
    width, k = layout.widths[-1], key_bits[-1]
    keys = chunk_column(words, layout.starts[-1], width)
    keys >>= np.uint64(width - k)
    keys <<= np.uint64(32)
    for lo in range(0, n, 1 << 24):
        hi = min(n, lo + (1 << 24))
        keys[lo:hi] |= np.arange(lo, hi, dtype=np.uint64)
    keys.sort()
    keys &= np.uint64(0xFFFF_FFFF)
    return keys.astype(np.intp)


def build_tables(
    words: Words,
    layout: Layout,
    key_bits: tuple[int, ...],
    order: NDArray[np.uint64],
    offsets: NDArray[np.uint32],
    workers: int | None = None,
    *,
    direct: bool = False,
) -> None:
    """Fill a segment's `order` (zeroed, `packed_words` long) and `offsets` in place. Both
    may be memory-mapped files and `words` a memory-mapped array: a 100M-hash build then
    holds only one chunk's sort keys per worker (~1.6 GB at 100M) instead of every array
    (bulk.py). With `direct` the rows are already sorted by the last chunk's key
    (`sorted_chunk_order`): that chunk gets bucket bounds only."""
    n = len(words)
    sizes = table_sizes(key_bits)
    bases = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    stride, bits = stride_for(n), row_bits_for(n)

    def build_chunk(j: int) -> None:
        start, width, k = layout.starts[j], layout.widths[j], key_bits[j]
        keys = chunk_column(words, start, width)
        keys >>= np.uint64(width - k)
        base = int(bases[j])
        table = np.empty(sizes[j], dtype=np.uint32)
        table[0] = 0
        # keys < 2**24: viewing them as int64 (for bincount) copies nothing.
        np.cumsum(np.bincount(keys.view(np.int64), minlength=1 << k), out=table[1:])
        table += np.uint32(j * stride)
        offsets[base : base + sizes[j]] = table
        del table
        if direct and j == len(sizes) - 1:
            return
        # Sorting (key << 32 | row) as one uint64 is about twice as fast as argsort and
        # keeps each bucket's rows ascending (friendlier to the later gathers).
        keys <<= np.uint64(32)
        for lo in range(0, n, 1 << 24):  # in slices: no n-sized arange beside the keys
            hi = min(n, lo + (1 << 24))
            keys[lo:hi] |= np.arange(lo, hi, dtype=np.uint64)
        keys.sort()
        # The low 32 bits, the row numbers, packed at this chunk's entries.
        pack_rows(keys, np.asarray(order), j * stride, bits)

    if workers is None:
        workers = max(1, min(len(sizes), os.cpu_count() or 1, 4)) if n >= 100_000 else 1
    if workers == 1:
        for j in range(len(sizes)):
            build_chunk(j)
    else:
        # numpy releases the GIL in sort, bincount and cumsum: chunks build in parallel.
        with ThreadPoolExecutor(max_workers=workers) as pool:
            list(pool.map(build_chunk, range(len(sizes))))


class Segment:
    """An immutable block of hashes with one bucket table per chunk (CSR layout).

    `order` holds, chunk after chunk, the row numbers sorted by that chunk's key, packed
    `row_bits` to an entry (`pack_rows`); `offsets` holds the bucket boundaries of
    every chunk's table in bucket positions (chunk j's at j * `stride_for(n)`), so a probe
    is two reads whatever its chunk. When the rows themselves are stored sorted by the last
    chunk's key (`direct`: `Segment.sorted`, `bulk.build_dir`), that chunk's positions are
    the row numbers: `order` omits it (1/11 of the row tables) and its candidates are
    consecutive rows. Position p < `direct_start` is entry p of `order`; p >=
    `direct_start` is row p - `direct_start`.
    """

    __slots__ = (
        "_plans",
        "words",
        "ids",
        "alive",
        "n_dead",
        "layout",
        "key_bits",
        "order",
        "offsets",
        "occupied",
        "direct",
        "direct_start",
        "row_bits",
        "_table_base",
        "_id_sorted",
        "_id_rows",
    )

    def __init__(
        self,
        words: Words,
        ids: NDArray[np.int64],
        layout: Layout,
        *,
        alive: NDArray[np.bool_] | None = None,
        key_bits: tuple[int, ...] | None = None,
        order: NDArray[np.uint64] | None = None,
        offsets: NDArray[np.uint32] | None = None,
        occupied: NDArray[np.uint8] | None = None,
        direct: bool = False,
        id_index: tuple[NDArray[np.int64], NDArray[np.integer]] | None = None,
    ) -> None:
        n = len(words)
        if len(ids) != n:
            raise ValueError("ids and hashes differ in length")
        if len(layout.widths) * stride_for(n) >= 2**32:
            raise ValueError("segment too large for 32-bit row tables")
        self.direct = direct
        # Past every position when no chunk is direct.
        self.direct_start = (len(layout.widths) - 1) * stride_for(n) if direct else 1 << 62
        self.row_bits = row_bits_for(n)
        self.words = words
        self.ids = ids
        self.layout = layout
        self.alive = np.ones(n, dtype=np.bool_) if alive is None else alive
        self.n_dead = int(n - np.count_nonzero(self.alive))
        self.key_bits = key_bits_for(n, layout.widths) if key_bits is None else key_bits
        sizes = table_sizes(self.key_bits)
        self._table_base = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        if order is None or offsets is None:
            order, offsets = self._build_tables(sizes)
        if len(order) != packed_words(n, len(layout.widths), direct) or len(offsets) != sum(sizes):
            raise ValueError("segment tables do not match its hashes")
        self.order = order
        self.offsets = offsets
        self.occupied = occupancy(offsets) if occupied is None else occupied
        if len(self.occupied) != (len(offsets) + 7) // 8:
            raise ValueError("segment occupancy bitmap does not match its tables")
        self._id_sorted: NDArray[np.int64] | None = None
        self._id_rows: NDArray[np.integer] | None = None
        if id_index is not None:  # saved beside the segment: no argsort on the first write
            self._id_sorted, self._id_rows = id_index
        self._plans: dict[int, _Plan | None] = {}

    @classmethod
    def sorted(
        cls,
        words: Words,
        ids: NDArray[np.int64],
        layout: Layout,
        *,
        alive: NDArray[np.bool_] | None = None,
        key_bits: tuple[int, ...] | None = None,
    ) -> Segment:
        """A segment of these rows stored in the last chunk's key order (`direct`)."""
        if key_bits is None:
            key_bits = key_bits_for(len(words), layout.widths)
        perm = sorted_chunk_order(words, layout, key_bits)
        seg = cls(
            np.take(words, perm, axis=0),  # take: ~4x faster than words[perm] here
            ids[perm],
            layout,
            alive=None if alive is None else alive[perm],
            key_bits=key_bits,
            direct=True,
        )
        if len(ids) < 2 or bool(np.all(ids[1:] > ids[:-1])):
            # Ids given ascending (a build from a bank's rows): the id lookup is where each
            # went, one scatter now instead of an argsort on the first write (1.4 s at 10M).
            rows = np.empty(len(ids), dtype=np.uint32)
            rows[perm] = np.arange(len(ids), dtype=np.uint32)
            seg._id_sorted, seg._id_rows = ids, rows
        return seg

    def __len__(self) -> int:
        return len(self.words)

    @property
    def n_alive(self) -> int:
        return len(self.words) - self.n_dead

    def _build_tables(self, sizes: list[int]) -> tuple[NDArray[np.uint64], NDArray[np.uint32]]:
        n = len(self.words)
        order = np.zeros(packed_words(n, len(sizes), self.direct), dtype=np.uint64)
        offsets = np.empty(sum(sizes), dtype=np.uint32)
        build_tables(self.words, self.layout, self.key_bits, order, offsets, direct=self.direct)
        return order, offsets

    def rows_at(self, pos: NDArray[np.intp]) -> NDArray[np.intp]:
        """Row numbers at bucket positions `pos` (the numpy path's form of the kernel's
        pass 3): from `direct_start` on, positions are rows; below, entries of `order`."""
        rows = pos.astype(np.intp, copy=True)
        rows -= self.direct_start
        packed = np.flatnonzero(pos < self.direct_start)
        if len(packed):
            rows[packed] = unpack_rows(self.order, pos[packed], self.row_bits)
        return rows

    def memory_bytes(self) -> int:
        extra = 0
        if self._id_sorted is not None and self._id_rows is not None:  # else: the ids
            extra = self._id_sorted.nbytes + self._id_rows.nbytes
        return (
            self.words.nbytes
            + self.ids.nbytes
            + self.alive.nbytes
            + self.order.nbytes
            + self.offsets.nbytes
            + self.occupied.nbytes
            + extra
        )

    # -- removal support -------------------------------------------------------------

    def locate(self, ids: NDArray[np.int64]) -> NDArray[np.int64]:
        """Rows of the given ids that are alive here (built lazily: only writers pay)."""
        if self._id_sorted is None:
            if len(self.ids) < 2 or bool(np.all(self.ids[1:] > self.ids[:-1])):
                # Ids already ascending (a bulk build from a bank's row ids): the rows are
                # their own lookup, no argsort and no copy (~10 s and 1.6 GB at 100M).
                self._id_sorted, self._id_rows = self.ids, None
            else:
                rows = np.argsort(self.ids, kind="stable")
                self._id_rows = rows
                self._id_sorted = self.ids[rows]
        if len(self._id_sorted) == 0 or len(ids) == 0:
            return np.zeros(0, dtype=np.int64)
        pos = np.minimum(np.searchsorted(self._id_sorted, ids), len(self._id_sorted) - 1)
        found = pos[self._id_sorted[pos] == ids]
        rows = found if self._id_rows is None else self._id_rows[found].astype(np.int64)
        return rows[self.alive[rows]]

    def mark_ids_ascending(self) -> None:
        """The writer knows the ids ascend (a bulk build): skip the check `locate` would
        make on the first write (a full read of the ids: seconds at 100M from disk)."""
        self._id_sorted, self._id_rows = self.ids, None

    def kill(self, rows: NDArray[np.int64]) -> None:
        rows = rows[self.alive[rows]]
        self.alive[rows] = False
        self.n_dead += len(rows)

    # -- search -----------------------------------------------------------------------

    def search(
        self, qwords: Words, radius: int, values: NDArray[np.int64] | None = None
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """(query number, row, distance) of every alive row within `radius`, each pair once.
        `values` are the queries' chunk values (`Layout.values`) when already computed."""
        if len(self.words) == 0 or len(qwords) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        plan = self._plan(radius)
        if plan is None:
            return self._scan(qwords, radius)
        if values is None:
            values = self.layout.values(qwords)
        if USE_KERNEL:
            return self._search_kernel(qwords, values, radius, plan)
        per_query = len(plan[0])
        # Expected candidates per probe is about n / 2**k; budget the batch by both.
        load = per_query * (1.0 + len(self.words) / float(1 << min(self.key_bits)))
        step = max(1, int(BATCH_ELEMENTS // max(load, 1.0)))
        parts = [
            self._search_batch(qwords[i : i + step], values[i : i + step], radius, plan, i)
            for i in range(0, len(qwords), step)
        ]
        return concat3(parts)

    def radii(self, radius: int) -> list[int]:
        """Each chunk's search radius for `radius` (`allocate_radii` with this segment's
        table widths, size and sorted chunk)."""
        return allocate_radii(
            radius, self.layout.widths, self.key_bits, len(self.words), direct=self.direct
        )

    def _plan(self, radius: int) -> _Plan | None:
        """For one radius: the chunk each probe reads, the bit flips it applies, the table
        it lands in, and each chunk's key shift — or None when a plain scan is cheaper
        (small segments, large radii).
        Cached: only a few radii are ever used."""
        if radius in self._plans:
            return self._plans[radius]
        radii = self.radii(radius)
        per_query = probes_per_query(self.key_bits, radii)
        per_probe = 1.0 + len(self.words) / float(1 << min(self.key_bits))
        plan: _Plan | None = None
        if per_query * per_probe * SCAN_COST_RATIO < len(self.words):
            chunk_of, masks = [], []
            for j, (k, r) in enumerate(zip(self.key_bits, radii, strict=True)):
                if r >= 0:
                    flips = flip_masks(k, r)
                    chunk_of.append(np.full(len(flips), j, dtype=np.intp))
                    masks.append(flips)
            chunks = np.concatenate(chunk_of)
            shifts = np.array(
                [w - k for w, k in zip(self.layout.widths, self.key_bits, strict=True)],
                dtype=np.int64,
            )
            plan = (chunks, np.concatenate(masks), self._table_base.take(chunks), shifts)
        self._plans[radius] = plan
        return plan

    def _search_kernel(
        self, qwords: Words, values: NDArray[np.int64], radius: int, plan: _Plan
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """The compiled probe-and-verify loop (kernel.py): the same answer as
        `_search_batch`, with more of its random reads in flight and the GIL released."""
        from tantalio.index import kernel

        words = np.ascontiguousarray(self.words)
        qwords = np.ascontiguousarray(qwords)
        values = np.ascontiguousarray(values)
        cap = max(64, 16 * len(qwords))
        while True:
            out_q = np.empty(cap, dtype=np.int64)
            out_row = np.empty(cap, dtype=np.int64)
            out_d = np.empty(cap, dtype=np.int64)
            count = kernel.search_kernel(
                words,
                self.kernel_tables(),
                plan,
                values,
                qwords,
                radius,
                kernel.PREFETCH,
                out_q,
                out_row,
                out_d,
            )
            if count <= cap:
                break
            cap = count
        return self._live_once(out_q[:count], out_row[:count], out_d[:count])

    def kernel_tables(self) -> tuple[Any, ...]:
        """This segment's tables as the compiled kernels take them (`kernel.Tables`). The
        occupancy bitmap pays only where most buckets are empty (1M-10M); at 100M nearly
        every probed bucket holds rows and the test is one more read per probe."""
        use_bitmap = len(self.words) < (1 << min(self.key_bits))
        return (
            np.asarray(self.order),
            self.row_bits,
            self.direct_start,
            np.asarray(self.offsets),
            self.occupied,
            use_bitmap,
        )

    def _live_once(
        self, cand_q: NDArray[np.intp], rows: NDArray[Any], dist: NDArray[Any]
    ) -> tuple[NDArray[np.intp], NDArray[Any], NDArray[Any]]:
        """Hits within the radius, less dead rows, each (query, row) once: a row may be
        reached through several chunks."""
        if self.n_dead:
            keep = self.alive[rows]
            rows, cand_q, dist = rows[keep], cand_q[keep], dist[keep]
        if len(rows) > 1:
            _, first = np.unique(cand_q * len(self.words) + rows, return_index=True)
            rows, cand_q, dist = rows[first], cand_q[first], dist[first]
        return cand_q, rows, dist

    def _search_batch(
        self, qwords: Words, values: NDArray[np.int64], radius: int, plan: _Plan, q_offset: int
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        nq = len(qwords)
        chunk_of, masks, bases, shifts = plan
        per_query = len(chunk_of)
        # Probes, query-major: (truncated chunk key XOR flip mask) + that chunk's table base.
        probes = np.bitwise_xor((values >> shifts).take(chunk_of, axis=1), masks)
        probes += bases
        probes = probes.ravel()
        # Most probes hit empty buckets: test the occupancy bitmap (1 bit per slot, small
        # enough to stay in cache) before reading bucket boundaries from the big table.
        bits = self.occupied.take(probes >> 3)
        bits >>= (probes & 7).astype(np.uint8)
        hit = np.flatnonzero(bits & 1)
        if len(hit) == 0:
            empty = np.zeros(0, dtype=np.int64)
            return empty, empty, empty
        probes = probes[hit]
        starts = self.offsets.take(probes).astype(np.intp)
        probes += 1
        lens = self.offsets.take(probes).astype(np.intp)
        lens -= starts
        del probes
        ends = np.cumsum(lens)
        total = int(ends[-1])
        # Candidate positions in `order`, every hit bucket's range end to end: a running sum
        # of +1 steps with a jump where a bucket begins (cheaper than np.repeat).
        pos = np.ones(total, dtype=np.intp)
        pos[0] = starts[0]
        pos[ends[:-1]] = starts[1:] - (starts[:-1] + lens[:-1]) + 1
        np.cumsum(pos, out=pos)
        rows = self.rows_at(pos)
        del pos
        if nq == 1:
            cand_q = np.zeros(total, dtype=np.intp)
        else:
            # Probes are query-major, so the candidates of query q form one run.
            bounds = np.searchsorted(hit, np.arange(1, nq + 1) * per_query)
            per_q = np.diff(np.concatenate([[0], ends]).take(bounds), prepend=0)
            cand_q = np.repeat(np.arange(nq, dtype=np.intp), per_q)
        dist = _distances(self.words.take(rows, axis=0), qwords.take(cand_q, axis=0))
        keep = dist <= radius
        rows, cand_q, dist = rows[keep], cand_q[keep], dist[keep]
        cand_q, rows, dist = self._live_once(cand_q, rows, dist)
        return (cand_q + q_offset).astype(np.int64), rows.astype(np.int64), dist

    def _scan(
        self, qwords: Words, radius: int
    ) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        return scan(self.words, qwords, radius, self.alive)


def pack_rows(keys: NDArray[np.uint64], packed: NDArray[np.uint64], first: int, bits: int) -> None:
    """Write the low 32 bits of each of `keys` (row numbers < 2**bits) into `packed` as
    entries first, first + 1, ... of `bits` bits each (`first` a multiple of 64: a group of
    64 entries fills exactly `bits` words, so groups are packed column by column with no
    scatter, and parallel writers of word-aligned ranges never share a word)."""
    if first % 64:
        raise ValueError("packed ranges start at a multiple of 64 entries")
    pos = np.arange(64) * bits
    word, off = pos >> 6, pos & 63
    base = first // 64 * bits
    for lo in range(0, len(keys), PACK_BLOCK):
        v = keys[lo : lo + PACK_BLOCK] & np.uint64(0xFFFF_FFFF)
        groups = -(-len(v) // 64)
        if len(v) < groups * 64:
            v = np.concatenate([v, np.zeros(groups * 64 - len(v), np.uint64)])
        v = v.reshape(groups, 64)
        out = np.zeros((groups, bits), np.uint64)
        for k in range(64):
            w, o = int(word[k]), int(off[k])
            out[:, w] |= v[:, k] << np.uint64(o)
            if o + bits > 64:
                out[:, w + 1] |= v[:, k] >> np.uint64(64 - o)
        start = base + lo // 64 * bits
        packed[start : start + groups * bits] = out.ravel()


def unpack_rows(
    packed: NDArray[np.uint64], entries: NDArray[np.intp], bits: int
) -> NDArray[np.intp]:
    """Entries of a `bits`-bit table packed into 64-bit words (`pack_rows`)."""
    pos = entries.astype(np.uint64) * np.uint64(bits)
    word = (pos >> np.uint64(6)).astype(np.intp)
    off = pos & np.uint64(63)
    value = packed.take(word) >> off
    # (x << 1) << (63 - off): no shift by 64 when off is 0 (the last word is padding).
    value |= (packed.take(word + 1) << np.uint64(1)) << (np.uint64(63) - off)
    value &= np.uint64((1 << bits) - 1)
    return value.astype(np.intp)


def occupancy(offsets: NDArray[np.uint32]) -> NDArray[np.uint8]:
    """Bit p (little-endian within each byte) set when bucket slot p is non-empty."""
    out = np.zeros((len(offsets) + 7) // 8, dtype=np.uint8)
    block = 1 << 22  # a multiple of 8: blocks pack into whole bytes
    for start in range(0, max(len(offsets) - 1, 0), block):
        stop = min(start + block, len(offsets) - 1)
        full = offsets[start + 1 : stop + 1] > offsets[start:stop]
        packed = np.packbits(full, bitorder="little")
        out[start // 8 : start // 8 + len(packed)] = packed
    return out


def scan(
    words: Words, qwords: Words, radius: int, alive: NDArray[np.bool_] | None = None
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Brute force: every (query, row, distance) within `radius`. For small blocks (the
    index's tail) and for radii so large that probing would cost more than scanning."""
    n = len(words)
    if n == 0 or len(qwords) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    step = max(1, BATCH_ELEMENTS // (4 * n))
    parts = []
    for i in range(0, len(qwords), step):
        d = hamming(qwords[i : i + step, None, :], words[None, :, :])
        q, row = np.nonzero(d <= radius)
        if alive is not None:
            ok = alive[row]
            q, row = q[ok], row[ok]
        parts.append((q.astype(np.int64) + i, row.astype(np.int64), d[q, row].astype(np.int64)))
    return concat3(parts)


_BYTE_SUM = np.uint32(0x01010101)
_ALL_DIFFERENT = np.uint32(0x40404040)


def _distances(a: Words, b: Words) -> NDArray[np.int64]:
    """Row-wise Hamming distance, overwriting `a`. Summing the four per-word popcounts
    by one multiply is ~3x faster than a sum over axis 1; the one sum that wraps (all 256
    bits different: 4 x 64 = 256) is patched."""
    np.bitwise_xor(a, b, out=a)
    counts = np.bitwise_count(a).view(np.uint32).ravel()
    dist = ((counts * _BYTE_SUM) >> np.uint32(24)).astype(np.int64)
    dist[counts == _ALL_DIFFERENT] = 256
    return dist


def concat3(
    parts: list[tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]],
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """Join (query, row, distance) triples part by part."""
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    if len(parts) == 1:
        return parts[0]
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]),
    )
