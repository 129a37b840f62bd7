"""The bag-of-binary-words local-features index: a crop or rotation of a reference is found
among thousands of distractor references, a reference added after the build is found, a
saved index answers as the built one, and damaged files are named (benign generated scenes
only)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tantalio.localfeat.extract import features, with_mirror
from tantalio.localfeat.index import LocalIndex, LocalIndexError, RefArrays
from tantalio.signals.rules import DEFAULT_LOCAL_MIN_INLIERS as POINT

from .test_localfeat import luma, scene

DISTRACTORS = 3000


def query(im: Image.Image) -> list:
    return with_mirror(luma(im), *im.size, 400)


def distractors(n: int, first_id: int) -> RefArrays:
    """References that behave like distinct pictures: 64 real ORB descriptors of other
    scenes each, bits lightly flipped, at random positions (they never verify)."""
    rng = np.random.default_rng(7)
    pool = np.concatenate(
        [features(luma(scene(s)), 640, 480, 400).descriptors for s in range(200, 215)]
    )
    masks = np.packbits((rng.random((512, 256)) < 0.06).astype(np.uint8), axis=1)
    m = n * 64
    desc = pool[rng.integers(0, len(pool), m)] ^ masks[rng.integers(0, 512, m)]
    xy = (rng.random((m, 2)) * [511, 383]).astype(np.float32)
    return RefArrays(
        np.arange(first_id, first_id + n, dtype=np.int64),
        np.full(n, 64, np.int64),
        desc,
        xy,
        np.tile([[640, 480]], (n, 1)).astype(np.int64),
        np.full(n, 1.25, np.float32),
    )


def with_refs(seeds: range, ids: list[int]) -> RefArrays:
    return RefArrays.of([features(luma(scene(s)), 640, 480) for s in seeds], ids)


def concat(a: RefArrays, b: RefArrays) -> RefArrays:
    return RefArrays(*(np.concatenate([getattr(a, f), getattr(b, f)]) for f in RefArrays.__slots__))


@pytest.fixture(scope="module")
def big() -> LocalIndex:
    return LocalIndex.from_arrays(
        concat(with_refs(range(6), [100 + s for s in range(6)]), distractors(DISTRACTORS, 1000))
    )


def answers(index: LocalIndex, variants: list) -> list[tuple[int, int]]:
    return [(m.ref, m.inliers) for m in index.search(variants, min_inliers=POINT)]


def test_crop_and_rotation_found_among_thousands(big: LocalIndex) -> None:
    assert len(big) == DISTRACTORS + 6 and big.vocab is not None and len(big.vocab) >= 1024
    crop = scene(3).crop((100, 60, 580, 420))
    found = big.search(query(crop), min_inliers=POINT)
    assert found and found[0].ref == 103 and len({m.ref for m in found}) == 1
    rotated = scene(4).rotate(4, resample=Image.BILINEAR).resize((480, 360))
    found = big.search(query(rotated), min_inliers=POINT)
    assert found and found[0].ref == 104
    assert abs(found[0].verified.transform()["rotation_deg"] - 4) < 0.7
    for seed in (60, 61, 62):  # unrelated pictures match nothing
        assert big.search(query(scene(seed)), min_inliers=POINT) == []


def test_threads_searching_one_index_get_the_answers_of_one_thread(big: LocalIndex) -> None:
    """The scoring's scratch buffer is per thread: searches running at once (a platform's
    serving threads) answer exactly as one after the other."""
    from concurrent.futures import ThreadPoolExecutor

    queries = [query(scene(s).crop((80, 40, 600, 440))) for s in (1, 2, 3, 4, 5)]
    queries += [query(scene(s)) for s in (60, 61)]

    def answer(q: list) -> list[tuple[int, int]]:
        return [(m.ref, m.votes) for m in big.search(q, min_inliers=POINT)]

    alone = [answer(q) for q in queries]
    assert [a[0][0] if a else None for a in alone] == [101, 102, 103, 104, 105, None, None]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            assert list(pool.map(answer, queries * 2)) == alone * 2


def test_reference_added_after_build_is_found_and_removed(big: LocalIndex) -> None:
    index = LocalIndex.from_arrays(distractors(DISTRACTORS, 1000))
    crop = scene(9).crop((40, 40, 600, 440))
    assert index.search(query(crop), min_inliers=POINT) == []
    index.add([features(luma(scene(9)), 640, 480)], [42])
    assert len(index.segments) == 2
    found = index.search(query(crop), min_inliers=POINT)
    assert found and found[0].ref == 42
    assert index.remove([42]) == 1 and 42 not in set(index.ids().tolist())
    assert index.search(query(crop), min_inliers=POINT) == []


def test_saved_index_gives_the_same_answers(big: LocalIndex, tmp_path: Path) -> None:
    index = LocalIndex.from_arrays(with_refs(range(6), [100 + s for s in range(6)]))
    index.add_arrays(distractors(500, 1000))
    index.remove([101])
    index.save(tmp_path / "lf")
    again = LocalIndex.load(tmp_path / "lf")
    assert sorted(again.ids().tolist()) == sorted(index.ids().tolist())
    qs = [query(scene(3).crop((100, 60, 580, 420))), query(scene(1).crop((0, 0, 500, 400)))]
    for q in qs:
        assert answers(again, q) == answers(index, q)
    assert answers(again, qs[0])[0][0] == 103 and answers(again, qs[1]) == []
    # a reference added to the loaded index is saved as one more segment
    again.add([features(luma(scene(1)), 640, 480)], [101])
    again.save(tmp_path / "lf")
    third = LocalIndex.load(tmp_path / "lf")
    assert answers(third, qs[1])[0][0] == 101
    assert len(list((tmp_path / "lf").glob("*.tmp"))) == 0


def test_damaged_files_are_named(tmp_path: Path) -> None:
    index = LocalIndex.from_arrays(with_refs(range(4), [1, 2, 3, 4]))
    d = tmp_path / "lf"
    index.save(d)
    post = next(d.glob("*.post.npy"))
    post.write_bytes(post.read_bytes()[:-40])  # truncated
    with pytest.raises(LocalIndexError) as err:
        LocalIndex.load(d)
    assert err.value.path == post
    index.save(tmp_path / "lf2")
    (tmp_path / "lf2" / "header.json").write_text("{not json")
    with pytest.raises(LocalIndexError, match="header.json: not valid JSON"):
        LocalIndex.load(tmp_path / "lf2")
    index.save(tmp_path / "lf3")
    next((tmp_path / "lf3").glob("*.desc.npy")).unlink()
    with pytest.raises(LocalIndexError, match="desc.npy: missing"):
        LocalIndex.load(tmp_path / "lf3")


def test_top_scores_are_exact_on_large_arrays() -> None:
    from tantalio.localfeat.index import _top

    rng = np.random.default_rng(1)
    for n in (10, 5000, 300_000):
        for zero in (0.0, 0.5, 0.999):
            sc = rng.random(n)
            sc[rng.random(n) < zero] = 0
            pos = np.flatnonzero(sc > 0)
            want = set(pos[np.argsort(-sc[pos])[:32]].tolist())
            assert set(_top(sc, 32).tolist()) == want


def test_shortlist_scores_only_voted_references_and_equals_dense_tf_idf(big: LocalIndex) -> None:
    """The shortlist's sparse scoring (touching only the gathered postings) gives the same
    best references and scores as tf-idf summed over every reference, removed ones
    excluded, and its scratch buffer carries nothing from one query to the next."""
    from tantalio.localfeat.index import PROBE, SOFT, STOP_WORD

    seg = big.segments[0]
    post, off = np.asarray(seg.post), np.asarray(seg.word_off)
    owner = np.repeat(np.arange(len(off) - 1), np.diff(off))

    def dense(qdesc: np.ndarray) -> dict[int, float]:
        assert big.vocab is not None
        w = big.vocab.assign(qdesc, SOFT, PROBE)
        uw = np.unique(w[w >= 0])
        stop = max(256, int(STOP_WORD * len(post) / len(big.vocab)))
        lens = np.diff(off)
        ok = np.isin(owner, uw[(lens[uw] > 0) & (lens[uw] <= stop)])
        sc = np.bincount(post[ok], weights=big.idf[owner[ok]], minlength=len(seg))
        sc[seg.dead] = 0
        top = np.argsort(-sc, kind="stable")[:16]
        return {int(i): float(sc[i]) for i in top if sc[i] > 0}

    big.remove([101])
    try:
        for s in (1, 3, 210):  # two references, one distractor's scene
            qdesc = features(luma(scene(s)), 640, 480, 400).descriptors
            got = big.shortlist(qdesc, 16)
            want = dense(qdesc)
            assert [i for _, i in got][:4] == list(want)[:4]
            assert {i for _, i in got} == set(want)
            assert all(int(seg.ids[i]) != 101 for _, i in got)
        assert (
            int(
                seg.ids[big.shortlist(features(luma(scene(3)), 640, 480, 400).descriptors, 1)[0][1]]
            )
            == 103
        )
    finally:
        seg.dead[np.flatnonzero(np.asarray(seg.ids) == 101)] = False


def test_the_same_picture_in_two_sets_is_found_under_both_ids() -> None:
    ref = features(luma(scene(5)), 640, 480)
    index = LocalIndex.from_arrays(concat(RefArrays.of([ref, ref], [7, 8]), distractors(300, 1000)))
    found = index.search(query(scene(5).crop((60, 40, 600, 440))), min_inliers=POINT)
    assert {m.ref for m in found} == {7, 8}


def test_compiled_scoring_equals_the_numpy_passes_and_leaves_its_buffer_clear(
    big: LocalIndex,
) -> None:
    """localfeat/kernel.py's loop gives the numpy path's references and scores, in the same
    order (best first, ties by reference), skips removed references, and leaves its score
    accumulator all zero for the next query."""
    from tantalio.localfeat import index as lfi

    assert big.vocab is not None
    seg = big.segments[0]
    stop = max(256, int(lfi.STOP_WORD * len(seg.post) / len(big.vocab)))
    big.remove([102])
    try:
        for s in (1, 2, 4, 211):
            w = big.vocab.assign(features(luma(scene(s)), 640, 480, 400).descriptors)
            uw = np.unique(w[w >= 0])
            for k in (1, 16, 64):
                refs, sc = seg.top(uw, big.idf, stop, k)
                want_refs, want_sc = seg._top_numpy(uw, big.idf, stop, k)
                assert refs.tolist() == want_refs.tolist()
                np.testing.assert_allclose(sc, want_sc, rtol=1e-5)
                assert all(int(seg.ids[i]) != 102 for i in refs)
            acc, _ = lfi._buffers(seg)
            assert not acc.any()
    finally:
        seg.dead[np.flatnonzero(np.asarray(seg.ids) == 102)] = False


def test_compiled_nearest_descriptors_equal_faiss_flat_search() -> None:
    """localfeat/kernel.py's shortlist matching gives faiss's distances for every rank, and
    its neighbours where distances are not tied (ties may come in either order)."""
    from tantalio.localfeat import index as lfi

    rng = np.random.default_rng(3)
    base = rng.integers(0, 256, (700, 32), dtype=np.uint8)
    # near copies (few bits flipped) and exact repeats, so ties and close pairs occur
    flips = np.packbits((rng.random((300, 256)) < 0.03).astype(np.uint8), axis=1)
    qdesc = np.concatenate([base[:300] ^ flips, base[300:320], rng.integers(0, 256, (50, 32))])
    qdesc = qdesc.astype(np.uint8)
    shortlisted = np.concatenate([base, base[300:310]])
    for rows in (shortlisted, shortlisted[:3], shortlisted[:1]):
        lfi.COMPILED = False
        try:
            want_d, want_i = lfi._nearest(qdesc, rows)
        finally:
            lfi.COMPILED = True
        got_d, got_i = lfi._nearest(qdesc, rows)
        assert got_d.shape == want_d.shape and got_d.dtype == want_d.dtype
        assert (got_d == want_d).all()
        untied = np.ones(got_d.shape, bool)
        untied[:, 1:] &= got_d[:, 1:] != got_d[:, :-1]
        untied[:, :-1] &= got_d[:, :-1] != got_d[:, 1:]
        assert (got_i[untied] == want_i[untied]).all()


def test_one_to_one_keeps_each_keypoint_once_closest_first() -> None:
    """The compiled pairing gives what the plain loop gave: pairs in order of distance
    (stable), each query and reference keypoint at most once."""
    from tantalio.localfeat.index import one_to_one

    rng = np.random.default_rng(9)
    qi = rng.integers(0, 50, 400).astype(np.intp)
    rj = rng.integers(0, 64, 400).astype(np.int64)
    dist = rng.integers(0, 65, 400).astype(np.int32)
    want, seen_q, seen_r = [], set(), set()
    for k in np.argsort(dist, kind="stable"):
        if qi[k] in seen_q or rj[k] in seen_r:
            continue
        seen_q.add(qi[k])
        seen_r.add(rj[k])
        want.append((int(qi[k]), int(rj[k])))
    got = one_to_one(qi, rj, dist)
    assert got.dtype == np.intp and got.shape == (len(want), 2)
    assert [tuple(p) for p in got.tolist()] == want
    assert one_to_one(qi[:0], rj[:0], dist[:0]).shape == (0, 2)


def test_save_makes_every_array_durable_before_the_header_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A power cut after `save` must not leave a header naming an array still in the page
    cache only: each array file is fsynced before its rename, and the directory before the
    header's."""
    import os

    from tantalio.localfeat import index as lf_index

    events: list[str] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        events.append("fsync " + os.readlink(f"/proc/self/fd/{fd}"))
        real_fsync(fd)

    def replace(src: str | Path, dst: str | Path) -> None:
        events.append(f"replace {Path(dst).name}")
        real_replace(src, dst)

    monkeypatch.setattr(lf_index.os, "fsync", fsync)
    monkeypatch.setattr(lf_index.os, "replace", replace)
    LocalIndex.from_arrays(with_refs(range(4), [1, 2, 3, 4])).save(tmp_path / "lf")
    arrays = sorted(p.name for p in (tmp_path / "lf").glob("*.npy"))
    assert arrays
    header_at = events.index("replace header.json")
    for name in arrays:
        written = events.index(f"replace {name}")
        assert events[written - 1] == f"fsync {tmp_path / 'lf' / name}.tmp"  # data, then rename
        assert written < header_at
    assert events[header_at - 1] == f"fsync {tmp_path / 'lf'}"  # the arrays' renames first
    assert events[header_at + 1] == f"fsync {tmp_path / 'lf'}"  # then the header's
