"""A small pull parser for JSON too large to load: containers are walked key by key and
element by element, and any value the caller wants whole is decoded by the C scanner
(`json.JSONDecoder.raw_decode`) over a sliding text buffer.

Why not `ijson`: VICS needs only "walk these containers, decode the rest whole", which this
does in ~150 lines without a new dependency; memory is the buffer plus the largest single
value asked for whole (one Media record), not the file.

Truncation versus bad syntax: when `raw_decode` fails near the end of the buffer the value
may simply continue in the next chunk, so the buffer grows and the decode is retried; a
failure well inside the buffer, or at end of input, is a syntax error (`JsonSyntaxError`
with the line).
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Iterator
from typing import Any, BinaryIO

CHUNK = 1 << 20  # bytes read at a time
_WS = re.compile(r"[ \t\r\n]*")
# raw_decode reports a truncated literal/number at most this far before the buffer's end.
_TAIL = 8
# Containers nested deeper are refused (no hash-set format nests beyond a handful of levels;
# a file nested 100,000 deep must give a clear error, not a RecursionError: issue 14).
MAX_DEPTH = 256


class JsonSyntaxError(ValueError):
    """The stream is not valid JSON (or not the expected structure) at `line`."""

    def __init__(self, message: str, line: int) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line
        self.message = message


class JsonStream:
    """Pull parser over a binary stream of UTF-8 JSON (a leading BOM is skipped)."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
        self._json = json.JSONDecoder()
        self.buf = ""
        self.pos = 0
        self._eof = False
        self._line_base = 1  # line number of buf[0]
        self._count_pos = 0  # line_at() cursor: buf[:_count_pos] has _count_lines newlines
        self._count_lines = 0

    # -- buffer -------------------------------------------------------------------------
    def _fill(self, at_least: int = 0) -> bool:
        """Append the next chunk, dropping what was consumed. False at end of input.

        `at_least`: read that many bytes or more (the pending part of a value too large for
        one chunk doubles each time, so a huge value costs O(n log n), not O(n^2))."""
        if self._eof:
            return False
        if self.pos:
            self._line_base += self.buf.count("\n", 0, self.pos)
            self.buf = self.buf[self.pos :]
            self.pos = 0
            self._count_pos = self._count_lines = 0
        data = self._stream.read(max(CHUNK, at_least))
        try:
            text = self._decoder.decode(data, final=not data)
        except UnicodeDecodeError as exc:
            raise JsonSyntaxError(
                f"not UTF-8 ({exc.reason})", self.line_at(len(self.buf))
            ) from None
        if not data:
            self._eof = True
        self.buf += text
        return bool(data) or bool(text)

    def line_at(self, pos: int) -> int:
        """1-based line of buffer position `pos` (cheap for increasing positions)."""
        if pos < self._count_pos:
            self._count_pos = self._count_lines = 0
        self._count_lines += self.buf.count("\n", self._count_pos, pos)
        self._count_pos = pos
        return self._line_base + self._count_lines

    @property
    def line(self) -> int:
        return self.line_at(self.pos)

    def next_line(self) -> int:
        """Line of the next non-blank character (where the next value starts)."""
        self.peek()
        return self.line

    def error(self, message: str) -> JsonSyntaxError:
        return JsonSyntaxError(message, self.line)

    # -- tokens -------------------------------------------------------------------------
    def peek(self) -> str:
        """The next non-blank character, not consumed; "" at end of input."""
        while True:
            end = _WS.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            self.pos = end
            if end < len(self.buf):
                return self.buf[end]
            if not self._fill():
                return ""

    def expect(self, char: str) -> None:
        found = self.peek()
        if found != char:
            shown = repr(found) if found else "end of input"
            raise self.error(f"expected {char!r}, found {shown}")
        self.pos += 1

    def value(self) -> Any:
        """Decode the next value whole (object, array, string, number, literal)."""
        if not self.peek():
            raise self.error("expected a value, found end of input")
        while True:
            try:
                obj, end = self._json.raw_decode(self.buf, self.pos)
            except RecursionError:
                raise self.error(self._too_deep()) from None
            except json.JSONDecodeError as exc:
                truncated = exc.msg.startswith("Unterminated string") or (
                    exc.pos >= len(self.buf) - _TAIL
                )
                if truncated and self._fill(len(self.buf) - self.pos):
                    continue
                message = f"{exc.msg}: the file ends early (truncated?)" if truncated else exc.msg
                raise JsonSyntaxError(message, self.line_at(min(exc.pos, len(self.buf)))) from None
            # A number (or literal) ending exactly at the buffer's end may continue.
            if end == len(self.buf) and self._fill(len(self.buf) - self.pos):
                continue
            self.pos = end
            return obj

    def string(self) -> str:
        if self.peek() != '"':
            raise self.error("expected a string")
        text = self.value()
        assert isinstance(text, str)
        return text

    # -- containers ---------------------------------------------------------------------
    def iter_object(self) -> Iterator[str]:
        """Yield each key of the next object; the caller consumes the key's value each time
        (with `value()` or by walking it) before asking for the next key."""
        self.expect("{")
        if self.peek() == "}":
            self.pos += 1
            return
        while True:
            key = self.string()
            self.expect(":")
            yield key
            char = self.peek()
            self.pos += 1
            if char == "}":
                return
            if char != ",":
                self.pos -= 1
                raise self.error(f"expected ',' or '}}' after a value, found {char or 'end'!r}")

    def iter_array(self) -> Iterator[int]:
        """Yield the index of each element of the next array, positioned at the element;
        the caller consumes it each time."""
        self.expect("[")
        if self.peek() == "]":
            self.pos += 1
            return
        index = 0
        while True:
            yield index
            index += 1
            char = self.peek()
            self.pos += 1
            if char == "]":
                return
            if char != ",":
                self.pos -= 1
                raise self.error(f"expected ',' or ']' after a value, found {char or 'end'!r}")

    def skip(self) -> None:
        """Consume the next value without keeping it (containers walked, not built, with a
        stack of their iterators rather than recursion: depth is bounded by `MAX_DEPTH`)."""
        stack: list[Iterator[Any]] = []
        while True:
            char = self.peek()
            if char in ("{", "[") and char:
                if len(stack) >= MAX_DEPTH:
                    raise self.error(self._too_deep())
                stack.append(self.iter_object() if char == "{" else self.iter_array())
            else:
                self.value()
            while stack:  # step the innermost container on to its next element
                try:
                    next(stack[-1])
                    break
                except StopIteration:
                    stack.pop()
            else:
                return

    @staticmethod
    def _too_deep() -> str:
        return f"values nested more than {MAX_DEPTH} deep; refused (not a hash set)"

    def at_end(self) -> bool:
        return self.peek() == ""
