"""save/load: a round trip keeps every answer; no pickle; damaged directories fail clearly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from index_helpers import brute_force, near, to_hex

from tantalio.index import PDQIndex

pytestmark = pytest.mark.usefixtures("force_probing")


@pytest.fixture
def busy_index(rng: np.random.Generator) -> PDQIndex:
    """An index in every state at once: a big segment, a small one, a tail, dead rows."""
    index = PDQIndex.build_from(
        np.arange(6_000), rng.integers(0, 256, size=(6_000, 32), dtype=np.uint8), threshold=28
    )
    index.add(np.arange(10_000, 12_100), rng.integers(0, 256, size=(2_100, 32), dtype=np.uint8))
    index.add(np.arange(20_000, 20_010), rng.integers(0, 256, size=(10, 32), dtype=np.uint8))
    index.remove(np.arange(0, 6_000, 7))
    index.remove([10_001, 20_003])
    return index


def _queries(rng: np.random.Generator, index: PDQIndex) -> list[str]:
    picks = [0, 1, 8, 5_999, 10_000, 10_001, 12_099, 20_000, 20_003, 20_009]
    out = []
    for i in picks:
        stored = index.get(i)
        h = stored if stored is not None else "0" * 64
        out.append(near(rng, np.frombuffer(bytes.fromhex(h), np.uint8), 20).tobytes().hex())
    return out


@pytest.mark.parametrize("mmap", [False, True])
def test_round_trip_keeps_every_answer(
    tmp_path: Path, rng: np.random.Generator, busy_index: PDQIndex, mmap: bool
) -> None:
    queries = _queries(rng, busy_index)
    before = busy_index.search(queries)
    busy_index.save(tmp_path / "pdq")
    loaded = PDQIndex.load(tmp_path / "pdq", mmap=mmap)
    assert loaded.threshold == 28 and len(loaded) == len(busy_index)
    assert loaded.search(queries) == before
    assert loaded.search(queries, max_distance=40) == busy_index.search(queries, max_distance=40)
    # A loaded index keeps working incrementally (mapped arrays are never written).
    loaded.add([777_777], [queries[0]])
    loaded.remove([1, 10_000])
    assert loaded.search(queries[:1])[0][0] == (777_777, 0)
    assert 1 not in loaded and 10_000 not in loaded


def test_only_npy_and_a_json_header(tmp_path: Path, busy_index: PDQIndex) -> None:
    busy_index.save(tmp_path / "pdq")
    files = sorted(p.name for p in (tmp_path / "pdq").iterdir())
    assert "index.json" in files
    assert all(f.endswith(".npy") for f in files if f != "index.json")
    header = json.loads((tmp_path / "pdq" / "index.json").read_text())
    assert header["format"] == "tantalio-pdq-index" and header["version"] == 2
    assert header["count"] == len(busy_index)


def test_save_replaces_and_leaves_no_temporaries(tmp_path: Path, rng: np.random.Generator) -> None:
    target = tmp_path / "pdq"
    PDQIndex.build_from([1], rng.integers(0, 256, size=(1, 32), dtype=np.uint8)).save(target)
    second = PDQIndex.build_from([2, 3], rng.integers(0, 256, size=(2, 32), dtype=np.uint8))
    second.save(target)
    assert len(PDQIndex.load(target)) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["pdq"]


def test_empty_index_round_trip(tmp_path: Path) -> None:
    PDQIndex(threshold=12).save(tmp_path / "e")
    loaded = PDQIndex.load(tmp_path / "e")
    assert len(loaded) == 0 and loaded.threshold == 12 and loaded.search(["0" * 64]) == [[]]


def test_missing_foreign_newer_and_damaged(tmp_path: Path, busy_index: PDQIndex) -> None:
    with pytest.raises(ValueError, match="no index.json"):
        PDQIndex.load(tmp_path / "nothing")
    busy_index.save(tmp_path / "pdq")
    header_path = tmp_path / "pdq" / "index.json"
    header = json.loads(header_path.read_text())

    header_path.write_text(json.dumps({**header, "format": "something-else"}))
    with pytest.raises(ValueError, match="not a tantalio-pdq-index"):
        PDQIndex.load(tmp_path / "pdq")
    header_path.write_text(json.dumps({**header, "version": 99}))
    with pytest.raises(ValueError, match="newer"):
        PDQIndex.load(tmp_path / "pdq")
    header_path.write_text("{not json")
    with pytest.raises(ValueError, match="unreadable index header"):
        PDQIndex.load(tmp_path / "pdq")

    header_path.write_text(json.dumps(header))
    np.save(tmp_path / "pdq" / "seg0.words.npy", np.zeros((3, 4), np.uint64))
    with pytest.raises(ValueError, match="seg0.words.npy: expected"):
        PDQIndex.load(tmp_path / "pdq")


def test_pickled_array_is_refused(tmp_path: Path, busy_index: PDQIndex) -> None:
    busy_index.save(tmp_path / "pdq")
    np.save(
        tmp_path / "pdq" / "tail.ids.npy", np.array([object()], dtype=object), allow_pickle=True
    )
    with pytest.raises(ValueError, match="tail.ids.npy: unreadable"):
        PDQIndex.load(tmp_path / "pdq")


def _mapped_flags(path: Path) -> dict[str, list[str]]:
    """VmFlags of this process's mappings of the files under `path`."""
    flags: dict[str, list[str]] = {}
    current = None
    for line in Path("/proc/self/smaps").read_text().splitlines():
        parts = line.split()
        if parts and "-" in parts[0] and parts[-1].startswith(str(path)):
            current = Path(parts[-1]).name
        elif current and parts and parts[0] == "VmFlags:":
            flags[current] = parts[1:]
            current = None
    return flags


