"""A platform's law-enforcement report package (issue 6) ingested as an exhibit.

`tantalio ingest CASE report.json` recognises the package by its `schema` key and files
each reported upload as a file of the exhibit — `uploads/<file_ref>`, uploaded time as its
modification time — with the hashes the platform computed. There are no bytes: the media
row carries the hashes (and PDQ, so near-copies are found), size 0 and the error "hashes
only", so matching, seen-elsewhere and verdicts work as for any file. Content already in the
workspace keeps its full fingerprint. The package file itself is ingested too.

A file the package knows only by its MD5 (or SHA-1) — the platform matched it against an
MD5-only list — becomes a hashes-only media without a SHA-256 (the column stays NULL, none is
made up), matched by the hash it has. The reported account, IP addresses, ports and upload
times are kept as reported uploads linked to each file and its media (`store/uploads.py`);
a time without a time zone is kept as written and flagged, never guessed into UTC.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tantalio.fingerprint.record import Fingerprint
from tantalio.store.ingest import Occurrence, content_key, media_row
from tantalio.store.timeutil import to_naive_utc

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
    media: dict[str, Any] | None  # a hashes-only media row, when any hash is known


@dataclass(slots=True)
class ReportedPackage:
    items: list[ReportedItem]
    uploads: list[dict[str, Any]]  # `store.uploads.record_uploads` rows, by file path


def _time(value: str | None) -> datetime | None:
    """The instant a time names, or None when it states no time zone (or is not a time)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else None


def reported_items(path: str) -> Iterator[ReportedItem]:
    """Raises `ReportFormatError` (a ValueError naming file and field) for a bad package."""
    yield from read_package(path).items


def read_package(path: str) -> ReportedPackage:
    """The package's files as hashes-only occurrences, and its reported uploads.

    Raises `ReportFormatError` (a ValueError naming file and field) for a bad package.
    """
    from tantalio.lereport.schema import read_report

    report = read_report(path)
    items = [_item(f) for f in report.files]
    return ReportedPackage(items, _uploads(report, Path(path).name))


def _item(f: Any) -> ReportedItem:
    occ = Occurrence(f"uploads/{f.file_ref}", None, None, mtime=_time(f.uploaded_at))
    fp = Fingerprint(
        size=0,
        md5=(f.md5 or "").lower(),
        sha1=(f.sha1 or "").lower(),
        sha256=(f.sha256 or "").lower(),
        pdq=f.pdq.lower() if f.pdq else None,
        pdq_quality=f.pdq_quality if f.pdq else None,
        error=HASHES_ONLY,
    )
    if not (fp.sha256 or fp.md5 or fp.sha1):
        occ.error = "no MD5, SHA-1 or SHA-256 in the report package: " + HASHES_ONLY
        return ReportedItem(occ, None)
    row = media_row(fp)
    row["kind"] = "image" if f.pdq else "other"  # PDQ is only ever computed for pictures
    occ.sha256 = content_key(row)
    return ReportedItem(occ, row)


def _uploads(report: Any, name: str) -> list[dict[str, Any]]:
    """One row per upload event of each file (the file's own time and IP when the package
    lists no event for it), with the reported account's identifiers."""
    acc = report.account
    account = {
        k: v
        for k, v in (
            ("username", acc.username),
            ("display_name", acc.display_name),
            ("email", acc.email),
            ("phone", acc.phone),
            ("profile_url", acc.profile_url),
            ("extra", acc.extra or None),
        )
        if v
    }
    common = {
        "report_id": report.report_id,
        "reporter": report.reporter.company or None,
        "service": acc.service,
        "account_id": acc.id,
        "account": account or None,
    }
    rows: list[dict[str, Any]] = []
    for i, f in enumerate(report.files):
        events = [(e.time, e.ip, e.port) for e in report.upload_events if e.file_ref == f.file_ref]
        if not events:
            events = [(f.uploaded_at, f.ip, None)]
        for time, ip, port in events:
            rows.append(
                {
                    **common,
                    "path": f"uploads/{f.file_ref}",
                    "ip": ip,
                    "port": port,
                    "time_given": time,
                    "uploaded_at": to_naive_utc(_time(time)),
                    "source": f"{name}: files[{i}]",
                }
            )
    return rows
