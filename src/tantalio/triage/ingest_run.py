"""One ingest run over a case: what lives as long as the run (indexes, matcher, analyzers,
executor, temp dir), each exhibit's pass from start to `finish_exhibit`, and the closing
step (late hash-set changes, near-duplicates, verdicts).

Resume: an exhibit remembers the paths its committed batches hold (`existing`), and its
pass skips them; an exhibit marked complete is not analysed again.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tantalio.evidence import describe_source, open_source, verify_source
from tantalio.store import ingest as store
from tantalio.store import matching as store_matching
from tantalio.store import repo
from tantalio.store.cases import source_walk_path
from tantalio.store.uploads import record_uploads
from tantalio.store.verdicts import case_ids_of_media
from tantalio.store.workspace import Workspace
from tantalio.triage.analyzers import AnalyzerContext, load_analyzers
from tantalio.triage.executors import Executor, WorkerSetup, make_executor
from tantalio.triage.exhibit_pass import ExhibitPass
from tantalio.triage.indexes import WorkspaceIndexes
from tantalio.triage.ingest_types import ExhibitReport, IngestOptions, Source
from tantalio.triage.le_report import is_le_report, read_package
from tantalio.triage.matching import Matcher, near_duplicates_pending, pdq_entry_matches
from tantalio.triage.progress import IngestProgress
from tantalio.triage.verdicts import refresh_cases


class IngestRun:
    def __init__(self, ws: Workspace, case_id: int, case_ref: str, options: IngestOptions) -> None:
        self.ws = ws
        self.case_id = case_id
        self.case_ref = case_ref
        self.options = options
        self.indexes = WorkspaceIndexes(ws)
        self.matcher = Matcher(self.indexes)
        self.analyzers = load_analyzers()
        self.touched: set[int] = set()
        self.new_media: set[int] = set()
        self.closing_notes: list[str] = []  # from the closing steps (classifiers, exchange)
        self.tmp = Path(tempfile.mkdtemp(prefix="tantalio-ingest-"))
        entry_index = self._snapshot_entries()
        ws_dir = str(ws.dir.resolve()) if ws.dir else None
        setup = WorkerSetup(
            ws.url,
            ws_dir,
            options.thumbnails,
            entry_index,
            self.indexes.min_quality,
            fast=options.fast,
            local_features=not options.fast and self._wants_local_features(),
        )
        self.executor: Executor = make_executor(options, setup)

    @property
    def notes(self) -> list[str]:
        """About the run as a whole (`IngestReport.messages`)."""
        return list(self.executor.notes) + self.indexes.local_problems + self.closing_notes

    def _wants_local_features(self) -> bool:
        """Workers extract local features only when they can match something."""
        if not self.options.local_features or not self.indexes.rules.local_features:
            return False
        with self.ws.session() as s:
            return store_matching.has_local_features(s)

    def _snapshot_entries(self) -> str | None:
        """Save the hash-entry PDQ index for the workers (they map it read-only)."""
        with self.ws.session() as s:
            index = self.indexes.entries(s)
            self.entry_coverage = store_matching.entry_pdq_coverage(s)
        if not len(index):
            return None
        self.indexes.save()  # the workspace's copy, when it has a directory, is current now
        saved = self.ws.index_dir / "entries_pdq" if self.ws.index_dir else None
        if saved is not None and saved.is_dir():
            return str(saved)
        path = self.tmp / "entries_pdq"
        index.save(path)
        return str(path)

    def close(self) -> None:
        self.executor.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def exhibit(
        self,
        label: str,
        sources: list[Source],
        progress: IngestProgress,
        gone: Sequence[Source] = (),
    ) -> ExhibitReport:
        """Walk the exhibit's `sources` but those `gone` (`ingest --finish`: recorded, no
        longer there), whose pending files stay pending and are reported by source."""
        walked = [src for src in sources if src not in gone]
        info = describe_source(sources[0].path) if len(sources) == 1 and not gone else None
        kinds = [info.kind if info is not None else _kind(src) for src in walked]
        with self.ws.transaction() as s:
            case = repo.get_case(s, self.case_ref)
            kind = "folder" if os.path.isdir(sources[0].path) else None
            ex = repo.ensure_exhibit(s, case, label, kind, sources[0].path)
            if info is not None:
                repo.record_acquisition(s, ex, info.kind, info.acquisition, info.verifiable)
            # in the transaction that creates the exhibit: a run killed at once leaves
            # every source recorded for `--finish`
            recorded = [
                (os.path.abspath(x.path), x.prefix, k) for x, k in zip(walked, kinds, strict=True)
            ]
            repo.record_sources(s, ex, recorded)
            exhibit_id, status = ex.id, ex.status
            complete = status == "complete"
            verification = ex.verification
            existing = store.existing_path_keys(s, exhibit_id)
            # after a fast pass: the images and videos still to decode (none in a fast run)
            pending = {} if self.options.fast else store.pending_files(s, exhibit_id)
        held = {id(src): _held_by(src, pending) for src in gone}  # taken out of `pending`
        self.executor.start()
        job = ExhibitPass(self, exhibit_id, label, existing, progress, pending)
        spool = not complete and bool(self.analyzers) and not self.options.fast
        if spool:
            job.spool_root = self.tmp / f"exhibit-{exhibit_id}"
            job.spool_root.mkdir(parents=True, exist_ok=True)
        uploads: list[dict[str, Any]] = []
        for src in walked:
            if is_le_report(src.path):
                package = read_package(src.path)
                for item in package.items:
                    job.take_hashes_only(item.occurrence, item.media, src.prefix)
                uploads += [{**u, "path": src.prefix + u["path"]} for u in package.uploads]
            for ef in open_source(src.path, self.options.limits):
                job.take(ef, src.prefix + ef.path)
        job.drain()
        for src in gone:
            left = [pf for pf in held[id(src)] if pf.sha256 not in job.decoding]
            job.kept_pending.update(pf.sha256 for pf in left)
            job.report.messages.append(gone_message(src, len(left)))
        # (also when the walk met every pending file: some may have changed)
        job.report.messages += job.missing_report()
        if uploads:
            with self.ws.transaction() as s:
                record_uploads(s, exhibit_id, uploads)
        self.new_media |= job.writer.new_media
        self.touched |= job.writer.touched
        if spool:
            job.report.messages += self.run_analyzers(exhibit_id, label, job)
        if verification is not None and not self.options.fast:
            job.report.verification = self.verify(
                exhibit_id, sources[0].path, verification, job.report.messages
            )
        with self.ws.transaction() as s:
            if self.options.fast:  # not `complete`: the next full run still runs analyzers
                store.finish_exhibit(s, exhibit_id, status="fast")
            else:
                store.clear_pending(s, exhibit_id, job.kept_pending)
                # a source still missing: not complete, so the run that finds it again
                # also runs the exhibit analyzers over it
                store.finish_exhibit(s, exhibit_id, status=status if gone else "complete")
        return job.report

    def verify(self, exhibit_id: int, path: str, current: str, messages: list[str]) -> str:
        """Read a disk image whole against its stored hashes, once (`tantalio verify` again
        at any time); `not verified` when `--no-verify` skipped it."""
        if current != "not verified" or not self.options.verify_images:
            return current
        outcome = verify_source(path)
        if outcome is None:
            return current
        with self.ws.transaction() as s:
            repo.record_verification(s, exhibit_id, outcome.to_json())
        messages.append(f"image verification: {outcome.summary()}")
        return outcome.status

    def run_analyzers(self, exhibit_id: int, label: str, job: ExhibitPass) -> list[str]:
        messages: list[str] = []
        assert job.spool_root is not None
        for analyzer in self.analyzers:
            paths = [p for p in job.spooled if analyzer.wants(p)]
            if not paths:
                continue
            ctx = AnalyzerContext(
                self.ws,
                self.case_id,
                self.case_ref,
                exhibit_id,
                label,
                job.spool_root,
                paths,
                chat_keys=self.options.chat_keys,
            )
            try:
                messages += [f"{analyzer.name}: {m}" for m in analyzer.analyze(ctx)]
            except Exception as exc:  # one analyzer never stops the ingest
                messages.append(f"{analyzer.name}: failed on exhibit {label!r}: {exc}")
        shutil.rmtree(job.spool_root, ignore_errors=True)
        return messages

    def finish(self) -> dict[str, int]:
        if self.options.classify and not self.options.fast:  # classifiers decode
            from tantalio.triage.classify_run import classify_during_ingest

            self.closing_notes += classify_during_ingest(self.ws, self.case_ref)
        with self.ws.transaction() as s:
            if store_matching.entry_pdq_coverage(s) != self.entry_coverage:
                # A hash set changed while we ingested: search this run's media again.
                self.indexes.drop_entries()
                rows = list(
                    store_matching.media_pdq_rows(s, self.indexes.min_quality, 0, self.new_media)
                )
                store_matching.insert_matches(s, pdq_entry_matches(self.indexes.entries(s), rows))
            near_duplicates_pending(s, self.indexes)
            others = case_ids_of_media(s, self.touched) - {self.case_id}
            refresh_cases(s, others)  # their media may now be seen elsewhere: here
            counts = refresh_cases(s, [self.case_id])
        self.indexes.save()
        # After the local matching: a workspace connected to the central exchange asks it
        # about the case's media (offline: recorded as pending for the next sync).
        from tantalio.exchange.sync import ask_case

        asked = ask_case(self.ws, self.case_id)
        if asked is not None:
            self.closing_notes.append(asked.summary())
            counts = asked.verdicts or counts
        return counts


def _kind(src: Source) -> str | None:
    """What a source of a multi-source exhibit is (`ExhibitSource.kind`): its recorded
    kind, `folder`, or the kind the evidence registry recognises (`file` for a plain one)."""
    if src.kind is not None:
        return src.kind
    if os.path.isdir(src.path):
        return "folder"
    return describe_source(src.path).kind


def _held_by(src: Source, pending: dict[str, store.PendingFile]) -> list[store.PendingFile]:
    """Take the pending files that `src` holds out of `pending` (the walk will not meet
    them; they are reported by their source, not one by one as missing files)."""
    keys = [
        key
        for key, pf in pending.items()
        if source_walk_path(src.path, src.prefix, src.kind, pf.path) is not None
    ]
    return [pending.pop(key) for key in keys]


def gone_message(src: Source, pending: int) -> str:
    """The report line of a recorded source that is no longer there."""
    where = src.path + (f" (paths {src.prefix}...)" if src.prefix else "")
    return f"source {where} is missing: nothing decoded, its {pending} pending file(s) stay pending"
