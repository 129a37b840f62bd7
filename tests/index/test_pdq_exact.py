"""Exactness: the index returns exactly what an exhaustive scan returns — no missed match
within the radius, no false one — including neighbours built to be as hard as possible."""

from __future__ import annotations

import numpy as np
import pytest
from index_helpers import brute_force, flip_bits, near, to_hex

from tantalio.index import PDQIndex
from tantalio.index.mih import allocate_radii, key_bits_for

pytestmark = pytest.mark.usefixtures("force_probing")


def _stored(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    hashes = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
    ids = rng.permutation(10 * n)[:n].astype(np.int64) - 5 * n  # negative ids work too
    return hashes, ids


def tight_neighbour(
    rng: np.random.Generator, row: np.ndarray, index: PDQIndex, radius: int, lucky: int
) -> np.ndarray:
    """A hash at distance `radius` that only chunk `lucky` can find: every other chunk is
    off by one bit more than the radius it is searched with (the pigeonhole edge case).
    Flips land in the bits each chunk's bucket key uses, so no other chunk hits by luck."""
    segments = index._state.segments
    if segments:  # the radii the segment searches with (cost-based: they depend on its size)
        radii, key_bits = segments[0].radii(radius), segments[0].key_bits
    else:
        radii = allocate_radii(radius, index.layout.widths)
        key_bits = key_bits_for(len(index), index.layout.widths)
    bits: list[int] = []
    for j, start in enumerate(index.layout.starts):
        flips = max(radii[j] + (0 if j == lucky else 1), 0)
        bits.extend(start + rng.choice(key_bits[j], size=min(flips, key_bits[j]), replace=False))
    if len(bits) < radius:  # chunks searched in full: the rest of the distance off-key
        layout = index.layout
        off_key = [
            start + b
            for start, width, k in zip(layout.starts, layout.widths, key_bits, strict=True)
            for b in range(k, width)
        ]
        bits.extend(rng.choice(off_key, size=radius - len(bits), replace=False))
    assert len(bits) >= radius
    return flip_bits(row, np.array(bits[:radius], dtype=np.int64))


def test_planted_neighbours_at_every_distance_up_to_31(rng: np.random.Generator) -> None:
    hashes, ids = _stored(rng, 15_000)
    index = PDQIndex.build_from(ids, hashes)
    picks = rng.integers(0, len(hashes), size=320)
    queries = np.stack([near(rng, hashes[p], i % 32) for i, p in enumerate(picks)])
    queries = np.concatenate([queries, rng.integers(0, 256, size=(40, 32), dtype=np.uint8)])
    got = index.search(queries)
    assert got == brute_force(hashes, ids, queries, 31)
    for i, p in enumerate(picks):
        assert (int(ids[p]), i % 32) in got[i]
    # Hex input gives the same answer as byte arrays.
    assert index.search(to_hex(queries[:20])) == got[:20]


@pytest.mark.parametrize("n_chunks", [11, 12, 16, 32])
def test_pigeonhole_edge_cases_are_found(rng: np.random.Generator, n_chunks: int) -> None:
    hashes, ids = _stored(rng, 20_000)
    index = PDQIndex.build_from(ids, hashes, n_chunks=n_chunks)
    picks = rng.integers(0, len(hashes), size=4 * n_chunks)
    queries = np.stack(
        [
            tight_neighbour(rng, hashes[p], index, 31, lucky=i % n_chunks)
            for i, p in enumerate(picks)
        ]
    )
    got = index.search(queries)
    assert got == brute_force(hashes, ids, queries, 31)
    assert all((int(ids[p]), 31) in got[i] for i, p in enumerate(picks))


@pytest.mark.parametrize("radius", [0, 1, 7, 20, 40, 64])
def test_other_radii_stay_exact(rng: np.random.Generator, radius: int) -> None:
    hashes, ids = _stored(rng, 8_000)
    index = PDQIndex.build_from(ids, hashes)
    picks = rng.integers(0, len(hashes), size=60)
    queries = np.stack(
        [
            tight_neighbour(rng, hashes[p], index, radius, lucky=i % 11)
            for i, p in enumerate(picks[:30])
        ]
        + [near(rng, hashes[p], int(rng.integers(0, radius + 1))) for p in picks[30:]]
    )
    assert index.search(queries, max_distance=radius) == brute_force(hashes, ids, queries, radius)


def test_threshold_is_configuration(rng: np.random.Generator) -> None:
    hashes, ids = _stored(rng, 5_000)
    strict = PDQIndex.build_from(ids, hashes, threshold=10)
    q = np.stack([near(rng, hashes[0], 10), near(rng, hashes[1], 11)])
    assert strict.search(q) == [[(int(ids[0]), 10)], []]
    assert strict.search(q, max_distance=11)[1] == [(int(ids[1]), 11)]


def test_clustered_collection_with_crowded_buckets(rng: np.random.Generator) -> None:
    # Real collections are not uniform: many near-identical hashes (a series, re-encodes).
    seeds = rng.integers(0, 256, size=(20, 32), dtype=np.uint8)
    cluster = np.stack([near(rng, seeds[i % 20], int(rng.integers(0, 45))) for i in range(4_000)])
    hashes = np.concatenate([cluster, rng.integers(0, 256, size=(4_000, 32), dtype=np.uint8)])
    ids = np.arange(len(hashes), dtype=np.int64)
    index = PDQIndex.build_from(ids, hashes)
    queries = np.stack([near(rng, seeds[i % 20], i % 32) for i in range(40)])
    got = index.search(queries)
    assert got == brute_force(hashes, ids, queries, 31)
    assert sum(len(g) for g in got) > 400  # the clusters really are crowded


def test_results_sorted_by_distance_then_id(rng: np.random.Generator) -> None:
    base = rng.integers(0, 256, size=32, dtype=np.uint8)
    hashes = np.stack([base, near(rng, base, 3), base, near(rng, base, 1)])
    index = PDQIndex.build_from([40, 30, 20, 10], hashes)
    assert index.search(base[None, :]) == [[(20, 0), (40, 0), (10, 1), (30, 3)]]


def test_empty_index_and_empty_query() -> None:
    index = PDQIndex()
    assert index.search(["0" * 64]) == [[]]
    assert index.search([]) == []
    assert len(index) == 0
