"""Bulk banks (issue 17): a PDQ list stored as a memory-mapped index, not a row per hash.

Real SQLite files (and PostgreSQL where marked), real index directories, the real app."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from platform_helpers import keys, make_config

from tantalio.index.codec import words_to_hex
from tantalio.platform import PlatformService, create_platform_app
from tantalio.platform.bulkbank import import_bulk
from tantalio.platform.bulkindex import BulkIndexError
from tantalio.platform.imports import ImportRefused, import_file
from tantalio.store.platform.records import NewEntry

N = 50_000
RNG = np.random.default_rng(17)


def flip(h: str, bits: int) -> str:
    n = int(h, 16) ^ (((1 << bits) - 1) << (256 - bits))
    return f"{n:064x}"


@pytest.fixture(scope="module")
def hashes() -> list[str]:
    words = RNG.integers(0, 2**63, (N, 4), dtype=np.uint64)
    return words_to_hex(words)


def _list(path: Path, hashes: list[str]) -> Path:
    path.write_text("\n".join(hashes) + "\n")
    return path


def _queries(hashes: list[str]) -> list[str]:
    rng = np.random.default_rng(3)
    picks = rng.choice(len(hashes), 300, replace=False)
    near = [
        flip(hashes[int(p)], int(d)) for p, d in zip(picks, rng.integers(0, 40, 300), strict=True)
    ]
    far = words_to_hex(rng.integers(0, 2**63, (100, 4), dtype=np.uint64))
    return near + far


def _answers(svc: PlatformService, queries: list[str]) -> list[list[tuple[str | None, int]]]:
    """Per query: (stored hash, distance) of every match, via the entries' records."""
    out = []
    for q in queries:
        ms = svc.lookup("pdq", q)
        entries = svc.entries([m.entry_id for m in ms])
        out.append(sorted((entries[m.entry_id].pdq, m.distance) for m in ms))
    return out


def _serving(tmp_path: Path, name: str, **cfg: object) -> PlatformService:
    svc = PlatformService(make_config(f"sqlite:///{tmp_path / name}", **cfg))  # type: ignore[arg-type]
    svc.start(background=False)
    return svc


def test_bulk_import_answers_as_the_normal_import(tmp_path: Path, hashes: list[str]) -> None:
    plain = _serving(tmp_path, "plain.db")
    plain.create_bank("KNOWN")
    csv = tmp_path / "list.csv"
    csv.write_text("signal_type,signal\n" + "".join(f"pdq,{h}\n" for h in hashes))
    assert import_file(plain, "KNOWN", csv, format="hma").added == N
    plain.sync.refresh()

    bulk = _serving(tmp_path, "bulk.db")
    bulk.create_bank("KNOWN")
    res = import_bulk(bulk, "KNOWN", _list(tmp_path / "list.txt", hashes), tmp_path / "bulk")
    assert (res.added, res.warnings) == (N, [])
    try:
        # No row per hash: the bank's entries are the segment.
        with bulk.store.engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT count(*) FROM platform_entries").scalar()
        assert rows == 0
        assert bulk.store.bank_sizes() == {bulk.bank("KNOWN").id: N}
        queries = _queries(hashes)
        want = _answers(plain, queries)
        assert sum(map(len, want)) >= 200  # planted copies within 31 bits are found
        assert _answers(bulk, queries) == want
        # An entry record of a bulk entry: its bank, hash, list.
        m = bulk.lookup("pdq", hashes[123])[0]
        e = bulk.entries([m.entry_id])[m.entry_id]
        assert (e.bank_name, e.pdq, e.source_list, m.distance) == (
            "KNOWN",
            hashes[123],
            "list.txt",
            0,
        )
    finally:
        plain.close()
        bulk.close()


