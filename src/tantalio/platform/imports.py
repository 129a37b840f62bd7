"""Bulk import of hash lists into a bank, through tantalio's hash-set readers.

Formats: `hma` (HMA/ThreatExchange CSV), `vics` (Project VIC JSON), `md5sum`, `sha256sum`,
`tantalio-signed` (Ed25519 distribution list: verified against the trusted keys; unsigned,
tampered or untrusted lists are refused unless `allow_unsigned` — which admits unsigned
lists only, never badly signed ones), or None to detect the format. A file that is not its
format is refused whole: nothing is added. Rows the index could not use (a vPDQ signal
with no frame of sufficient quality, a PhotoDNA-only row) are left out, each named by its
line in the warnings.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tantalio.hashsets.base import HashSetFormatError
from tantalio.hashsets.importer import read_stream
from tantalio.hashsets.record import HashEntry
from tantalio.platform.service import PlatformService

IMPORT_FORMATS = ("hma", "vics", "md5sum", "sha1sum", "sha256sum", "tantalio-signed")


class ImportRefused(ValueError):
    """The list was not imported (bad format, bad or missing signature); nothing was added."""


@dataclass(slots=True)
class ImportResult:
    bank: str
    format: str | None
    added: int
    warnings: list[str] = field(default_factory=list)


def import_bytes(
    service: PlatformService,
    bank_name: str,
    data: bytes,
    *,
    source: str,
    format: str | None = None,
    trusted_keys: Iterable[Any] = (),
    allow_unsigned: bool = False,
) -> ImportResult:
    service.bank(bank_name)  # a missing bank is an error before any parsing
    if format is not None and format not in IMPORT_FORMATS:
        raise ImportRefused(
            f"{source}: unknown format {format!r}; known: {', '.join(IMPORT_FORMATS)}"
        )
    options: dict[str, Any] = {}
    keys = list(trusted_keys)
    signed = format == "tantalio-signed" or (
        format is None and b"tantalio-signed-hashlist" in data[:400]
    )
    if signed:
        options = {"trusted_keys": keys, "allow_unsigned": allow_unsigned}
    try:
        entries_iter, warnings = read_stream(io.BytesIO(data), source, format, **options)
        # Read everything before writing: a file refused half-way adds nothing.
        entries: list[HashEntry] = list(entries_iter)
    except HashSetFormatError as exc:
        raise ImportRefused(str(exc)) from None
    found = [(_line(w.where), str(w)) for w in warnings]
    usable: list[HashEntry] = []
    for n, e in enumerate(entries, 1):
        why = service.unusable(e, bank_name)
        if why is None:
            usable.append(e)
        else:
            where = e.where or f"{source}: entry {n}"
            found.append((_line(where), f"{where}: {why}; row skipped"))
    problems = [text for _, text in sorted(found, key=lambda p: p[0])]  # in file order
    if not usable and problems:
        raise ImportRefused(f"{source}: no usable entries (first problem: {problems[0]})")
    added = service.import_hash_entries(bank_name, usable, source_list=Path(source).name)
    return ImportResult(bank_name, format, added, problems)


def _line(where: str) -> int:
    """The line (or record) number a `file:line` location ends with; 0 when none."""
    m = re.search(r"(\d+)\D*$", where)
    return int(m.group(1)) if m else 0


def import_file(
    service: PlatformService, bank_name: str, path: str | Path, **kwargs: Any
) -> ImportResult:
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as exc:
        raise ImportRefused(f"{p}: cannot read: {exc.strerror}") from None
    return import_bytes(service, bank_name, data, source=str(p), **kwargs)
