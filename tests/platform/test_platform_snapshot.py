"""Index snapshots: a restart loads the saved index and replays only the change feed."""

from __future__ import annotations

from pathlib import Path

from platform_helpers import make_config
from test_platform_matching import flip, rand_pdq

from tantalio.platform import PlatformService
from tantalio.store.platform.records import NewEntry


def test_restart_from_snapshot_replays_changes(db_url: str, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    first = PlatformService(make_config(db_url, index_dir=str(index_dir)))
    first.start(background=False)
    assert first.loaded_from == "database"
    first.create_bank("SNAP")
    kept = [rand_pdq() for _ in range(3000)]
    first.store.add_pdq_bulk(first.bank("SNAP").id, kept, source_list="bulk")
    [md5_id, video_id] = first.add_entries(
        "SNAP", [NewEntry(md5="ab" * 16), NewEntry(vpdq=[kept[0], kept[1]])]
    )
    first.sync.refresh()
    first.close()  # writes the snapshot (changes since the last one)
    assert (index_dir / "snapshot" / "snapshot.json").is_file()

    # Changes made while no server runs: one add, one removal of a snapshotted entry.
    writer = PlatformService(make_config(db_url), indexing=False)
    late = rand_pdq()
    [late_id] = writer.add_entries("SNAP", [NewEntry(pdq=late)])
    gone = writer.store.list_entries(writer.bank("SNAP").id, limit=1)[0]
    writer.remove_entries("SNAP", [gone.id])
    writer.store.close()

    second = PlatformService(make_config(db_url, index_dir=str(index_dir)))
    second.start(background=False)
    try:
        assert second.loaded_from == "snapshot"
        assert [m.entry_id for m in second.lookup("pdq", flip(late, 7))] == [late_id]
        assert second.lookup("pdq", gone.pdq or "") == []
        assert [m.distance for m in second.lookup("pdq", flip(kept[-1], 31))] == [31]
        assert [m.entry_id for m in second.lookup("md5", "ab" * 16)] == [md5_id]
        assert [m.entry_id for m in second.lookup("vpdq", f"{kept[0]},{kept[1]}")] == [video_id]
        assert len(second.index) == 3000 - 1 + 1
    finally:
        second.close()


def test_snapshot_of_another_database_is_ignored(tmp_path: Path) -> None:
    index_dir = str(tmp_path / "index")
    a = PlatformService(make_config(f"sqlite:///{tmp_path / 'a.db'}", index_dir=index_dir))
    a.start(background=False)
    a.create_bank("A")
    a.add_entries("A", [NewEntry(pdq=rand_pdq())])
    a.close()
    b = PlatformService(make_config(f"sqlite:///{tmp_path / 'b.db'}", index_dir=index_dir))
    b.start(background=False)
    try:
        assert b.loaded_from == "database" and len(b.index) == 0
    finally:
        b.close()
