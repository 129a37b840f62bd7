"""A tiny FAT12 disk-image writer, so the demo's "USB stick" needs no Debian tools.

Files live in the root directory under 8.3 names; a deleted file keeps its bytes and its
directory entry with the first name byte set to 0xE5 and its FAT chain freed — exactly
what a real deletion on FAT leaves behind, and what The Sleuth Kit recovers and lists as
deleted.
"""

from __future__ import annotations

import struct
from datetime import datetime

SECTOR = 512
SECTORS_PER_CLUSTER = 4
RESERVED = 1
FATS = 2
ROOT_ENTRIES = 224
TOTAL_SECTORS = 8192  # 4 MiB
FAT_SECTORS = 6
CLUSTER = SECTOR * SECTORS_PER_CLUSTER
ROOT_SECTORS = ROOT_ENTRIES * 32 // SECTOR
DATA_START = RESERVED + FATS * FAT_SECTORS + ROOT_SECTORS
CLUSTERS = (TOTAL_SECTORS - DATA_START) // SECTORS_PER_CLUSTER


def _boot_sector(label: str) -> bytes:
    bpb = struct.pack(
        "<3s8sHBHBHHBHHHII",
        b"\xeb\x3c\x90",
        b"TANTALIO",
        SECTOR,
        SECTORS_PER_CLUSTER,
        RESERVED,
        FATS,
        ROOT_ENTRIES,
        TOTAL_SECTORS,
        0xF8,
        FAT_SECTORS,
        32,
        2,
        0,
        0,
    )
    ebpb = struct.pack(
        "<BBBI11s8s", 0x80, 0, 0x29, 0x20261128, label.upper().ljust(11)[:11].encode(), b"FAT12   "
    )
    sector = bytearray(SECTOR)
    sector[: len(bpb)] = bpb
    sector[len(bpb) : len(bpb) + len(ebpb)] = ebpb
    sector[510:512] = b"\x55\xaa"
    return bytes(sector)


def _short_name(name: str) -> bytes:
    stem, _, ext = name.upper().rpartition(".")
    if not stem:
        stem, ext = ext, ""
    if not (1 <= len(stem) <= 8 and len(ext) <= 3) or not (stem + ext).isalnum():
        raise ValueError(f"{name!r} is not an 8.3 name of letters and digits")
    return stem.ljust(8).encode() + ext.ljust(3).encode()


def _dos_time(when: datetime) -> tuple[int, int]:
    time = (when.hour << 11) | (when.minute << 5) | (when.second // 2)
    date = ((when.year - 1980) << 9) | (when.month << 5) | when.day
    return time, date


def fat12_image(
    files: list[tuple[str, bytes]],
    deleted: set[str] | None = None,
    when: datetime = datetime(2017, 6, 1, 12, 0, 0),
    label: str = "DEMO USB",
) -> bytes:
    """A 4 MiB FAT12 image holding `files` (8.3 names) in order; names in `deleted` are
    written, then deleted the way FAT deletes."""
    deleted = deleted or set()
    if len(files) > ROOT_ENTRIES:
        raise ValueError("too many files for the root directory")
    image = bytearray(TOTAL_SECTORS * SECTOR)
    image[:SECTOR] = _boot_sector(label)
    fat = [0] * (CLUSTERS + 2)
    fat[0], fat[1] = 0xFF8, 0xFFF
    root = bytearray(ROOT_SECTORS * SECTOR)
    next_cluster = 2
    t, d = _dos_time(when)
    for i, (name, data) in enumerate(files):
        n = max(1, -(-len(data) // CLUSTER))
        if next_cluster + n > CLUSTERS + 2:
            raise ValueError("files do not fit in the image")
        first = next_cluster
        for k in range(n):
            c = first + k
            fat[c] = 0xFFF if k == n - 1 else c + 1
            offset = (DATA_START + (c - 2) * SECTORS_PER_CLUSTER) * SECTOR
            chunk = data[k * CLUSTER : (k + 1) * CLUSTER]
            image[offset : offset + len(chunk)] = chunk
        next_cluster += n
        entry = struct.pack(
            "<11sBBBHHHHHHHI", _short_name(name), 0x20, 0, 0, t, d, d, 0, t, d, first, len(data)
        )
        if name in deleted:
            entry = b"\xe5" + entry[1:]
            for k in range(n):
                fat[first + k] = 0
        root[i * 32 : (i + 1) * 32] = entry
    packed = bytearray(FAT_SECTORS * SECTOR)
    for c in range(0, len(fat) - 1, 2):
        a, b = fat[c], fat[c + 1] if c + 1 < len(fat) else 0
        packed[c * 3 // 2 : c * 3 // 2 + 3] = bytes(
            (a & 0xFF, ((a >> 8) & 0x0F) | ((b & 0x0F) << 4), (b >> 4) & 0xFF)
        )
    for f in range(FATS):
        start = (RESERVED + f * FAT_SECTORS) * SECTOR
        image[start : start + len(packed)] = packed
    root_start = (RESERVED + FATS * FAT_SECTORS) * SECTOR
    image[root_start : root_start + len(root)] = root
    return bytes(image)
