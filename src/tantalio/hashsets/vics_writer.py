"""Write VICS 2.0 (US) JSON: one Case with its Media and each Media's MediaFiles.

Streamed: one Media object is serialised at a time, so exporting a case of any size needs
the memory of one media and its occurrences. `formats.vics` reads the output back.

Field choices where the data model leaves room (docs/decisions/hashsets.md): hashes in
upper-case hex as Project VIC exporters write them; dates ISO 8601 UTC with `Z`; a
`Category` of null is "uncategorized"; a deleted occurrence is `"Unallocated": true`;
`FilePath` is the full path inside the exhibit and `FileName` its last part; SHA256 and
Tags (a list) are written only when known.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, TextIO

from tantalio.hashsets.validate import format_date
from tantalio.hashsets.vics_model import VicsFile, VicsMedia

VICS_CONTEXT = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/US/$metadata#Cases"


def write_vics(
    out: TextIO,
    media: Iterable[VicsMedia],
    *,
    case_number: str | None = None,
    case_name: str | None = None,
    agency: str | None = None,
    source_application: str = "tantalio",
    annotations: dict[str, str] | None = None,
) -> int:
    """Write a VICS 2.0 (US) `#Cases` document to `out`; returns the number of Media written.

    `media` may be a generator (streamed from the store). MediaIDs are taken from each
    `VicsMedia.media_id` or numbered 1.. in order.
    """
    case: dict[str, Any] = {"CaseNumber": case_number}
    if case_name is not None:
        case["CaseName"] = case_name
    if agency is not None:
        case["AgencyName"] = agency
    case["SourceApplicationName"] = source_application
    head = json.dumps({"@odata.context": VICS_CONTEXT, **(annotations or {})}, ensure_ascii=False)[
        :-1
    ]
    case_text = json.dumps(case, ensure_ascii=False)[:-1]
    out.write(f'{head},"value":[{case_text},"Media":[')
    count = 0
    for item in media:
        count += 1
        out.write("\n" if count == 1 else ",\n")
        out.write(json.dumps(media_to_json(item, count), ensure_ascii=False))
    out.write("\n]}]}\n")
    return count


def media_to_json(item: VicsMedia, number: int) -> dict[str, Any]:
    """One VICS 2.0 Media object (fields with no value are left out, Category never)."""
    entry = item.entry
    obj: dict[str, Any] = {"MediaID": item.media_id if item.media_id is not None else number}
    obj["Category"] = entry.category
    for key, value in (("MD5", entry.md5), ("SHA1", entry.sha1), ("SHA256", entry.sha256)):
        if value:
            obj[key] = value.upper()
    optional: dict[str, Any] = {
        "PhotoDNA": entry.photodna,
        "MediaSize": item.size,
        "Series": entry.series,
        "VictimIdentified": entry.victim_identified,
        "OffenderIdentified": entry.offender_identified,
        "IsDistributed": entry.is_distributed,
        "Comments": entry.comments,
        "Tags": list(entry.tags) or None,
        "DateUpdated": format_date(entry.added_at) if entry.added_at else None,
    }
    obj.update({k: v for k, v in optional.items() if v is not None})
    obj["MediaFiles"] = [_file_to_json(f, n) for n, f in enumerate(item.files, 1)]
    return obj


def _file_to_json(occurrence: VicsFile, number: int) -> dict[str, Any]:
    name = occurrence.path.replace("\\", "/").rsplit("/", 1)[-1]
    obj: dict[str, Any] = {"MediaFileID": number, "FileName": name, "FilePath": occurrence.path}
    if occurrence.size is not None:
        obj["FileSize"] = occurrence.size
    for key, value in (
        ("Created", occurrence.created),
        ("Written", occurrence.written),
        ("Accessed", occurrence.accessed),
    ):
        if value is not None:
            obj[key] = format_date(value)
    obj["Unallocated"] = occurrence.deleted
    return obj
