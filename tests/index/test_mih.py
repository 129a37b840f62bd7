"""The segment's cost rule and layout helpers (default settings, no forcing)."""

from __future__ import annotations

import numpy as np
import pytest

from tantalio.index import mih
from tantalio.index.codec import to_words
from tantalio.index.mih import Layout, Segment, allocate_radii, default_chunks, occupancy, scan


def test_radii_cover_the_pigeonhole_bound() -> None:
    for radius in (0, 5, 10, 31, 47, 64):
        layout = Layout.even(default_chunks(31))
        radii = allocate_radii(radius, layout.widths)
        assert sum(r + 1 for r in radii) == radius + 1
    assert Layout.even(11).widths == (24, 24, 24) + (23,) * 8
    assert default_chunks(31) == 11 and default_chunks(10) == 11 and default_chunks(47) == 16


def test_cost_based_radii_keep_the_bound_and_put_radius_one_where_buckets_are_fullest() -> None:
    layout = Layout.even(11)
    for n in (10_000, 1_000_000, 100_000_000):
        keys = mih.key_bits_for(n, layout.widths)
        for radius in (0, 5, 31, 47, 64, 255):
            radii = allocate_radii(radius, layout.widths, keys, n, direct=True)
            assert all(-1 <= r <= k for r, k in zip(radii, keys, strict=True))
            if radius + 1 <= sum(k + 1 for k in keys):
                assert sum(r + 1 for r in radii) == radius + 1
            else:  # more slack than the tables have bits: every bucket of every chunk
                assert radii == list(keys)
    # At 100M the 23-bit chunks hold ~12 rows a bucket, the 24-bit ones ~6: the one chunk
    # searched at radius 1 is a 23-bit chunk with a row table, not the sorted last chunk.
    keys = mih.key_bits_for(100_000_000, layout.widths)
    radii = allocate_radii(31, layout.widths, keys, 100_000_000, direct=True)
    assert radii == [2, 2, 2, 1] + [2] * 7
    cost = sum(
        mih.probe_cost(k, r, 100_000_000, direct=j == 10)
        for j, (k, r) in enumerate(zip(keys, radii, strict=True))
    )
    widest = allocate_radii(31, layout.widths)
    assert cost < sum(
        mih.probe_cost(k, r, 100_000_000, direct=j == 10)
        for j, (k, r) in enumerate(zip(keys, widest, strict=True))
    )


def test_chunk_values_match_the_bits() -> None:
    rng = np.random.default_rng(3)
    data = rng.integers(0, 256, size=(5, 32), dtype=np.uint8)
    layout = Layout.even(11)
    values = layout.values(to_words(data))
    bits = "".join(f"{b:08b}" for b in data[2])
    for j, (start, width) in enumerate(zip(layout.starts, layout.widths, strict=True)):
        assert values[2, j] == int(bits[start : start + width], 2)


def test_small_segments_scan_and_big_ones_probe_with_equal_answers() -> None:
    rng = np.random.default_rng(4)
    small = Segment(
        to_words(rng.integers(0, 256, (1_000, 32), np.uint8)), np.arange(1_000), Layout.even(11)
    )
    assert small._plan(31) is None  # scanning 1,000 rows beats ~2,000 probes
    words = to_words(rng.integers(0, 256, (100_000, 32), np.uint8))
    big = Segment(words, np.arange(100_000), Layout.even(11))
    assert big._plan(31) is not None and big._plan(200) is None
    queries = words[:50].copy()
    queries[:, 1] ^= np.uint64(0xFFFF_FFFF)  # 32 bits off: outside 31, inside 40
    found = {}
    for radius in (31, 40):
        got = big.search(queries, radius)
        assert _triples(got) == _triples(scan(words, queries, radius))
        found[radius] = {(q, row) for q, row, _ in _triples(got)}
    planted = {(i, i) for i in range(50)}
    assert planted <= found[40] and not planted & found[31]


def _triples(arrays: tuple[np.ndarray, ...]) -> list[tuple[int, ...]]:
    q, row, dist = (a.tolist() for a in arrays)
    return sorted(zip(q, row, dist, strict=True))


def test_occupancy_bitmap_marks_exactly_the_non_empty_buckets() -> None:
    rng = np.random.default_rng(6)
    seg = Segment(
        to_words(rng.integers(0, 256, (3_000, 32), np.uint8)), np.arange(3_000), Layout.even(11)
    )
    counts = np.diff(seg.offsets.astype(np.int64))
    bits = np.unpackbits(seg.occupied, bitorder="little")[: len(counts)]
    assert np.array_equal(bits.astype(bool), counts > 0)
    assert bits.sum() > 0
    # Blockwise packing agrees with packing in one go on a table longer than one block.
    long = np.sort(rng.integers(0, 1_000, (1 << 22) + 13)).astype(np.uint32)
    expected = np.packbits(long[1:] > long[:-1], bitorder="little")
    assert np.array_equal(occupancy(long)[: len(expected)], expected)


