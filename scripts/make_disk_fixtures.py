#!/usr/bin/env python3
"""Regenerate the NTFS-on-GPT disk fixtures in tests/data/evidence/.

    sudo .venv/bin/python scripts/make_disk_fixtures.py   (root: it mounts an image file)

Writes `gpt-ntfs.dd.gz` (the raw disk, gzipped) and `gpt-ntfs.E01`, `gpt-ntfs.E02`, ... (the
same disk as a multi-segment Expert Witness set). The payloads are the benign generated
images and texts of make_evidence_fixtures.py, so their SHA-256 are already in
expected.json. The tests need none of the tools below.

Made with (Debian 12): ntfs-3g 1:2022.10.3-1+deb12u4 (`mkntfs`, and the `ntfs-3g` FUSE
driver: needs /dev/fuse and root), gdisk 1.0.9-2.1 (`sgdisk`) and ewf-tools 20140813-1+b1
(its libewf.so.2, called through ctypes). Why not the tools' own ways:

- ntfs-3g offers no command that makes folders or deletes a file without mounting
  (`ntfscp` copies one file into an existing folder; there is no `ntfsrm` in Debian's
  build), and a deleted file is part of the fixture, so the volume is mounted with
  `ntfs-3g` and populated with plain file operations (alternate data streams through
  extended attributes, `streams_interface=xattr`).
- `ewfacquire -S` refuses segments under 1 MiB, and a 1 MiB segment would need over 1 MiB of
  incompressible data in the disk; libewf itself takes any maximum segment size, so the set
  is written through `libewf_handle_*` with a 64 KiB maximum: several segments, ~100 KB.

Not bit-for-bit reproducible: mkntfs draws a random volume serial and libewf stamps the
acquisition date. The listing and every file's bytes are.

Layout: 4 MiB disk, protective MBR + GPT; partition 1 (`Microsoft basic data`, sectors
2048-6143, 2 MiB) is NTFS labelled EVIDENCE holding

    DCIM/keep.jpg              a.jpg
    DCIM/b.png                 b.png
    DCIM/gone.jpg              gone.jpg, deleted again
    Documents/notes.txt        notes.txt, with alternate data streams
                               `Zone.Identifier` (ZONE_ID below) and `thumb.jpg` (c.jpg)
    Documents/ünïcode name.txt readme.txt
"""

from __future__ import annotations

import ctypes
import gzip
import hashlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_evidence_fixtures import EPOCH, OUT, PAYLOADS  # noqa: E402

SECTOR = 512
DISK_SECTORS = 8192  # 4 MiB
PART_START, PART_SECTORS = 2048, 4096
DISK_GUID = "5A1F1D7E-0000-4000-8000-000000000001"
PART_GUID = "5A1F1D7E-0000-4000-8000-000000000002"
ZONE_ID = b"[ZoneTransfer]\r\nZoneId=3\r\n"
SEGMENT_SIZE = 64 * 1024
HEADER = {
    "case_number": "fixture",
    "description": "synthetic benign GPT + NTFS disk",
    "evidence_number": "2",
    "examiner_name": "tantalio",
    "notes": "fixture",
}


def run(*cmd: str) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def ntfs_volume(work: Path) -> bytes:
    vol = work / "ntfs.img"
    with open(vol, "wb") as f:
        f.truncate(PART_SECTORS * SECTOR)
    run("mkntfs", "-F", "-Q", "-q", "-T", "-L", "EVIDENCE", "-s", "512", "-c", "4096",
        "-p", str(PART_START), "-H", "0", "-S", "0", str(vol))  # fmt: skip
    mnt = work / "mnt"
    mnt.mkdir()
    run("ntfs-3g", "-o", "streams_interface=xattr", str(vol), str(mnt))
    try:
        files = {
            "DCIM/keep.jpg": PAYLOADS["a.jpg"],
            "DCIM/b.png": PAYLOADS["b.png"],
            "DCIM/gone.jpg": PAYLOADS["gone.jpg"],
            "Documents/notes.txt": PAYLOADS["notes.txt"],
            "Documents/ünïcode name.txt": PAYLOADS["readme.txt"],
        }
        for rel, data in files.items():
            path = mnt / rel
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(data)
        notes = mnt / "Documents" / "notes.txt"
        os.setxattr(notes, "user.Zone.Identifier", ZONE_ID)
        os.setxattr(notes, "user.thumb.jpg", PAYLOADS["c.jpg"])
        for rel in files:
            os.utime(mnt / rel, (EPOCH, EPOCH))
        (mnt / "DCIM" / "gone.jpg").unlink()  # name in index slack, MFT record freed
    finally:
        run("umount", str(mnt))
    return vol.read_bytes()


