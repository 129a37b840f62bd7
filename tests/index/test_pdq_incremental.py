"""Incremental use, as the platform service runs it: adds searchable at once, removals,
replacement, merges — checked against a plain dict model — and memory that stays flat."""

from __future__ import annotations

import gc
import threading
import tracemalloc

import numpy as np
import pytest
from index_helpers import brute_force, near

from tantalio.index import PDQIndex
from tantalio.index.pdq import TAIL_MAX

pytestmark = pytest.mark.usefixtures("force_probing")


def _check_against(index: PDQIndex, model: dict[int, np.ndarray], queries: np.ndarray) -> None:
    ids = np.array(sorted(model), dtype=np.int64)
    stored = np.stack([model[i] for i in ids]) if len(ids) else np.zeros((0, 32), np.uint8)
    assert len(index) == len(model)
    assert index.search(queries) == brute_force(stored, ids, queries, 31)


def test_added_hash_is_matchable_immediately(rng: np.random.Generator) -> None:
    hashes = rng.integers(0, 256, size=(5_000, 32), dtype=np.uint8)
    index = PDQIndex.build_from(np.arange(5_000), hashes)
    new = rng.integers(0, 256, size=(1, 32), dtype=np.uint8)
    index.add([99_999], new)
    assert index.search(near(rng, new[0], 31)[None, :]) == [[(99_999, 31)]]
    assert 99_999 in index and index.get(99_999) == new[0].tobytes().hex()
    assert index.remove([99_999]) == 1
    assert index.search(new) == [[]] and 99_999 not in index and index.get(99_999) is None


