"""E01 integrity (issue 14): a damaged chunk is never read as data, a cut image yields what
is readable, and the stored acquisition hashes are checked."""

from __future__ import annotations

import gzip
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from tantalio.evidence import describe_source, verify_source
from tantalio.evidence.ewf1 import read_layout

from .ewf_damage import cut, damage_chunk
from .helpers import DATA, EXPECTED, by_path, walk

# chunk 33 of mbr.E01 (media bytes 1,081,344-1,114,111) holds the data of the deleted
# DCIM/_eleted.jpg and of photos.zip; chunk 1 of stored.E01 likewise (FAT12 data area)
MBR_DAMAGED = ("p1/DCIM/_eleted.jpg", "p1/photos.zip")
STORED_DAMAGED = ("DCIM/_eleted.jpg", "photos.zip")


def test_stored_e01_reads_like_its_raw_volume(tmp_path: Path) -> None:
    raw = tmp_path / "fat.img"
    raw.write_bytes(gzip.decompress((DATA / "fat.img.gz").read_bytes()))
    ewf = [
        (s.path.removeprefix("stored.E01"), s.sha256, s.error) for s in walk(DATA / "stored.E01")
    ]
    assert ewf == [(s.path.removeprefix("fat.img"), s.sha256, s.error) for s in walk(raw)]
    outcome = verify_source(DATA / "stored.E01")
    assert outcome is not None and outcome.status == "match"
    assert outcome.computed["md5"] == hashlib.md5(raw.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("fixture", "chunk", "damaged", "reason"),
    [
        ("mbr.E01", 33, MBR_DAMAGED, "compressed data damaged"),
        ("stored.E01", 1, STORED_DAMAGED, "checksum mismatch (Adler-32)"),
    ],
)
def test_files_over_a_corrupt_chunk_are_unreadable_with_the_range(
    tmp_path: Path, fixture: str, chunk: int, damaged: tuple[str, ...], reason: str
) -> None:
    bad = tmp_path / "bad.E01"
    first, last = damage_chunk(DATA / fixture, bad, chunk)
    seen = by_path(walk(bad))
    where = f"corrupt chunk {chunk} (media bytes {first:,}-{last:,}): {reason}"
    for rel in damaged:
        s = seen[f"bad.E01/{rel}"]
        assert s.sha256 is None, f"{rel} hashed over a damaged chunk"
        assert s.error is not None and s.error.startswith("unreadable: file bytes 0-")
        assert where in s.error
    # the rest of the file system is listed and hashed as before
    a_jpg = damaged[0].replace("_eleted.jpg", "a.jpg")
    assert seen[f"bad.E01/{a_jpg}"].sha256 == EXPECTED["a.jpg"]
    intact = [s for s in seen.values() if s.sha256 and s.path.endswith((".jpg", ".png"))]
    assert intact and all(s.sha256 in EXPECTED.values() for s in intact)
    image = seen["bad.E01"]
    assert image.error is not None and where in image.error
    outcome = verify_source(bad)
    assert outcome is not None and outcome.status == "mismatch"
    assert outcome.stored["md5"] != outcome.computed["md5"]
    assert any(where in p for p in outcome.problems)


def test_truncated_e01_yields_what_is_readable_and_the_missing_range(tmp_path: Path) -> None:
    short = tmp_path / "cut.E01"
    cut(DATA / "mbr.E01", short, 2 / 3)
    seen = by_path(walk(short))
    assert seen["cut.E01/p1/DCIM/a.jpg"].sha256 == EXPECTED["a.jpg"]
    assert seen["cut.E01/p1/DCIM/b.png"].sha256 == EXPECTED["b.png"]
    missing = seen["cut.E01/p1/photos.zip"]
    assert missing.sha256 is None and missing.error is not None
    assert "missing: the image ends before them" in missing.error
    image = seen["cut.E01"].error or ""
    assert "segment 1 is truncated" in image and "missing" in image and "2,621,439" in image
    outcome = verify_source(short)
    assert outcome is not None and outcome.status == "mismatch"
    assert describe_source(short).verifiable


@pytest.mark.skipif(shutil.which("ewfverify") is None, reason="ewf-tools not installed")
def test_ewfverify_agrees_on_the_damaged_copies(tmp_path: Path) -> None:
    def ewfverify(path: Path) -> str:
        done = subprocess.run(["ewfverify", "-q", str(path)], capture_output=True, text=True)
        return done.stdout + done.stderr

    assert "SUCCESS" in ewfverify(DATA / "stored.E01")
    damage_chunk(DATA / "stored.E01", tmp_path / "bad.E01", 1)
    assert "FAILURE" in ewfverify(tmp_path / "bad.E01")


def test_a_multi_segment_set_is_verified_across_all_its_segments(tmp_path: Path) -> None:
    """Issue 14: 'verify the image (all segments)': the four-segment NTFS set verifies as a
    whole; one byte changed in a chunk stored in the third segment makes it a mismatch that
    names that chunk."""
    import pyewf

    for seg in sorted(DATA.glob("gpt-ntfs.E0?")):
        shutil.copy(seg, tmp_path / seg.name)
    first = tmp_path / "gpt-ntfs.E01"
    intact = verify_source(first)
    assert intact is not None and intact.status == "match", intact
    assert set(intact.stored) >= {"md5"} and intact.computed["md5"] == intact.stored["md5"]
    files = [open(p, "rb") for p in pyewf.glob(str(first))]  # noqa: SIM115
    try:
        layout = read_layout(files)
    finally:
        for f in files:
            f.close()
    assert layout is not None
    index = next(i for i in range(layout.chunks) if layout.seg[i] == 2)  # in gpt-ntfs.E03
    segment = tmp_path / "gpt-ntfs.E03"
    data = bytearray(segment.read_bytes())
    data[layout.start[index] + layout.size[index] // 2] ^= 0xFF
    segment.write_bytes(bytes(data))
    damaged = verify_source(first)
    assert damaged is not None and damaged.status == "mismatch"
    assert any(f"chunk {index}" in p for p in damaged.problems), damaged.problems
