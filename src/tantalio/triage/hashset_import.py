"""`tantalio hashset import`: read a hash-set file, store it, match it against stored media.

All or nothing: the set, its entries, the matches it produces and the refreshed verdicts
are written in one transaction, so a file that turns out to be malformed halfway (truncated
JSON) leaves the workspace as it was. Records that are merely invalid are skipped and
reported (the hashsets package's lenient policy), unless `strict`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tantalio.hashsets.importer import import_entries
from tantalio.hashsets.record import ParseWarning
from tantalio.hashsets.registry import get_format
from tantalio.store import repo
from tantalio.store.audit import Actor, audit_actor
from tantalio.store.workspace import Workspace
from tantalio.triage.indexes import WorkspaceIndexes
from tantalio.triage.matching import match_hash_set
from tantalio.triage.verdicts import refresh_media


@dataclass(slots=True)
class ImportResult:
    name: str
    kind: str
    format: str
    entries: int
    warnings: list[ParseWarning] = field(default_factory=list)
    matched_media: int = 0
    replaced: bool = False


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def import_hash_set(
    ws: Workspace,
    path: str | Path,
    format: str,
    name: str,
    kind: str | None = None,
    *,
    replace: bool = False,
    strict: bool = False,
    actor: Actor | None = None,
    **options: Any,
) -> ImportResult:
    """Import `path` as hash set `name`; raises `HashSetFormatError` (nothing stored) for a
    file that is not the format, `repo.HashSetExists` when the name is taken. With `actor`,
    the import is audited (`hashset.import`) in its own transaction."""
    path = Path(path)
    kind = kind or get_format(format).default_kind
    entries, warnings = import_entries(path, format, strict=strict, **options)
    indexes = WorkspaceIndexes(ws)
    touched: list[int] = []
    replaced = False
    with ws.transaction() as session:
        if replace:
            try:
                old = repo.get_hash_set(session, name)
            except repo.NotFound:
                old = None
            if old is not None:
                touched = repo.delete_hash_set(session, old)
                indexes.drop_entries()
                replaced = True
        hash_set = repo.create_hash_set(
            session,
            name,
            entries,
            kind=kind,
            format=format,
            source=path.name,
            source_sha256=_sha256(path),
        )
        matched = match_hash_set(session, indexes, hash_set.id)
        refresh_media(session, set(matched) | set(touched))
        result = ImportResult(
            name=name,
            kind=kind,
            format=format,
            entries=hash_set.entry_count,
            warnings=warnings,
            matched_media=len(matched),
            replaced=replaced,
        )
        if actor is not None:
            audit_actor(
                session,
                actor,
                "hashset.import",
                object_type="hash_set",
                object_id=hash_set.id,
                detail={
                    "name": name,
                    "kind": kind,
                    "format": format,
                    "source": path.name,
                    "source_sha256": hash_set.source_sha256,
                    "entries": hash_set.entry_count,
                    "replaced": replaced,
                },
            )
    indexes.save()
    return result