def test_random_operations_match_a_dict_model(rng: np.random.Generator) -> None:
    index = PDQIndex()
    model: dict[int, np.ndarray] = {}
    next_id = 0
    probes = rng.integers(0, 256, size=(12, 32), dtype=np.uint8)
    for step in range(60):
        op = rng.random()
        if op < 0.45 or not model:
            size = int(rng.choice([1, 5, 300, TAIL_MAX + 10]))
            new = rng.integers(0, 256, size=(size, 32), dtype=np.uint8)
            for k in range(size // 3):  # a third of them near the probes
                new[k] = near(rng, probes[int(rng.integers(0, 12))], int(rng.integers(0, 40)))
            ids = np.arange(next_id, next_id + size)
            next_id += size
            index.add(ids, new)
            model.update(zip(ids.tolist(), new, strict=True))
        elif op < 0.75:
            victims = rng.choice(
                sorted(model), size=min(len(model), int(rng.integers(1, 800))), replace=False
            )
            assert index.remove(np.concatenate([victims, [-1, -2]])) == len(victims)
            for v in victims.tolist():
                del model[v]
        else:  # replace existing ids with new hashes
            victims = rng.choice(sorted(model), size=min(len(model), 50), replace=False)
            new = np.stack([near(rng, probes[0], int(rng.integers(0, 31))) for _ in victims])
            index.add(victims, new)
            model.update(zip(victims.tolist(), new, strict=True))
        if step % 10 == 9:
            queries = np.stack([near(rng, p, int(rng.integers(0, 20))) for p in probes])
            _check_against(index, model, queries)
    index.compact()
    assert index.segment_count <= 1
    _check_against(index, model, probes)


def test_segments_stay_few(rng: np.random.Generator) -> None:
    index = PDQIndex.build_from(
        np.arange(50_000), rng.integers(0, 256, size=(50_000, 32), dtype=np.uint8)
    )
    for start in range(50_000, 50_000 + 40 * 600, 600):
        index.add(
            np.arange(start, start + 600), rng.integers(0, 256, size=(600, 32), dtype=np.uint8)
        )
    assert len(index) == 74_000
    assert index.segment_count <= 4


def test_bad_input_is_rejected_whole(rng: np.random.Generator) -> None:
    index = PDQIndex()
    good = rng.integers(0, 256, size=(2, 32), dtype=np.uint8)
    with pytest.raises(ValueError, match="2 hashes"):
        index.add([1], good)
    with pytest.raises(ValueError, match="#1"):
        index.add([1, 2], ["0" * 64, "xyz"])
    with pytest.raises(ValueError, match="integers"):
        index.add([1.5, 2.5], good)
    with pytest.raises(ValueError, match="max_distance"):
        index.search(good, max_distance=300)
    with pytest.raises(ValueError, match="threshold"):
        PDQIndex(threshold=-1)
    assert len(index) == 0


def test_memory_flat_over_thousands_of_add_remove_cycles(rng: np.random.Generator) -> None:
    # 3,000 cycles over a live set of 3,000: the whole collection turns over, dead rows
    # trigger several rebuilds of the base segment, the tail fills and merges repeatedly.
    base = 3_000
    gc.collect()
    tracemalloc.start()
    try:
        index = PDQIndex.build_from(
            np.arange(base), rng.integers(0, 256, size=(base, 32), dtype=np.uint8)
        )
        fresh = rng.integers(0, 256, size=(3_000, 32), dtype=np.uint8)
        samples: list[int] = []

        def cycles(first: int, count: int) -> None:
            for i in range(first, first + count):
                index.add([base + i], fresh[i : i + 1])
                assert index.remove([i]) == 1  # the oldest entry goes: the live set slides
                if i % 250 == 0:
                    assert index.search(fresh[i : i + 1]) == [[(base + i, 0)]]
                    samples.append(tracemalloc.get_traced_memory()[0])

        cycles(0, 500)  # warm up: segments, tail and id lookups reach their working size
        gc.collect()
        warm, _ = tracemalloc.get_traced_memory()
        warm_bytes = index.memory_bytes()
        cycles(500, 2_500)
        gc.collect()
        end, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(index) == base and 0 not in index and base + 2_999 in index
    assert index.memory_bytes() <= 1.5 * warm_bytes
    # Bounded by the live set (plus dead rows awaiting compaction), not by the cycle count.
    assert max(samples[2:]) <= 2 * warm + 200_000, (warm, samples)
    assert end <= 1.5 * warm + 200_000, (warm, end)


def test_searches_run_while_writers_write(rng: np.random.Generator) -> None:
    stable = rng.integers(0, 256, size=(200, 32), dtype=np.uint8)
    index = PDQIndex.build_from(np.arange(200), stable)
    errors: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        while not stop.is_set():
            got = index.search(stable[:20])
            if any((i, 0) not in g for i, g in enumerate(got)):
                errors.append("a stable entry went missing")

    threads = [threading.Thread(target=reader) for _ in range(2)]
    for t in threads:
        t.start()
    try:
        for k in range(60):
            ids = np.arange(1_000 + 100 * k, 1_100 + 100 * k)
            index.add(ids, rng.integers(0, 256, size=(100, 32), dtype=np.uint8))
            index.remove(ids[:50])
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert not errors
    assert len(index) == 200 + 60 * 50


def test_repeated_ids_keep_their_last_hash(rng: np.random.Generator) -> None:
    a, b, c = rng.integers(0, 256, size=(3, 32), dtype=np.uint8)
    index = PDQIndex()
    index.add([1, 2, 1], np.stack([a, b, c]))
    assert len(index) == 2 and index.get(1) == c.tobytes().hex()
    for _ in range(3):  # replaying the same rows changes nothing
        index.add([1, 2], np.stack([c, b]))
    assert len(index) == 2 and index.search(np.stack([a, c]), max_distance=0) == [[], [(1, 0)]]
    built = PDQIndex.build_from([7, 7], np.stack([a, b]))
    assert len(built) == 1 and built.get(7) == b.tobytes().hex()


def test_replaying_stored_entries_leaves_segments_untouched(rng: np.random.Generator) -> None:
    hashes = rng.integers(0, 256, size=(5_000, 32), dtype=np.uint8)
    index = PDQIndex.build_from(np.arange(5_000), hashes)
    base = index._state.segments[0]
    index.add(np.arange(5_000), hashes)  # the whole collection again, unchanged
    assert index._state.segments == (base,) and base.n_dead == 0
    index.add([0, 1], np.stack([hashes[0], hashes[2]]))  # one unchanged, one edited
    assert base.n_dead == 1 and index.get(1) == hashes[2].tobytes().hex() and len(index) == 5_000


def test_contains_many_sees_segments_and_tail_not_removed_ids(rng: np.random.Generator) -> None:
    index = PDQIndex.build_from(np.arange(3_000), rng.integers(0, 256, (3_000, 32), np.uint8))
    index.add([10_000, 10_001], rng.integers(0, 256, (2, 32), np.uint8))  # in the tail
    index.remove([5])
    found = index.contains_many([0, 5, 2_999, 3_000, 10_001, -1])
    assert found.tolist() == [True, False, True, False, True, False]
    assert index.contains_many([]).tolist() == []
