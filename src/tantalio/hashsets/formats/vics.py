"""Project VIC VICS JSON, versions 1.x (`odata.metadata`) and 2.0 (`@odata.context`).

Both shapes are read: `#Cases` (a list of cases, each with a `Media` list) and `#Media` (a
flat list of Media). The file is streamed: cases are walked key by key and each Media
object is decoded on its own, so memory stays flat however large the export (issue 3).
Which numbering `Category` uses follows the version (categories.py); a caller may force a
scheme or give its own table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import BinaryIO

from tantalio.hashsets.base import HashSetFormat, HashSetFormatError
from tantalio.hashsets.categories import SCHEMES
from tantalio.hashsets.jsonstream import JsonStream, JsonSyntaxError
from tantalio.hashsets.record import HashEntry, ParseWarning
from tantalio.hashsets.vics_model import VicsMedia, media_from_json

_CONTEXT_KEYS = {"odata.metadata": "1.x", "@odata.context": "2.0"}
_MODEL_VERSION = re.compile(r"/(\d+)\.\d+\.xml/", re.IGNORECASE)
_HASH_KEYS = frozenset({"md5", "sha1", "sha256", "photodna"})


class VicsFormat(HashSetFormat):
    name = "vics"
    # VICS entries carry their own category: a categorized entry alerts, an uncategorized one
    # (a case export's media nobody categorized) means "seen", not "illegal" (issue 16).
    default_kind = "reference"
    description = "Project VIC VICS JSON 1.x/2.0, #Cases or #Media"

    def __init__(
        self,
        category_scheme: str | None = None,
        category_map: Mapping[str, int | None] | None = None,
    ) -> None:
        """`category_scheme`: one of categories.SCHEMES, else chosen by the file's version;
        `category_map`: source value (text) -> VICS 2.0 code, wins over the scheme."""
        if category_scheme is not None and category_scheme not in SCHEMES:
            raise ValueError(f"unknown category scheme {category_scheme!r}: {sorted(SCHEMES)}")
        self.category_scheme = category_scheme
        self.category_map = category_map

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        return text.startswith(b"{") and (
            b'"odata.metadata"' in text or b'"@odata.context"' in text
        )

    def read(self, stream: BinaryIO, source: str) -> Iterator[HashEntry | ParseWarning]:
        for item in self.read_media(stream, source):
            yield item.entry if isinstance(item, VicsMedia) else item

    def read_media(self, stream: BinaryIO, source: str) -> Iterator[VicsMedia | ParseWarning]:
        """Like `read`, with each entry's occurrences (`MediaFiles`) kept."""
        walker = _Walker(JsonStream(stream), source, self.category_scheme, self.category_map)
        try:
            yield from walker.walk()
        except JsonSyntaxError as exc:
            raise HashSetFormatError(
                f"{source}:{exc.line}", f"not valid JSON: {exc.message}"
            ) from None


class _Walker:
    def __init__(
        self,
        js: JsonStream,
        source: str,
        scheme: str | None,
        overrides: Mapping[str, int | None] | None,
    ) -> None:
        self.js = js
        self.source = source
        self.scheme = scheme or "vics-2.0"
        self.forced = scheme is not None
        self.overrides = overrides
        self.shape: str | None = None
        self.record = 0

    def walk(self) -> Iterator[VicsMedia | ParseWarning]:
        js = self.js
        if js.peek() != "{":
            raise HashSetFormatError(self.source, "not a VICS file: it does not start with '{'")
        seen_value = False
        for key in js.iter_object():
            if key in _CONTEXT_KEYS:
                self._context(key, js.value())
            elif key == "value":
                if js.peek() != "[":
                    raise HashSetFormatError(f"{self.source}:{js.line}", "'value' is not a list")
                seen_value = True
                yield from self._values()
            else:
                js.skip()
        if not seen_value:
            raise HashSetFormatError(self.source, "not a VICS file: no 'value' list")
        if not js.at_end():
            raise HashSetFormatError(f"{self.source}:{js.line}", "data after the JSON object")

    def _context(self, key: str, url: object) -> None:
        text = url if isinstance(url, str) else ""
        version = _CONTEXT_KEYS[key]
        match = _MODEL_VERSION.search(text)
        if match:
            version = "1.x" if match.group(1) == "1" else "2.0"
        if not self.forced:
            self.scheme = "vics-1.x" if version == "1.x" else "vics-2.0"
        if text.endswith("#Media"):
            self.shape = "Media"
        elif text.endswith("#Cases"):
            self.shape = "Cases"

    def _values(self) -> Iterator[VicsMedia | ParseWarning]:
        js = self.js
        for _ in js.iter_array():
            if self.shape == "Media":
                yield from self._media(js.next_line(), js.value())
            elif js.peek() == "{":
                yield from self._case_or_media()
            else:
                line = js.next_line()
                js.skip()
                self.record += 1
                where = f"{self.source}:record {self.record} (line {line})"
                yield ParseWarning(where, None, "element of 'value' is not an object; skipped")

    def _case_or_media(self) -> Iterator[VicsMedia | ParseWarning]:
        """Walk one element whose shape is not declared: a Case (streamed Media list) or a
        Media object (decoded whole)."""
        js = self.js
        line = js.next_line()
        fields: dict[str, object] = {}
        had_media = False
        for key in js.iter_object():
            if key.lower() == "media" and js.peek() == "[":
                had_media = True
                for _ in js.iter_array():
                    yield from self._media(js.next_line(), js.value())
            else:
                fields[key] = js.value()
        if not had_media and _HASH_KEYS & {k.lower() for k in fields}:
            yield from self._media(line, fields)

    def _media(self, line: int, obj: object) -> Iterator[VicsMedia | ParseWarning]:
        self.record += 1
        where = f"{self.source}:record {self.record} (line {line})"
        media, warnings = media_from_json(obj, where, self.scheme, self.overrides)
        yield from warnings
        if media is not None:
            yield media
