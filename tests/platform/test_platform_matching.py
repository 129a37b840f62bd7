"""Matching: exact at each bank's threshold, enabled flags, incremental updates seen by
another process within a second, flat memory under add/remove churn, orientations, vPDQ."""

from __future__ import annotations

import io
import time
import tracemalloc

import numpy as np
import pytest
from PIL import Image
from platform_helpers import Env, benign_image, make_config

from tantalio.platform import PlatformService
from tantalio.platform.matchindex import MatchIndex
from tantalio.platform.service import Invalid
from tantalio.store.platform.records import IndexRow

RNG = np.random.default_rng(7)


def rand_pdq() -> str:
    return RNG.integers(0, 256, 32, dtype=np.uint8).tobytes().hex()


def flip(h: str, bits: int) -> str:
    """`h` with its first `bits` bits inverted: Hamming distance exactly `bits`."""
    n = int(h, 16) ^ (((1 << bits) - 1) << (256 - bits))
    return f"{n:064x}"


def test_threshold_is_exact_and_per_bank(env: Env) -> None:
    c, H = env.client, env.admin
    assert c.post("/v1/banks", json={"name": "WIDE"}, headers=H).status_code == 201
    assert (
        c.post("/v1/banks", json={"name": "NARROW", "pdq_threshold": 10}, headers=H).status_code
        == 201
    )
    base = rand_pdq()
    wide = c.post("/c/bank/WIDE/signal", json={"pdq": base}, headers=H).json()["id"]
    narrow = c.post("/c/bank/NARROW/signal", json={"pdq": base}, headers=H).json()["id"]

    def found(distance: int) -> set[int]:
        r = c.get(
            "/m/raw_lookup",
            params={"signal_type": "pdq", "signal": flip(base, distance)},
            headers=env.lookup,
        )
        assert r.status_code == 200
        return set(r.json()["matches"])

    assert found(0) == {wide, narrow}
    assert found(10) == {wide, narrow}
    assert found(11) == {wide}
    assert found(31) == {wide}  # default threshold 31 is inclusive
    assert found(32) == set()


def test_disabled_bank_is_skipped_by_lookup_not_raw_lookup(env: Env) -> None:
    c, H = env.client, env.admin
    c.post("/c/banks", json={"name": "OFF"}, headers=H)
    h = rand_pdq()
    cid = c.post("/c/bank/OFF/signal", json={"pdq": h}, headers=H).json()["id"]
    assert c.put("/c/bank/OFF", json={"enabled": False}, headers=H).json() == {
        "name": "OFF",
        "matching_enabled_ratio": 0.0,
    }
    q = {"signal_type": "pdq", "signal": h}
    assert c.get("/m/lookup", params=q, headers=env.lookup).json() == {}
    assert c.get("/m/raw_lookup", params=q, headers=env.lookup).json() == {"matches": [cid]}
    c.put("/c/bank/OFF", json={"enabled": True}, headers=H)
    assert c.get("/m/lookup", params=q, headers=env.lookup).json() == {
        "OFF": [{"bank_content_id": cid, "distance": "0"}]
    }


def test_new_hash_matchable_in_another_process_within_a_second(db_url: str) -> None:
    writer = PlatformService(make_config(db_url), indexing=False)  # like `bank import` in a shell
    writer.create_bank("LIVE")
    reader = PlatformService(make_config(db_url))
    reader.start(background=True)  # follows the change feed (poll 0.1 s)
    try:
        h = rand_pdq()
        assert reader.lookup("pdq", h) == []
        t0 = time.perf_counter()
        [eid] = writer.add_entries("LIVE", [_entry(h)])
        while not reader.lookup("pdq", flip(h, 5)):
            assert time.perf_counter() - t0 < 1.0, "not matchable within 1 s"
            time.sleep(0.01)
        assert [m.entry_id for m in reader.lookup("pdq", h)] == [eid]
        writer.remove_entries("LIVE", [eid])
        t0 = time.perf_counter()
        while reader.lookup("pdq", h):
            assert time.perf_counter() - t0 < 1.0, "removal not applied within 1 s"
            time.sleep(0.01)
    finally:
        reader.close()
        writer.store.close()


