"""The write side of an exhibit pass: files gathered into batches, each batch's
occurrences, media and matches committed in one transaction.

A batch is written when it holds `batch_files` files or `batch_seconds` have passed since
the last write; after `kill -9`, a rerun skips what the committed batches hold.
"""

from __future__ import annotations

import time
from typing import Any

from tantalio.store import ingest as store
from tantalio.store.workspace import Workspace
from tantalio.triage.ingest_types import ExhibitReport
from tantalio.triage.matching import Matcher
from tantalio.triage.progress import IngestProgress


class BatchWriter:
    def __init__(
        self,
        ws: Workspace,
        matcher: Matcher,
        exhibit_id: int,
        report: ExhibitReport,
        progress: IngestProgress,
        batch_files: int,
        batch_seconds: float,
    ) -> None:
        self.ws = ws
        self.matcher = matcher
        self.exhibit_id = exhibit_id
        self.report = report
        self.progress = progress
        self.batch_files = batch_files
        self.batch_seconds = batch_seconds
        self.new_media: set[int] = set()  # media rows this writer inserted
        self.touched: set[int] = set()  # every media row its occurrences point to
        self.batch: list[store.Occurrence] = []
        self.batch_media: dict[str, dict[str, Any]] = {}
        self.batch_hits: dict[str, list[tuple[int, int, int]]] = {}
        self.batch_local: dict[str, list[str]] = {}
        self.batch_bytes = 0
        self.batch_complete: dict[str, dict[str, Any]] = {}  # fast-pass media now decoded
        self.batch_complete_hits: dict[str, list[tuple[int, int, int]]] = {}
        self.completed: set[int] = set()
        self.last_flush = time.monotonic()

    def media(
        self,
        row: dict[str, Any],
        entry_hits: list[tuple[int, int, int]] | None,
        local: list[str] | None = None,
    ) -> None:
        """A media row for the next batch (one per SHA-256), with the hash-entry PDQ hits
        a worker already found for it and its local features, when it extracted them."""
        self.batch_media[row["sha256"]] = row
        if entry_hits is not None:
            self.batch_hits[row["sha256"]] = entry_hits
        if local:
            self.batch_local[row["sha256"]] = local

    def known_media(self, row: dict[str, Any]) -> None:
        """A media row that must not replace one already queued (hashes-only files)."""
        self.batch_media.setdefault(store.content_key(row), row)

    def complete(self, row: dict[str, Any], entry_hits: list[tuple[int, int, int]] | None) -> None:
        """The perceptual fields of a media a fast pass stored (hashes stay as stored)."""
        self.batch_complete[row["sha256"]] = row
        if entry_hits is not None:
            self.batch_complete_hits[row["sha256"]] = entry_hits
        self.maybe_flush()

    def add(self, occ: store.Occurrence) -> None:
        self.batch.append(occ)
        self.batch_bytes += occ.size or 0
        if occ.error and occ.sha256 is None:
            self.report.unreadable += 1
        self.maybe_flush()

    def maybe_flush(self, force: bool = False) -> None:
        if not self.batch and not self.batch_complete:
            return
        due = time.monotonic() - self.last_flush >= self.batch_seconds
        if force or len(self.batch) + len(self.batch_complete) >= self.batch_files or due:
            self.flush()

    def flush(self) -> None:
        batch, media, nbytes = self.batch, list(self.batch_media.values()), self.batch_bytes
        hits, local = self.batch_hits, self.batch_local
        self.batch, self.batch_media, self.batch_bytes, self.batch_hits = [], {}, 0, {}
        complete, complete_hits = list(self.batch_complete.values()), self.batch_complete_hits
        self.batch_complete, self.batch_complete_hits = {}, {}
        self.batch_local = {}
        with self.ws.transaction() as s:
            written = store.write_batch(s, self.exhibit_id, batch, media)
            searched = {mid: hits[sha] for sha, mid in written.inserted.items() if sha in hits}
            features = {mid: local[sha] for sha, mid in written.inserted.items() if sha in local}
            self.matcher.match_media(s, sorted(written.inserted.values()), searched, features)
            if complete:
                done = store.complete_media(s, complete)
                self.matcher.indexes.media_completed(s, done.values())
                searched = {
                    mid: complete_hits[sha] for sha, mid in done.items() if sha in complete_hits
                }
                self.matcher.match_media(s, sorted(done.values()), searched)
                self.completed.update(done.values())
                self.report.completed += len(done)
        self.new_media.update(written.inserted.values())
        self.touched.update(written.media.values())
        self.report.added += len(batch)
        self.report.new_media += len(written.inserted)
        self.report.bytes += nbytes
        self.last_flush = time.monotonic()
        self.progress.advance(len(batch), nbytes)
