"""ICSE / Baseline CSV: a header row naming columns such as MD5, SHA1, photoDNA, Category,
VictimIdentified, OffenderIdentified, SeriesName, Baseline.

Header spelling varies between exports (case, spaces, `_`): `columns.canonical` folds the
variants. The delimiter is taken from the header (`,`, `;`, tab or `|`). A row with more
cells than the header is misaligned and skipped; a shorter row has its missing trailing
cells read as empty (spreadsheets drop them).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import BinaryIO

from tantalio.hashsets.base import HashSetFormat, HashSetFormatError
from tantalio.hashsets.categories import SCHEMES
from tantalio.hashsets.columns import HASH_COLUMNS, canonical, entry_from_fields
from tantalio.hashsets.record import HashEntry, ParseWarning
from tantalio.hashsets.textlines import Lines, csv_rows, decode_problem

# A header is ICSE-like when it has a hash column and one of these.
_ICSE_MARKERS = (b"victimidentified", b"seriesname", b"baseline", b"photodna", b"offender")


class IcseFormat(HashSetFormat):
    name = "icse"
    description = "ICSE/Baseline CSV with a header row"

    def __init__(
        self,
        category_scheme: str = "vics-2.0",
        category_map: Mapping[str, int | None] | None = None,
    ) -> None:
        if category_scheme not in SCHEMES:
            raise ValueError(f"unknown category scheme {category_scheme!r}: {sorted(SCHEMES)}")
        self.category_scheme = category_scheme
        self.category_map = category_map

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        first = head.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].lower()
        squeezed = first.replace(b" ", b"").replace(b"_", b"")
        has_hash = b"md5" in squeezed or b"sha1" in squeezed
        return has_hash and any(marker in squeezed for marker in _ICSE_MARKERS)

    def read(self, stream: BinaryIO, source: str) -> Iterator[HashEntry | ParseWarning]:
        lines = Lines(stream)
        rows = csv_rows(lines)
        first = next(rows, None)
        if first is None:
            raise HashSetFormatError(source, "empty file: no header row")
        _, header = first
        columns = [canonical(cell) for cell in header]
        if not any(c in HASH_COLUMNS for c in columns):
            raise HashSetFormatError(
                f"{source}:1",
                f"no hash column (MD5, SHA1, SHA256, PDQ, photoDNA) in header {header!r}",
            )
        for line, row in rows:
            where = f"{source}:{line}"
            if len(row) > len(columns):
                yield ParseWarning(
                    where, None, f"{len(row)} cells, header has {len(columns)}; row skipped"
                )
                continue
            fields = {c: v for c, v in zip(columns, row, strict=False) if c is not None and v}
            entry, warnings = entry_from_fields(
                fields, where, self.category_scheme, self.category_map
            )
            yield from warnings
            if entry is not None:
                if decode_problem(lines, line, lines.number):
                    yield ParseWarning(where, None, "not valid UTF-8; bytes replaced, row kept")
                yield entry
