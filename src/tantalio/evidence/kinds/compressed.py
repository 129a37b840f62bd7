"""Single-stream compression: gzip, bzip2, xz, zstandard — a tar inside, or one file.

The four kinds differ only in their decompressor, so they share this module. When the
decompressed bytes are a tar, its members are listed directly below the compressed file
(`a.tar.gz/DCIM/b.png`, the tar level is transparent); otherwise the one file inside is
listed under the name with the suffix removed (`x.jpg.gz/x.jpg`). Every decompressed stream
runs through the ratio guard, so a gzip bomb stops at the limit instead of filling memory.
"""

from __future__ import annotations

import bz2
import gzip
import io
import lzma
import shutil
from collections.abc import Iterator
from typing import BinaryIO

import zstandard

from tantalio.evidence.base import Blob, Member, Scope, SourceKind, WalkContext
from tantalio.evidence.errors import LimitExceededError
from tantalio.evidence.kinds.tar import looks_like_tar, walk_tar
from tantalio.evidence.names import join
from tantalio.evidence.record import EvidenceFile
from tantalio.evidence.streams import (
    CHUNK,
    HEAD_SIZE,
    Counting,
    Opener,
    Prefixed,
    RatioGuard,
    buffered,
    memory_stream,
    open_local,
    read_head,
)


class _CompressedKind(SourceKind):
    # (suffix, what the single file inside is called) — ".tgz" holds a ".tar"
    renames: tuple[tuple[str, str], ...] = ()

    def decompress(self, raw: BinaryIO) -> BinaryIO:
        raise NotImplementedError

    def _stream(self, blob: Blob, ctx: WalkContext) -> BinaryIO:
        counter = Counting(blob.open(), blob.path)
        cap = ctx.limits.max_total_size
        inner = self.decompress(buffered(counter))
        guard = RatioGuard(inner, counter, ctx.limits, cap, blob.path)
        return io.BufferedReader(guard, buffer_size=64 << 10)  # type: ignore[return-value]

    def walk(self, blob: Blob, ctx: WalkContext) -> Iterator[Member]:
        stream = self._stream(blob, ctx)
        head = read_head(stream, HEAD_SIZE)
        if looks_like_tar(head):
            prefixed = io.BufferedReader(Prefixed(head, stream, blob.path), 64 << 10)
            yield from walk_tar(
                blob,
                ctx,
                prefixed,
                lambda: self._stream(blob, ctx),
                random_access=False,
                packed_size=blob.size,
            )
            return
        yield from self._single(blob, ctx, stream, head)

    def _single(
        self, blob: Blob, ctx: WalkContext, stream: BinaryIO, head: bytes
    ) -> Iterator[Member]:
        path = join(blob.path, self.inner_name(blob.name))
        scope = ctx.scope()
        try:
            try:
                with stream:
                    opener, size = _keep(head, stream, ctx, scope)
            except LimitExceededError as exc:
                yield Member(EvidenceFile(path=path, size=0, open=None, error=exc.reason))
                return
            record = EvidenceFile(path=path, size=size, open=None)
            reason = ctx.limits.size_error(size) or ctx.charge(size)
            record.error = f"{reason}; not expanded" if reason else None
            if record.error is None:
                record.open = opener
            yield Member(record, seekable=True)
        finally:
            scope.close()

    def inner_name(self, name: str) -> str:
        lower = name.lower()
        for suffix, replacement in self.renames:
            if lower.endswith(suffix) and len(name) > len(suffix):
                return name[: -len(suffix)] + replacement
        return "data"


def _keep(head: bytes, stream: BinaryIO, ctx: WalkContext, scope: Scope) -> tuple[Opener, int]:
    """Decompress the single file inside: memory when small, else a private spool file."""
    limit = ctx.limits.buffer_size
    buf = io.BytesIO()
    buf.write(head)
    while buf.tell() <= limit:
        chunk = stream.read(CHUNK)
        if not chunk:
            return _memory(buf.getvalue()), buf.tell()
        buf.write(chunk)
    path, out = ctx.new_spool(scope)
    with out:
        out.write(buf.getbuffer())
        shutil.copyfileobj(stream, out, CHUNK)
        size = out.tell()
    return (lambda: open_local(path)), size


def _memory(data: bytes) -> Opener:
    return lambda: memory_stream(data)


class GzipKind(_CompressedKind):
    name = "gzip"
    magic = ((0, b"\x1f\x8b"),)
    suffixes = (".gz", ".tgz")
    renames = ((".tgz", ".tar"), (".gz", ""))

    def decompress(self, raw: BinaryIO) -> BinaryIO:
        return gzip.GzipFile(fileobj=raw, mode="rb")  # type: ignore[return-value]


class Bzip2Kind(_CompressedKind):
    name = "bzip2"
    magic = ((0, b"BZh"),)
    suffixes = (".bz2", ".tbz2", ".tbz")
    renames = ((".tbz2", ".tar"), (".tbz", ".tar"), (".bz2", ""))

    def decompress(self, raw: BinaryIO) -> BinaryIO:
        return bz2.BZ2File(raw, mode="rb")  # type: ignore[return-value]


class XzKind(_CompressedKind):
    name = "xz"
    magic = ((0, b"\xfd7zXZ\x00"),)
    suffixes = (".xz", ".txz")
    renames = ((".txz", ".tar"), (".xz", ""))

    def decompress(self, raw: BinaryIO) -> BinaryIO:
        return lzma.LZMAFile(raw, mode="rb")  # type: ignore[return-value]


class ZstdKind(_CompressedKind):
    name = "zstd"
    magic = ((0, b"\x28\xb5\x2f\xfd"),)
    suffixes = (".zst", ".tzst")
    renames = ((".tzst", ".tar"), (".zst", ""))

    def decompress(self, raw: BinaryIO) -> BinaryIO:
        reader = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
        return reader  # type: ignore[return-value]
