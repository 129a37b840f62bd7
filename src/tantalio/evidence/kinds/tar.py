"""Tar archives, plain or inside a compressed stream (see `compressed.py`), via `tarfile`.

A plain tar with random access is read by offset; any other tar is read as a forward-only
stream, so nothing is spooled: the current member's stream is handed out as it flows past,
and a second `open()` of the same member re-reads the archive from the start up to it
(correct, slower; rare). Members carry no compressed size of their own, so bombs are caught
by the stream's ratio guard (`streams.RatioGuard`) and by the size checks on each header.
"""

from __future__ import annotations

import tarfile
from collections.abc import Callable, Iterator
from typing import BinaryIO

from tantalio.evidence.base import Blob, Member, SourceKind, WalkContext, utc
from tantalio.evidence.errors import ContainerError
from tantalio.evidence.names import UniqueNames, display, join, member_path
from tantalio.evidence.record import EvidenceFile
from tantalio.evidence.streams import (
    HEAD_SIZE,
    Bounded,
    Prefixed,
    Window,
    buffered,
    read_head,
    skip,
)

_SPECIAL = {
    tarfile.CHRTYPE: "a character device",
    tarfile.BLKTYPE: "a block device",
    tarfile.FIFOTYPE: "a FIFO",
}


class TarKind(SourceKind):
    name = "tar"
    magic = ((257, b"ustar"),)
    suffixes = (".tar",)

    def matches_magic(self, head: bytes) -> bool:
        return looks_like_tar(head)

    def walk(self, blob: Blob, ctx: WalkContext) -> Iterator[Member]:
        stream = blob.open()
        yield from walk_tar(blob, ctx, stream, blob.open, random_access=blob.seekable)


def looks_like_tar(head: bytes) -> bool:
    """A ustar magic, or an old (v7) header whose checksum holds."""
    if head[257:262] == b"ustar":
        return True
    if len(head) < 512 or head[:100].strip(b"\x00") == b"":
        return False
    try:
        tarfile.TarInfo.frombuf(head[:512], "utf-8", "surrogateescape")
        return True
    except tarfile.HeaderError:
        return False


def walk_tar(
    blob: Blob,
    ctx: WalkContext,
    stream: BinaryIO,
    reopen: Callable[[], BinaryIO],
    *,
    random_access: bool,
    packed_size: int | None = None,
) -> Iterator[Member]:
    """Members of the uncompressed tar in `stream`; `reopen()` gives the same tar afresh.

    `packed_size` is the compressed size of the whole stream when the tar is compressed: no
    member can honestly be more than `max_ratio` times that, so a bomb is refused from its
    header alone, before a byte of it is inflated.
    """
    with stream, tarfile.open(fileobj=stream, mode="r:" if random_access else "r|") as tf:
        names = UniqueNames()
        count = 0
        while True:
            info = tf.next()
            if info is None:
                return
            tf.members.clear()  # type: ignore[attr-defined] # tarfile keeps every header; a million-file tar would not fit
            count += 1
            if count > ctx.limits.max_members:
                raise ContainerError(
                    f"tar holds more than {ctx.limits.max_members:,} members; the rest were "
                    "not listed (member-count limit)"
                )
            if info.isdir():
                continue
            rel = member_path(info.name)
            path = names.add(join(blob.path, rel))
            record = EvidenceFile(
                path=path, size=info.size if info.isreg() else 0, open=None, mtime=utc(info.mtime)
            )
            if info.issym():
                record.error = f"symbolic link to {display(info.linkname)!r}; not followed"
            elif info.islnk():
                record.error = (
                    f"hard link to {display(info.linkname)!r} (listed at its own path); "
                    "not followed"
                )
            elif not info.isreg():
                what = _SPECIAL.get(info.type, f"type {info.type!r}")
                record.error = f"not a regular file ({what}); not opened"
            else:
                record.error = ctx.member_error(info.size, packed_size)
            if record.error is not None:
                yield Member(record)
            elif random_access:
                record.open = _window_opener(reopen, info, path)
                yield Member(record, seekable=True)
            else:
                yield _streamed(tf, info, record, reopen)


def _window_opener(
    reopen: Callable[[], BinaryIO], info: tarfile.TarInfo, path: str
) -> Callable[[], BinaryIO]:
    def opener() -> BinaryIO:
        return buffered(Window(reopen(), info.offset_data, info.size, path))

    return opener


def _streamed(
    tf: tarfile.TarFile, info: tarfile.TarInfo, record: EvidenceFile, reopen: Callable[[], BinaryIO]
) -> Member:
    live = tf.extractfile(info)
    assert live is not None
    head = read_head(live, HEAD_SIZE) if info.size else b""
    path = record.path
    state = {"fresh": True}

    def opener() -> BinaryIO:
        if state["fresh"]:  # the archive stream is right here: hand it out, no copy
            state["fresh"] = False
            return buffered(Prefixed(head, live, path))
        again = reopen()
        skip(again, info.offset_data)
        return buffered(Bounded(again, info.size, path))

    record.open = opener
    return Member(record, head=lambda: head)
