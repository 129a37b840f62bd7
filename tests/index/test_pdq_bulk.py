"""bulk.build_dir: an index built straight to disk answers exactly like one built in memory."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from index_helpers import brute_force, near, to_hex

from tantalio.index import PDQIndex, mih
from tantalio.index.bulk import build_dir
from tantalio.index.codec import bytes_to_words

pytestmark = pytest.mark.usefixtures("force_probing")


def _data(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    stored = rng.integers(0, 256, size=(n, 32), dtype=np.uint8)
    # Planted neighbours at every distance 0..31, so exactness at the edge is exercised.
    for d in range(32):
        stored[100 + d] = near(rng, stored[d], d)
    queries = np.array([near(rng, stored[i], i % 32) for i in range(0, 400, 3)])
    return stored, queries


@pytest.mark.parametrize("mmap", [False, True])
def test_bulk_build_matches_memory_build_and_brute_force(
    tmp_path: Path, rng: np.random.Generator, mmap: bool
) -> None:
    stored, queries = _data(rng, 5_000)
    words = bytes_to_words(stored)
    build_dir(tmp_path / "pdq", words, workers=2)
    disk = PDQIndex.load(tmp_path / "pdq", mmap=mmap)
    memory = PDQIndex.build_from(np.arange(len(stored)), stored)
    expected = brute_force(stored, np.arange(len(stored)), queries, 31)
    assert disk.search(to_hex(queries)) == expected
    assert memory.search(to_hex(queries)) == expected
    assert len(disk) == len(stored)


def test_bulk_build_reads_a_memory_mapped_file_and_keeps_given_ids(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    stored, queries = _data(rng, 3_000)
    np.save(tmp_path / "hashes.npy", bytes_to_words(stored))
    words = np.load(tmp_path / "hashes.npy", mmap_mode="r")
    ids = rng.permutation(10_000)[: len(stored)].astype(np.int64)  # unique, not sorted
    build_dir(tmp_path / "pdq", words, ids, threshold=24)
    index = PDQIndex.load(tmp_path / "pdq", mmap=True)
    assert index.threshold == 24
    assert index.search(to_hex(queries)) == brute_force(stored, ids, queries, 24)
    # Unsorted ids: writes find rows through the id lookup built on the first write.
    assert index.remove([int(ids[40])]) == 1
    assert index.get(int(ids[40])) is None and index.get(int(ids[41])) == to_hex(stored[41:42])[0]
    index.add([int(ids[41])], to_hex(stored[40:41]))  # an edited entry: its hash replaced
    assert index.search(to_hex(stored[40:41]), max_distance=0)[0] == [(int(ids[41]), 0)]


def test_a_bulk_built_index_takes_adds_and_removals(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    stored, _ = _data(rng, 4_000)
    build_dir(tmp_path / "pdq", bytes_to_words(stored))
    index = PDQIndex.load(tmp_path / "pdq", mmap=True)
    fresh = stored[40].copy()
    fresh[0] ^= 0xFF  # 8 bits from row 40 (which has no planted neighbour)
    index.add([50_000], to_hex(fresh[None]))
    # Matchable the moment add returns, beside the stored row it is near.
    assert index.search(to_hex(fresh[None]))[0][:2] == [(50_000, 0), (40, 8)]
    assert index.remove([40, 50_000]) == 2
    assert index.search(to_hex(fresh[None]))[0] == []
    assert 40 not in index and 41 in index
    index.save(tmp_path / "again")  # a mapped index saves like any other
    assert len(PDQIndex.load(tmp_path / "again")) == len(stored) - 1


def test_bulk_build_refuses_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="uint64 words"):
        build_dir(tmp_path / "a", np.zeros((3, 32), np.uint8))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="2 ids but 3 hashes"):
        build_dir(tmp_path / "b", np.zeros((3, 4), np.uint64), np.arange(2))
    with pytest.raises(ValueError, match="unique"):
        build_dir(tmp_path / "c", np.zeros((3, 4), np.uint64), np.array([1, 1, 2]))
    assert not (tmp_path / "c").exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # no temporary directory left behind


def test_bulk_build_stores_rows_by_last_chunk_and_an_id_lookup(
    tmp_path: Path, rng: np.random.Generator
) -> None:
    """Rows are stored in the last chunk's key order (no row table for it) with the id ->
    row lookup beside them, so a write after a mapped load sorts nothing."""
    stored, queries = _data(rng, 4_000)
    ids = np.arange(len(stored), dtype=np.int64) * 3 + 1  # ascending, as a bank's row ids
    build_dir(tmp_path / "pdq", bytes_to_words(stored), ids)
    index = PDQIndex.load(tmp_path / "pdq", mmap=True)
    seg = index._state.segments[0]
    assert seg.direct and isinstance(seg._id_rows, np.memmap)
    start, width = seg.layout.starts[-1], seg.layout.widths[-1]
    last = mih.chunk_column(seg.words, start, width) >> np.uint64(width - seg.key_bits[-1])
    assert bool(np.all(last[1:] >= last[:-1]))  # the last chunk's bucket key ascends
    assert index.search(to_hex(queries)) == brute_force(stored, ids, queries, 31)
    assert index.remove([int(ids[40])]) == 1 and index.get(int(ids[40])) is None
    assert index.get(int(ids[41])) == to_hex(stored[41:42])[0]
