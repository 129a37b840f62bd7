"""HMA / ThreatExchange hash CSV: rows of `signal_type,signal` such as `pdq,<64 hex>`.

Signal type names are python-threatexchange's (`pdq`, `video_md5`, `video_sha256`, `vpdq`,
plus plain `md5`/`sha1`/`sha256`). An optional header row (`signal_type,signal,...`) may
name extra columns; those tantalio knows (category, series, id, comments, tags) fill the
entry, on `vpdq` rows as on any other; the rest are ignored. A row with more cells than the
header is skipped (as in every CSV format); a header-less file has no width to hold rows
to, so cells after `signal_type,signal` are ignored. Signal types that
are not file hashes (`url`, `raw_text`, `trend_query`, `url_md5`) are reported and skipped.
A vPDQ signal is HMA's JSON list of `pdq,quality,timestamp` frames.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import BinaryIO

from tantalio.hashsets.base import HashSetFormat, HashSetFormatError
from tantalio.hashsets.columns import canonical, entry_from_fields
from tantalio.hashsets.record import HashEntry, ParseWarning
from tantalio.hashsets.textlines import Lines, csv_rows
from tantalio.hashsets.validate import normalize_vpdq_frame

# threatexchange signal type name -> HashEntry field
SIGNAL_TYPES = {
    "pdq": "pdq",
    "md5": "md5",
    "video_md5": "md5",
    "photo_md5": "md5",
    "sha1": "sha1",
    "sha256": "sha256",
    "video_sha256": "sha256",
    "vpdq": "vpdq",
}
_HEADER_TYPE = ("signal_type", "signaltype", "type", "indicator_type")
_HEADER_VALUE = ("signal", "signal_value", "value", "hash", "indicator")


class HmaFormat(HashSetFormat):
    name = "hma"
    description = "HMA/ThreatExchange CSV: signal_type,signal[,extra columns]"

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        first = head.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].strip().lower()
        if first.startswith(b"signal_type,"):
            return True
        kind, _, rest = first.partition(b",")
        value = rest.split(b",", 1)[0]
        if kind.decode("ascii", "replace") not in SIGNAL_TYPES:
            return False
        return value.startswith(b'"[') or re.fullmatch(rb"[0-9a-f]{32,64}", value) is not None

    def read(self, stream: BinaryIO, source: str) -> Iterator[HashEntry | ParseWarning]:
        lines = Lines(stream)
        rows = csv_rows(lines, delimiter=",")
        first = next(rows, None)
        if first is None:
            return
        type_col, value_col, extras = 0, 1, {}
        header = [cell.strip().lower() for cell in first[1]]
        width: int | None = None  # cells of the header: a longer row is skipped
        if (header and header[0] in _HEADER_TYPE) or "signal_type" in header:
            type_col = next(i for i, c in enumerate(header) if c in _HEADER_TYPE)
            try:
                value_col = next(i for i, c in enumerate(header) if c in _HEADER_VALUE)
            except StopIteration:
                raise HashSetFormatError(f"{source}:1", "header has no 'signal' column") from None
            extras = {
                i: name
                for i, cell in enumerate(header)
                if i not in (type_col, value_col) and (name := canonical(cell)) is not None
            }
            body: Iterator[tuple[int, list[str]]] = rows
            width = len(header)
        else:
            body = _chain(first, rows)
        for line, row in body:
            where = f"{source}:{line}"
            if len(row) <= max(type_col, value_col):
                yield ParseWarning(where, "signal", "row has no signal value; row skipped")
                continue
            if width is not None and len(row) > width:
                yield ParseWarning(
                    where, None, f"row has {len(row)} cells, the header {width}; row skipped"
                )
                continue
            kind = row[type_col].strip().lower()
            value = row[value_col].strip()
            target = SIGNAL_TYPES.get(kind)
            if target is None:
                yield ParseWarning(
                    where, "signal_type", f"signal type {kind!r} is not a file hash; row skipped"
                )
                continue
            fields = {name: row[i] for i, name in extras.items() if i < len(row)}
            frames: list[str] | None = None
            if target == "vpdq":
                try:
                    frames = _vpdq_frames(value)
                except ValueError as exc:  # json.JSONDecodeError is a ValueError
                    yield ParseWarning(where, "signal", f"{exc}; row skipped")
                    continue
            else:
                fields[target] = value
            entry, warnings = entry_from_fields(fields, where, vpdq=frames)
            for warning in warnings:
                yield _rename(warning, target)
            if entry is not None:
                yield entry


def _vpdq_frames(value: str) -> list[str]:
    """HMA's JSON list of `pdq,quality,timestamp` frames (or `;`-separated), normalised."""
    frames = json.loads(value) if value.startswith("[") else value.split(";")
    if not isinstance(frames, list) or not frames:
        raise ValueError("vpdq signal must be a non-empty list of frames")
    return [normalize_vpdq_frame(f) for f in frames]


def _rename(warning: ParseWarning, target: str) -> ParseWarning:
    """Warnings about the hash itself name the CSV column (`signal`)."""
    if warning.field and warning.field.lower() == target:
        return ParseWarning(warning.where, "signal", warning.message)
    return warning


def _chain(
    first: tuple[int, list[str]], rest: Iterator[tuple[int, list[str]]]
) -> Iterator[tuple[int, list[str]]]:
    yield first
    yield from rest
