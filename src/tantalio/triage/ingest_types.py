"""What an ingest is asked to do (`IngestOptions`, the exhibit plan) and what it did
(`IngestReport`); shared by the modules of the pipeline (see `triage/pipeline.py`)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tantalio.evidence import EvidenceLimits
    from tantalio.triage.dask_backend import DaskOptions


@dataclass(slots=True)
class IngestOptions:
    jobs: int = 0  # worker processes; 0 = all cores
    batch_files: int = 500  # files per committed batch
    batch_seconds: float = 2.0  # ... or sooner, when this much time has passed
    chunk_files: int = 8  # files per pool task
    thumbnails: bool = True
    # Issue 13: pictures exact hashes and PDQ did not match are verified by local features
    # against reference files (`hashset create`), when the workspace holds any.
    local_features: bool = True
    progress: bool | None = None  # None: a bar when stderr is a terminal
    inline_max: int = 64 << 20  # archive members larger than this go through a temp file
    inflight_bytes: int = 256 << 20  # bytes handed to workers and not yet back
    stall_seconds: float = 900.0  # no result for this long: a decoder hangs; isolate it
    in_process: bool = False  # fingerprint in this process (tests, debugging): no isolation
    dask: DaskOptions | None = None  # per-file work on Dask workers (triage/dask_backend.py)
    verify_images: bool = True  # read a disk image whole against its stored hashes
    classify: bool = True  # run the classifier plug-ins over new media (tantalio.classify)
    limits: EvidenceLimits | None = None  # archive expansion bounds (default EvidenceLimits())
    chat_keys: tuple[str, ...] = ()  # keys for encrypted chat sources (chats/keys.py)
    # The fast pass: hashes, type, exact matches and verdicts, nothing decoded; a later run
    # without it does the perceptual work (docs/decisions/triage.md, "ingest --fast").
    fast: bool = False


@dataclass(slots=True)
class ExhibitReport:
    label: str
    seen: int = 0
    added: int = 0
    skipped: int = 0  # stored by an earlier run
    completed: int = 0  # stored by a fast pass, decoded by this run
    new_media: int = 0
    unreadable: int = 0
    bytes: int = 0
    messages: list[str] = field(default_factory=list)
    verification: str | None = None  # match | mismatch | not verified; None: no stored hashes


@dataclass(slots=True)
class IngestReport:
    case: str
    case_created: bool
    exhibits: list[ExhibitReport]
    seconds: float
    verdicts: dict[str, int]
    messages: list[str] = field(default_factory=list)  # about the run as a whole

    @property
    def files(self) -> int:
        return sum(e.seen for e in self.exhibits)

    @property
    def bytes(self) -> int:
        return sum(e.bytes for e in self.exhibits)


@dataclass(slots=True)
class Source:
    path: str
    prefix: str  # prepended to paths when several sources share one exhibit
    kind: str | None = None  # as recorded (`ExhibitSource.kind`); None: recognised by the run


def exhibit_plan(sources: list[str], exhibit: str | None) -> list[tuple[str, list[Source]]]:
    """Which exhibit each source goes to: one per source (labelled by its name), or all
    into `exhibit`, where each folder source's paths start with the folder's name."""
    names = [Path(os.path.normpath(s)).name or s for s in sources]
    if exhibit is not None:
        if len(sources) == 1:
            return [(exhibit, [Source(sources[0], "")])]
        return [
            (
                exhibit,
                [
                    Source(s, f"{n}/" if os.path.isdir(s) else "")
                    for s, n in zip(sources, names, strict=True)
                ],
            )
        ]
    if len(set(names)) != len(names):
        raise ValueError("two sources have the same name; label them with --exhibit, one run each")
    return [(n, [Source(s, "")]) for s, n in zip(sources, names, strict=True)]
