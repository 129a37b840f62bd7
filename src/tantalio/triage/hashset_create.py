"""`tantalio hashset create NAME --from DIR`: a hash set made from reference files (issue 13).

A hash list holds hashes; a folder of reference files can give every signal type tantalio
knows of each file: MD5, SHA-1, SHA-256 and PDQ on the entry (so the set exports and
publishes as any other), vPDQ for a video, and, in `hash_entry_features`, the PDQ of the
picture inside its frame (when it has one) and the picture's local features (64 ORB
keypoints), with which triage finds crops, small rotations and screenshots of the
references that PDQ misses.

Each file is read once, read-only. A file that cannot be read is reported by path and left
out; one that cannot be decoded keeps its cryptographic hashes. The set, its features, the
matches against stored media and the refreshed verdicts are one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select

from tantalio.fingerprint.config import FingerprintConfig
from tantalio.fingerprint.record import Fingerprint
from tantalio.hashsets.record import HashEntry as EntryRecord
from tantalio.store import repo
from tantalio.store.audit import Actor, audit_actor
from tantalio.store.bulk import insert_ignore
from tantalio.store.hashsets import HashEntry, HashEntryFeatures
from tantalio.store.workspace import Workspace
from tantalio.triage.indexes import WorkspaceIndexes
from tantalio.triage.matching import match_hash_set
from tantalio.triage.retro_local import RetroReport, VerdictChange, refresh_and_report

FORMAT = "reference-files"  # the set's `format`: made from files, not read from a list
REFERENCE = FingerprintConfig(local_features="reference")


@dataclass(slots=True)
class CreateResult:
    name: str
    kind: str
    files: int
    entries: int
    with_local_features: int
    errors: list[str] = field(default_factory=list)  # "path: what went wrong"
    matched_media: int = 0
    # earlier media whose files changed verdict, and the pictures read again for it
    changes: list[VerdictChange] = field(default_factory=list)
    retro: RetroReport = field(default_factory=RetroReport)


@dataclass(slots=True)
class Reference:
    entry: EntryRecord
    pdq_trimmed: str | None
    local_features: str | None
    path: Path | None = None  # the file it was made from (its thumbnail is kept)
    kind: str = "other"


def reference_files(source: Path) -> list[Path]:
    """The files under `source` (or `source` itself), in path order; symlinks not followed."""
    if source.is_file():
        return [source]
    if not source.is_dir():
        raise FileNotFoundError(f"{source}: no such file or folder")
    return sorted(p for p in source.rglob("*") if p.is_file() and not p.is_symlink())


def reference(fp: Fingerprint, category: int | None, series: str | None, name: str) -> Reference:
    """A fingerprinted reference file as an entry plus the signals no hash list holds."""
    vpdq = [f"{f.pdq},{f.quality},{f.timestamp}" for f in fp.frames] if fp.frames else None
    entry = EntryRecord(
        md5=fp.md5 or None,
        sha1=fp.sha1 or None,
        sha256=fp.sha256 or None,
        pdq=fp.pdq,
        vpdq=vpdq,
        category=category,
        series=series,
        original_id=name[:200],
    )
    trimmed = fp.extra.get("pdq_trimmed")
    local = fp.extra.get("local_features")
    return Reference(
        entry,
        trimmed if isinstance(trimmed, str) else None,
        local if isinstance(local, str) else None,
    )


def fingerprint_references(
    source: Path, category: int | None, series: str | None
) -> tuple[list[Reference], int, list[str]]:
    """(references, files seen, errors); the same content twice is one entry."""
    from tantalio.fingerprint.engine import fingerprint_file

    files = reference_files(source)
    seen: set[str] = set()
    out: list[Reference] = []
    errors: list[str] = []
    for path in files:
        fp = fingerprint_file(str(path), config=REFERENCE)
        if not fp.sha256:
            errors.append(f"{path}: {fp.error or 'could not be read'} (left out)")
            continue
        if fp.error:
            errors.append(f"{path}: {fp.error} (hashes kept)")
        if fp.sha256 in seen:
            continue
        seen.add(fp.sha256)
        rel = path.name if source.is_file() else str(path.relative_to(source))
        ref = reference(fp, category, series, rel)
        ref.path, ref.kind = path, fp.kind
        out.append(ref)
    return out, len(files), errors


def keep_thumbnails(workspace_dir: Path | None, refs: list[Reference]) -> int:
    """Keep a clear thumbnail of each reference picture in the workspace (`thumbs/`, by
    SHA-256, as ingest keeps media's), so the media page can draw a copy's matched region on
    the reference too (served blurred, as every thumbnail); returns how many were made."""
    from tantalio.triage import thumbs

    if workspace_dir is None:
        return 0
    made = 0
    for r in refs:
        sha = r.entry.sha256
        if r.kind != "image" or r.path is None or not sha:
            continue
        if (workspace_dir / thumbs.relative_path(sha)).is_file():
            continue
        try:
            data = thumbs.image_thumbnail(r.path.read_bytes())
        except OSError:
            continue  # read once for the fingerprint already; a thumbnail is optional
        if data:
            thumbs.save(workspace_dir, sha, data)
            made += 1
    return made


def create_hash_set_from_files(
    ws: Workspace,
    name: str,
    source: str | Path,
    kind: str = "known-bad",
    *,
    category: int | None = None,
    series: str | None = None,
    actor: Actor | None = None,
) -> CreateResult:
    """Make hash set `name` from the files under `source` and match it against stored
    media; raises `repo.HashSetExists`, `FileNotFoundError`, `ValueError` (bad kind)."""
    source = Path(source)
    refs, files, errors = fingerprint_references(source, category, series)
    keep_thumbnails(ws.dir, refs)
    indexes = WorkspaceIndexes(ws)
    with ws.transaction() as session:
        hash_set = repo.create_hash_set(
            session, name, [r.entry for r in refs], kind=kind, format=FORMAT, source=source.name
        )
        ids = session.scalars(
            select(HashEntry.id).where(HashEntry.hash_set_id == hash_set.id).order_by(HashEntry.id)
        ).all()
        rows = [
            {"hash_entry_id": eid, "pdq_trimmed": r.pdq_trimmed, "local_features": r.local_features}
            for eid, r in zip(ids, refs, strict=True)
            if r.pdq_trimmed or r.local_features
        ]
        insert_ignore(session, HashEntryFeatures, rows)
        retro = RetroReport()
        matched = match_hash_set(session, indexes, hash_set.id, retro=retro)
        changes = refresh_and_report(
            session, set(matched), name, "hashset-create", f"Reference set {name!r}"
        )
        result = CreateResult(
            name=name,
            kind=kind,
            files=files,
            entries=hash_set.entry_count,
            with_local_features=sum(1 for r in rows if r["local_features"]),
            errors=errors,
            matched_media=len(matched),
            changes=changes,
            retro=retro,
        )
        if actor is not None:
            audit_actor(
                session,
                actor,
                "hashset.create",
                object_type="hash_set",
                object_id=hash_set.id,
                detail={"name": name, "kind": kind, "source": source.name,
                        "entries": hash_set.entry_count, "errors": len(errors),
                        "verdicts_changed": len(changes)},
            )  # fmt: skip
    indexes.save()
    return result
