"""Evidence sources → a stream of `EvidenceFile`s: folders, zip/tar/7z (nested), dd and E01.

    for f in open_source("/cases/phone1.zip"):
        if f.open is None:
            record_unreadable(f.path, f.error)
            continue
        with f.open() as stream:      # valid until the loop advances (or detach() it)
            fingerprint(stream)

Sources are opened read-only; nothing is written except to a private temp area that is
removed when the walk ends. A worker process given `EvidenceFile.local_path` should open it
with `open_local` (read-only, no symlink following, access time kept). See
docs/decisions/evidence.md for order, lifetimes and limits.
"""

from __future__ import annotations

from tantalio.evidence.errors import (
    EvidenceError,
    EvidenceExpiredError,
    EvidenceReadError,
    EvidenceSourceError,
    LimitExceededError,
)
from tantalio.evidence.limits import EvidenceLimits
from tantalio.evidence.record import EvidenceFile, Verification
from tantalio.evidence.streams import open_local
from tantalio.evidence.walk import (
    SourceInfo,
    describe_source,
    detach,
    open_source,
    verify_source,
)

__all__ = [
    "EvidenceError",
    "EvidenceExpiredError",
    "EvidenceFile",
    "EvidenceLimits",
    "EvidenceReadError",
    "EvidenceSourceError",
    "LimitExceededError",
    "SourceInfo",
    "Verification",
    "describe_source",
    "detach",
    "open_local",
    "open_source",
    "verify_source",
]
