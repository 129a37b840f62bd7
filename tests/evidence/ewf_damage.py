"""Damaged copies of the E01 fixtures, made by the tests themselves (issue 14): a flipped
byte inside one chunk, or a segment cut short. The chunk is found from the image's own table
(evidence/ewf1.py); `ewfverify`, when installed, confirms independently that the copy fails."""

from __future__ import annotations

import shutil
from pathlib import Path

from tantalio.evidence.ewf1 import read_layout


def damage_chunk(src: Path, dst: Path, index: int) -> tuple[int, int]:
    """Copy `src` to `dst` with one byte inverted in the middle of chunk `index`; return the
    chunk's media byte range (first, last)."""
    shutil.copy(src, dst)
    with open(dst, "r+b") as f:
        layout = read_layout([f])
        assert layout is not None and index < layout.chunks
        pos = layout.start[index] + layout.size[index] // 2
        f.seek(pos)
        byte = f.read(1)
        f.seek(pos)
        f.write(bytes([byte[0] ^ 0xFF]))
        first = index * layout.chunk_size
        return first, min(first + layout.chunk_size, layout.media_size) - 1


def cut(src: Path, dst: Path, keep: float) -> None:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * keep)])
