"""Disk images through pytsk3 (+ pyewf): partitions, file systems, deleted files."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from tantalio.evidence import describe_source, open_source

from .helpers import DATA, EXPECTED, by_path, walk

FAT_FILES = {
    "DCIM/_eleted.jpg": (1653, EXPECTED["c.jpg"], True),  # FAT keeps the name minus 1st char
    "DCIM/a.jpg": (1705, EXPECTED["a.jpg"], False),
    "DCIM/b.png": (4551, EXPECTED["b.png"], False),
    "notes.txt": (45, EXPECTED["notes.txt"], False),
    "photos.zip/d.jpg": (1653, EXPECTED["d.jpg"], False),
    "_rip/_oliday.png": (4458, EXPECTED["e.png"], True),  # in a deleted folder (mdeltree)
}


def _listing(seen: list, prefix: str) -> dict[str, tuple[int, str | None, bool]]:
    return {
        s.path.removeprefix(prefix): (s.size, s.sha256, s.deleted)
        for s in seen
        if s.container is None and s.error is None
    }


def test_fat_image_without_partition_table_with_a_deleted_file(disks: Path) -> None:
    seen = walk(disks / "fat.img")
    assert _listing(seen, "fat.img/") == FAT_FILES
    assert [s.path for s in seen] == [
        "fat.img/DCIM/_eleted.jpg",
        "fat.img/DCIM/a.jpg",
        "fat.img/DCIM/b.png",
        "fat.img/_rip/_oliday.png",
        "fat.img/notes.txt",
        "fat.img/photos.zip/d.jpg",
        "fat.img/photos.zip",  # an archive on a disk is expanded like anywhere else
    ]


def test_mbr_image_names_partitions_and_reports_the_unrecognised_one(disks: Path) -> None:
    seen = walk(disks / "mbr.dd")
    assert _listing(seen, "mbr.dd/p1/") == FAT_FILES
    files = by_path(seen)
    assert files["mbr.dd/p2"].error == (
        "partition 2 (Linux (0x83)): no file system recognised; not walked"
    )
    assert files["mbr.dd/p2"].size == 512 * 1024


def test_e01_yields_exactly_what_the_raw_image_yields(disks: Path) -> None:
    raw = [
        (s.path.removeprefix("mbr.dd"), s.size, s.sha256, s.deleted, s.error)
        for s in walk(disks / "mbr.dd")
    ]
    ewf = [
        (s.path.removeprefix("mbr.E01"), s.size, s.sha256, s.deleted, s.error)
        for s in walk(disks / "mbr.E01")
    ]
    assert ewf == raw
    assert len(ewf) == 8


def test_deleted_file_whose_content_is_gone_gets_an_error(disks: Path) -> None:
    files = by_path(walk(disks / "ext4.img"))
    assert set(files) == {"ext4.img/DCIM/gone.jpg", "ext4.img/DCIM/keep.jpg"}
    gone = files["ext4.img/DCIM/gone.jpg"]
    assert gone.deleted
    assert gone.size == 1694  # the size the metadata still records
    assert gone.sha256 is None
    assert (gone.error or "").startswith("deleted file: content not recoverable")
    keep = files["ext4.img/DCIM/keep.jpg"]
    assert (keep.deleted, keep.sha256) == (False, EXPECTED["d.jpg"])


def test_times_come_from_the_file_system(disks: Path) -> None:
    f = next(f for f in open_source(disks / "ext4.img") if f.path.endswith("keep.jpg"))
    assert f.mtime is not None and f.mtime.timestamp() == 1_600_000_000


def test_split_raw_image_is_read_as_one_disk(disks: Path, tmp_path: Path) -> None:
    data = (disks / "mbr.dd").read_bytes()
    cut = data.find(b"\xff\xd8\xff", 1 << 20) + 100  # inside a JPEG: it spans both segments
    (tmp_path / "disk.001").write_bytes(data[:cut])
    (tmp_path / "disk.002").write_bytes(data[cut:])
    seen = walk(tmp_path / "disk.001")
    assert _listing(seen, "disk.001/p1/") == FAT_FILES


def test_disk_image_inside_a_folder_is_a_plain_file(disks: Path, tmp_path: Path) -> None:
    shutil.copy(disks / "fat.img", tmp_path / "fat.img")
    seen = walk(tmp_path)
    assert [(s.path, s.container) for s in seen] == [("fat.img", None)]


def test_an_image_that_is_no_disk_is_reported_on_one_record(tmp_path: Path) -> None:
    (tmp_path / "blank.img").write_bytes(bytes(64 * 1024))
    seen = walk(tmp_path / "blank.img")
    assert len(seen) == 1
    assert seen[0].path == "blank.img"
    assert (seen[0].error or "").startswith("no partition table or file system recognised")
    assert seen[0].sha256 is not None


def test_truncated_e01_is_reported_not_fatal(tmp_path: Path) -> None:
    data = (DATA / "mbr.E01").read_bytes()
    (tmp_path / "cut.E01").write_bytes(data[: len(data) // 2])
    seen = walk(tmp_path / "cut.E01")
    assert seen[-1].path == "cut.E01"
    assert seen[-1].error is not None


def test_describe_source_reports_kind_and_e01_acquisition_record(disks: Path) -> None:
    info = describe_source(disks / "mbr.E01")
    assert (info.kind, info.name) == ("ewf", "mbr.E01")
    assert info.acquisition["md5"] == hashlib.md5((disks / "mbr.dd").read_bytes()).hexdigest()
    assert info.acquisition["case_number"] == "fixture"
    assert describe_source(disks / "mbr.dd").kind == "raw"
    assert describe_source(DATA / "photos.tar.zst").kind == "zstd"
    assert describe_source(DATA / "tree").kind == "folder"
    assert describe_source(DATA / "expected.json").kind == "file"
