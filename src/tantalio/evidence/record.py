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
    """

    path: str
    size: int
    open: Callable[[], BinaryIO] | None
    mtime: datetime | None = None
    ctime: datetime | None = None
    atime: datetime | None = None
    deleted: bool = False
    error: str | None = None
