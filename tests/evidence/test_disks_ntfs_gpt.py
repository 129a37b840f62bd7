"""NTFS on a GPT disk, raw and as a multi-segment E01 set (scripts/make_disk_fixtures.py)."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from tantalio.evidence import describe_source, open_source

from .helpers import DATA, EXPECTED, Seen, by_path, walk

SEGMENTS = ("gpt-ntfs.E01", "gpt-ntfs.E02", "gpt-ntfs.E03", "gpt-ntfs.E04")
ZONE_ID = b"[ZoneTransfer]\r\nZoneId=3\r\n"

# Path below the partition -> (size, sha256, deleted), from the generator's inputs.
NTFS_FILES = {
    "DCIM/b.png": (4551, EXPECTED["b.png"], False),
    "DCIM/gone.jpg": (1694, EXPECTED["gone.jpg"], True),  # deleted, MFT entry freed
    "DCIM/keep.jpg": (1705, EXPECTED["a.jpg"], False),
    "Documents/notes.txt": (45, EXPECTED["notes.txt"], False),
    "Documents/notes.txt:thumb.jpg": (1653, EXPECTED["c.jpg"], False),  # alternate stream
    "Documents/notes.txt:Zone.Identifier": (26, hashlib.sha256(ZONE_ID).hexdigest(), False),
    "Documents/ünïcode name.txt": (47, EXPECTED["readme.txt"], False),
}


@pytest.fixture(scope="module")
def gpt(disks: Path) -> Path:
    """The E01 set next to the decompressed raw disk (in the session's disk folder)."""
    for name in SEGMENTS:
        if not (disks / name).exists():
            shutil.copy(DATA / name, disks / name)
    return disks


def _rows(seen: list[Seen], prefix: str) -> list[tuple[str, int, str | None, bool, str | None]]:
    return [(s.path.removeprefix(prefix), s.size, s.sha256, s.deleted, s.error) for s in seen]


def test_raw_gpt_disk_lists_the_ntfs_partition_files_exactly(gpt: Path) -> None:
    seen = walk(gpt / "gpt-ntfs.dd")
    by_path(seen)  # unique paths
    assert [
        (p, size, sha, deleted) for p, size, sha, deleted, _ in _rows(seen, "gpt-ntfs.dd/p1/")
    ] == [(p, *v) for p, v in NTFS_FILES.items()]
    assert all(s.error is None and s.read_error is None for s in seen)


def test_e01_set_opened_by_its_first_segment_yields_what_the_raw_disk_yields(gpt: Path) -> None:
    raw = _rows(walk(gpt / "gpt-ntfs.dd"), "gpt-ntfs.dd")
    ewf = _rows(walk(gpt / "gpt-ntfs.E01"), "gpt-ntfs.E01")
    assert ewf == raw
    assert len(ewf) == len(NTFS_FILES)


def test_ntfs_metadata_files_are_skipped_and_user_files_keep_their_times(gpt: Path) -> None:
    files = list(open_source(gpt / "gpt-ntfs.dd"))
    assert not [f.path for f in files if "$" in f.path]  # $MFT, $LogFile, $Extend/..., orphans
    keep = next(f for f in files if f.path.endswith("keep.jpg"))
    assert keep.mtime is not None and keep.mtime.timestamp() == 1_600_000_000
    assert keep.crtime is not None
    stream = next(f for f in files if f.path.endswith(":thumb.jpg"))
    assert stream.mtime == keep.mtime  # a stream carries its file's times


def test_gpt_partitions_are_named_like_mbr_ones(gpt: Path) -> None:
    paths = {s.path.split("/")[1] for s in walk(gpt / "gpt-ntfs.dd")}
    assert paths == {"p1"}  # protective MBR, GPT header and table are not partitions


def test_missing_second_segment_is_named_and_the_run_goes_on(gpt: Path, tmp_path: Path) -> None:
    shutil.copy(gpt / "gpt-ntfs.E01", tmp_path / "gpt-ntfs.E01")
    for name in SEGMENTS[2:]:
        shutil.copy(gpt / name, tmp_path / name)
    seen = walk(tmp_path / "gpt-ntfs.E01")
    assert [(s.path, s.container) for s in seen] == [("gpt-ntfs.E01", "ewf")]
    assert seen[0].error == (
        "EWF segment file gpt-ntfs.E02 is missing: gpt-ntfs.E01 ends in a 'next' section, "
        "so the set continues after its 1 segment(s) found; not walked"
    )
    assert seen[0].sha256 == hashlib.sha256((gpt / "gpt-ntfs.E01").read_bytes()).hexdigest()
    # the next source of the same run is walked as usual
    assert _rows(walk(gpt / "gpt-ntfs.dd"), "gpt-ntfs.dd/p1/")[0][0] == "DCIM/b.png"


def test_missing_last_segment_is_named(gpt: Path, tmp_path: Path) -> None:
    for name in SEGMENTS[:-1]:
        shutil.copy(gpt / name, tmp_path / name)
    (record,) = walk(tmp_path / "gpt-ntfs.E01")
    assert (record.error or "").startswith("EWF segment file gpt-ntfs.E04 is missing:")


def test_a_later_segment_as_the_source_points_to_the_first(gpt: Path) -> None:
    (record,) = walk(gpt / "gpt-ntfs.E03")
    assert record.error == (
        "gpt-ntfs.E03 is segment 3 of an EWF set, not its first: "
        "give the first segment (gpt-ntfs.E01) as the source; not walked"
    )


def test_a_segment_of_another_set_is_refused(gpt: Path, tmp_path: Path) -> None:
    for name in SEGMENTS:
        shutil.copy(gpt / name, tmp_path / name)
    shutil.copy(gpt / "gpt-ntfs.E04", tmp_path / "gpt-ntfs.E03")  # E03 missing, E04 in its place
    (record,) = walk(tmp_path / "gpt-ntfs.E01")
    assert record.error == (
        "EWF segment file gpt-ntfs.E03 holds segment 4, not 3: "
        "a segment of another set or renamed; not walked"
    )


def test_walking_the_set_leaves_every_segment_unchanged(gpt: Path, tmp_path: Path) -> None:
    old = 1_500_000_000
    for name in (*SEGMENTS, "gpt-ntfs.dd"):
        shutil.copy(gpt / name, tmp_path / name)
        os.utime(tmp_path / name, (old, old))

    def snapshot() -> dict[str, tuple[str, int, int]]:
        out = {}
        for p in sorted(tmp_path.iterdir()):
            st = p.stat()
            digest = hashlib.sha256(p.read_bytes()).hexdigest()
            os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))  # undo our own read's atime
            out[p.name] = (digest, st.st_mtime_ns, st.st_atime_ns)
        return out

    before = snapshot()
    walk(tmp_path / "gpt-ntfs.E01")
    walk(tmp_path / "gpt-ntfs.dd")
    describe_source(tmp_path / "gpt-ntfs.E01")
    assert snapshot() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted((*SEGMENTS, "gpt-ntfs.dd"))


def test_describe_source_reads_the_acquisition_record_of_the_set(gpt: Path) -> None:
    info = describe_source(gpt / "gpt-ntfs.E01")
    assert (info.kind, info.name) == ("ewf", "gpt-ntfs.E01")
    raw = (gpt / "gpt-ntfs.dd").read_bytes()
    assert info.acquisition["md5"] == hashlib.md5(raw).hexdigest()
    assert info.acquisition["media_size"] == str(len(raw)) == str(4 * 1024 * 1024)
    assert info.acquisition["description"] == "synthetic benign GPT + NTFS disk"


def test_segment_names_past_e99_follow_libewf() -> None:
    from tantalio.evidence.kinds.ewf import _segment_name

    assert _segment_name("/x/disk.E01", 2) == "disk.E02"
    assert _segment_name("disk.e01", 100) == "disk.eaa"
    assert _segment_name("disk.E01", 100 + 26) == "disk.EBA"
    assert _segment_name("disk.E01", 100 + 676) == "disk.FAA"
