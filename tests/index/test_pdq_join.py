"""The batch join (join.py) answers exactly as the per-query search does.

The join only runs on large segments and batches; these tests lower its thresholds so a
200k-hash segment and a few hundred queries take it, with small row ranges so there are
many coarse and fine ranges, and compare whole answers with the per-query path and with a
brute-force scan."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pytest
from index_helpers import brute_force, near

from tantalio.index import PDQIndex, join, kernel, pdq

N = 200_000


@pytest.fixture
def small_join(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(join, "MIN_ROWS", 1)
    monkeypatch.setattr(join, "COARSE_LOG2", 5)  # 32 ranges
    monkeypatch.setattr(join, "FINE_SHIFT", 9)  # of 512 rows: 13 fine ranges each


@pytest.fixture(scope="module")
def stored() -> tuple[np.ndarray, np.ndarray, PDQIndex]:
    rng = np.random.default_rng(1707)
    hashes = rng.integers(0, 256, size=(N, 32), dtype=np.uint8)
    # Exact and near duplicates among the stored hashes: one query then hits many rows.
    for i in range(0, 2_000, 2):
        hashes[i + 1] = near(rng, hashes[i], i % 9)
    ids = np.arange(N, dtype=np.int64) * 3 + 11
    return hashes, ids, PDQIndex.build_from(ids, hashes)


def queries_for(stored_hashes: np.ndarray, count: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(stored_hashes), size=count)
    distances = rng.integers(0, 32, count)
    planted = [near(rng, stored_hashes[p], int(d)) for p, d in zip(picks, distances, strict=True)]
    planted += [near(rng, stored_hashes[i], 3) for i in range(0, 40, 2)]  # duplicated rows
    noise = rng.integers(0, 256, size=(count // 4, 32), dtype=np.uint8)
    return np.concatenate([np.stack(planted), noise])


def per_query(index: PDQIndex, queries: np.ndarray) -> tuple[np.ndarray, ...]:
    saved = join.USE_JOIN
    join.USE_JOIN = False
    try:
        return index.search_arrays(queries)
    finally:
        join.USE_JOIN = saved


def counting(calls: list[object], real: Any, arg: int | None = None) -> Any:
    """`real`, recording each call (or its argument number `arg`) in `calls`."""

    def wrapper(*args: object) -> object:
        calls.append(args[arg] if arg is not None else 1)
        return real(*args)

    return wrapper


def assert_same(a: tuple[np.ndarray, ...], b: tuple[np.ndarray, ...]) -> None:
    assert len(a[0]) == len(b[0])
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.mark.usefixtures("small_join")
@pytest.mark.parametrize("threads", [1, 2])
def test_join_equals_per_query_search_and_brute_force(
    stored: tuple[np.ndarray, np.ndarray, PDQIndex], threads: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashes, ids, index = stored
    monkeypatch.setattr(pdq, "SEARCH_THREADS", threads)
    monkeypatch.setattr(pdq, "_pool", None)
    queries = queries_for(hashes, 400, seed=threads)
    seg = index._state.segments[0]
    assert join.pays(seg, len(queries), 31)
    calls: list[object] = []
    monkeypatch.setattr(kernel, "join_verify", counting(calls, kernel.join_verify))
    got = index.search_arrays(queries)
    assert calls, "the join did not run"
    assert_same(got, per_query(index, queries))
    listed = index.search(queries)
    assert listed == brute_force(hashes, ids, queries, 31)
    assert sum(len(row) for row in listed) >= 420  # every planted query hits
    assert sum(len(row) >= 2 for row in listed) >= 20  # the stored near duplicates too


@pytest.mark.usefixtures("small_join")
def test_lists_that_overflow_split_the_call(
    stored: tuple[np.ndarray, np.ndarray, PDQIndex], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Room for far fewer candidates than arrive (hashes far from uniform): the call
    splits in halves down to single queries, with the same answers."""
    hashes, _ids, index = stored
    monkeypatch.setattr(join, "MARGIN", 0.05)
    monkeypatch.setattr(join, "SLACK", 0)
    queries = queries_for(hashes, 160, seed=7)
    assert join.pays(index._state.segments[0], len(queries), 31)
    gathers: list[object] = []
    monkeypatch.setattr(kernel, "join_gather", counting(gathers, kernel.join_gather))
    assert_same(index.search_arrays(queries), per_query(index, queries))
    assert len(gathers) > 2 * pdq.SEARCH_THREADS  # it split


