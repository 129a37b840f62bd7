"""`tantalio export CASE --format vics`: the case's media as VICS 2.0 (US) JSON.

Exported: every image and video of the case, plus any other file that matched a
known-bad or alert set. Per media: hashes; the category — the examiner's when set, else the
category of an exact match (a near-copy is never categorized automatically, its match is
noted in Comments for review); the series and victim/offender flags of the matched entry;
tags and notes; and one MediaFile per occurrence with its path inside the exhibit
(`exhibit/path`), times and deleted flag. Written by `tantalio.hashsets.vics_writer`, so
`tantalio hashset import --format vics` reads it back.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, TextIO

from tantalio.hashsets.record import HashEntry
from tantalio.hashsets.vics_model import VicsFile, VicsMedia
from tantalio.hashsets.vics_writer import write_vics
from tantalio.store import repo
from tantalio.store import verdicts as store
from tantalio.store.audit import audit_head
from tantalio.store.exports import MediaOut, case_media
from tantalio.triage.verdicts import EXACT, best_match

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


def _vics_media(session: Session, case_id: int) -> Iterator[VicsMedia]:
    batch: list[MediaOut] = []
    for m in case_media(session, case_id):
        batch.append(m)
        if len(batch) >= 1000:
            yield from _convert(session, batch)
            batch = []
    yield from _convert(session, batch)


def _convert(session: Session, batch: list[MediaOut]) -> Iterator[VicsMedia]:
    matches = store.entry_match_facts(session, [m.media_id for m in batch])
    for m in batch:
        bad, _good = best_match(matches.get(m.media_id, []))
        if m.kind not in ("image", "video") and bad is None:
            continue
        entry = HashEntry(md5=m.md5, sha1=m.sha1, sha256=m.sha256, tags=list(m.tags or []))
        entry.category = m.category
        notes = [m.notes] if m.notes else []
        if bad is not None:
            entry.series = bad.series
            entry.victim_identified = bad.victim_identified
            entry.offender_identified = bad.offender_identified
            if bad.algorithm in EXACT:
                if entry.category is None:
                    entry.category = bad.category
            else:
                notes.append(
                    f"near-known: {bad.algorithm} distance {bad.distance} to an entry of "
                    f"hash set {bad.hash_set!r} (not categorized automatically)"
                )
        entry.comments = "; ".join(notes) or None
        files = [
            VicsFile(
                path=f"{f.exhibit}/{f.path}",
                created=f.crtime,
                written=f.mtime,
                accessed=f.atime,
                deleted=f.deleted,
                size=f.size,
            )
            for f in m.files
        ]
        yield VicsMedia(entry=entry, files=files, media_id=m.media_id, size=m.size)


def export_vics(session: Session, case_reference: str, out: TextIO) -> int:
    """Write the case as VICS 2.0 JSON; returns the number of Media written."""
    case = repo.get_case(session, case_reference)
    seq, digest = audit_head(session)
    return write_vics(
        out,
        _vics_media(session, case.id),
        case_number=case.reference,
        case_name=case.title,
        annotations={"@tantalio.auditHead": f"{seq}:{digest}"},
    )
