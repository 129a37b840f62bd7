"""Hash-set formats: read known-bad/known-good lists into `HashEntry` records, write VICS
2.0 exports and hash-list CSVs, publish and verify Ed25519-signed distribution lists.

Parsers only: nothing here touches the database. The public interface:

- `import_entries(path, format=None, strict=False, **options)` / `read_stream(...)`
  -> (iterator of HashEntry, warnings list); `is_skip(warning)`: record left out or kept
- `registry.FORMATS`, `get_format(name)`, `open_format(name, **options)`, `detect_format(head)`
- `write_vics(out, media, ...)` with `VicsMedia` / `VicsFile`; `VicsFormat().read_media(...)`
- `signed.publish(...)`, `signed.verify_and_read(...)`, key helpers in `signed`
- `write_hash_csv(out, entries)`, `write_hma_csv(out, entries)`
"""

from __future__ import annotations

from tantalio.hashsets.base import HashSetFormat, HashSetFormatError
from tantalio.hashsets.csv_export import write_hash_csv, write_hma_csv
from tantalio.hashsets.importer import import_entries, is_skip, read_stream
from tantalio.hashsets.record import HashEntry, ParseWarning
from tantalio.hashsets.registry import (
    FORMATS,
    detect_format,
    format_names,
    get_format,
    open_format,
)
from tantalio.hashsets.vics_model import VicsFile, VicsMedia
from tantalio.hashsets.vics_writer import write_vics

__all__ = [
    "FORMATS",
    "HashEntry",
    "HashSetFormat",
    "HashSetFormatError",
    "ParseWarning",
    "VicsFile",
    "VicsMedia",
    "detect_format",
    "format_names",
    "get_format",
    "import_entries",
    "is_skip",
    "open_format",
    "read_stream",
    "write_hash_csv",
    "write_hma_csv",
    "write_vics",
]
