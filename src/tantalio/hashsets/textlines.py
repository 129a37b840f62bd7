"""Reading line-oriented hash lists (CSV, checksum lists) from a binary stream.

Lists come from Windows tools as often as from Unix ones: UTF-8 with or without a BOM,
sometimes UTF-16 (Excel's "Unicode text"), CRLF or LF. Lines are decoded one at a time so a
stray non-UTF-8 byte spoils one line (reported), not the file.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from typing import BinaryIO

# HMA's vPDQ signals are JSON lists of every frame: far longer than csv's 128 KiB default.
csv.field_size_limit(max(csv.field_size_limit(), 1 << 24))


class Prefixed(io.RawIOBase):
    """A stream that yields `head` again before the rest of `stream` (sniffing unseekable input)."""

    def __init__(self, head: bytes, stream: BinaryIO) -> None:
        self._head = head
        self._stream = stream
        self.name = getattr(stream, "name", None)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        view = memoryview(buffer).cast("B")
        if self._head:
            size = min(len(view), len(self._head))
            view[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        data = self._stream.read(len(view))
        view[: len(data)] = data
        return len(data)


def peek(stream: BinaryIO, size: int) -> tuple[bytes, BinaryIO]:
    """The first `size` bytes and a stream that still starts at them."""
    if stream.seekable():
        start = stream.tell()
        head = stream.read(size)
        stream.seek(start)
        return head, stream
    head = stream.read(size)
    return head, io.BufferedReader(Prefixed(head, stream))  # type: ignore[return-value]


class Lines:
    """Numbered text lines of a binary stream; `bad` collects lines that were not UTF-8
    (their undecodable bytes are replaced by U+FFFD)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self.bad: set[int] = set()
        self.number = 0

    def __iter__(self) -> Iterator[str]:
        head, stream = peek(self._stream, 4)
        if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            text = io.TextIOWrapper(stream, encoding="utf-16", newline="")  # type: ignore[arg-type]
            for line in text:
                self.number += 1
                yield line
            return
        for raw in stream:
            self.number += 1
            if self.number == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                self.bad.add(self.number)
                yield raw.decode("utf-8", "replace")


def sniff_delimiter(header: str) -> str:
    """The delimiter a CSV header line uses: the most frequent of , ; tab |."""
    counts = {d: header.count(d) for d in (",", ";", "\t", "|")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def csv_rows(lines: Lines, delimiter: str | None = None) -> Iterator[tuple[int, list[str]]]:
    """(first line number, fields) of each CSV row; blank rows are dropped.

    The delimiter is taken from the first line when not given.
    """
    iterator = iter(lines)
    first = next(iterator, None)
    if first is None:
        return
    if delimiter is None:
        delimiter = sniff_delimiter(first)

    def chained() -> Iterator[str]:
        yield first
        yield from iterator

    reader = csv.reader(chained(), delimiter=delimiter)
    start = 1
    for row in reader:
        if any(cell.strip() for cell in row):
            yield start, row
        start = reader.line_num + 1


def decode_problem(lines: Lines, first: int, last: int) -> bool:
    """True when any line in first..last was not valid UTF-8."""
    return any(n in lines.bad for n in range(first, last + 1)) if lines.bad else False