def test_compiled_kernel_equals_the_numpy_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The compiled probe-and-verify loop (kernel.py) and the numpy passes give the same
    triples: with and without the occupancy bitmap (sparse and crowded tables), rows stored
    as given or sorted by the last chunk (`direct`: that chunk's buckets are row ranges),
    dead rows, duplicates reached through several chunks, and more hits than the first
    output guess."""
    rng = np.random.default_rng(8)
    base = rng.integers(0, 256, (60_000, 32), np.uint8)
    base[1_000:1_400] = base[0]  # 400 copies of one hash: far more hits than 16 per query
    words = to_words(base)
    ids = np.arange(len(words))
    layout = Layout.even(11)
    sparse = Segment(words, ids, layout)
    crowded = Segment(words, ids, layout, key_bits=(12,) * 11)
    direct = Segment.sorted(words, ids, layout)
    assert len(words) < 1 << min(sparse.key_bits)  # bitmap used
    assert len(words) >= 1 << min(crowded.key_bits)  # bitmap skipped
    assert direct.direct and not sparse.direct and len(direct.order) < len(sparse.order)
    queries = words[[0, 5, 17, 2_000, 3_000]].copy()
    queries[1:, 0] ^= np.uint64(0xFF)  # 8 bits off
    queries[2:, 2] ^= np.uint64(0xFFFF_0000)  # 24 bits off
    for seg in (sparse, crowded, direct):
        seg.kill(seg.locate(np.arange(1_100, 1_200)))
        for radius in (0, 10, 31):
            monkeypatch.setattr(mih, "USE_KERNEL", True)
            compiled = _by_id(seg, seg.search(queries, radius))
            monkeypatch.setattr(mih, "USE_KERNEL", False)
            assert compiled == _by_id(seg, seg.search(queries, radius))
            alive = np.flatnonzero(np.isin(ids, seg.ids[seg.alive]))
            want = scan(words[alive], queries, radius)
            assert compiled == _triples((want[0], alive[want[1]], want[2]))
        # Row 0 and its 300 copies left alive, each once.
        assert sum(1 for t in compiled if t[0] == 0) == 301


def _by_id(seg: Segment, found: tuple[np.ndarray, ...]) -> list[tuple[int, ...]]:
    q, rows, dist = found
    return _triples((q, seg.ids[rows], dist))


@pytest.mark.parametrize("n", [1, 2, 63, 64, 65, 1_000, 70_000, 200_000])
def test_packed_row_tables_round_trip(n: int) -> None:
    """Row numbers packed at `row_bits_for(n)` bits (27 at 100M) read back exactly by the
    numpy unpacking and by the kernel's, at every offset within a word."""
    rng = np.random.default_rng(n)
    bits = mih.row_bits_for(n)
    assert bits == max(1, (n - 1).bit_length()) and mih.row_bits_for(100_000_000) == 27
    stride = mih.stride_for(n)
    packed = np.zeros(2 * stride * bits // 64 + 1, dtype=np.uint64)
    rows = [rng.integers(0, n, size=n).astype(np.uint64) for _ in range(2)]
    for j, chunk in enumerate(rows):
        mih.pack_rows(chunk | np.uint64(0xABC) << np.uint64(32), packed, j * stride, bits)
    entries = np.concatenate([np.arange(n), stride + np.arange(n)])
    assert np.array_equal(mih.unpack_rows(packed, entries, bits), np.concatenate(rows))


def test_sorted_segment_finds_rows_by_id() -> None:
    """Rows are stored in the last chunk's order; ids given ascending get their lookup at
    build (no argsort on the first write), others on the first `locate`: both exact."""
    rng = np.random.default_rng(9)
    words = to_words(rng.integers(0, 256, (5_000, 32), np.uint8))
    for ids in (np.arange(5_000) * 2 + 7, rng.permutation(5_000) * 3):
        seg = Segment.sorted(words, ids, Layout.even(11))
        assert (seg._id_rows is not None) == bool(np.all(ids[1:] > ids[:-1]))
        pick = ids[[0, 17, 4_999, 2_500]]
        rows = seg.locate(np.concatenate([pick, [-1]]))
        assert seg.ids[rows].tolist() == pick.tolist()
        want = {tuple(w) for w in words[[0, 17, 4_999, 2_500]].tolist()}
        assert {tuple(w) for w in seg.words[rows].tolist()} == want


def test_chunk_values_agree_for_few_and_many_hashes() -> None:
    """A few hashes go through Python ints, more through numpy columns: same values."""
    words = to_words(np.random.default_rng(10).integers(0, 256, (40, 32), np.uint8))
    for layout in (Layout.even(11), Layout.even(5), Layout.even(32)):
        many = layout.values(words)
        assert len(words) > mih.SMALL_VALUES
        few = np.concatenate([layout.values(words[i : i + 3]) for i in range(0, 40, 3)])
        assert np.array_equal(many, few)
