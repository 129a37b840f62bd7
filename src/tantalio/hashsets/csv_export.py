"""Plain CSV exports of hash lists, each readable back by one of our readers.

`write_hash_csv` uses ICSE-style column names (read back with `--format icse`);
`write_hma_csv` writes `signal_type,signal` rows for HMA/ThreatExchange tooling (`--format
hma`). Both stream. Hash lists are sensitive: write them only where the caller asked.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

from tantalio.hashsets.record import HashEntry
from tantalio.hashsets.validate import format_date

CSV_COLUMNS = (
    "ID",
    "MD5",
    "SHA1",
    "SHA256",
    "PDQ",
    "photoDNA",
    "Category",
    "SeriesName",
    "VictimIdentified",
    "OffenderIdentified",
    "IsDistributed",
    "Comments",
    "Tags",
    "DateAdded",
)


def _flag(value: bool | None) -> str:
    return "" if value is None else ("true" if value else "false")


def write_hash_csv(out: TextIO, entries: Iterable[HashEntry]) -> int:
    """Write an ICSE-style CSV (header + one row per entry); returns the row count.

    Category is the VICS 2.0 code; tags are joined with `;`. Open `out` with newline="".
    """
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for e in entries:
        writer.writerow(
            (
                e.original_id or "",
                e.md5 or "",
                e.sha1 or "",
                e.sha256 or "",
                e.pdq or "",
                e.photodna or "",
                "" if e.category is None else e.category,
                e.series or "",
                _flag(e.victim_identified),
                _flag(e.offender_identified),
                _flag(e.is_distributed),
                e.comments or "",
                ";".join(e.tags),
                format_date(e.added_at) if e.added_at else "",
            )
        )
        count += 1
    return count


def write_hma_csv(out: TextIO, entries: Iterable[HashEntry]) -> int:
    """One `signal_type,signal` row per hash value (an entry with MD5 and PDQ gives two rows),
    under a header; returns the row count. Signal types are threatexchange's names."""
    writer = csv.writer(out)
    writer.writerow(("signal_type", "signal"))
    count = 0
    for e in entries:
        for kind, value in (("pdq", e.pdq), ("video_md5", e.md5), ("video_sha256", e.sha256)):
            if value:
                writer.writerow((kind, value))
                count += 1
    return count