@pytest.mark.usefixtures("small_join")
def test_a_small_memory_budget_cuts_the_batch_into_calls(
    stored: tuple[np.ndarray, np.ndarray, PDQIndex], monkeypatch: pytest.MonkeyPatch
) -> None:
    hashes, _ids, index = stored
    seg = index._state.segments[0]
    per_query_bytes = join.expected_candidates(seg, 31) * 4 * join.MARGIN
    budget = int(100 * per_query_bytes) + join._parts(seg) * 4 * join.SLACK
    monkeypatch.setattr(join, "BUFFER_BYTES", budget)
    assert 90 <= join.queries_per_call(seg, 31) <= 110
    queries = queries_for(hashes, 500, seed=8)
    verifies: list[object] = []  # p0 of each verify: 0 once per call
    monkeypatch.setattr(kernel, "join_verify", counting(verifies, kernel.join_verify, arg=6))
    assert_same(index.search_arrays(queries), per_query(index, queries))
    assert verifies.count(0) >= 5  # each call verifies from range 0 again: >= 5 calls


@pytest.mark.usefixtures("small_join")
def test_removed_entries_and_the_tail_are_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(31)
    hashes = rng.integers(0, 256, size=(60_000, 32), dtype=np.uint8)
    ids = np.arange(60_000, dtype=np.int64)
    index = PDQIndex.build_from(ids, hashes)
    gone = ids[:30_000:3]
    index.remove(gone.tolist())
    extra = near(rng, hashes[5], 4)[None, :]
    index.add([999_999], extra)
    queries = np.concatenate([np.stack([near(rng, hashes[i], 6) for i in range(0, 300)]), extra])
    got = index.search(queries)
    assert all(all(i not in set(gone.tolist()) for i, _ in row) for row in got)
    assert (999_999, 0) in got[-1]
    keep = np.setdiff1d(ids, gone)
    want = brute_force(
        np.concatenate([hashes[keep], extra]), np.concatenate([keep, [999_999]]), queries, 31
    )
    assert got == want


def test_small_batches_and_small_segments_take_the_per_query_path(
    stored: tuple[np.ndarray, np.ndarray, PDQIndex],
) -> None:
    _hashes, _ids, index = stored
    seg = index._state.segments[0]
    assert not join.pays(seg, 1_000, 31)  # 200k rows: under MIN_ROWS
    assert join.MIN_ROWS <= 1 << 22


@pytest.mark.usefixtures("small_join")
def test_concurrent_batches_get_their_own_answers(
    stored: tuple[np.ndarray, np.ndarray, PDQIndex],
) -> None:
    """One join runs at a time (`GATE`); a batch arriving meanwhile takes the per-query
    path. Either way each caller gets its own batch's answer."""
    hashes, _ids, index = stored
    batches = [queries_for(hashes, 150, seed=20 + i) for i in range(4)]
    expected = [per_query(index, b) for b in batches]
    got: dict[int, tuple[np.ndarray, ...]] = {}

    def run(i: int) -> None:
        got[i] = index.search_arrays(batches[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for i in range(4):
        assert_same(got[i], expected[i])
    assert not join.GATE.locked()


@pytest.mark.usefixtures("small_join")
def test_lists_are_kept_only_when_small_next_to_the_index(
    stored: tuple[np.ndarray, np.ndarray, PDQIndex], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Kept between batches at 100M (272 MiB beside ~9 GB of index), freed after each
    batch where they would weigh on a small index."""
    hashes, _ids, index = stored
    queries = queries_for(hashes, 300, seed=40)
    monkeypatch.setattr(join, "KEEP_FRACTION", 1e9)
    index.search_arrays(queries)
    assert join._space is not None
    kept = join._space
    index.search_arrays(queries)
    assert join._space is kept  # reused, not allocated again
    monkeypatch.setattr(join, "KEEP_FRACTION", 0.0)
    index.search_arrays(queries)
    assert join._space is None
    join.release()
    assert join._space is None and not join.GATE.locked()