def _entry(pdq: str):  # type: ignore[no-untyped-def]
    from tantalio.store.platform.records import NewEntry

    return NewEntry(pdq=pdq, md5=f"{RNG.integers(0, 2**63):032x}", source_list="test")


def test_index_memory_flat_across_add_remove_cycles() -> None:
    index = MatchIndex()
    base = [IndexRow(i, 1, None, None, None, rand_pdq(), None) for i in range(1, 2001)]
    index.add_rows(base)
    next_id = 10_000

    def cycle() -> None:
        nonlocal next_id
        rows = [
            IndexRow(
                next_id + k, 2, f"{next_id + k:032x}", None, f"{next_id + k:064x}", rand_pdq(), None
            )
            for k in range(20)
        ]
        next_id += 20
        index.add_rows(rows)
        assert index.search_pdq([rows[0].pdq], 0)[0][0].entry_id == rows[0].id  # type: ignore[index]
        index.remove_rows(rows)

    for _ in range(300):  # warm up: arrays reach their working size
        cycle()
    tracemalloc.start()
    before_index = index.memory_bytes()
    before_py = tracemalloc.get_traced_memory()[0]
    for _ in range(3000):
        cycle()
    after_py = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    assert len(index) == len(base)
    assert index.memory_bytes() <= before_index * 1.05
    assert after_py - before_py < 512 * 1024, f"grew {after_py - before_py} bytes"
    assert index.search_exact("md5", f"{10_000:032x}") == []


def test_service_churn_keeps_index_size(env: Env) -> None:
    svc = env.service
    svc.create_bank("CHURN")
    keep = svc.add_entries("CHURN", [_entry(rand_pdq()) for _ in range(50)])
    size0 = len(svc.index)
    mem0 = svc.index.memory_bytes()
    for _ in range(300):
        ids = svc.add_entries("CHURN", [_entry(rand_pdq()) for _ in range(5)])
        svc.remove_entries("CHURN", ids)
    assert len(svc.index) == size0 == len(keep)
    assert svc.index.memory_bytes() <= max(mem0 * 1.05, mem0 + 64 * 1024)


