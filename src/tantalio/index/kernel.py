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


@njit(nogil=True, cache=True, boundscheck=False)
def search_kernel(
    words: NDArray[np.uint64],
    order: NDArray[np.uint64],
    row_bits: int,
    direct_start: int,
    offsets: NDArray[np.uint32],
    occupied: NDArray[np.uint8],
    use_bitmap: bool,
    values: NDArray[np.int64],
    qwords: NDArray[np.uint64],
    chunk_of: NDArray[np.intp],
    masks: NDArray[np.int64],
    bases: NDArray[np.int64],
    shifts: NDArray[np.int64],
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

    `order` is the bit-packed row table (`mih.pack_rows`, `row_bits` per entry); a bucket
    position p from `direct_start` on is row p - `direct_start` (the chunk the rows are
    sorted by)."""
    n_probes = len(chunk_of)
    slots = np.empty(n_probes, dtype=np.int64)
    starts = np.empty(n_probes, dtype=np.int64)
    lens = np.empty(n_probes, dtype=np.int64)
    rows = np.empty(1 << 15, dtype=np.int64)
    cap = len(out_q)
    found = 0
    for q in range(len(values)):
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
        # Pass 4: verify each candidate (its hash prefetched `ahead` candidates before).
        q0, q1, q2, q3 = qwords[q, 0], qwords[q, 1], qwords[q, 2], qwords[q, 3]
        for i in range(min(ahead, total)):  # the first reads of the pipeline
            _prefetch(words, rows[i])
        for i in range(total):
            if i + ahead < total:
                _prefetch(words, rows[i + ahead])
            r = rows[i]
            d = (
                _popcount(words[r, 0] ^ q0)
                + _popcount(words[r, 1] ^ q1)
                + _popcount(words[r, 2] ^ q2)
                + _popcount(words[r, 3] ^ q3)
            )
            if d <= radius:
                if found < cap:
                    out_q[found] = q
                    out_row[found] = r
                    out_d[found] = d
                found += 1
    return found
