"""NIST NSRL Reference Data Set, a known-good list: RDS v2 text (`NSRLFile.txt`) and RDS v3
SQLite (the `FILE` table).

v2 is a quoted CSV whose header names `"SHA-1","MD5","CRC32","FileName","FileSize",
"ProductCode","OpSystemCode","SpecialCode"`; v3 a SQLite database whose `FILE` table has
`sha256, sha1, md5, crc32, file_name, file_size, package_id`. Both list one row per
(file, product), so a hash repeats; consecutive repeats are dropped here (v2 is sorted by
SHA-1), the store's upsert removes the rest. The file name is kept in `comments`.

A SQLite database cannot be read from a pipe: given a stream with a real file name it is
opened read-only and immutable (never written, no journal); any other stream is copied to a
private temporary file first.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from typing import BinaryIO

from tantalio.hashsets.base import HashSetFormat, HashSetFormatError
from tantalio.hashsets.record import HashEntry, ParseWarning
from tantalio.hashsets.textlines import Lines, csv_rows, peek
from tantalio.hashsets.validate import normalize_hex

SQLITE_MAGIC = b"SQLite format 3\x00"
# Tables and columns an RDS v3 database must have (plaso's REQUIRED_STRUCTURE idea).
REQUIRED_STRUCTURE = {"FILE": ("sha256", "sha1", "md5", "file_name")}
_V2_COLUMNS = {"sha-1": "sha1", "sha1": "sha1", "md5": "md5", "sha-256": "sha256",
               "sha256": "sha256", "filename": "name"}  # fmt: skip


class NsrlFormat(HashSetFormat):
    name = "nsrl"
    default_kind = "known-good"
    description = "NIST NSRL RDS v2 NSRLFile.txt or RDS v3 SQLite"

    @classmethod
    def sniff(cls, head: bytes) -> bool:
        if head.startswith(SQLITE_MAGIC):
            return True
        first = head.lstrip(b"\xef\xbb\xbf").split(b"\n", 1)[0].lower()
        return first.startswith(b'"sha-1","md5"') or first.startswith(b'"sha-256","sha-1"')

    def read(self, stream: BinaryIO, source: str) -> Iterator[HashEntry | ParseWarning]:
        head, stream = peek(stream, len(SQLITE_MAGIC))
        if head == SQLITE_MAGIC:
            yield from self._read_sqlite(stream, source)
        else:
            yield from self._read_text(stream, source)

    # -- RDS v2 -------------------------------------------------------------------------
    def _read_text(self, stream: BinaryIO, source: str) -> Iterator[HashEntry | ParseWarning]:
        rows = csv_rows(Lines(stream), delimiter=",")
        first = next(rows, None)
        if first is None:
            raise HashSetFormatError(source, "empty file: no NSRL header")
        columns = [_V2_COLUMNS.get(cell.strip().lower()) for cell in first[1]]
        if "sha1" not in columns and "md5" not in columns:
            raise HashSetFormatError(
                f"{source}:1", 'not an NSRL RDS file: header lacks "SHA-1" and "MD5"'
            )
        previous: tuple[str | None, ...] = ()
        for line, row in rows:
            fields = {c: v for c, v in zip(columns, row, strict=False) if c}
            item = _entry(fields, f"{source}:{line}")
            if isinstance(item, HashEntry):
                key = (item.sha256, item.sha1, item.md5)
                if key == previous:
                    continue
                previous = key
            yield item

    # -- RDS v3 -------------------------------------------------------------------------
    def _read_sqlite(self, stream: BinaryIO, source: str) -> Iterator[HashEntry | ParseWarning]:
        name = getattr(stream, "name", None)
        if isinstance(name, str) and os.path.isfile(name):
            yield from _query(name, source)
            return
        with tempfile.NamedTemporaryFile(prefix="tantalio-nsrl-", suffix=".db") as copy:
            shutil.copyfileobj(stream, copy)
            copy.flush()
            yield from _query(copy.name, source)


def _query(path: str, source: str) -> Iterator[HashEntry | ParseWarning]:
    uri = f"file:{path}?mode=ro&immutable=1"
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as exc:
        raise HashSetFormatError(source, f"cannot open SQLite database: {exc}") from None
    try:
        try:
            have = {row[1].lower() for row in conn.execute('PRAGMA table_info("FILE")')}
        except sqlite3.DatabaseError as exc:
            raise HashSetFormatError(source, f"not a readable SQLite database: {exc}") from None
        missing = [c for c in REQUIRED_STRUCTURE["FILE"] if c not in have]
        if missing:
            raise HashSetFormatError(
                source, f"not an NSRL RDS v3 database: table FILE lacks {', '.join(missing)}"
            )
        cursor = conn.execute("SELECT sha256, sha1, md5, file_name FROM FILE")
        previous: tuple[str | None, ...] = ()
        for number, (sha256, sha1, md5, file_name) in enumerate(cursor, 1):
            fields = {"sha256": sha256 or "", "sha1": sha1 or "", "md5": md5 or ""}
            fields["name"] = file_name or ""
            item = _entry(fields, f"{source}:record {number}")
            if isinstance(item, HashEntry):
                key = (item.sha256, item.sha1, item.md5)
                if key == previous:
                    continue
                previous = key
            yield item
    finally:
        conn.close()


def _entry(fields: dict[str, str], where: str) -> HashEntry | ParseWarning:
    entry = HashEntry(comments=(fields.get("name") or "").strip() or None)
    for algorithm, label in (("sha256", "SHA-256"), ("sha1", "SHA-1"), ("md5", "MD5")):
        value = (fields.get(algorithm) or "").strip()
        if not value:
            continue
        try:
            setattr(entry, algorithm, normalize_hex(algorithm, value))
        except ValueError as exc:
            return ParseWarning(where, label, f"{exc}; record skipped")
    if not (entry.sha256 or entry.sha1 or entry.md5):
        return ParseWarning(where, "SHA-1", "no hash in this record; record skipped")
    return entry