def test_http_paths_restart_add_and_remove(tmp_path: Path, hashes: list[str]) -> None:
    db = f"sqlite:///{tmp_path / 'p.db'}"
    cfg = make_config(db, index_dir=str(tmp_path / "snap"))
    svc = PlatformService(cfg)
    admin, _curate, lookup = keys(svc)
    svc.start(background=False)
    svc.create_bank("BULK")
    import_bulk(svc, "BULK", _list(tmp_path / "l.txt", hashes[:20_000]), tmp_path / "bulk")
    with TestClient(create_platform_app(service=svc, background=False)) as client:
        q = flip(hashes[77], 9)
        r = client.get(
            "/m/raw_lookup",
            params={"signal_type": "pdq", "signal": q, "include_distance": "true"},
            headers=lookup,
        )
        assert r.status_code == 200, r.text
        assert [int(h["distance"]) for h in r.json()["matches"]] == [9]
        r = client.post(
            "/v1/match", json={"hashes": {"pdq": q}, "content_ref": "c1"}, headers=lookup
        )
        assert r.status_code == 200, r.text
        [hit] = r.json()["matches"]
        assert hit["distance"] == 9 and hit["bank"] == "BULK"
        assert len(r.json()["events"]) == 1  # recorded like any match
        bulk_id = hit["entry_id"]
        assert (
            client.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": q}).status_code
            == 401
        )

        # An add to the bulk bank is matchable when its call returns.
        new = words_to_hex(RNG.integers(0, 2**63, (1, 4), dtype=np.uint64))[0]
        t0 = time.perf_counter()
        r = client.post("/v1/banks/BULK/entries", json={"entries": [{"pdq": new}]}, headers=admin)
        assert r.status_code == 201, r.text
        assert [m.distance for m in svc.lookup("pdq", flip(new, 5))] == [5]
        assert time.perf_counter() - t0 < 1.0
        # Removing a bulk entry: a tombstone row, the hash no longer matches.
        r = client.delete(f"/v1/banks/BULK/entries/{bulk_id}", headers=admin)
        assert r.status_code == 200, r.text
        assert svc.lookup("pdq", q) == []
        assert svc.store.bank_sizes()[svc.bank("BULK").id] == 20_000
    svc.close()

    again = PlatformService(cfg)
    t0 = time.perf_counter()
    again.start(background=False)
    try:
        assert time.perf_counter() - t0 < 30
        assert again.loaded_from == "snapshot"
        assert again.lookup("pdq", q) == []  # still removed
        assert [m.distance for m in again.lookup("pdq", flip(new, 5))] == [5]
        assert [m.distance for m in again.lookup("pdq", flip(hashes[5000], 31))] == [31]
        gone = again.entries([bulk_id])[bulk_id]
        assert gone.removed_at is not None and gone.pdq == hashes[77]
        assert len(again.index) == 20_000
    finally:
        again.close()


def test_a_running_server_maps_a_bulk_import_from_the_feed(
    tmp_path: Path, hashes: list[str]
) -> None:
    server = _serving(tmp_path, "f.db")
    server.create_bank("LATER")
    cli = PlatformService(make_config(server.config.db_url), indexing=False)
    import_bulk(cli, "LATER", _list(tmp_path / "l.txt", hashes[:5000]), tmp_path / "bulk")
    cli.store.close()
    try:
        assert server.lookup("pdq", hashes[10]) == []
        server.sync.refresh()  # the follower's poll
        assert [m.distance for m in server.lookup("pdq", flip(hashes[10], 3))] == [3]
    finally:
        server.close()


def test_bad_lines_are_named_and_skipped(tmp_path: Path, hashes: list[str]) -> None:
    svc = _serving(tmp_path, "w.db")
    svc.create_bank("B")
    src = tmp_path / "mixed.txt"
    src.write_text(f"# list\n{hashes[0]}\nnot-a-hash\n{hashes[1]},extra\n{'zz' * 32}\n")
    res = import_bulk(svc, "B", src, tmp_path / "bulk")
    try:
        assert res.added == 2
        assert res.warnings == [
            f"{src}:3: not a 64-hex-digit PDQ hash; line skipped",
            f"{src}:5: not a 64-hex-digit PDQ hash; line skipped",
        ]
        empty = tmp_path / "empty.txt"
        empty.write_text("nothing\n")
        with pytest.raises(ImportRefused, match="empty.txt: no PDQ hash"):
            import_bulk(svc, "B", empty, tmp_path / "bulk")
        bad = tmp_path / "bad.npy"
        np.save(bad, np.zeros((3, 5), dtype=np.int32))
        with pytest.raises(ImportRefused, match="bad.npy: expected PDQ hashes"):
            import_bulk(svc, "B", bad, tmp_path / "bulk")
        assert len(svc.store.bulk_segments()) == 1  # the refused lists recorded nothing
    finally:
        svc.close()