def test_mapped_load_asks_for_huge_pages(tmp_path: Path, rng: np.random.Generator) -> None:
    """A mapped index asks for transparent huge pages on its big arrays (fewer TLB misses
    in the random reads of a search), for no read-around on its ids (each hit reads one),
    and answers as the in-memory one does."""
    thp = Path("/sys/kernel/mm/transparent_hugepage/enabled")
    if not thp.exists() or "[never]" in thp.read_text() or not Path("/proc/self/smaps").exists():
        pytest.skip("no transparent huge pages here")
    hashes = rng.integers(0, 256, (5_000, 32), dtype=np.uint8)
    index = PDQIndex.build_from(np.arange(5_000), hashes)
    index.save(tmp_path / "idx")
    mapped = PDQIndex.load(tmp_path / "idx", mmap=True)
    flags = _mapped_flags(tmp_path / "idx")
    for name in ("seg0.words.npy", "seg0.order.npy", "seg0.offsets.npy"):
        assert "hg" in flags[name], (name, flags)
    assert "hg" not in flags["seg0.ids.npy"]  # read a few per hit: small pages,
    assert "rr" in flags["seg0.ids.npy"]  # and no read-around (MADV_RANDOM)
    queries = near(rng, hashes[7], 9)[None, :]
    assert mapped.search(queries) == index.search(queries)


@pytest.mark.parametrize("mmap", [False, True])
def test_version_1_directories_still_load(
    tmp_path: Path, rng: np.random.Generator, mmap: bool
) -> None:
    """An index saved before the packed row tables (version 1: one uint32 row table per
    chunk, rows in the order given) loads, rebuilt in the current form, with every answer."""
    from tantalio.index import persist
    from tantalio.index.codec import bytes_to_words
    from tantalio.index.mih import Layout, chunk_column, key_bits_for, occupancy

    stored = rng.integers(0, 256, size=(3_000, 32), dtype=np.uint8)
    for d in range(32):
        stored[100 + d] = near(rng, stored[d], d)
    words, ids, n = bytes_to_words(stored), np.arange(5, 3_005, dtype=np.int64), len(stored)
    layout = Layout.even(11)
    key_bits = key_bits_for(n, layout.widths)
    orders, offsets = [], []
    for j, (start, width, k) in enumerate(zip(layout.starts, layout.widths, key_bits, strict=True)):
        keys = (chunk_column(words, start, width) >> np.uint64(width - k)).astype(np.int64)
        orders.append(np.argsort(keys, kind="stable").astype(np.uint32))
        counts = np.bincount(keys, minlength=1 << k)
        offsets.append((np.concatenate([[0], np.cumsum(counts)]) + j * n).astype(np.uint32))
    alive = np.ones(n, dtype=np.bool_)
    alive[7] = False
    header = {
        "format": "tantalio-pdq-index",
        "version": 1,
        "threshold": 31,
        "widths": list(layout.widths),
        "count": n - 1,
        "segments": [{"name": "seg0", "rows": n, "key_bits": list(key_bits)}],
        "tail_rows": 0,
    }
    table = np.concatenate(offsets)
    arrays = {
        "seg0.words": words,
        "seg0.ids": ids,
        "seg0.alive": alive,
        "seg0.order": np.concatenate(orders),
        "seg0.offsets": table,
        "seg0.occupied": occupancy(table),
        "tail.words": np.zeros((0, 4), np.uint64),
        "tail.ids": np.zeros(0, np.int64),
    }
    persist.write_dir(tmp_path / "v1", header, arrays)
    index = PDQIndex.load(tmp_path / "v1", mmap=mmap)
    queries = np.array([near(rng, stored[i], i % 32) for i in range(0, 300, 7)])
    keep = np.flatnonzero(alive)
    assert index.search(to_hex(queries)) == brute_force(stored[keep], ids[keep], queries, 31)
    assert len(index) == n - 1 and 12 not in index and 13 in index
