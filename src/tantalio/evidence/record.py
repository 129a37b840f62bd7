"""One file found in an evidence source, before it is fingerprinted."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
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


@dataclass(slots=True)
class Verification:
    """The outcome of reading a whole image against the hashes its acquisition recorded.

    `status`: `match` (every stored hash equals the computed one and every chunk checks
    out), `mismatch` (any differs, or a chunk is damaged or missing), `not verified` (the
    image records no hash, or its format is not checked here)."""

    status: str
    stored: dict[str, str]
    computed: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [self.status]
        for algo in ("md5", "sha1"):
            if algo in self.stored and algo in self.computed:
                same = self.stored[algo] == self.computed[algo]
                parts.append(
                    f"{algo.upper()} {'matches' if same else 'differs'}"
                    + ("" if same else f" (stored {self.stored[algo]}, read {self.computed[algo]})")
                )
        parts += self.problems
        return "; ".join(parts)

    def to_json(self) -> dict[str, object]:
        return {
            "status": self.status,
            "stored": self.stored,
            "computed": self.computed,
            "problems": self.problems,
        }
