"""Read-only byte streams the source kinds hand out.

Every stream a consumer gets is read-only and turns the many ways a corrupt container fails
(zlib.error, BadZipFile, lzma.LZMAError, EOFError...) into `EvidenceReadError`, an `OSError`
naming the file, so a consumer needs one `except OSError` per file.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from typing import IO, BinaryIO

from tantalio.evidence.errors import EvidenceError, EvidenceReadError, LimitExceededError
from tantalio.evidence.limits import EvidenceLimits

# Bytes read from the start of each file to recognise containers: tar's "ustar" sits at 257.
HEAD_SIZE = 512
CHUNK = 1 << 20

_NOATIME = getattr(os, "O_NOATIME", 0)
_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)


def open_fd(path: str) -> int:
    """Open a file on disk read-only, never following a symlink swapped in after the walk.

    O_NOATIME keeps even the access time of evidence unchanged where the kernel allows it
    (owner or root); elsewhere it is dropped rather than failing.
    """
    try:
        return os.open(path, _FLAGS | _NOATIME)
    except PermissionError:
        if not _NOATIME:
            raise
        return os.open(path, _FLAGS)


def open_local(path: str) -> BinaryIO:
    """`open_fd` as a buffered binary stream."""
    return os.fdopen(open_fd(path), "rb", buffering=CHUNK)


def memory_stream(data: bytes) -> BinaryIO:
    """Bytes held in memory, as a read-only stream (a bare BytesIO would accept writes)."""
    return io.BufferedReader(io.BytesIO(data))  # type: ignore[return-value]


def read_head(stream: IO[bytes], size: int = HEAD_SIZE) -> bytes:
    """Read up to `size` bytes, looping over short reads (decompressors return them)."""
    parts = []
    want = size
    while want > 0:
        chunk = stream.read(want)
        if not chunk:
            break
        parts.append(chunk)
        want -= len(chunk)
    return b"".join(parts)


def skip(stream: IO[bytes], count: int) -> None:
    """Advance a forward-only stream by `count` bytes."""
    while count > 0:
        chunk = stream.read(min(count, CHUNK))
        if not chunk:
            raise EvidenceReadError("unexpected end of data")
        count -= len(chunk)


class RawReader(io.RawIOBase):
    """Common read-only plumbing: `readinto` from `_read`, with errors translated."""

    label = ""

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def _read(self, size: int) -> bytes:
        raise NotImplementedError

    def _checked(self, size: int) -> bytes:
        try:
            return self._read(size)
        except EvidenceError:
            raise
        except Exception as exc:  # a corrupt container fails in many library-specific ways
            raise EvidenceReadError(self.label, describe(exc)) from exc

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        data = self._checked(len(buffer))
        n = len(data)
        buffer[:n] = data
        return n

    def readall(self) -> bytes:
        """`read()` to the end in large pieces (io's default asks for 8 KB at a time, which
        costs a TSK cluster-chain walk or a zlib call per piece)."""
        parts = []
        while data := self._checked(CHUNK):
            parts.append(data)
        return b"".join(parts)


def describe(exc: BaseException) -> str:
    """A short reason for a report: the library's message, or its class name when empty."""
    text = str(exc).strip()
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


class Wrapping(RawReader):
    """A reader over another stream (`_inner`): closing it closes the stream it wraps."""

    _inner: IO[bytes] | io.RawIOBase

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            super().close()


class Guarded(Wrapping):
    """Wrap a library's stream so reads are read-only and failures are `EvidenceReadError`."""

    def __init__(self, inner: IO[bytes] | io.RawIOBase, label: str) -> None:
        super().__init__()
        self._inner = inner
        self.label = label

    def _read(self, size: int) -> bytes:
        return self._inner.read(size) or b""

    def seekable(self) -> bool:
        try:
            return bool(self._inner.seekable())
        except Exception:
            return False

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        try:
            return self._inner.seek(offset, whence)
        except Exception as exc:
            raise EvidenceReadError(self.label, f"{describe(exc)}") from exc

    def tell(self) -> int:
        return self._inner.tell()


def buffered(raw: io.RawIOBase) -> BinaryIO:
    return io.BufferedReader(raw, buffer_size=CHUNK)  # type: ignore[arg-type]


def guarded(inner: IO[bytes] | io.RawIOBase, label: str) -> BinaryIO:
    return buffered(Guarded(inner, label))


class Prefixed(Wrapping):
    """Bytes already read (`head`) followed by the rest of a forward-only stream."""

    def __init__(self, head: bytes, rest: IO[bytes], label: str) -> None:
        super().__init__()
        self._head = memoryview(head)
        self._inner = rest
        self.label = label

    def _read(self, size: int) -> bytes:
        if self._head:
            data = bytes(self._head[:size])
            self._head = self._head[size:]
            return data
        return self._inner.read(size) or b""


class Window(Wrapping):
    """`length` bytes of a seekable stream starting at `start`: a plain tar member."""

    def __init__(self, inner: IO[bytes], start: int, length: int, label: str) -> None:
        super().__init__()
        self._inner = inner
        self._start = start
        self._length = length
        self._pos = 0
        self.label = label

    def _read(self, size: int) -> bytes:
        size = min(size, self._length - self._pos)
        if size <= 0:
            return b""
        self._inner.seek(self._start + self._pos)
        data = self._inner.read(size) or b""
        if not data:
            raise EvidenceReadError(self.label, "unexpected end of data")
        self._pos += len(data)
        return data

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._length}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos


class Bounded(Wrapping):
    """The next `length` bytes of a forward-only stream, then end of file."""

    def __init__(self, inner: IO[bytes], length: int, label: str) -> None:
        super().__init__()
        self._inner = inner
        self._left = length
        self.label = label

    def _read(self, size: int) -> bytes:
        size = min(size, self._left)
        if size <= 0:
            return b""
        data = self._inner.read(size) or b""
        if not data:
            raise EvidenceReadError(self.label, "unexpected end of data")
        self._left -= len(data)
        return data


class Counting(Wrapping):
    """Count the compressed bytes a decompressor pulls, for the ratio guard."""

    def __init__(self, inner: IO[bytes], label: str) -> None:
        super().__init__()
        self._inner = inner
        self.count = 0
        self.label = label

    def _read(self, size: int) -> bytes:
        data = self._inner.read(size) or b""
        self.count += len(data)
        return data


class RatioGuard(Wrapping):
    """Decompressed output of a whole stream (tar.gz, single .xz...), watched for bombs.

    Tar members carry no compressed size of their own, so the guard judges the stream as it
    flows: once `ratio_min_size` bytes are out, output above `max_ratio` times the compressed
    input so far, or above `cap`, raises `LimitExceededError`.
    """

    def __init__(
        self,
        decompressed: IO[bytes],
        counter: Counting,
        limits: EvidenceLimits,
        cap: int,
        label: str,
    ) -> None:
        super().__init__()
        self._inner = decompressed
        self._counter = counter
        self._limits = limits
        self._cap = cap
        self.out = 0
        self.label = label

    def _read(self, size: int) -> bytes:
        data = self._inner.read(size) or b""
        self.out += len(data)
        if self.out > self._cap:
            raise LimitExceededError(
                self.label,
                f"decompressed data exceeds the size limit {self._cap:,} bytes "
                "(possible bomb); expansion stopped",
            )
        reason = self._limits.ratio_error(self.out, self._counter.count)
        if reason:
            raise LimitExceededError(self.label, f"{reason}; expansion stopped")
        return data


Opener = Callable[[], BinaryIO]
