"""Project VIC VICS media records: what the VICS reader decodes and the VICS writer writes.

A VICS `Media` object is one distinct content (its hashes, category, series, flags); its
`MediaFiles` are the places that content was found (path, times, deleted). The reader turns
each Media object into a `VicsMedia` — a `HashEntry` plus its occurrences — so an export
read back carries everything the writer put in.

Field names are matched without regard to case (`MD5`, `Md5`, `md5`): exporters differ.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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

# Alternative-hash lists some VICS 2.0 exporters write instead of top-level fields.
_HASH_LISTS = ("alternativehashes", "robusthashes", "hashes")
_HASH_NAMES = {"md5": "md5", "sha1": "sha1", "sha-1": "sha1", "sha256": "sha256",
               "sha-256": "sha256", "photodna": "photodna", "pdq": "pdq"}  # fmt: skip
_FLAGS = (
    ("victimidentified", "victim_identified", "VictimIdentified"),
    ("offenderidentified", "offender_identified", "OffenderIdentified"),
    ("isdistributed", "is_distributed", "IsDistributed"),
)
_DELETED_KEYS = ("unallocated", "deleted", "isdeleted")


@dataclass(slots=True)
class VicsFile:
    """One occurrence of a media: where it was found, its file-system times, deleted or not."""

    path: str
    created: datetime | None = None
    written: datetime | None = None
    accessed: datetime | None = None
    deleted: bool = False
    size: int | None = None


@dataclass(slots=True)
class VicsMedia:
    """One VICS Media record: the hash entry and every file it was found as."""

    entry: HashEntry
    files: list[VicsFile] = field(default_factory=list)
    media_id: int | None = None
    size: int | None = None


def media_from_json(
    obj: object,
    where: str,
    scheme: str,
    overrides: Mapping[str, int | None] | None = None,
) -> tuple[VicsMedia | None, list[ParseWarning]]:
    """Decode one Media object. Returns (None, warnings) when the record must be skipped."""
    if not isinstance(obj, dict):
        return None, [ParseWarning(where, None, "Media record is not an object; record skipped")]
    low = {str(k).lower(): v for k, v in obj.items()}
    warnings: list[ParseWarning] = []
    entry = HashEntry()
    for algorithm, key, label in (
        ("md5", "md5", "MD5"),
        ("sha1", "sha1", "SHA1"),
        ("sha256", "sha256", "SHA256"),
    ):
        value = low.get(key)
        if value in (None, ""):
            continue
        try:
            setattr(entry, algorithm, normalize_hex(algorithm, value))
        except ValueError as exc:
            return None, [ParseWarning(where, label, f"{exc}; record skipped")]
    if low.get("photodna") not in (None, ""):
        try:
            entry.photodna = normalize_photodna(low["photodna"])
        except ValueError as exc:
            return None, [ParseWarning(where, "PhotoDNA", f"{exc}; record skipped")]
    for list_key in _HASH_LISTS:
        problem = _alternative_hashes(entry, low.get(list_key))
        if problem:
            return None, [ParseWarning(where, list_key, f"{problem}; record skipped")]
    if not has_hash(entry):
        return None, [ParseWarning(where, "MD5", "Media has no MD5, SHA1 or PhotoDNA; skipped")]

    try:
        entry.category, entry.source_category = map_category(low.get("category"), scheme, overrides)
    except UnknownCategory as exc:
        raw = low.get("category")
        entry.source_category = None if raw is None else str(raw)
        warnings.append(ParseWarning(where, "Category", f"{exc}; kept uncategorized"))
    series = low.get("series")
    if isinstance(series, dict):
        series = series.get("Name") or series.get("name")
    if series not in (None, ""):
        entry.series = str(series)
    for key, attr, label in _FLAGS:
        try:
            setattr(entry, attr, parse_flag(low.get(key)))
        except ValueError as exc:
            warnings.append(ParseWarning(where, label, f"{exc}; value ignored"))
    comments = low.get("comments", low.get("comment"))
    if comments not in (None, ""):
        entry.comments = str(comments)
    try:
        entry.tags = split_tags(low.get("tags"))
    except ValueError as exc:
        warnings.append(ParseWarning(where, "Tags", f"{exc}; value ignored"))
    try:
        entry.added_at = parse_date(low.get("dateupdated", low.get("dateadded")))
    except ValueError as exc:
        warnings.append(ParseWarning(where, "DateUpdated", f"{exc}; value ignored"))
    media_id = _int_or_none(low.get("mediaid"))
    if low.get("mediaid") not in (None, ""):
        entry.original_id = str(low["mediaid"])
    media = VicsMedia(entry=entry, media_id=media_id, size=_int_or_none(low.get("mediasize")))
    files = low.get("mediafiles") or []
    if not isinstance(files, list):
        warnings.append(ParseWarning(where, "MediaFiles", "not a list; value ignored"))
        files = []
    for number, item in enumerate(files, 1):
        occurrence, problem = _file_from_json(item)
        if occurrence is not None:
            media.files.append(occurrence)
        if problem:
            warnings.append(ParseWarning(where, f"MediaFiles[{number}]", problem))
    return media, warnings


def _alternative_hashes(entry: HashEntry, items: Any) -> str | None:
    if items is None:
        return None
    if not isinstance(items, list):
        return "alternative hashes are not a list"
    for item in items:
        if not isinstance(item, dict):
            return "alternative hash is not an object"
        low = {str(k).lower(): v for k, v in item.items()}
        name = str(low.get("hashname", low.get("name", low.get("type", "")))).lower()
        value = low.get("hashvalue", low.get("value"))
        algorithm = _HASH_NAMES.get(name)
        if algorithm is None or value in (None, ""):
            continue  # another vendor's hash: nothing tantalio can match on
        try:
            if algorithm == "photodna":
                entry.photodna = normalize_photodna(value)
            else:
                setattr(entry, algorithm, normalize_hex(algorithm, value))
        except ValueError as exc:
            return str(exc)
    return None


def _file_from_json(obj: object) -> tuple[VicsFile | None, str | None]:
    if not isinstance(obj, dict):
        return None, "MediaFile is not an object; value ignored"
    low = {str(k).lower(): v for k, v in obj.items()}
    name = str(low.get("filename") or "")
    path = str(low.get("filepath") or "")
    if name and not path.endswith(name):
        sep = "\\" if "\\" in path and "/" not in path else "/"
        path = f"{path.rstrip(sep)}{sep}{name}" if path else name
    occurrence = VicsFile(path=path, size=_int_or_none(low.get("filesize")))
    problems: list[str] = []
    for attr, key in (("created", "created"), ("written", "written"), ("accessed", "accessed")):
        try:
            setattr(occurrence, attr, parse_date(low.get(key)))
        except ValueError as exc:
            problems.append(f"{key}: {exc}")
    for key in _DELETED_KEYS:
        if key in low:
            try:
                occurrence.deleted = bool(parse_flag(low[key]))
            except ValueError as exc:
                problems.append(f"{key}: {exc}")
            break
    return occurrence, ("; ".join(problems) + "; value ignored") if problems else None


def _int_or_none(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None
