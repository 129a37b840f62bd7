"""The CSV of all files of a case (one row per file occurrence, the triage JSON keys)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import TextIO

from tantalio.triage.results import TriageRow

COLUMNS = ("exhibit", "path", "verdict", "priority", "sha256", "size", "type", "deleted",
           "hashset", "category", "series", "distance", "algorithm", "victim_identified",
           "examiner_category", "examiner_series", "cases", "agencies", "error",
           "md5")  # fmt: skip  # md5: set only for content without a SHA-256


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def cell(value: object) -> object:
    """A value safe to open in a spreadsheet: evidence file names are chosen by whoever
    made the evidence, so text that would start a formula is prefixed with a quote."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def agency_text(a: dict[str, object]) -> str:
    """Another agency's record in one cell: "Agency A (DE) series S identified"."""
    where = f" ({a['country']})" if a.get("country") else ""
    series = f" series {a['series']}" if a.get("series") else ""
    victim = " victim identified" if a.get("victim_identified") else ""
    return f"{a['agency']}{where}{series} {a['status']}{victim}"


def write_csv(out: TextIO, rows: Iterable[TriageRow]) -> int:
    writer = csv.writer(out)
    writer.writerow(COLUMNS)
    n = 0
    for r in rows:
        values = r.to_json()
        values["cases"] = ";".join(r.cases)
        values["examiner_series"] = ";".join(r.examiner_series)
        values["agencies"] = ";".join(agency_text(a) for a in r.agencies)
        writer.writerow([cell(values[c]) for c in COLUMNS])
        n += 1
    return n
