"""One file found in an evidence source, before it is fingerprinted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO


@dataclass(slots=True)
class EvidenceFile:
    """A file inside an exhibit.

    `path` is the path inside the exhibit, with container members joined by `/`
    (for example `phone1.zip/DCIM/a.jpg`, `disk.E01/p1/Users/x/b.png`).
    `open` returns a fresh read-only binary stream each call; None when the file cannot be
    read at all, in which case `error` says why (zip bomb, encrypted member, traversal name...).

    Added by the evidence package (see docs/decisions/evidence.md for the full contract):
    `crtime` is the birth/creation time where the source records one (FAT, NTFS, ext4, 7z);
    `local_path` is set when the bytes are a plain file on disk (folder sources), so another
    process may open it itself; `container` names the source kind (zip, tar, 7z...) a file was
    expanded as — its members precede it in the stream, and `error` with `open` still set
    means the bytes are readable but the contents could not all be listed (corrupt archive,
    encrypted names, depth limit).
    """

    path: str
    size: int
    open: Callable[[], BinaryIO] | None
    mtime: datetime | None = None
    ctime: datetime | None = None
    atime: datetime | None = None
    deleted: bool = False
    error: str | None = None
    crtime: datetime | None = None
    local_path: str | None = None
    container: str | None = None
