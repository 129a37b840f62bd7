"""MD5, SHA-1 and SHA-256 from one pass over the bytes.

`HashingReader` lets a decoder (PyAV) read a file while the hashes are fed from the same
reads, so a video is read from disk once: bytes the decoder skips or reads out of order are
hashed at the end from the first byte not yet hashed.
"""

from __future__ import annotations

import hashlib
import io
from typing import BinaryIO

CHUNK = 1 << 20
# hashlib works on chunks that stay in cache while the three digests pass over them.
_SLICE = 256 << 10
Digests = tuple[str, str, str]  # (md5, sha1, sha256) hex

# Bytes this process fed to MD5/SHA-1/SHA-256 through `MultiHasher` (tests: a decoding pass
# over content whose digests are stored hashes nothing).
hashed_bytes = 0


class MultiHasher:
    """The three digests a fingerprint carries, updated together.

    `sha256`: the SHA-256 of these bytes, already computed by the caller (an ingest looks
    content up by it before fingerprinting): it is trusted and not computed again.
    `digests`: all three already known (the decoding pass after `ingest --fast`): nothing
    is hashed, only the size counted."""

    __slots__ = ("_md5", "_sha1", "_sha256", "_known", "_digests", "size")

    def __init__(self, sha256: str | None = None, digests: Digests | None = None) -> None:
        self._digests = digests
        known = digests is not None
        self._md5 = None if known else hashlib.md5()
        self._sha1 = None if known else hashlib.sha1()
        self._sha256 = None if sha256 or known else hashlib.sha256()
        self._known = sha256
        self.size = 0

    @property
    def hashing(self) -> bool:
        return self._digests is None

    def update(self, data: bytes | bytearray | memoryview) -> None:
        global hashed_bytes
        view = memoryview(data)
        if self._md5 is None or self._sha1 is None:
            self.size += len(view)
            return
        hashed_bytes += len(view)
        for start in range(0, len(view), _SLICE):
            part = view[start : start + _SLICE]
            self._md5.update(part)
            self._sha1.update(part)
            if self._sha256 is not None:
                self._sha256.update(part)
        self.size += len(view)

    def hexdigests(self) -> Digests:
        if self._md5 is None or self._sha1 is None:
            assert self._digests is not None
            return self._digests
        sha256 = self._sha256.hexdigest() if self._sha256 is not None else str(self._known)
        return self._md5.hexdigest(), self._sha1.hexdigest(), sha256


def hash_bytes(
    data: bytes | bytearray | memoryview,
    sha256: str | None = None,
    digests: Digests | None = None,
) -> MultiHasher:
    h = MultiHasher(sha256, digests)
    h.update(data)
    return h


def hash_stream(stream: BinaryIO, hasher: MultiHasher | None = None) -> MultiHasher:
    """Hash what is left of a stream, reading it once in CHUNK pieces."""
    h = hasher or MultiHasher()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    readinto = getattr(stream, "readinto", None)
    while True:
        if readinto is not None:
            n = readinto(view)
            if not n:
                break
            h.update(view[:n])
        else:
            chunk = stream.read(CHUNK)
            if not chunk:
                break
            h.update(chunk)
    return h


class HashingReader(io.RawIOBase):
    """A read-only, seekable view of `raw` that hashes every byte the first time it is read
    in order. `finish()` hashes whatever the reader never reached in order and returns the
    hasher; the total extra reading is only what a decoder read out of order (an MP4 index
    at the end of the file, for instance)."""

    def __init__(
        self, raw: BinaryIO, size: int, sha256: str | None = None, digests: Digests | None = None
    ) -> None:
        super().__init__()
        self._raw = raw
        self._size = size
        self._pos = 0
        self._hashed = 0
        self.hasher = MultiHasher(sha256, digests)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            pos = offset
        elif whence == io.SEEK_CUR:
            pos = self._pos + offset
        elif whence == io.SEEK_END:
            pos = self._size + offset
        else:
            raise ValueError(f"bad whence {whence}")
        if pos < 0:
            raise OSError("negative seek position")
        self._pos = pos
        return pos

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(b).cast("B")
        if self._pos >= self._size:
            return 0
        self._raw.seek(self._pos)
        n = self._raw.readinto(view)  # type: ignore[attr-defined]
        if not n:
            return 0
        end = self._pos + n
        if self._pos <= self._hashed < end:
            self.hasher.update(view[self._hashed - self._pos : n])
            self._hashed = end
        self._pos = end
        return n

    def finish(self) -> MultiHasher:
        """Hash the bytes not yet hashed in order, up to the end of the file (nothing to
        read when the digests are known)."""
        if not self.hasher.hashing:
            self.hasher.size = self._size
            return self.hasher
        if self._hashed < self._size:
            self._raw.seek(self._hashed)
            hash_stream(self._raw, self.hasher)
            self._hashed = self._size
        return self.hasher
