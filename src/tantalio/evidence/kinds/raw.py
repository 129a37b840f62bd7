"""Raw disk images (dd): a partition table or a bare file system, through TSK.

Recognised only as the source itself (a `.dd`/`.raw`/`.img`/`.001` name, or an MBR or boot
sector signature): a folder full of files ending `.img` is not a folder of disks. Split
images (`disk.001`, `disk.002`, ...) are read as one disk.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytsk3

from tantalio.evidence.base import Blob, Member, SourceKind, WalkContext
from tantalio.evidence.streams import open_fd
from tantalio.evidence.tsk import walk_image

_SPLIT = re.compile(r"^(.*)\.(\d{3})$")


class RawDiskKind(SourceKind):
    name = "raw"
    suffixes = (".dd", ".raw", ".img", ".001")
    disk = True

    def matches_magic(self, head: bytes) -> bool:
        """Boot signature 55 AA at 510, plus a jump (FAT/NTFS boot sector) or a plausible
        MBR entry, so a random file with 55 AA there is not taken for a disk."""
        if len(head) < 512 or head[510:512] != b"\x55\xaa":
            return False
        if head[0] in (0xEB, 0xE9):
            return True
        for i in range(4):
            entry = head[446 + 16 * i : 446 + 16 * (i + 1)]
            if entry[0] in (0x00, 0x80) and entry[4] != 0:
                return True
        return False

    def walk(self, blob: Blob, ctx: WalkContext) -> Iterator[Member]:
        assert blob.local_path is not None
        img = _SplitImg(split_segments(blob.local_path))
        try:
            yield from walk_image(img, blob, ctx)
        finally:
            img.close()


def split_segments(path: str) -> list[str]:
    """`x.001` with siblings `x.002`, `x.003`... → all of them, in order; else `[path]`."""
    match = _SPLIT.match(path)
    if not match or match.group(2) != "001":
        return [path]
    segments = [path]
    n = 2
    while os.path.isfile(f"{match.group(1)}.{n:03d}"):
        segments.append(f"{match.group(1)}.{n:03d}")
        n += 1
    return segments


class _SplitImg(pytsk3.Img_Info):  # type: ignore[misc]
    """The segments of a raw image (one or many), read as one disk.

    Opened through `open_local` (read-only, no symlink swap, access time kept) rather than
    by TSK itself, which would update the evidence file's access time.
    """

    def __init__(self, paths: list[str]) -> None:
        self._fds: list[int] = []
        try:
            for p in paths:
                self._fds.append(open_fd(p))
        except OSError:
            self.close()
            raise
        self._sizes = [os.fstat(fd).st_size for fd in self._fds]
        super().__init__(url="", type=pytsk3.TSK_IMG_TYPE_EXTERNAL)

    def read(self, offset: int, size: int) -> Any:
        if len(self._fds) == 1:
            return os.pread(self._fds[0], size, offset)
        out = []
        for fd, length in zip(self._fds, self._sizes, strict=True):
            if size <= 0:
                break
            if offset >= length:
                offset -= length
                continue
            chunk = os.pread(fd, min(size, length - offset), offset)
            out.append(chunk)
            size -= len(chunk)
            offset = 0
        return b"".join(out)

    def get_size(self) -> int:
        return sum(self._sizes)

    def close(self) -> None:
        for fd in self._fds:
            os.close(fd)
        self._fds = []
