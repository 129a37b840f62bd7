"""`tantalio ingest`: evidence → fingerprints → store → matches → verdicts.

Parallel: the main process walks the sources (archive members must be read while the walk
is on them) and hands files to a process pool — folder files by path, members as bytes —
which hashes, skips content the workspace already holds, and fingerprints the rest.
Batched and resumable: results are written in batches of files, each batch with its media
and their matches in one transaction. A rerun skips the files an exhibit already holds, so
after `kill -9` it finishes the job and the database ends as an uninterrupted run leaves it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tantalio.evidence import EvidenceFile, open_source
from tantalio.store import ingest as store
from tantalio.store import matching as store_matching
from tantalio.store import repo
from tantalio.store.verdicts import case_ids_of_media
from tantalio.store.workspace import Workspace
from tantalio.triage import thumbs
from tantalio.triage.analyzers import (
    SPOOL_MAX_FILE,
    AnalyzerContext,
    load_analyzers,
    spool_path,
)
from tantalio.triage.indexes import WorkspaceIndexes
from tantalio.triage.le_report import is_le_report, reported_items
from tantalio.triage.matching import Matcher, near_duplicates_pending, pdq_entry_matches
from tantalio.triage.progress import IngestProgress, count_files
from tantalio.triage.verdicts import refresh_cases
from tantalio.triage.worker import (
    PRELOAD,
    Job,
    JobResult,
    hash_only,
    init_worker,
    run_chunk,
)

if TYPE_CHECKING:
    from tantalio.triage.dask_backend import DaskOptions, DaskPool


@dataclass(slots=True)
class IngestOptions:
    jobs: int = 0  # worker processes; 0 = all cores
    batch_files: int = 500  # files per committed batch
    batch_seconds: float = 2.0  # ... or sooner, when this much time has passed
    chunk_files: int = 8  # files per pool task
    thumbnails: bool = True
    progress: bool | None = None  # None: a bar when stderr is a terminal
    inline_max: int = 64 << 20  # archive members larger than this go through a temp file
    inflight_bytes: int = 256 << 20  # bytes handed to workers and not yet back
    stall_seconds: float = 900.0  # no result for this long: a decoder hangs; isolate it
    in_process: bool = False  # fingerprint in this process (tests, debugging): no isolation
    dask: DaskOptions | None = None  # per-file work on Dask workers (triage/dask_backend.py)
    chat_keys: tuple[str, ...] = ()  # keys for encrypted chat sources (chats/keys.py)


@dataclass(slots=True)
class ExhibitReport:
    label: str
    seen: int = 0
    added: int = 0
    skipped: int = 0  # stored by an earlier run
    new_media: int = 0
    unreadable: int = 0
    bytes: int = 0
    messages: list[str] = field(default_factory=list)


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


def ingest(
    ws: Workspace,
    case_reference: str,
    sources: list[str],
    exhibit: str | None = None,
    options: IngestOptions | None = None,
) -> IngestReport:
    """Ingest `sources` into the case (created on first use); see the module docstring."""
    options = options or IngestOptions()
    plan = exhibit_plan(sources, exhibit)
    for _label, srcs in plan:
        for src in srcs:
            if not os.path.exists(src.path):
                raise FileNotFoundError(f"{src.path}: no such file or folder")
    with ws.transaction() as s:
        case, created = repo.ensure_case(s, case_reference)
        case_id = case.id
    run = _Run(ws, case_id, case_reference, options)
    reports: list[ExhibitReport] = []
    with IngestProgress(options.progress) as progress:
        for _label, srcs in plan:
            progress.expect(sum(count_files(s.path) for s in srcs))
        try:
            for label, srcs in plan:
                progress.describe(label)
                reports.append(run.exhibit(label, srcs, progress))
            verdicts = run.finish()
        finally:
            run.close()
    return IngestReport(case_reference, created, reports, progress.seconds, verdicts, run.notes)


class _Run:
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
        self.tmp = Path(tempfile.mkdtemp(prefix="tantalio-ingest-"))
        self.entry_snapshot = self._snapshot_entries()
        self._pool: ProcessPoolExecutor | None = None
        self._dask: DaskPool | None = None
        self.notes: list[str] = []  # for IngestReport.messages
        self._in_process = False

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

    # -- pool --------------------------------------------------------------------------
    def pool(self) -> Any:
        """The executor the files go to: a local process pool, or a Dask client's."""
        if self.options.dask is not None:
            return self.dask_pool().executor
        if self._pool is None:
            jobs = self.options.jobs or os.cpu_count() or 1
            ws_dir = str(self.ws.dir.resolve()) if self.ws.dir else None
            ctx = get_context("forkserver")
            ctx.set_forkserver_preload(list(PRELOAD))  # imported once, shared by workers
            self._pool = ProcessPoolExecutor(
                max_workers=jobs,
                mp_context=ctx,
                initializer=init_worker,
                initargs=(
                    self.ws.url,
                    ws_dir,
                    self.options.thumbnails,
                    self.entry_snapshot,
                    self.indexes.min_quality,
                ),
            )
            for _ in range(jobs):  # start the workers now, while the walk begins
                self._pool.submit(run_chunk, [])
        return self._pool

    def dask_pool(self) -> DaskPool:
        if self._dask is None:
            from tantalio.triage.dask_backend import DaskPool

            assert self.options.dask is not None
            self._dask = DaskPool(self.options.dask)
            ws_dir = str(self.ws.dir.resolve()) if self.ws.dir else None
            self.notes += self._dask.prepare(
                self.ws.url,
                ws_dir,
                self.options.thumbnails,
                self.entry_snapshot,
                self.indexes.min_quality,
            )
        return self._dask

    def parallelism(self) -> int:
        if self.options.dask is not None:
            return self.dask_pool().workers
        return self.options.jobs or os.cpu_count() or 1

    def ships_bytes(self, folder_file: bool) -> bool:
        """Whether a file goes to the workers as bytes rather than a path: always for
        remote Dask workers (they cannot see our temp files), folder files only with
        `--dask-send-bytes` (else the workers must see the same paths: shared storage)."""
        dask = self.options.dask
        if dask is None or dask.local:
            return False
        return dask.send_bytes or not folder_file

    def start_in_process(self) -> None:
        if not self._in_process:
            ws_dir = str(self.ws.dir.resolve()) if self.ws.dir else None
            init_worker(
                self.ws.url,
                ws_dir,
                self.options.thumbnails,
                self.entry_snapshot,
                self.indexes.min_quality,
            )
            self._in_process = True

    def reset_pool(self, kill: bool = False) -> None:
        if self._dask is not None:  # Dask replaces a dead worker itself; a hung one we restart
            if kill:
                self._dask.restart()
            return
        if self._pool is not None:
            if kill:  # a worker stuck in a decoder never returns: end the processes
                for proc in list(getattr(self._pool, "_processes", {}).values()):
                    with contextlib.suppress(Exception):
                        proc.kill()
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        if self._dask is not None:
            self._dask.close()
            self._dask = None
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        shutil.rmtree(self.tmp, ignore_errors=True)

    # -- exhibits ----------------------------------------------------------------------
    def exhibit(self, label: str, sources: list[Source], progress: IngestProgress) -> ExhibitReport:
        with self.ws.transaction() as s:
            case = repo.get_case(s, self.case_ref)
            kind = "folder" if os.path.isdir(sources[0].path) else None
            ex = repo.ensure_exhibit(s, case, label, kind, sources[0].path)
            exhibit_id, complete = ex.id, ex.status == "complete"
            existing = store.existing_path_keys(s, exhibit_id)
        if not self.options.in_process:
            self.pool()
        job = _ExhibitJob(self, exhibit_id, label, existing, progress)
        spool = not complete and bool(self.analyzers)
        if spool:
            job.spool_root = self.tmp / f"exhibit-{exhibit_id}"
            job.spool_root.mkdir(parents=True, exist_ok=True)
        for src in sources:
            if is_le_report(src.path):
                for item in reported_items(src.path):
                    job.take_hashes_only(item.occurrence, item.media, src.prefix)
            for ef in open_source(src.path):
                job.take(ef, src.prefix + ef.path)
        job.drain()
        if spool:
            job.report.messages += self.run_analyzers(exhibit_id, label, job)
        with self.ws.transaction() as s:
            store.finish_exhibit(s, exhibit_id)
        return job.report

    def run_analyzers(self, exhibit_id: int, label: str, job: _ExhibitJob) -> list[str]:
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
            self.notes.append(asked.summary())
            counts = asked.verdicts or counts
        return counts


