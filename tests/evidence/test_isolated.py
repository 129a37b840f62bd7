"""Disk images are listed and read by TSK in a listing process with a time limit
(evidence/isolated.py): a file system that makes libtsk loop costs its partition, not the run.

The hostile input is the fuzzing finding `fuzz/findings/ext4-open-dir-loop.img.gz` (the
committed benign `ext4.img` with ~4,700 bytes changed): libtsk never returns from listing its
root folder."""

from __future__ import annotations

import gzip
import os
import signal
import time
from pathlib import Path

import pytest

from tantalio.evidence import EvidenceLimits, open_source

from .helpers import FINDING, Seen, by_path, mbr_disk, walk

FAST = EvidenceLimits(disk_timeout=2)


@pytest.fixture(scope="module")
def finding(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    with gzip.open(FINDING) as f:
        return f.read()


def test_the_fuzzing_finding_ends_on_the_image_record_in_seconds(
    finding: bytes, tmp_path: Path
) -> None:
    image = tmp_path / "ext4-open-dir-loop.img"
    image.write_bytes(finding)
    start = time.monotonic()
    seen = walk(image, FAST)
    assert time.monotonic() - start < 60  # 2 s of silence, plus a loaded machine's start-up
    assert [s.path for s in seen] == ["ext4-open-dir-loop.img"]
    error = seen[0].error or ""
    assert error.startswith(
        "ext4-open-dir-loop.img: the file system, listing folder /: libtsk gave no answer "
        "within 2 s, so its listing process was stopped"
    ), error
    assert "--disk-timeout" in error and "the rest of the image is not listed" in error
    assert seen[0].sha256 is not None  # the image's own bytes are still hashed


def test_a_partition_that_hangs_libtsk_costs_that_partition_only(
    finding: bytes, disks: Path, tmp_path: Path
) -> None:
    fat = (disks / "fat.img").read_bytes()
    disk = mbr_disk(tmp_path / "disk.dd", [(0x83, finding), (0x0C, fat), (0x83, finding)])
    seen = by_path(walk(disk, FAST))
    alone = {s.path.replace("fat.img/", "disk.dd/p2/", 1): s for s in walk(disks / "fat.img", FAST)}
    files = {p: s for p, s in seen.items() if p.startswith("disk.dd/p2/")}
    assert files == {p: Seen(**{**vars(s), "path": p}) for p, s in alone.items()}
    assert any(s.sha256 for s in files.values())
    for number in (1, 3):
        error = seen[f"disk.dd/p{number}"].error or ""
        assert error.startswith(
            f"disk.dd: partition {number}, listing folder /: libtsk gave no answer within 2 s"
        ), error
        assert f"the rest of partition {number} is not listed; other partitions are" in error
    assert set(seen) == {"disk.dd/p1", "disk.dd/p3", *files}


@pytest.mark.parametrize("name", ["fat.img", "mbr.dd", "ext4.img", "gpt-ntfs.dd", "mbr.E01"])
def test_the_listing_process_yields_what_an_in_process_walk_yields(disks: Path, name: str) -> None:
    """Paths, sizes, times, deleted flags, errors and every file's SHA-256 (archives on the
    disk expanded through the listing process's reads) are the same either way."""
    isolated = walk(disks / name)
    inline = walk(disks / name, EvidenceLimits(isolate_disks=False))
    assert isolated == inline
    assert any(s.sha256 for s in isolated)
    times = [(f.path, f.mtime, f.crtime) for f in open_source(disks / name)]
    assert times == [
        (f.path, f.mtime, f.crtime)
        for f in open_source(disks / name, EvidenceLimits(isolate_disks=False))
    ]


def test_a_listing_process_that_dies_is_reported_and_the_next_partition_walked(
    disks: Path, tmp_path: Path
) -> None:
    """libtsk crashing on hostile input (here: the process killed while the consumer holds
    the first file of partition 1) costs the rest of that partition."""
    fat = (disks / "fat.img").read_bytes()
    disk = mbr_disk(tmp_path / "two.dd", [(0x0C, fat), (0x0C, fat)])
    records = []
    killed = False
    for f in open_source(disk):
        if not killed and f.path.startswith("two.dd/p1/") and f.open is not None:
            os.kill(_listing_process(), signal.SIGKILL)
            killed = True
        records.append((f.path, f.error))
    errors = dict(records)
    assert "killed by SIGKILL" in (errors["two.dd/p1"] or "")
    assert errors["two.dd/p1"].startswith("two.dd: partition 1, reading file /")
    second = [p for p, _ in records if p.startswith("two.dd/p2/")]
    assert second == [p.replace("fat.img/", "two.dd/p2/", 1) for p in _paths(disks / "fat.img")]


def test_a_memory_cap_too_small_ends_with_an_error_not_a_crash(disks: Path) -> None:
    seen = walk(disks / "gpt-ntfs.dd", EvidenceLimits(disk_memory=16 << 20))
    assert [s.path for s in seen] == ["gpt-ntfs.dd"]
    assert seen[0].error == (
        "raw image could not be read to the end: RuntimeError: Img_Info_Con: (tsk3.cpp:129) "
        "Unable to allocate image. (the disk listing process ran out of memory (its cap of "
        "16,777,216 bytes)?)"
    )


def test_a_file_of_a_disk_image_is_read_only_while_it_is_current(disks: Path) -> None:
    walk_ = open_source(disks / "fat.img")
    first = next(f for f in walk_ if f.open is not None)
    stream = first.open()
    next(walk_)
    with pytest.raises(OSError, match="the walk has moved past this file"):
        stream.read()
    with pytest.raises(OSError, match="the walk has moved past this file"):
        first.open()
    assert _listing_process()
    walk_.close()  # a walk abandoned midway ends its listing process with it
    with pytest.raises(AssertionError, match="no listing process"):
        _listing_process()


def _paths(source: Path) -> list[str]:
    return [f.path for f in open_source(source)]


def _listing_process() -> int:
    """The pid of this process's disk listing process (a child running isolated_child)."""
    me = os.getpid()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        if ppid == me and b"isolated_child" in cmdline:
            return int(entry)
    raise AssertionError("no listing process found")