def test_upload_matches_rotated_copy_and_md5(env: Env) -> None:
    c, H = env.client, env.admin
    c.post("/c/banks", json={"name": "IMAGES"}, headers=H)
    original = benign_image(1)
    added = c.post(
        "/c/bank/IMAGES/content", files={"photo": ("o.png", original, "image/png")}, headers=H
    )
    assert added.status_code == 200, added.text
    cid = added.json()["id"]
    im = Image.open(io.BytesIO(original)).rotate(90, expand=True)
    buf = io.BytesIO()
    im.save(buf, "PNG")
    r = c.post(
        "/v1/match/upload",
        files={"file": ("r.png", buf.getvalue(), "image/png")},
        headers=env.lookup,
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert [(m["entry_id"], m["signal_type"]) for m in body["matches"]] == [(cid, "pdq")]
    assert body["matches"][0]["distance"] <= 31
    same = c.post(
        "/v1/match/upload", files={"file": ("o.png", original, "image/png")}, headers=env.lookup
    )
    assert same.json()["matches"][0]["distance"] == 0


def test_vpdq_needs_most_frames(env: Env) -> None:
    svc = env.service
    svc.create_bank("VIDEOS")
    frames = [rand_pdq() for _ in range(10)]
    eid, _ = svc.add_signals("VIDEOS", {"vpdq": ",".join(frames)})
    [hit] = svc.lookup("vpdq", ",".join(flip(f, 3) for f in frames[:8]))
    assert (hit.entry_id, hit.rule, hit.query_share, hit.index_share) == (
        eid,
        "vpdq-query-share",
        1.0,
        0.8,
    )
    # 7 of the known frames and 3 others: 70 % of the query, 70 % of the known video.
    other = [rand_pdq() for _ in range(3)]
    assert svc.lookup("vpdq", ",".join(frames[:7] + other)) == []
    # An excerpt (all its frames in the known video) matches by its query share.
    [excerpt] = svc.lookup("vpdq", ",".join(frames[:2]))
    assert (excerpt.rule, excerpt.query_share, excerpt.index_share) == (
        "vpdq-query-share",
        1.0,
        0.2,
    )


def test_start_up_load_sees_live_entries_only(db_url: str) -> None:
    writer = PlatformService(make_config(db_url), indexing=False)
    writer.create_bank("BOOT")
    hashes = [rand_pdq() for _ in range(3000)]  # more than one index tail
    assert writer.store.add_pdq_bulk(writer.bank("BOOT").id, hashes, source_list="bulk") == 3000
    [vid, md5_id] = writer.add_entries("BOOT", [_video([hashes[0], hashes[1]]), _entry(rand_pdq())])
    removed = writer.store.list_entries(writer.bank("BOOT").id, limit=1)[0]
    writer.remove_entries("BOOT", [removed.id])
    svc = PlatformService(make_config(db_url))
    svc.start(background=False)
    try:
        assert len(svc.index) == 3000 - 1 + 1  # bulk minus removed, plus the md5/pdq entry
        assert svc.lookup("pdq", hashes[0]) == []  # the removed one
        found = svc.lookup("pdq", flip(hashes[2999], 31))
        assert [m.distance for m in found] == [31]
        md5 = writer.store.get_entries([md5_id])[0].md5
        assert [m.entry_id for m in svc.lookup("md5", md5)] == [md5_id]
        assert [m.entry_id for m in svc.lookup("vpdq", f"{hashes[0]},{hashes[1]}")] == [vid]
    finally:
        svc.close()
        writer.store.close()


def _video(frames: list[str]):  # type: ignore[no-untyped-def]
    from tantalio.store.platform.records import NewEntry

    return NewEntry(vpdq=frames, source_list="test")


def test_hma_vpdq_cells_are_converted_and_gated(env: Env) -> None:
    svc = env.service
    svc.create_bank("CELLS")
    good, dim = rand_pdq(), rand_pdq()
    cells = f'["{good},100,0.000", "{dim},20,1.000"]'
    eid, clean = svc.add_signals("CELLS", {"vpdq": cells})
    assert clean == {"vpdq": f"{good},{dim}"}
    assert svc.entries([eid])[eid].vpdq == [good]  # the low-quality frame is not banked
    [m] = svc.lookup("vpdq", good)
    assert (m.entry_id, m.query_share, m.index_share) == (eid, 1.0, 1.0)
    with pytest.raises(Invalid, match="no frame of quality"):
        svc.add_signals("CELLS", {"vpdq": f"{dim},20,1.000"})


def test_bad_stored_values_are_skipped_and_counted() -> None:
    index = MatchIndex()
    good = rand_pdq()
    n = index.add_rows(
        [
            IndexRow(1, 1, None, None, None, "zz" * 32, None),
            IndexRow(2, 1, "ab" * 16, None, None, good, ["not a frame"]),
            IndexRow(3, 1, "x" * 32, None, None, None, [f"{good},90,0.0"]),
        ]
    )
    assert n == 3 and index.skipped == 3
    assert [m.entry_id for ms in index.search_pdq([good], 0) for m in ms] == [2]
    assert index.frame_count((3 << 16) | 1) == 1
    loaded = MatchIndex()
    loaded.bulk_load([([1, 2], [1, 1], ["zz", "ab" * 16], [None, None], [None, None],
                       ["g" * 64, good], [None, None])])  # fmt: skip
    assert loaded.skipped == 2 and len(loaded) == 1
