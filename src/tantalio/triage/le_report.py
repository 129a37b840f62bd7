"""A platform's law-enforcement report package (issue 6) ingested as an exhibit.

`tantalio ingest CASE report.json` recognises the package by its `schema` key and files
each reported upload as a file of the exhibit — `uploads/<file_ref>`, uploaded time as its
modification time — with the hashes the platform computed. There are no bytes: the media
row carries the hashes (and PDQ, so near-copies are found), size 0 and the error "hashes
only", so matching, seen-elsewhere and verdicts work as for any file. Content already in the
workspace keeps its full fingerprint. The package file itself is ingested too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tantalio.fingerprint.record import Fingerprint
from tantalio.store.ingest import Occurrence, media_row

SNIFF = 4096
SCHEMA_PREFIX = "tantalio.platform.le-report/"
HASHES_ONLY = "hashes only (law-enforcement report package): the file itself was not provided"


def is_le_report(path: str) -> bool:
    p = Path(path)
    if not p.is_file() or p.suffix.lower() != ".json":
        return False
    try:
        with p.open("rb") as fh:
            head = fh.read(SNIFF).decode("utf-8", "replace")
    except OSError:
        return False
    return f'"{SCHEMA_PREFIX}' in head


@dataclass(slots=True)
class ReportedItem:
    occurrence: Occurrence
    media: dict[str, Any] | None  # a hashes-only media row, when the SHA-256 is known


def _time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def reported_items(path: str) -> Iterator[ReportedItem]:
    """Raises `ReportFormatError` (a ValueError naming file and field) for a bad package."""
    from tantalio.lereport.schema import read_report

    report = read_report(path)
    for f in report.files:
        occ = Occurrence(f"uploads/{f.file_ref}", None, None, mtime=_time(f.uploaded_at))
        sha256 = (f.sha256 or "").lower() or None
        if sha256 is None:
            occ.error = "no SHA-256 in the report package: " + HASHES_ONLY
            yield ReportedItem(occ, None)
            continue
        occ.sha256 = sha256
        fp = Fingerprint(
            size=0,
            md5=(f.md5 or "").lower(),
            sha1=(f.sha1 or "").lower(),
            sha256=sha256,
            pdq=f.pdq.lower() if f.pdq else None,
            pdq_quality=f.pdq_quality if f.pdq else None,
            error=HASHES_ONLY,
        )
        row = media_row(fp)
        row["kind"] = "image" if f.pdq else "other"  # PDQ is only ever computed for pictures
        yield ReportedItem(occ, row)