class _ExhibitJob:
    """One exhibit's pass: walk, hand out jobs, gather results, write batches."""

    def __init__(
        self,
        run: _Run,
        exhibit_id: int,
        label: str,
        existing: set[str],
        progress: IngestProgress,
    ) -> None:
        self.run = run
        self.options = run.options
        self.exhibit_id = exhibit_id
        self.existing = existing
        self.progress = progress
        self.report = ExhibitReport(label)
        self.seq = 0
        self.pending: dict[int, store.Occurrence] = {}
        self.chunk: list[Job] = []
        self.chunk_bytes = 0
        self.futures: dict[Future[list[JobResult]], list[Job]] = {}
        self.inflight = 0
        self.batch: list[store.Occurrence] = []
        self.batch_media: dict[str, dict[str, Any]] = {}
        self.batch_hits: dict[str, list[tuple[int, int, int]]] = {}
        self.batch_bytes = 0
        self.last_flush = time.monotonic()
        self.spool_root: Path | None = None
        self.spooled: list[str] = []

    # -- the walk side -----------------------------------------------------------------
    def _wanted(self, path: str) -> bool:
        if self.spool_root is None:
            return False
        return any(a.wants(path) for a in self.run.analyzers)

    def take(self, ef: EvidenceFile, path: str) -> None:
        self.report.seen += 1
        wanted = self._wanted(path)
        if store.path_key(path) in self.existing:
            self.report.skipped += 1
            self.progress.advance(1)
            if wanted and ef.open is not None:
                with contextlib.suppress(OSError):
                    self._spool(path, ef, None)
            return
        occ = store.Occurrence(
            path, ef.size, None, ef.mtime, ef.ctime, ef.atime, ef.deleted, ef.error, ef.crtime
        )
        if ef.open is None:
            self._ready(occ)
            return
        self.seq += 1
        try:
            job = self._job(ef, path)
            if wanted:
                self._spool(path, ef, job)
        except OSError as exc:
            occ.error = occ.error or f"read failed: {exc}"
            self._ready(occ)
            return
        self.pending[job.seq] = occ
        self.chunk.append(job)
        self.chunk_bytes += len(job.data) if job.data is not None else 0
        if len(self.chunk) >= self.options.chunk_files or self.chunk_bytes >= 32 << 20:
            self._submit()

    def take_hashes_only(
        self, occ: store.Occurrence, media: dict[str, Any] | None, prefix: str
    ) -> None:
        """A file known only by its hashes (a report package): no bytes, no worker."""
        occ.path = prefix + occ.path
        self.report.seen += 1
        if store.path_key(occ.path) in self.existing:
            self.report.skipped += 1
            self.progress.advance(1)
            return
        if media is not None:
            self.batch_media.setdefault(media["sha256"], media)
        self._ready(occ)

    def _job(self, ef: EvidenceFile, path: str) -> Job:
        name = path.rsplit("/", 1)[-1]
        ship = self.run.ships_bytes(bool(ef.local_path))
        if ef.local_path and not ship:
            return Job(self.seq, name, path=ef.local_path)
        assert ef.open is not None
        with ef.open() as stream:
            data = stream.read(self.options.inline_max + 1)
            if ship or len(data) <= self.options.inline_max:
                if len(data) > self.options.inline_max:
                    data += stream.read()
                return Job(self.seq, name, data=data)
            fd, tmp = tempfile.mkstemp(dir=self.run.tmp, suffix=".member")
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                shutil.copyfileobj(stream, out, 1 << 20)
        return Job(self.seq, name, path=tmp, temp=True)

    def _spool(self, path: str, ef: EvidenceFile, job: Job | None) -> None:
        assert self.spool_root is not None
        target = spool_path(self.spool_root, path)
        if target is None or ef.size > SPOOL_MAX_FILE:
            return
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if job is not None and job.data is not None:
                target.write_bytes(job.data)
            elif job is not None and job.path is not None:
                shutil.copyfile(job.path, target)
            elif ef.local_path:
                shutil.copyfile(ef.local_path, target)
            else:
                assert ef.open is not None
                with ef.open() as stream, open(target, "wb") as out:
                    shutil.copyfileobj(stream, out, 1 << 20)
        except (IsADirectoryError, NotADirectoryError, FileExistsError):
            return  # a path that is both a file and a folder (a container and its members)
        self.spooled.append(path)

    def _submit(self) -> None:
        if not self.chunk:
            return
        jobs, size = self.chunk, self.chunk_bytes
        self.chunk, self.chunk_bytes = [], 0
        if self.options.in_process:
            self.run.start_in_process()
            for result in run_chunk(jobs):
                self._result(result)
            self._maybe_flush()
            return
        self.futures[self.run.pool().submit(run_chunk, jobs)] = jobs
        self.inflight += size
        max_tasks = 4 * self.run.parallelism()
        while self.futures and (
            len(self.futures) >= max_tasks or self.inflight > self.options.inflight_bytes
        ):
            self._wait_some()

    def _wait_some(self) -> None:
        done = wait(
            self.futures, timeout=self.options.stall_seconds, return_when=FIRST_COMPLETED
        ).done
        if done:
            self._harvest(done)
        else:
            self._recover([], stalled=True)

    # -- the result side ---------------------------------------------------------------
    def _harvest(self, done: set[Future[list[JobResult]]]) -> None:
        for future in done:
            jobs = self.futures.pop(future)
            self.inflight -= sum(len(j.data) for j in jobs if j.data is not None)
            try:
                results = future.result()
            except BrokenProcessPool:
                self._recover(jobs)
                return
            except Exception:  # a task failed (Dask: or killed its worker past the retries)
                results = [r for job in jobs for r in self._alone(job)]
            for result in results:
                self._result(result)
        self._maybe_flush()

    def _recover(self, jobs: list[Job], stalled: bool = False) -> None:
        """A worker died (a decoder crashed the process, taking the pool with it) or hangs:
        retry every job that was in flight alone, one at a time, so the culprit is known
        for sure; it is hashed without decoding and recorded with the reason."""
        stranded = [job for group in (jobs, *self.futures.values()) for job in group]
        self.futures.clear()
        self.inflight = 0
        self.run.reset_pool(kill=stalled)
        for job in stranded:
            for result in self._alone(job):
                self._result(result)

    def _alone(self, job: Job) -> list[JobResult]:
        """One job on its own: its result, or its hashes with what went wrong."""
        future = self.run.pool().submit(run_chunk, [job])
        try:
            results: list[JobResult] = future.result(timeout=self.options.stall_seconds)
            return results
        except BrokenProcessPool:
            self.run.reset_pool()
            reason = "fingerprinting crashed its worker"
        except TimeoutError:
            self.run.reset_pool(kill=True)
            reason = "fingerprinting timed out"
        except Exception as exc:
            # Dask's KilledWorker: the task took down every worker it was retried on.
            crashed = type(exc).__name__ == "KilledWorker"
            reason = (
                "fingerprinting crashed its worker"
                if crashed
                else f"fingerprinting failed: {type(exc).__name__}: {exc}"
            )
        return [hash_only(job, reason, self.run.tmp)]

    def _result(self, result: JobResult) -> None:
        occ = self.pending.pop(result.seq)
        if result.error:
            occ.error = occ.error or result.error
        else:
            occ.sha256 = result.sha256
            occ.size = result.size if result.size is not None else occ.size
            if result.fingerprint is not None and result.sha256:
                if result.thumbnail_data is not None and self.run.ws.dir is not None:
                    rel = thumbs.save(self.run.ws.dir, result.sha256, result.thumbnail_data)
                    result.thumbnail = rel
                row = store.media_row(result.fingerprint, result.thumbnail)
                self.batch_media[row["sha256"]] = row
                if result.entry_hits is not None:
                    self.batch_hits[row["sha256"]] = result.entry_hits
        self._ready(occ)

    def _ready(self, occ: store.Occurrence) -> None:
        self.batch.append(occ)
        self.batch_bytes += occ.size or 0
        if occ.error and occ.sha256 is None:
            self.report.unreadable += 1
        self._maybe_flush()

    def _maybe_flush(self, force: bool = False) -> None:
        if not self.batch:
            return
        due = time.monotonic() - self.last_flush >= self.options.batch_seconds
        if force or len(self.batch) >= self.options.batch_files or due:
            self._flush()

    def _flush(self) -> None:
        batch, media, nbytes = self.batch, list(self.batch_media.values()), self.batch_bytes
        hits = self.batch_hits
        self.batch, self.batch_media, self.batch_bytes, self.batch_hits = [], {}, 0, {}
        with self.run.ws.transaction() as s:
            written = store.write_batch(s, self.exhibit_id, batch, media)
            searched = {mid: hits[sha] for sha, mid in written.inserted.items() if sha in hits}
            self.run.matcher.match_media(s, sorted(written.inserted.values()), searched)
        self.run.new_media.update(written.inserted.values())
        self.run.touched.update(written.media.values())
        self.report.added += len(batch)
        self.report.new_media += len(written.inserted)
        self.report.bytes += nbytes
        self.last_flush = time.monotonic()
        self.progress.advance(len(batch), nbytes)

    def drain(self) -> None:
        self._submit()
        while self.futures:
            self._wait_some()
        self._maybe_flush(force=True)
