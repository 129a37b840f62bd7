"""Column names of tabular hash lists, and one row of named values -> `HashEntry`.

Exports spell the same column many ways (`SHA1`, `Sha-1`, `sha1 hash`, `Series Name`,
`SeriesName`); a header cell is lower-cased and stripped of spaces, `_`, `-` and `.`, then
looked up in `ALIASES`. Columns not listed are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from tantalio.hashsets.categories import UnknownCategory, map_category
from tantalio.hashsets.record import HashEntry, ParseWarning
from tantalio.hashsets.validate import (
    has_hash,
    normalize_hex,
    normalize_photodna,
    parse_date,
    parse_flag,
    split_tags,
)

ALIASES: dict[str, str] = {}
for _canonical, _names in {
    "md5": ("md5", "md5hash", "hashmd5", "md5sum"),
    "sha1": ("sha1", "sha1hash", "hashsha1"),
    "sha256": ("sha256", "sha256hash", "hashsha256"),
    "pdq": ("pdq", "pdqhash"),
    "photodna": ("photodna", "pdna", "photodnahash"),
    "category": ("category", "cat", "vicscategory", "categoryid", "classification"),
    "series": ("seriesname", "series", "seriestitle"),
    "victim_identified": ("victimidentified", "victimidentification", "identifiedvictim"),
    "offender_identified": ("offenderidentified", "offenderidentification"),
    "is_distributed": ("isdistributed", "distributed"),
    "baseline": ("baseline", "isbaseline", "interpolbaseline"),
    "comments": ("comments", "comment", "notes", "note", "description"),
    "tags": ("tags", "tag", "labels"),
    "original_id": ("id", "imageid", "mediaid", "icseid", "recordid", "originalid", "entryid"),
    "added_at": ("dateadded", "added", "addedat", "datecreated", "createdate", "dateupdated"),
}.items():
    for _name in _names:
        ALIASES[_name] = _canonical

HASH_COLUMNS = ("md5", "sha1", "sha256", "pdq", "photodna")
# Display names for warnings, as ICSE-style headers spell them.
LABELS = {
    "md5": "MD5",
    "sha1": "SHA1",
    "sha256": "SHA256",
    "pdq": "PDQ",
    "photodna": "photoDNA",
    "category": "Category",
    "series": "SeriesName",
    "victim_identified": "VictimIdentified",
    "offender_identified": "OffenderIdentified",
    "is_distributed": "IsDistributed",
    "baseline": "Baseline",
    "comments": "Comments",
    "tags": "Tags",
    "original_id": "ID",
    "added_at": "DateAdded",
}
_SQUEEZE = re.compile(r"[\s_\-.]+")


def canonical(header_cell: str) -> str | None:
    """The canonical field of a header cell, or None for a column tantalio does not use."""
    return ALIASES.get(_SQUEEZE.sub("", header_cell.strip().lower()))


def entry_from_fields(
    fields: Mapping[str, str],
    where: str,
    scheme: str = "vics-2.0",
    overrides: Mapping[str, int | None] | None = None,
    vpdq: list[str] | None = None,
) -> tuple[HashEntry | None, list[ParseWarning]]:
    """Build an entry from canonical-name -> text. (None, warnings) when it must be skipped.

    `vpdq`: frames already parsed by the caller (an HMA `vpdq` row), so the row's other
    columns (category, series, ...) are read by the same rules as any other row's."""
    entry = HashEntry(vpdq=vpdq or None, where=where)
    for algorithm in HASH_COLUMNS:
        value = (fields.get(algorithm) or "").strip()
        if not value:
            continue
        try:
            if algorithm == "photodna":
                entry.photodna = normalize_photodna(value)
            else:
                setattr(entry, algorithm, normalize_hex(algorithm, value))
        except ValueError as exc:
            return None, [ParseWarning(where, LABELS[algorithm], f"{exc}; record skipped")]
    if not has_hash(entry):
        present = [LABELS[c] for c in HASH_COLUMNS if c in fields] or ["MD5"]
        return None, [ParseWarning(where, present[0], "no hash value in this row; row skipped")]

    warnings: list[ParseWarning] = []
    raw_category = (fields.get("category") or "").strip()
    try:
        entry.category, entry.source_category = map_category(raw_category, scheme, overrides)
    except UnknownCategory as exc:
        entry.source_category = raw_category
        warnings.append(ParseWarning(where, "Category", f"{exc}; kept uncategorized"))
    for name in ("victim_identified", "offender_identified", "is_distributed"):
        try:
            setattr(entry, name, parse_flag(fields.get(name)))
        except ValueError as exc:
            warnings.append(ParseWarning(where, LABELS[name], f"{exc}; value ignored"))
    for name in ("series", "comments", "original_id"):
        value = (fields.get(name) or "").strip()
        if value:
            setattr(entry, name, value)
    entry.tags = split_tags(fields.get("tags"))
    try:
        if parse_flag(fields.get("baseline")):
            # The INTERPOL/ICSE "Baseline" marker is kept as a tag: no HashEntry field for it.
            entry.tags.append("baseline")
    except ValueError as exc:
        warnings.append(ParseWarning(where, "Baseline", f"{exc}; value ignored"))
    try:
        entry.added_at = parse_date(fields.get("added_at"))
    except ValueError as exc:
        warnings.append(ParseWarning(where, LABELS["added_at"], f"{exc}; value ignored"))
    return entry, warnings