def _segment_dir(svc: PlatformService) -> Path:
    [seg] = svc.store.bulk_segments()
    return Path(seg.path)


def test_damaged_or_swapped_index_is_refused_by_name(tmp_path: Path, hashes: list[str]) -> None:
    svc = _serving(tmp_path, "d.db")
    svc.create_bank("B")
    import_bulk(svc, "B", _list(tmp_path / "a.txt", hashes[:3000]), tmp_path / "bulk")
    seg = _segment_dir(svc)
    svc.close()
    cfg = make_config(f"sqlite:///{tmp_path / 'd.db'}")

    # A truncated file.
    words = seg / "index" / "seg0.words.npy"
    saved = words.read_bytes()
    words.write_bytes(saved[:-32])
    with pytest.raises(BulkIndexError, match=f"{words}: .* bytes, expected"):
        PlatformService(cfg).start(background=False)
    words.write_bytes(saved)

    # Same size, other content (a flipped hash at a sampled row: id 0's; rows are stored in
    # the index's own order, so its row is looked up).
    row = int(np.flatnonzero(np.load(seg / "index" / "seg0.ids.npy") == 0)[0])
    arr = np.load(words, mmap_mode="r+")
    arr[row, 0] ^= np.uint64(1)
    arr.flush()
    del arr
    with pytest.raises(BulkIndexError, match="sampled hashes differ"):
        PlatformService(cfg).start(background=False)
    words.write_bytes(saved)

    # Another import's segment put in its place.
    other = _serving(tmp_path, "o.db")
    other.create_bank("B")
    import_bulk(other, "B", _list(tmp_path / "a2.txt", hashes[:3000]), tmp_path / "bulk2")
    theirs = _segment_dir(other)
    other.close()
    meta = json.loads((theirs / "bulk.json").read_text())
    (seg / "bulk.json").write_text(json.dumps(meta))
    with pytest.raises(BulkIndexError, match=f"{seg / 'bulk.json'}: another import's segment"):
        PlatformService(cfg).start(background=False)

    # A missing directory.
    import shutil

    shutil.rmtree(seg)
    with pytest.raises(BulkIndexError, match=f"{seg / 'bulk.json'}: missing"):
        PlatformService(cfg).start(background=False)


def test_prebuilt_index_is_checked_then_adopted(tmp_path: Path, hashes: list[str]) -> None:
    from tantalio.index.bulk import build_dir
    from tantalio.index.codec import to_words

    words = to_words(hashes[:4000])
    np.save(tmp_path / "h.npy", words)
    build_dir(tmp_path / "pre", words)
    svc = _serving(tmp_path, "p.db")
    svc.create_bank("B")
    try:
        wrong = tmp_path / "w.npy"
        np.save(wrong, to_words(hashes[4000:8000]))
        with pytest.raises(ImportRefused, match="not an index of this list"):
            import_bulk(svc, "B", wrong, tmp_path / "bulk", prebuilt=tmp_path / "pre")
        res = import_bulk(
            svc, "B", tmp_path / "h.npy", tmp_path / "bulk", prebuilt=tmp_path / "pre"
        )
        assert res.added == 4000
        assert [m.distance for m in svc.lookup("pdq", flip(hashes[3999], 30))] == [30]
    finally:
        svc.close()


