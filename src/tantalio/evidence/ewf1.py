"""EWF1 (E01) chunks read and checked by tantalio itself, so corruption is never read as data.

libewf, asked for the bytes of a chunk whose checksum fails, hands back zeros and says
nothing through pyewf (the C library counts checksum errors; the Python binding does not
expose the count), so a file over a damaged chunk would be hashed as if whole. Here the
chunk table of every segment is parsed from the EWF1 sections and each chunk is checked
as it is read: a compressed chunk is a zlib stream (its Adler-32 covers the data), a stored
one carries an Adler-32 after its bytes. A read over a damaged or missing chunk raises
`EvidenceReadError` naming the media byte range, so the file is recorded unreadable.

A segment cut short (no table after its chunks) is scanned chunk by chunk from the start of
its `sectors` section, so a truncated E01 yields what is readable, like a truncated dd, and
the media bytes past the last whole chunk are reported missing.

Layout (the libewf project's "Expert Witness Compression Format" description): each
segment is a file header (13 bytes) then sections, each a 76-byte descriptor (type, offset of
the next section, size, Adler-32 of the descriptor); `volume`/`disk` give sectors per chunk,
bytes per sector and sectors; `sectors` holds the chunks; `table` lists chunk offsets
(bit 31: compressed) relative to its base offset; `table2` mirrors `table`; the last
segment ends in `done`, the others in `next`. EWF2 (Ex01) and SMART (S01) sets are not
handled here (`read_layout` returns None) and are read through libewf, unchecked.
"""

from __future__ import annotations

import hashlib
import struct
import zlib
from array import array
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from tantalio.evidence.record import Verification

EVF1 = b"EVF\x09\x0d\x0a\xff\x00"
_HEADER = 13
_DESCRIPTOR = 76
_TABLE_HEADER = 24
_MAX_TABLE_ENTRIES = 1 << 24  # guard against a damaged count
_COMPRESSED = 0x80000000


