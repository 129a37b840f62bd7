"""Read a hash-set file into `HashEntry` records, applying the error policy in one place.

    entries, warnings = import_entries("list.json", "vics")
    for entry in entries:          # streamed; persist in batches inside one transaction
        ...
    # `warnings` is complete once `entries` is exhausted

- Lenient (default): bad records are skipped and listed in `warnings`; the rest is kept.
- `strict=True`: the whole file is checked before the first entry is returned (a second
  read, so a seekable stream or a path is needed for the guarantee); the first problem
  raises `HashSetFormatError` with file, line/record and field, and nothing is returned.
- A file that is not the format raises `HashSetFormatError`, possibly mid-iteration (e.g.
  truncated JSON): the caller discards what it received. So does a file whose first
  `GIVE_UP_AFTER` records are all invalid — the wrong `--format`, or not a list at all.
"""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from tantalio.hashsets.base import SNIFF_BYTES, HashSetFormat, HashSetFormatError
from tantalio.hashsets.record import HashEntry, ParseWarning
from tantalio.hashsets.registry import detect_format, open_format
from tantalio.hashsets.textlines import peek

GIVE_UP_AFTER = 100  # invalid records before the first valid one that reject the file
MAX_WARNINGS = 10_000  # warnings kept; the rest are counted in one last warning


def is_skip(warning: ParseWarning) -> bool:
    """True when the warning's record was left out; False when it was kept with a value
    ignored (an unreadable flag, date or category). Counts for "N records skipped"."""
    return warning.message.endswith("skipped")


def import_entries(
    path: str | Path, format: str | None = None, strict: bool = False, **options: Any
) -> tuple[Iterator[HashEntry], list[ParseWarning]]:
    """Entries of the hash-set file at `path` in `format` (None: detect it), and the list
    that collects warnings as the iterator advances. `options` go to the format's reader
    (e.g. `trusted_keys=` for "tantalio-signed", `category_scheme=` for "vics")."""
    file_path = Path(path)
    if not file_path.is_file():
        raise HashSetFormatError(str(path), "no such file")
    stream = file_path.open("rb")
    try:
        entries, warnings = read_stream(stream, str(path), format, strict=strict, **options)
    except BaseException:
        stream.close()
        raise

    def closing() -> Iterator[HashEntry]:
        try:
            yield from entries
        finally:
            stream.close()

    return closing(), warnings


def read_stream(
    stream: BinaryIO,
    source: str,
    format: str | None = None,
    *,
    strict: bool = False,
    **options: Any,
) -> tuple[Iterator[HashEntry], list[ParseWarning]]:
    """Like `import_entries` for an open binary stream (an upload, a member of an archive);
    `source` names it in warnings and errors."""
    if format is None:
        head, stream = peek(stream, SNIFF_BYTES)
        format = detect_format(head)
        if format is None:
            raise HashSetFormatError(source, "cannot tell the hash-set format; name it (--format)")
    reader = open_format(format, **options)
    warnings: list[ParseWarning] = []
    if strict and stream.seekable():
        start = stream.tell()
        for _ in _checked(reader, stream, source, strict=True, warnings=warnings):
            pass
        stream.seek(start)
    return _checked(reader, stream, source, strict, warnings), warnings


def _checked(
    reader: HashSetFormat,
    stream: BinaryIO,
    source: str,
    strict: bool,
    warnings: list[ParseWarning],
) -> Iterator[HashEntry]:
    kept = 0
    dropped = 0
    try:
        for item in reader.read(stream, source):
            if isinstance(item, HashEntry):
                kept += 1
                yield item
                continue
            if strict:
                raise HashSetFormatError.from_warning(item)
            if len(warnings) < MAX_WARNINGS:
                warnings.append(item)
            else:
                dropped += 1
            if kept == 0 and len(warnings) >= GIVE_UP_AFTER:
                raise HashSetFormatError(
                    source,
                    f"not a {reader.name} file: its first {GIVE_UP_AFTER} records are all "
                    f"invalid (first: {warnings[0]})",
                )
    except (csv.Error, sqlite3.Error, UnicodeError) as exc:
        raise HashSetFormatError(source, f"cannot read as {reader.name}: {exc}") from None
    if dropped:
        warnings.append(ParseWarning(source, None, f"{dropped} more warnings not listed"))
