"""Bulk build of a PDQ index straight to disk, for collections too large to build in memory.

Why: at 100M hashes a `PDQIndex.build_from` holds the hashes (3.2 GB), ids (0.8 GB), the
row tables (4.4 GB) and the sort keys of the chunks being built at once, then `save` copies
them all again — too much for a 24 GB machine shared with other work. `build_dir` instead
writes every array of one segment into memory-mapped `.npy` files and fills the tables one
chunk per worker (one chunk's sort keys, ~1.6 GB, in memory per worker). The result is the
ordinary saved form (`PDQIndex.load(path, mmap=True)` opens it in well under a second), so
adds, removals, merges and saves work on it as on any other index. The rows are stored in
the last chunk's key order (no row table for that chunk), so the ids are stored with an
id -> row lookup beside them (`id_sorted`, `id_rows`): the first write after a mapped load
binary-searches it instead of sorting 100M ids (~10 s and 1.6 GB).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from numpy.lib.format import open_memmap
from numpy.typing import NDArray

from tantalio.index import persist
from tantalio.index.codec import Words
from tantalio.index.mih import (
    Layout,
    build_tables,
    default_chunks,
    key_bits_for,
    occupancy,
    packed_words,
    sorted_chunk_order,
    table_sizes,
)
from tantalio.index.pdq import FORMAT, VERSION
from tantalio.signals.rules import DEFAULT_PDQ_THRESHOLD

COPY_ROWS = 1 << 22  # rows copied per step (128 MB of hashes)


def build_dir(
    path: str | Path,
    words: Words,
    ids: NDArray[np.int64] | None = None,
    threshold: int = DEFAULT_PDQ_THRESHOLD,
    *,
    n_chunks: int | None = None,
    workers: int | None = None,
) -> None:
    """Write a one-segment PDQ index of `words` ((n, 4) uint64, may be memory-mapped) to
    directory `path` (replaced atomically). `ids` default to 0..n-1 and must be unique."""
    n = len(words)
    if words.ndim != 2 or words.shape[1] != 4 or words.dtype != np.uint64:
        raise ValueError(f"hashes must be (n, 4) uint64 words, got {words.dtype} {words.shape}")
    if ids is not None and len(ids) != n:
        raise ValueError(f"{len(ids)} ids but {n} hashes")
    if n == 0:
        raise ValueError("no hashes to build an index of")
    layout = Layout.even(n_chunks or default_chunks(threshold))
    key_bits = key_bits_for(n, layout.widths)
    # Rows are stored in the last chunk's key order (mih.Segment, `direct`): that chunk
    # needs no row table and its candidates are consecutive rows.
    perm = sorted_chunk_order(words, layout, key_bits)
    with persist.replacing_dir(path) as tmp:
        out_words = open_memmap(tmp / "seg0.words.npy", "w+", np.uint64, (n, 4))
        out_ids = open_memmap(tmp / "seg0.ids.npy", "w+", np.int64, (n,))
        # Where each input row went, for the id lookup (ids ascending: already in id order).
        where = np.empty(n, dtype=np.uint32)
        for lo in range(0, n, COPY_ROWS):
            hi = min(n, lo + COPY_ROWS)
            rows = perm[lo:hi]
            out_words[lo:hi] = words[rows]
            out_ids[lo:hi] = rows if ids is None else ids[rows]
            where[rows] = np.arange(lo, hi, dtype=np.uint32)
        del perm
        out_words.flush()
        out_ids.flush()
        id_sorted = open_memmap(tmp / "seg0.id_sorted.npy", "w+", np.int64, (n,))
        id_rows = open_memmap(tmp / "seg0.id_rows.npy", "w+", np.uint32, (n,))
        if ids is None or bool(np.all(ids[1:] > ids[:-1])):
            for lo in range(0, n, COPY_ROWS):
                hi = min(n, lo + COPY_ROWS)
                id_sorted[lo:hi] = np.arange(lo, hi) if ids is None else ids[lo:hi]
            id_rows[:] = where
        else:
            by_id = np.argsort(np.asarray(ids), kind="stable")
            id_sorted[:] = np.asarray(ids)[by_id]
            if bool(np.any(id_sorted[1:] == id_sorted[:-1])):
                raise ValueError("ids must be unique")
            id_rows[:] = where[by_id]
            del by_id
        del where, id_sorted, id_rows, out_ids
        np.save(tmp / "seg0.alive.npy", np.ones(n, dtype=np.bool_), allow_pickle=False)
        order = open_memmap(
            tmp / "seg0.order.npy", "w+", np.uint64, (packed_words(n, len(key_bits), True),)
        )
        offsets = open_memmap(
            tmp / "seg0.offsets.npy", "w+", np.uint32, (sum(table_sizes(key_bits)),)
        )
        build_tables(out_words, layout, key_bits, order, offsets, workers, direct=True)
        order.flush()
        offsets.flush()
        np.save(tmp / "seg0.occupied.npy", occupancy(offsets), allow_pickle=False)
        del order, offsets, out_words
        np.save(tmp / "tail.words.npy", np.zeros((0, 4), np.uint64), allow_pickle=False)
        np.save(tmp / "tail.ids.npy", np.zeros(0, np.int64), allow_pickle=False)
        header = {
            "format": FORMAT,
            "version": VERSION,
            "threshold": int(threshold),
            "widths": list(layout.widths),
            "count": n,
            "segments": [
                {
                    "name": "seg0",
                    "rows": n,
                    "key_bits": list(key_bits),
                    "direct": True,
                    "id_index": True,
                }
            ],
            "tail_rows": 0,
        }
        (tmp / persist.HEADER).write_text(json.dumps(header, indent=1), encoding="utf-8")