def test_bulk_ids_never_collide_with_later_rows(
    db_url: str, tmp_path: Path, hashes: list[str]
) -> None:
    svc = PlatformService(make_config(db_url))
    svc.start(background=False)
    try:
        svc.create_bank("B")
        [before] = svc.add_entries("B", [NewEntry(pdq=hashes[0])])
        import_bulk(svc, "B", _list(tmp_path / "l.txt", hashes[:1000]), tmp_path / "bulk")
        [after] = svc.add_entries("B", [NewEntry(pdq=hashes[1])])
        [seg] = svc.store.bulk_segments()
        assert before < seg.first_id and seg.last_id < after
        assert svc.remove_entries("B", [seg.first_id + 5]) == 1
        assert svc.remove_entries("B", [seg.first_id + 5]) == 0
        assert svc.store.bank_sizes()[svc.bank("B").id] == 2 + 999
    finally:
        svc.close()


def test_one_search_for_a_hash_and_its_orientations(tmp_path: Path, hashes: list[str]) -> None:
    svc = _serving(tmp_path, "m.db")
    svc.create_bank("B")
    import_bulk(svc, "B", _list(tmp_path / "l.txt", hashes[:5000]), tmp_path / "bulk")
    svc.add_entries("B", [NewEntry(pdq=hashes[9000])])
    try:
        variants = [flip(hashes[1], 4), flip(hashes[9000], 30), flip(hashes[2], 32), hashes[3]]
        assert svc.lookup_pdq_many(variants) == [svc.lookup("pdq", v) for v in variants]
        assert [len(m) for m in svc.lookup_pdq_many(variants)] == [1, 1, 0, 1]
    finally:
        svc.close()


def test_cli_bulk_import(tmp_path: Path, hashes: list[str]) -> None:
    from typer.testing import CliRunner

    from tantalio.cli.main import app as cli

    db = f"sqlite:///{tmp_path / 'cli.db'}"
    run = CliRunner().invoke
    assert run(cli, ["platform", "bank", "create", "BULK", "--db", db]).exit_code == 0
    src = _list(tmp_path / "l.txt", [*hashes[:2000], "bad"])
    r = run(cli, ["platform", "bank", "import", "BULK", str(src), "--bulk", "--db", db])
    assert r.exit_code == 2 and "--bulk needs --bulk-dir" in r.output
    args = ["platform", "bank", "import", "BULK", str(src), "--bulk", "--bulk-dir"]
    r = run(cli, [*args, str(tmp_path / "b"), "--db", db])
    assert r.exit_code == 0, r.output
    assert f"{src}:2001: not a 64-hex-digit PDQ hash" in r.output
    assert "imported 2000 entries into BULK (1 rows skipped)" in r.output
    svc = _serving(tmp_path, "cli.db")
    try:
        assert [m.distance for m in svc.lookup("pdq", flip(hashes[1999], 12))] == [12]
    finally:
        svc.close()
    # serve refuses a damaged bulk index before it starts, naming the file.
    [seg] = PlatformService(make_config(db), indexing=False).store.bulk_segments()
    order = Path(seg.path) / "index" / "seg0.order.npy"
    with open(order, "r+b") as fh:
        fh.truncate(order.stat().st_size - 8)
    r = run(cli, ["platform", "serve", "--db", db, "--port", "1"])
    assert r.exit_code == 1
    assert f"bulk bank index refused: {order}:" in r.output


def test_deleting_a_bulk_bank_drops_its_hits(tmp_path: Path, hashes: list[str]) -> None:
    svc = _serving(tmp_path, "del.db")
    svc.create_bank("GONE")
    svc.create_bank("KEPT")
    import_bulk(svc, "GONE", _list(tmp_path / "a.txt", hashes[:3000]), tmp_path / "bulk")
    import_bulk(svc, "KEPT", _list(tmp_path / "b.txt", hashes[3000:6000]), tmp_path / "bulk")
    try:
        assert len(svc.lookup("pdq", hashes[10])) == 1
        assert svc.delete_bank("GONE")
        assert svc.lookup("pdq", hashes[10]) == []
        assert [m.bank.name for m in svc.lookup("pdq", hashes[3010])] == ["KEPT"]
    finally:
        svc.close()
    again = _serving(tmp_path, "del.db")
    try:
        assert len(again.index) == 3000  # the deleted bank's segment is not mapped
        assert again.lookup("pdq", hashes[10]) == []
        assert again.store.bank_sizes() == {again.bank("KEPT").id: 3000}
    finally:
        again.close()
