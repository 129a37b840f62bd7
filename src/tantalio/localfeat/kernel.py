"""Compiled tf-idf scoring for the local-features index (numba, GIL released).

Why: at 1M references a query gathers ~160k postings, and scoring them was about half of
a query's CPU (docs/perf/local-features.md). numpy needed six passes over the gathered
postings (positions, gather, slot writes, slot reads, weights, `np.bincount`), each a full
array in memory; this loop reads each posting once and adds the word's idf to its
reference's score in a per-thread accumulator of the segment's size, listing the
references it touches the first time, then keeps the best `k` of those and sets the
touched scores back to zero (nothing of the index's size is cleared or scanned per query).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from numpy.typing import NDArray

from tantalio.index.kernel import popcount as _popcount
from tantalio.index.kernel import prefetch as _prefetch


@njit(nogil=True, cache=True, boundscheck=False)
def top_refs(
    word_off: NDArray[np.int64],
    post: NDArray[np.int32],
    uw: NDArray[np.int64],
    idf: NDArray[np.float32],
    stop: int,
    dead: NDArray[np.bool_],
    any_dead: bool,
    acc: NDArray[np.float32],
    touched: NDArray[np.int32],
    out_ref: NDArray[np.int64],
    out_score: NDArray[np.float64],
    ahead: int = 0,
) -> int:
    """Score the references in the posting lists of the words `uw` (lists longer than
    `stop` skipped: stop words) and write the best `len(out_ref)` with a score > 0 into
    `out_ref` / `out_score`, best first (ties: the lower reference first); returns how
    many. `acc` (one float per reference) must be all zero and is left so; `touched` holds
    one entry more than there are references."""
    nt = 0
    for j in range(len(uw)):
        w = uw[j]
        lo = word_off[w]
        hi = word_off[w + 1]
        if hi == lo or hi - lo > stop:
            continue
        weight = idf[w]
        if weight <= 0:
            continue
        for p in range(lo, hi):
            if ahead and p + ahead < hi:  # the slot `ahead` postings on: a likely cache miss
                _prefetch(acc, post[p + ahead])
            r = post[p]
            # listed the first time only, without a branch (weight > 0: a touched score is
            # never zero; a mispredicted branch per posting cost 20 %, measured)
            touched[nt] = r
            nt += acc[r] == 0
            acc[r] += weight
    k = len(out_ref)
    m = 0
    for t in range(nt):
        r = touched[t]
        v = np.float64(acc[r])
        acc[r] = 0
        if any_dead and dead[r]:
            continue
        if m == k:
            last = out_score[k - 1]
            if v < last or (v == last and r > out_ref[k - 1]):
                continue
            m -= 1
        # insertion into the sorted top list (k is small)
        i = m
        while i > 0 and (out_score[i - 1] < v or (out_score[i - 1] == v and out_ref[i - 1] > r)):
            out_score[i] = out_score[i - 1]
            out_ref[i] = out_ref[i - 1]
            i -= 1
        out_score[i] = v
        out_ref[i] = r
        m += 1
    return m


@njit(nogil=True, cache=True, boundscheck=False)
def nearest(
    query: NDArray[np.uint64],
    columns: NDArray[np.uint64],
    dist: NDArray[np.int32],
    ids: NDArray[np.int64],
) -> None:
    """For each query descriptor (`query`: n x 4 words of 64 bits) its `dist.shape[1]`
    nearest among the shortlisted descriptors, by Hamming distance, nearest first (ties: the
    lower number first); `columns` holds those descriptors word by word (4 x m), so the m
    distances of one query descriptor are one loop the compiler vectorizes (a popcount per
    word). Fewer than k descriptors: the rest is id -1 at distance 2^20 (faiss's flat
    search gives the same answer; this is 1.7x faster on 1,200 x 1,024, measured)."""
    k = dist.shape[1]
    m = columns.shape[1]
    c0, c1, c2, c3 = columns[0], columns[1], columns[2], columns[3]
    d = np.empty(m, np.int32)
    for i in range(query.shape[0]):
        q0, q1, q2, q3 = query[i, 0], query[i, 1], query[i, 2], query[i, 3]
        for j in range(m):
            d[j] = np.int32(
                _popcount(q0 ^ c0[j])
                + _popcount(q1 ^ c1[j])
                + _popcount(q2 ^ c2[j])
                + _popcount(q3 ^ c3[j])
            )
        for t in range(k):
            dist[i, t] = 1 << 20
            ids[i, t] = -1
        worst = dist[i, k - 1]
        for j in range(m):
            x = d[j]
            if x >= worst:
                continue
            t = k - 1
            while t > 0 and dist[i, t - 1] > x:
                dist[i, t] = dist[i, t - 1]
                ids[i, t] = ids[i, t - 1]
                t -= 1
            dist[i, t] = x
            ids[i, t] = j
            worst = dist[i, k - 1]


@njit(nogil=True, cache=True, boundscheck=False)
def greedy_pairs(
    qi: NDArray[np.intp], rj: NDArray[np.int64], order: NDArray[np.intp], out: NDArray[np.intp]
) -> int:
    """`localfeat.index.one_to_one`'s loop: the pairs (qi, rj) in `order` whose query and
    reference keypoints are both still free, written into `out` (k x 2); returns how many."""
    seen_q = np.zeros(qi.max() + 1 if len(qi) else 1, np.bool_)
    seen_r = np.zeros(rj.max() + 1 if len(rj) else 1, np.bool_)
    n = 0
    for k in order:
        a, b = qi[k], rj[k]
        if seen_q[a] or seen_r[b]:
            continue
        seen_q[a] = True
        seen_r[b] = True
        out[n, 0] = a
        out[n, 1] = b
        n += 1
    return n
