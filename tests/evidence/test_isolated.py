"""Disk images are listed and read by TSK in a listing process with a time limit
(evidence/isolated.py): a file system that makes libtsk loop costs its partition, not the run.

The hostile input is the fuzzing finding `fuzz/findings/ext4-open-dir-loop.img.gz` (the
committed benign `ext4.img` with ~4,700 bytes changed): libtsk never returns from listing its
root folder."""

from __future__ import annotations

import gzip
import os
import random
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tantalio.evidence import EvidenceLimits, isolated, open_source

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


@pytest.mark.skipif(shutil.which("mkfs.ext4") is None, reason="mkfs.ext4 (e2fsprogs) missing")
def test_a_listing_process_that_dies_mid_read_costs_that_partition(
    disks: Path, tmp_path: Path
) -> None:
    """libtsk crashing on hostile input (here: the process killed while the consumer reads a
    3 MiB file, past the first bytes sent ahead): the read fails naming the cause, a record
    says the rest of partition 1 is not listed, partition 2 is walked."""
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "big.bin").write_bytes(random.Random(5).randbytes(3 << 20))
    (tree / "small.txt").write_bytes(b"benign\n")
    ext4 = tmp_path / "ext4.img"
    subprocess.run(
        ["mkfs.ext4", "-q", "-F", "-d", str(tree), str(ext4), "8M"], check=True, capture_output=True
    )
    fat = (disks / "fat.img").read_bytes()
    disk = mbr_disk(tmp_path / "two.dd", [(0x83, ext4.read_bytes()), (0x0C, fat)])
    records = []
    for f in open_source(disk):
        if f.path == "two.dd/p1/big.bin":
            assert f.open is not None
            os.kill(_listing_process(), signal.SIGKILL)
            with (
                pytest.raises(OSError, match="ended unexpectedly \\(killed by SIGKILL\\)"),
                f.open() as stream,
            ):
                stream.read()
        records.append((f.path, f.error))
    error = dict(records)["two.dd/p1"] or ""
    assert error.startswith("two.dd: partition 1, reading file /big.bin: ")
    assert "killed by SIGKILL" in error
    assert "the rest of partition 1 is not listed; other partitions are" in error
    second = [p for p, _ in records if p.startswith("two.dd/p2/")]
    assert second == [p.replace("fat.img/", "two.dd/p2/", 1) for p in _paths(disks / "fat.img")]


@pytest.mark.parametrize(("batch", "prefetch"), [(1, 16), (3, 1 << 20)])
def test_batches_and_first_bytes_of_any_size_read_the_same(
    disks: Path, monkeypatch: pytest.MonkeyPatch, batch: int, prefetch: int
) -> None:
    default = walk(disks / "gpt-ntfs.dd")
    monkeypatch.setattr(isolated, "BATCH", batch)
    monkeypatch.setattr(isolated, "PREFETCH", prefetch)
    assert walk(disks / "gpt-ntfs.dd") == default


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
    next(walk_)
    assert first.open is not None
    with pytest.raises(OSError, match="the walk has moved past this file"):
        first.open()
    assert _listing_process()
    walk_.close()  # type: ignore[attr-defined]  # abandoned midway: its listing process ends
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
