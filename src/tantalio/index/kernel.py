"""Compiled probe-and-verify loop for `mih.Segment` (numba, GIL released).

Why: at 100M hashes a radius-31 query reads ~2,800 bucket boundaries, ~2,800 row-table
slices and ~30,000 hashes, each a random read of a multi-GB array. The cost is memory
latency, so what counts is how many of those reads are in flight at once. numpy's path
runs one gather per step over every probe of a batch, with large temporaries between
them; this kernel handles one query at a time in three tight passes whose buffers stay in
the L2 cache (bucket bounds, then row numbers, then hashes), and prefetches the hash of
the candidate `PREFETCH` places ahead, so ~20 independent reads are outstanding instead of
the handful the out-of-order window finds by itself. docs/perf/index_100m.md has the
figures; docs/decisions/index.md why numba.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic
from numpy.typing import NDArray

# How many candidates ahead the hash is prefetched (`ahead`; 0: no prefetch).
PREFETCH = 16


def _prefetch_typer(typingctx, arr, idx):  # type: ignore[no-untyped-def]
    """Software prefetch (read, keep in all cache levels) of `arr[idx, 0]`."""
    sig = types.void(arr, idx)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        zero = context.get_constant(types.intp, 0)
        first = context.cast(builder, args[1], signature.args[1], types.intp)
        index = [first] + [zero] * (aryty.ndim - 1)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, index)
        i8p = ir.IntType(8).as_pointer()
        fnty = ir.FunctionType(ir.VoidType(), [i8p, ir.IntType(32), ir.IntType(32), ir.IntType(32)])
        fn = cgutils.get_or_insert_function(builder.module, fnty, "llvm.prefetch.p0")
        i32 = ir.IntType(32)
        builder.call(fn, [builder.bitcast(ptr, i8p), i32(0), i32(3), i32(1)])
        return context.get_dummy_value()

    return sig, codegen


def _popcount_typer(typingctx, x):  # type: ignore[no-untyped-def]
    sig = types.uint64(types.uint64)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        i64 = ir.IntType(64)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(i64, [i64]), "llvm.ctpop.i64"
        )
        return builder.call(fn, [args[0]])

    return sig, codegen


# A segment's tables as the kernels take them: (row table `order`, bit-packed at `row_bits`
# an entry (`mih.pack_rows`); `direct_start`, from which a bucket position p is row
# p - direct_start (the chunk the rows are sorted by); bucket bounds `offsets`; the
# occupancy bitmap `occupied` and whether to test it).
Tables = tuple[NDArray[np.uint64], int, int, NDArray[np.uint32], NDArray[np.uint8], bool]
# A radius's probes (`mih.Segment._plan`): probe -> chunk, probe -> flip mask, probe ->
# table base, chunk -> key shift.
Plan = tuple[NDArray[np.intp], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]

# Typed as Any: mypy cannot see through numba's intrinsic wrapper.
_prefetch: Any = intrinsic(_prefetch_typer)
_popcount: Any = intrinsic(_popcount_typer)
popcount = _popcount  # llvm.ctpop.i64; also localfeat/kernel.py's (it vectorizes with AVX-512)
prefetch = _prefetch  # also localfeat/kernel.py's


@njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _unpack(packed: NDArray[np.uint64], i: int, bits: int) -> int:
    """Entry `i` of a table of `bits`-bit entries packed little-endian into 64-bit words
    (at most two loads, nearly always in one cache line)."""
    pos = np.uint64(i * bits)
    w = pos >> np.uint64(6)
    off = pos & np.uint64(63)
    v = packed[w] >> off
    # (x << 1) << (63 - off): no shift by 64 (undefined) when off is 0.
    v |= (packed[w + np.uint64(1)] << np.uint64(1)) << (np.uint64(63) - off)
    return np.int64(v & ((np.uint64(1) << np.uint64(bits)) - np.uint64(1)))  # type: ignore[return-value]


@njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _candidate_rows(
    q: int,
    tables: Tables,
    plan: Plan,
    values: NDArray[np.int64],
    ahead: int,
    slots: NDArray[np.int64],
    starts: NDArray[np.int64],
    lens: NDArray[np.int64],
    rows: NDArray[np.int64],
) -> tuple[int, NDArray[np.int64]]:
    """Passes 1-3 for query `q`: the rows of every probed bucket, in `rows` (grown when
    too small; returned with their count)."""
    order, row_bits, direct_start, offsets, occupied, use_bitmap = tables
    chunk_of, masks, bases, shifts = plan
    n_probes = len(chunk_of)
    # Pass 1: the probed slots, compacted without branches to those the occupancy
    # bitmap marks (a mispredicted branch per probe would drain the reads in flight).
    nb = 0
    for p in range(n_probes):
        c = chunk_of[p]
        slot = ((values[q, c] >> shifts[c]) ^ masks[p]) + bases[p]
        slots[nb] = slot
        if use_bitmap:
            nb += (occupied[slot >> 3] >> (slot & 7)) & 1
        else:
            nb += 1
    # Pass 2: the bounds of those buckets (independent reads of `offsets`).
    total = 0
    for b in range(nb):
        if b + ahead < nb:
            _prefetch(offsets, slots[b + ahead])
        s = np.int64(offsets[slots[b]])
        e = np.int64(offsets[slots[b] + 1])
        starts[b] = s
        lens[b] = e - s
        total += int(e - s)
    if total > len(rows):
        rows = np.empty(total * 2, dtype=np.int64)
    # Pass 3: the row numbers in those buckets (independent reads of `order`; none
    # for the buckets of the chunk the rows are sorted by: their rows are consecutive).
    k = 0
    for b in range(nb):
        if b + ahead < nb and starts[b + ahead] < direct_start:
            _prefetch(order, (starts[b + ahead] * row_bits) >> 6)
        s = starts[b]
        if s >= direct_start:
            for i in range(lens[b]):
                rows[k] = s - direct_start + i
                k += 1
        else:
            for i in range(lens[b]):
                rows[k] = _unpack(order, s + i, row_bits)
                k += 1
    return total, rows


@njit(nogil=True, cache=True, boundscheck=False, inline="always")
def _distance(words: NDArray[np.uint64], r: int, qwords: NDArray[np.uint64], q: int) -> int:
    return (  # type: ignore[no-any-return]
        _popcount(words[r, 0] ^ qwords[q, 0])
        + _popcount(words[r, 1] ^ qwords[q, 1])
        + _popcount(words[r, 2] ^ qwords[q, 2])
        + _popcount(words[r, 3] ^ qwords[q, 3])
    )


@njit(nogil=True, cache=True, boundscheck=False)
def search_kernel(
    words: NDArray[np.uint64],
    tables: Tables,
    plan: Plan,
    values: NDArray[np.int64],
    qwords: NDArray[np.uint64],
    radius: int,
    ahead: int,
    out_q: NDArray[np.int64],
    out_row: NDArray[np.int64],
    out_d: NDArray[np.int64],
) -> int:
    """Every (query, row, distance) within `radius` reached by the probes, written to the
    `out_*` arrays; returns how many there are (if more than fit, call again with room
    for that many). Each random read is prefetched `ahead` items before it is needed
    (0: none). A row reached through several chunks is reported once per chunk.

    `tables` and `plan`: see `Tables` and `Plan`."""
    n_probes = len(plan[0])
    slots = np.empty(n_probes, dtype=np.int64)
    starts = np.empty(n_probes, dtype=np.int64)
    lens = np.empty(n_probes, dtype=np.int64)
    rows = np.empty(1 << 15, dtype=np.int64)
    found = 0
    for q in range(len(values)):
        total, rows = _candidate_rows(q, tables, plan, values, ahead, slots, starts, lens, rows)
        # Pass 4: verify each candidate (its hash prefetched `ahead` candidates before).
        for i in range(min(ahead, total)):  # the first reads of the pipeline
            _prefetch(words, rows[i])
        for i in range(total):
            if i + ahead < total:
                _prefetch(words, rows[i + ahead])
            r = rows[i]
            d = _distance(words, r, qwords, q)
            if d <= radius:  # inline, not a helper: a helper halved join_verify's speed
                if found < len(out_q):
                    out_q[found] = q
                    out_row[found] = r
                    out_d[found] = d
                found += 1
    return found


# -- the batch join (join.py): candidates grouped by row range, hashes read in order ----


@njit(nogil=True, cache=True, boundscheck=False)
def join_gather(
    tables: Tables,
    plan: Plan,
    values: NDArray[np.int64],
    ahead: int,
    coarse_shift: int,
    q_bits: int,
    q0: int,
    q1: int,
    buf: NDArray[np.uint32],
    fill: NDArray[np.int64],
) -> None:
    """Passes 1-3 for queries q0..q1 (numbers within `values`), each candidate appended to
    the list of its coarse row range (row >> `coarse_shift`) as one uint32: the row's
    offset in the range above `q_bits` bits of query number. `fill` counts every
    candidate, also those past a full list's end (not written: the caller sees a count
    above `buf.shape[1]` and retries with smaller batches)."""
    n_probes = len(plan[0])
    slots = np.empty(n_probes, dtype=np.int64)
    starts = np.empty(n_probes, dtype=np.int64)
    lens = np.empty(n_probes, dtype=np.int64)
    rows = np.empty(1 << 15, dtype=np.int64)
    cap = buf.shape[1]
    local = (1 << coarse_shift) - 1
    for q in range(q0, q1):
        total, rows = _candidate_rows(q, tables, plan, values, ahead, slots, starts, lens, rows)
        for i in range(total):
            r = rows[i]
            part = r >> coarse_shift
            f = fill[part]
            if f < cap:
                buf[part, f] = np.uint32(((r & local) << q_bits) | q)
            fill[part] = f + 1


@njit(nogil=True, cache=True, boundscheck=False)
def join_verify(
    words: NDArray[np.uint64],
    qwords: NDArray[np.uint64],
    radius: int,
    coarse_shift: int,
    fine_shift: int,
    q_bits: int,
    p0: int,
    p1: int,
    bufs: NDArray[np.uint32],
    fills: NDArray[np.int64],
    fine: NDArray[np.uint32],
    out_q: NDArray[np.int64],
    out_row: NDArray[np.int64],
    out_d: NDArray[np.int64],
) -> int:
    """Verify the candidates of coarse ranges p0..p1 from every gather list (`bufs[t]`,
    `fills[t]`): each range's candidates are regrouped by fine range (row >> `fine_shift`,
    a counting sort into `fine`), and the fine ranges are verified in row order while the
    next fine range's hashes are streamed in (a prefetch per line, spread over the current
    range's candidates). The hashes are then read once, in order, at memory bandwidth,
    instead of once per candidate at memory latency. Writes (query, row, distance) within
    `radius` to `out_*`; returns how many there are (call again with room if more)."""
    n = len(words)
    n_fine = 1 << (coarse_shift - fine_shift)
    q_mask = (1 << q_bits) - 1
    fine_mask = (1 << fine_shift) - 1
    fine_rows = 1 << fine_shift
    counts = np.zeros(n_fine + 1, dtype=np.int64)
    found = 0
    for part in range(p0, p1):
        base = part << coarse_shift
        if base >= n:
            break
        counts[:] = 0
        for t in range(bufs.shape[0]):
            for k in range(fills[t, part]):
                counts[((int(bufs[t, part, k]) >> q_bits) >> fine_shift) + 1] += 1
        for f in range(n_fine):
            counts[f + 1] += counts[f]
        for t in range(bufs.shape[0]):
            for k in range(fills[t, part]):
                v = int(bufs[t, part, k])
                offset = v >> q_bits
                f = offset >> fine_shift
                fine[counts[f]] = np.uint32(((offset & fine_mask) << q_bits) | (v & q_mask))
                counts[f] += 1
        # counts[f] is now the end of fine range f (the start of f + 1).
        for f in range(n_fine):
            lo = base + (f << fine_shift)
            if lo >= n:
                break
            first = int(counts[f - 1]) if f > 0 else 0
            m = int(counts[f]) - first
            if f == 0:  # nothing streamed this one in
                for r in range(lo, min(n, lo + fine_rows), 2):
                    _prefetch(words, r)
            nxt_lo = lo + fine_rows
            nxt_lines = (max(0, min(n, nxt_lo + fine_rows) - nxt_lo) + 1) >> 1
            issued = 0
            # Lines due per candidate in 16.16 fixed point: an add per candidate, not a
            # division (a 64-bit divide per candidate cost more than its prefetch).
            step = ((nxt_lines << 16) + m - 1) // m if m else 0
            due = 0
            for k in range(m):
                due += step
                while issued < (due >> 16) and issued < nxt_lines:
                    _prefetch(words, nxt_lo + 2 * issued)
                    issued += 1
                v = int(fine[first + k])
                r = lo + (v >> q_bits)
                q = v & q_mask
                d = _distance(words, r, qwords, q)
                if d <= radius:
                    if found < len(out_q):
                        out_q[found] = q
                        out_row[found] = r
                        out_d[found] = d
                    found += 1
    return found
