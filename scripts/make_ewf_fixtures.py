#!/usr/bin/env python3
"""Regenerate `tests/data/evidence/stored.E01`: an E01 whose chunks are stored uncompressed.

    .venv/bin/python scripts/make_ewf_fixtures.py

EnCase and `ewfacquire` store chunks uncompressed unless asked to compress (EWF1 then puts an
Adler-32 after each chunk's bytes), while the other E01 fixtures are compressed (zlib streams):
tantalio checks both kinds of chunk itself (evidence/ewf1.py), so both need a sample. The
media is `fat.img` (1 MiB FAT12 of benign generated files, already in expected.json); all-zero
chunks are compressed even so (libewf's empty-block flag), which keeps the file ~40 KB.
Damaged copies (a flipped byte in a chunk, a cut file) are made by the tests from this one.

Made with ewf-tools 20140813-1+b1 (its libewf.so.2 through ctypes, as make_disk_fixtures.py).
"""

from __future__ import annotations

import gzip
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_disk_fixtures import ewf_segments  # noqa: E402
from make_evidence_fixtures import EPOCH, OUT  # noqa: E402

HEADER = {
    "case_number": "fixture",
    "description": "synthetic benign FAT12 volume, chunks stored uncompressed",
    "evidence_number": "3",
    "examiner_name": "tantalio",
}


def main() -> int:
    media = gzip.decompress((OUT / "fat.img.gz").read_bytes())
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (segment,) = ewf_segments(
            work, media, name="stored", level=0, flags=1, header=HEADER, segment_size=16 << 20
        )
        out = OUT / "stored.E01"
        out.write_bytes(segment.read_bytes())
        os.utime(out, (EPOCH, EPOCH))
    print(f"wrote {out.name} ({out.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
