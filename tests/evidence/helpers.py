"""The committed fixtures, and a walk that reads every file while it is current."""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass
from pathlib import Path

from tantalio.evidence import EvidenceLimits, open_source

DATA = Path(__file__).resolve().parent.parent / "data" / "evidence"
# A fuzzed ext4 image in whose root folder libtsk loops forever (docs/decisions/integrity.md).
FINDING = Path(__file__).resolve().parents[2] / "fuzz" / "findings" / "ext4-open-dir-loop.img.gz"
SECTOR = 512
EXPECTED: dict[str, str] = json.loads((DATA / "expected.json").read_text())


@dataclass
class Seen:
    path: str
    size: int
    sha256: str | None
    deleted: bool
    error: str | None
    container: str | None
    read_error: str | None = None


def walk(source: Path | str, limits: EvidenceLimits | None = None) -> list[Seen]:
    """Walk a source, hashing each readable file while it is the current item."""
    seen = []
    for f in open_source(source, limits):
        digest = read_error = None
        if f.open is not None:
            try:
                with f.open() as stream:
                    digest = hashlib.sha256(stream.read()).hexdigest()
            except OSError as exc:
                read_error = str(exc)
        seen.append(Seen(f.path, f.size, digest, f.deleted, f.error, f.container, read_error))
    return seen


def by_path(seen: list[Seen]) -> dict[str, Seen]:
    paths = [s.path for s in seen]
    assert len(paths) == len(set(paths)), "paths in one source must be unique"
    return {s.path: s for s in seen}


def mbr_disk(out: Path, partitions: list[tuple[int, bytes]]) -> Path:
    """A disk with a DOS partition table holding `partitions` ((type, bytes) each) one after
    another from sector 2048, each padded to a whole MiB."""
    table = bytearray(SECTOR)
    body = bytearray()
    lba = 2048
    for i, (ptype, data) in enumerate(partitions):
        padded = data + bytes(-len(data) % (1 << 20))
        sectors = len(padded) // SECTOR
        struct.pack_into(
            "<B3sB3sII", table, 446 + 16 * i, 0, b"\0\0\0", ptype, b"\0\0\0", lba, sectors
        )
        body += padded
        lba += sectors
    table[510:512] = b"\x55\xaa"
    out.write_bytes(bytes(table) + bytes(2048 * SECTOR - SECTOR) + bytes(body))
    return out