@dataclass(slots=True)
class Layout:
    """Where every chunk of the media lies: `seg[i]` (index into the segment files),
    `start[i]` and `size[i]` (stored bytes, checksum included), `packed[i]` (1: zlib)."""

    chunk_size: int
    media_size: int
    seg: array[int] = field(default_factory=lambda: array("H"))
    start: array[int] = field(default_factory=lambda: array("Q"))
    size: array[int] = field(default_factory=lambda: array("I"))
    packed: bytearray = field(default_factory=bytearray)
    problems: list[str] = field(default_factory=list)  # damaged tables, truncated segments

    @property
    def chunks(self) -> int:
        return len(self.start)

    @property
    def expected_chunks(self) -> int:
        return -(-self.media_size // self.chunk_size) if self.chunk_size else 0

    @property
    def readable_size(self) -> int:
        """Media bytes covered by the chunks found (all of it for a whole set)."""
        return min(self.chunks * self.chunk_size, self.media_size)

    def add(self, seg: int, start: int, size: int, packed: bool) -> None:
        self.seg.append(seg)
        self.start.append(start)
        self.size.append(size)
        self.packed.append(1 if packed else 0)


class CorruptChunk(Exception):
    """A chunk whose stored bytes do not check out (reason in `str`)."""


def _sections(f: BinaryIO, file_size: int) -> list[tuple[bytes, int, int]]:
    """(type, offset, size) of each section of a segment, in order, up to the first
    descriptor that cannot be read or does not check out."""
    out = []
    offset = _HEADER
    while offset + _DESCRIPTOR <= file_size:
        f.seek(offset)
        raw = f.read(_DESCRIPTOR)
        if len(raw) < _DESCRIPTOR:
            break
        kind = raw[:16].rstrip(b"\0")
        following, size = struct.unpack_from("<QQ", raw, 16)
        (stored,) = struct.unpack_from("<I", raw, 72)
        if zlib.adler32(raw[:72]) != stored:
            break
        out.append((kind, offset, size))
        if kind in (b"done", b"next") or following <= offset:
            break
        offset = following
    return out


def read_layout(files: list[Any]) -> Layout | None:
    """The chunk layout of an EWF1 set (segment files in order), or None when the set is not
    EWF1 or has no readable volume section. Never raises for damage inside: a damaged table
    falls back to its `table2` mirror, a segment without tables is scanned, and what could
    not be placed is listed in `problems`."""
    geometry = None
    per_segment = []
    for f in files:
        f.seek(0)
        if f.read(8) != EVF1:
            return None
        size = f.seek(0, 2)
        sections = _sections(f, size)
        per_segment.append((size, sections))
        if geometry is None:
            for kind, offset, _ in sections:
                if kind in (b"volume", b"disk"):
                    f.seek(offset + _DESCRIPTOR)
                    raw = f.read(24)
                    if len(raw) == 24:
                        per_chunk, per_sector, sectors = struct.unpack_from("<IIQ", raw, 8)
                        geometry = (per_chunk * per_sector, sectors * per_sector)
                    break
    if geometry is None or geometry[0] <= 0 or geometry[0] > 1 << 30:
        return None
    layout = Layout(*geometry)
    for index, (f, (size, sections)) in enumerate(zip(files, per_segment, strict=True)):
        _segment_chunks(layout, index, f, size, sections)
        if layout.chunks >= layout.expected_chunks:
            break
    if layout.chunks > layout.expected_chunks:
        del layout.seg[layout.expected_chunks :]
        del layout.start[layout.expected_chunks :]
        del layout.size[layout.expected_chunks :]
        del layout.packed[layout.expected_chunks :]
    if layout.chunks < layout.expected_chunks:
        layout.problems.append(
            f"media bytes {layout.readable_size:,}-{layout.media_size - 1:,} missing: "
            "the image ends before them (truncated or incomplete set)"
        )
    return layout


def _segment_chunks(
    layout: Layout, index: int, f: BinaryIO, size: int, sections: list[tuple[bytes, int, int]]
) -> None:
    name = f"segment {index + 1}"
    sectors_end = None
    sectors_start = None
    pending_mirror = False
    found_table = False
    last = sections[-1][0] if sections else b""
    for kind, offset, length in sections:
        if kind == b"sectors":
            sectors_start, sectors_end = offset + _DESCRIPTOR, offset + length
            pending_mirror = False
        elif kind == b"table" or (kind == b"table2" and pending_mirror):
            bound = sectors_end if sectors_end is not None else offset
            entries = _table(f, offset, bound)
            if entries is None:
                pending_mirror = kind == b"table"  # try table2
                if kind == b"table2":
                    layout.problems.append(f"{name}: chunk table and its mirror damaged")
                continue
            pending_mirror = False
            found_table = True
            for start, stored, packed in entries:
                layout.add(index, start, stored, packed)
    if last not in (b"done", b"next") and sectors_start is not None and not found_table:
        # cut short before its table: recover the chunks one by one
        end = min(sectors_end or size, size)
        for start, stored, packed in _scan(f, sectors_start, end, layout.chunk_size):
            layout.add(index, start, stored, packed)
        layout.problems.append(f"{name} is truncated: its chunks were recovered by scanning")


def _table(f: BinaryIO, offset: int, bound: int) -> list[tuple[int, int, bool]] | None:
    """(start, stored size, compressed) of each chunk a table section lists; None when the
    table does not check out."""
    f.seek(offset + _DESCRIPTOR)
    head = f.read(_TABLE_HEADER)
    if len(head) < _TABLE_HEADER:
        return None
    count, base = struct.unpack_from("<I4xQ", head)
    if zlib.adler32(head[:20]) != struct.unpack_from("<I", head, 20)[0]:
        return None
    if not 0 < count <= _MAX_TABLE_ENTRIES:
        return None
    raw = f.read(4 * count + 4)
    if len(raw) < 4 * count:
        return None
    if len(raw) == 4 * count + 4:
        (stored,) = struct.unpack_from("<I", raw, 4 * count)
        if zlib.adler32(raw[: 4 * count]) != stored:
            return None
    values = struct.unpack_from(f"<{count}I", raw)
    starts = [base + (v & ~_COMPRESSED) for v in values]
    ends = [*starts[1:], bound]
    out = []
    for start, end, v in zip(starts, ends, values, strict=True):
        if end <= start:
            return None
        out.append((start, end - start, bool(v & _COMPRESSED)))
    return out


def _scan(f: BinaryIO, start: int, end: int, chunk_size: int) -> list[tuple[int, int, bool]]:
    """Chunks found one after another from `start`: a zlib stream that inflates to a whole
    chunk, or `chunk_size` bytes followed by their Adler-32; stops at the first that is
    neither (the cut, or damage past which chunk boundaries are unknown)."""
    out = []
    pos = start
    while pos < end:
        f.seek(pos)
        raw = f.read(min(chunk_size + chunk_size // 64 + 64, end - pos))
        if not raw:
            break
        d = zlib.decompressobj()
        try:
            data = d.decompress(raw, chunk_size + 1)
            if d.eof and len(data) == chunk_size:
                used = len(raw) - len(d.unused_data)
                out.append((pos, used, True))
                pos += used
                continue
        except zlib.error:
            pass
        if (
            len(raw) >= chunk_size + 4
            and zlib.adler32(raw[:chunk_size]) == struct.unpack_from("<I", raw, chunk_size)[0]
        ):
            out.append((pos, chunk_size + 4, False))
            pos += chunk_size + 4
            continue
        break
    return out


def chunk_bytes(layout: Layout, files: list[Any], index: int) -> bytes:
    """The media bytes of chunk `index`, checked; raises `CorruptChunk` when they do not
    check out."""
    f = files[layout.seg[index]]
    f.seek(layout.start[index])
    stored = layout.size[index]
    raw = f.read(stored)
    if len(raw) < stored:
        raise CorruptChunk("segment file ends inside the chunk")
    want = min(layout.chunk_size, layout.media_size - index * layout.chunk_size)
    if layout.packed[index]:
        d = zlib.decompressobj()
        try:
            data = d.decompress(raw, layout.chunk_size + 1)
        except zlib.error as exc:
            raise CorruptChunk(f"compressed data damaged ({exc})") from None
        if not d.eof:
            raise CorruptChunk("compressed data damaged (stream incomplete)")
    else:
        data, check = raw[:-4], raw[-4:]
        if len(check) < 4 or zlib.adler32(data) != struct.unpack("<I", check)[0]:
            raise CorruptChunk("checksum mismatch (Adler-32)")
    if len(data) < want:
        raise CorruptChunk(f"holds {len(data):,} bytes, not {want:,}")
    return data[:want]


def chunk_range(layout: Layout, index: int) -> str:
    first = index * layout.chunk_size
    last = min(first + layout.chunk_size, layout.media_size) - 1
    return f"media bytes {first:,}-{last:,}"


class Ewf1Reader:
    """Random access to the media of an EWF1 set. TSK gets zeros for a damaged or missing
    chunk, as from libewf, so the file systems around it are still listed, but the chunk
    is remembered in `damaged` (reported on the image's record) and `check` refuses every
    file whose data lies in it. The last chunk read is kept, as TSK reads in small pieces."""

    def __init__(self, layout: Layout, files: list[Any], label: str) -> None:
        self.layout = layout
        self.files = files
        self.label = label
        self.damaged: dict[int, str] = {}  # chunk → why, as found by reads so far
        self._good: set[int] = set()
        self._cached: tuple[int, bytes] | None = None

    def _chunk(self, index: int) -> bytes | None:
        if self._cached is not None and self._cached[0] == index:
            return self._cached[1]
        if index in self.damaged:
            return None
        if index >= self.layout.chunks:
            self.damaged[index] = (
                f"{chunk_range(self.layout, index)} missing: the image ends before them"
            )
            return None
        try:
            data = chunk_bytes(self.layout, self.files, index)
        except CorruptChunk as exc:
            self.damaged[index] = (
                f"corrupt chunk {index} ({chunk_range(self.layout, index)}): {exc}"
            )
            return None
        self._good.add(index)
        self._cached = (index, data)
        return data

    def read(self, offset: int, size: int) -> bytes:
        size = max(0, min(size, self.layout.media_size - offset))
        out = bytearray()
        cs = self.layout.chunk_size
        while size > 0:
            index, skip = divmod(offset, cs)
            data = self._chunk(index)
            if data is None:
                data = bytes(min(cs, self.layout.media_size - index * cs))
            piece = data[skip : skip + size]
            if not piece:
                break
            out += piece
            offset += len(piece)
            size -= len(piece)
        return bytes(out)

    def check(self, start: int, end: int) -> str | None:
        """Why media bytes `start`..`end` (exclusive) cannot be trusted, or None when every
        chunk they lie in checks out (each chunk checked once)."""
        cs = self.layout.chunk_size
        for index in range(start // cs, (max(end, start + 1) - 1) // cs + 1):
            if index not in self._good and self._chunk(index) is None:
                return self.damaged[index]
        return None

    def problems(self) -> list[str]:
        found = [self.damaged[i] for i in sorted(self.damaged) if i < self.layout.chunks]
        if len(found) > 20:
            found[20:] = [f"{len(found) - 20} more corrupt chunks"]
        return [*found, *self.layout.problems]


def verify(layout: Layout, files: list[Any], stored: dict[str, str]) -> Verification:
    """Read every chunk once, in order: check it and hash the media (MD5 and SHA-1, as
    acquisition tools record them). Damaged chunks are hashed as zeros, which is what
    libewf-based tools compute, so a mismatch still names the damage."""
    md5, sha1 = hashlib.md5(), hashlib.sha1()
    problems = list(layout.problems)
    damaged: list[int] = []
    for index in range(layout.chunks):
        try:
            data = chunk_bytes(layout, files, index)
        except CorruptChunk as exc:
            damaged.append(index)
            if len(damaged) <= 20:
                problems.append(f"corrupt chunk {index} ({chunk_range(layout, index)}): {exc}")
            want = min(layout.chunk_size, layout.media_size - index * layout.chunk_size)
            data = bytes(want)
        md5.update(data)
        sha1.update(data)
    if len(damaged) > 20:
        problems.append(f"{len(damaged) - 20} more corrupt chunks")
    computed = {"md5": md5.hexdigest(), "sha1": sha1.hexdigest()}
    wanted = {k: v.lower() for k, v in stored.items() if k in ("md5", "sha1") and v}
    if layout.chunks < layout.expected_chunks:
        computed = {}  # the whole media was never read: no hash of it to give
    if not wanted and not problems:
        return Verification("not verified", wanted, computed, ["the image records no hash"])
    bad = problems or any(computed.get(k) != v for k, v in wanted.items())
    return Verification("mismatch" if bad else "match", wanted, computed, problems)
