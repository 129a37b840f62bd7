"""The one extension point for evidence sources: a `SourceKind` turns a `Blob` into `Member`s.

A kind declares `name` and how it is recognised (magic bytes at offsets, file-name
suffixes) and implements `walk`. It never recurses into nested archives itself: the walk in
`tantalio.evidence.walk` sniffs every readable member and hands containers to their kind, so
depth limits, temp files and lifetimes live in one place.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import BinaryIO, ClassVar

from tantalio.evidence.errors import EvidenceReadError
from tantalio.evidence.limits import EvidenceLimits
from tantalio.evidence.record import EvidenceFile, Verification
from tantalio.evidence.streams import CHUNK, Opener, memory_stream, open_local


@dataclass(slots=True)
class Blob:
    """The bytes of one file, as a source kind receives them to list what is inside."""

    path: str  # path inside the exhibit; members are joined below it
    name: str  # the file's own name, for recognition by suffix
    size: int
    open: Opener  # a fresh stream per call
    seekable: bool = False  # cheap random access (file on disk, memory, disk-image file)
    local_path: str | None = None


@dataclass(slots=True)
class Member:
    """One file a kind found, with what the walk needs to look inside it.

    `head` returns the first bytes when the kind already has them (a tar member read from a
    forward-only stream must not be read twice); otherwise the walk reads them via `open`.
    `durable` marks records whose `open` stays valid after the walk moves on.
    """

    record: EvidenceFile
    seekable: bool = False
    durable: bool = False
    head: Callable[[], bytes] | None = None


class SourceKind(ABC):
    """A kind of evidence source: folder, zip, tar, compressed stream, 7z, raw disk, E01."""

    name: ClassVar[str]
    magic: ClassVar[tuple[tuple[int, bytes], ...]] = ()  # (offset, bytes) pairs, any may match
    suffixes: ClassVar[tuple[str, ...]] = ()  # lower-case endings; decisive for disks only
    disk: ClassVar[bool] = False  # a disk image: walked only when it is the source itself
    needs_seek: ClassVar[bool] = False  # zip and 7z read a directory at the end

    def matches_magic(self, head: bytes) -> bool:
        return any(head[off : off + len(sig)] == sig for off, sig in self.magic)

    def matches_name(self, name: str) -> bool:
        lower = name.lower()
        return any(lower.endswith(s) for s in self.suffixes)

    def acquisition(self, path: str) -> dict[str, str]:
        """What the imaging tool recorded about a source (E01: hashes, case, examiner)."""
        return {}

    def verify(self, path: str) -> Verification | None:
        """Read the whole source against the hashes its acquisition recorded; None for a
        kind that records none (only disk-image formats do)."""
        return None

    @abstractmethod
    def walk(self, blob: Blob, ctx: WalkContext) -> Iterator[Member]:
        """Yield the members of `blob` in a stable order; raise `ContainerError` (or let a
        library error escape) when the listing cannot continue: the walk records it on the
        container and carries on with the rest of the source."""


def utc(seconds: float | int | None) -> datetime | None:
    """Seconds since the epoch as an aware UTC datetime; None for absent or zero times."""
    if not seconds:
        return None
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


@dataclass
class Scope:
    """Temp files belonging to one container, removed once the walk has moved past it."""

    paths: list[str] = field(default_factory=list)

    def close(self) -> None:
        for path in self.paths:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
        self.paths.clear()


class WalkContext:
    """State shared by one walk of one source: limits, the expansion budget, the temp area."""

    def __init__(self, limits: EvidenceLimits) -> None:
        self.limits = limits
        self.expanded = 0
        self._tempdir: str | None = None
        self._counter = 0
        # Partitions numbered up to this are passed over: a listing process that stopped in
        # one of them (evidence/isolated.py) is followed by one that starts after it.
        self.skip_partitions = 0

    def at(self, where: str, partition: int, root: str, step: str = "folder") -> None:
        """A kind is about to call C code that may never return on hostile input: TSK reading
        the `partition table`, opening a `file system` or listing a `folder`, at member path
        `where`, in allocated partition `partition` (0: an image without a partition table, or
        the table itself) whose files lie under `root`. Nothing to do in-process; the listing
        process (evidence/isolated.py) reports it, so a step that never ends is named."""

    def charge(self, size: int) -> str | None:
        """Count `size` uncompressed bytes against `max_total_size`; the reason if over."""
        if self.expanded + size > self.limits.max_total_size:
            return (
                f"archive expansion would exceed the total-size limit "
                f"{self.limits.max_total_size:,} bytes for this source"
            )
        self.expanded += size
        return None

    def member_error(self, size: int, compressed: int | None) -> str | None:
        """Size, ratio and budget checks for an archive member, in that order."""
        reason = (
            self.limits.size_error(size)
            or self.limits.ratio_error(size, compressed)
            or self.charge(size)
        )
        return f"{reason}; not expanded" if reason else None

    @property
    def tempdir(self) -> str:
        """The private temp area (mode 0700), created on first use, removed by `close`."""
        if self._tempdir is None:
            self._tempdir = tempfile.mkdtemp(prefix="tantalio-evidence-", dir=self.limits.temp_dir)
            os.chmod(self._tempdir, stat.S_IRWXU)
        return self._tempdir

    def new_spool(self, scope: Scope) -> tuple[str, BinaryIO]:
        self._counter += 1
        path = os.path.join(self.tempdir, f"spool-{self._counter:08d}")
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        scope.paths.append(path)
        return path, os.fdopen(fd, "wb")

    def scope(self) -> Scope:
        return Scope()

    def materialize(self, blob: Blob, scope: Scope) -> Blob:
        """Give a forward-only blob cheap random access: memory when small, else a spool file
        in the private temp area that lives as long as `scope`."""
        if blob.size <= self.limits.buffer_size:
            with blob.open() as src:
                data = src.read(self.limits.buffer_size + 1)
            if len(data) > self.limits.buffer_size:
                raise EvidenceReadError(blob.path, "larger than its recorded size")
            return Blob(blob.path, blob.name, len(data), lambda: memory_stream(data), True)
        path, out = self.new_spool(scope)
        with out, blob.open() as src:
            shutil.copyfileobj(src, out, CHUNK)
        size = os.path.getsize(path)
        return Blob(blob.path, blob.name, size, lambda: open_local(path), True)

    def close(self) -> None:
        if self._tempdir is not None:
            shutil.rmtree(self._tempdir, ignore_errors=True)
            self._tempdir = None