def gpt_disk(work: Path, volume: bytes) -> bytes:
    disk = work / "disk.dd"
    with open(disk, "wb") as f:
        f.truncate(DISK_SECTORS * SECTOR)
    run("sgdisk", "--clear", "-U", DISK_GUID,
        "-n", f"1:{PART_START}:{PART_START + PART_SECTORS - 1}", "-t", "1:0700",
        "-c", "1:EVIDENCE", "-u", f"1:{PART_GUID}", str(disk))  # fmt: skip
    data = bytearray(disk.read_bytes())
    data[PART_START * SECTOR : PART_START * SECTOR + len(volume)] = volume
    return bytes(data)


def ewf_segments(
    work: Path,
    media: bytes,
    name: str = "gpt-ntfs",
    level: int = 2,
    flags: int = 0,
    header: dict[str, str] = HEADER,
    segment_size: int = SEGMENT_SIZE,
) -> list[Path]:
    """Write `media` as an EnCase 6 set with small segments through libewf (see above);
    `level` 2 is best compression, 0 none (`flags` 1: all-zero chunks compressed even so)."""
    lib = ctypes.CDLL("libewf.so.2")
    error = ctypes.c_void_p()
    handle = ctypes.c_void_p()

    def check(result: int, what: str) -> None:
        if result != 1:
            raise SystemExit(f"libewf {what} failed")

    lib.libewf_handle_write_buffer.restype = ctypes.c_ssize_t
    lib.libewf_handle_write_finalize.restype = ctypes.c_ssize_t
    check(lib.libewf_handle_initialize(ctypes.byref(handle), ctypes.byref(error)), "initialize")
    target = (ctypes.c_char_p * 1)(str(work / name).encode())
    check(lib.libewf_handle_open(handle, target, 1, 2, ctypes.byref(error)), "open")  # write
    check(lib.libewf_handle_set_format(handle, ctypes.c_uint8(6), ctypes.byref(error)), "format")
    check(
        lib.libewf_handle_set_maximum_segment_size(
            handle, ctypes.c_uint64(segment_size), ctypes.byref(error)
        ),
        "segment size",
    )
    check(
        lib.libewf_handle_set_media_size(handle, ctypes.c_uint64(len(media)), ctypes.byref(error)),
        "media size",
    )
    check(
        lib.libewf_handle_set_compression_values(
            handle, ctypes.c_int8(level), ctypes.c_uint8(flags), ctypes.byref(error)
        ),
        "compression",
    )
    for key, value in header.items():
        k, v = key.encode(), value.encode()
        check(
            lib.libewf_handle_set_utf8_header_value(
                handle, k, ctypes.c_size_t(len(k)), v, ctypes.c_size_t(len(v)), ctypes.byref(error)
            ),
            f"header {key}",
        )
    md5 = hashlib.md5(media).digest()
    check(
        lib.libewf_handle_set_md5_hash(handle, md5, ctypes.c_size_t(16), ctypes.byref(error)),
        "md5",
    )
    for off in range(0, len(media), 32 * 1024):
        piece = media[off : off + 32 * 1024]
        written = lib.libewf_handle_write_buffer(
            handle, piece, ctypes.c_size_t(len(piece)), ctypes.byref(error)
        )
        if written != len(piece):
            raise SystemExit("libewf write failed")
    if lib.libewf_handle_write_finalize(handle, ctypes.byref(error)) < 0:
        raise SystemExit("libewf finalize failed")
    lib.libewf_handle_close(handle, ctypes.byref(error))
    lib.libewf_handle_free(ctypes.byref(handle), ctypes.byref(error))
    return sorted(work.glob(f"{name}.E[0-9][0-9]"))


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        disk = gpt_disk(work, ntfs_volume(work))
        out = OUT / "gpt-ntfs.dd.gz"
        out.write_bytes(gzip.compress(disk, mtime=0))
        os.utime(out, (EPOCH, EPOCH))
        for old in OUT.glob("gpt-ntfs.E[0-9][0-9]"):
            old.unlink()
        segments = ewf_segments(work, disk)
        if len(segments) < 2:
            raise SystemExit("expected a multi-segment set")
        for seg in segments:
            (OUT / seg.name).write_bytes(seg.read_bytes())
            os.utime(OUT / seg.name, (EPOCH, EPOCH))
    names = ["gpt-ntfs.dd.gz"] + [s.name for s in segments]
    total = sum((OUT / n).stat().st_size for n in names)
    print(f"wrote {', '.join(names)} ({total:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
