"""One exhibit's pass: walk its sources, hand files to the executor in chunks, gather the
results (recovering from crashed or hung workers), and queue them for the batch writer.

The walk side and the result side run in this one thread: the in-flight window (tasks and
bytes handed out and not yet back) bounds memory, and a result is handled as soon as the
window is full. Folder files go to the workers by path; archive members as bytes, or through
a private temp file when large.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tantalio.evidence import EvidenceFile
from tantalio.store import ingest as store
from tantalio.store.errors import DiskFullError, disk_full_at
from tantalio.store.timeutil import to_naive_utc
from tantalio.triage import thumbs
from tantalio.triage.analyzers import SPOOL_MAX_FILE, spool_path
from tantalio.triage.batch_writer import BatchWriter
from tantalio.triage.ingest_types import ExhibitReport
from tantalio.triage.progress import IngestProgress
from tantalio.triage.worker import Job, JobResult, hash_only, local_variants

if TYPE_CHECKING:
    from tantalio.triage.ingest_run import IngestRun


class ExhibitPass:
    def __init__(
        self,
        run: IngestRun,
        exhibit_id: int,
        label: str,
        existing: set[str],
        progress: IngestProgress,
        pending: dict[str, store.PendingFile] | None = None,
    ) -> None:
        self.run = run
        self.executor = run.executor
        self.options = run.options
        self.exhibit_id = exhibit_id
        self.existing = existing
        self.progress = progress
        self.report = ExhibitReport(label)
        self.writer = BatchWriter(
            run.ws,
            run.matcher,
            exhibit_id,
            self.report,
            progress,
            self.options.batch_files,
            self.options.batch_seconds,
        )
        self.seq = 0
        self.pending: dict[int, store.Occurrence] = {}
        self.chunk: list[Job] = []
        self.chunk_bytes = 0  # bytes held in memory (members) by the chunk
        self.chunk_size = 0  # bytes its files hold (read by the workers)
        self.futures: dict[Future[list[JobResult]], list[Job]] = {}
        self.inflight = 0
        self.spool_root: Path | None = None
        self.spooled: list[str] = []
        # After a fast pass: stored files whose media still wait for decoding (by path key);
        # folder files among them are queued (`deferred`) and decoded newest first, unsettled
        # ones before those an exact match already settled.
        self.pending_files = pending or {}
        self.deferred: list[tuple[bool, float, int, EvidenceFile, str, store.PendingFile]] = []
        self.completing: set[int] = set()  # seqs of jobs that complete a pending media
        self.decoding: set[str] = set()  # SHA-256s handed out for decoding (once each)
        # Pending media whose source file changed or went missing since the fast pass: not
        # decoded (nor hashed around), reported, left pending.
        self.changed: list[str] = []
        self.kept_pending: set[str] = set()

    # -- the walk side -----------------------------------------------------------------
    def _wanted(self, path: str) -> bool:
        if self.spool_root is None:
            return False
        return any(a.wants(path) for a in self.run.analyzers)

    def take(self, ef: EvidenceFile, path: str) -> None:
        self.report.seen += 1
        wanted = self._wanted(path)
        key = store.path_key(path)
        if key in self.existing:
            self.report.skipped += 1
            self.progress.advance(1)
            if wanted and ef.open is not None:
                with contextlib.suppress(OSError):
                    self._spool(path, ef, None)
            pf = self.pending_files.pop(key, None)
            if pf is not None and ef.open is not None:
                if not self._unchanged(ef, pf):
                    return
                if ef.local_path:  # decoded after the walk, most likely to matter first
                    when = ef.mtime.timestamp() if ef.mtime else 0.0
                    item = (pf.settled, -when, len(self.deferred), ef, path, pf)
                    self.deferred.append(item)
                else:  # an archive or disk-image member: readable only while the walk is on it
                    self._take_pending(ef, path, pf)
            return
        occ = store.Occurrence(
            path, ef.size, None, ef.mtime, ef.ctime, ef.atime, ef.deleted, ef.error, ef.crtime
        )
        if ef.open is None:
            self.writer.add(occ)
            return
        self.seq += 1
        try:
            job = self._job(ef, path)
            if wanted:
                self._spool(path, ef, job)
        except OSError as exc:
            if (where := disk_full_at(exc)) is not None:
                raise DiskFullError(where) from None  # our temp copy, not the evidence
            occ.error = occ.error or f"read failed: {exc}"
            self.writer.add(occ)
            return
        self.pending[job.seq] = occ
        self._queue(job, ef.size)

    def _unchanged(self, ef: EvidenceFile, pf: store.PendingFile) -> bool:
        """The source file is as the fast pass read it (size and modification time, from
        the walk's stat: nothing read): else it is reported and left pending, not decoded
        under hashes that may no longer be its own."""
        same_size = pf.size is None or ef.size == pf.size
        same_time = pf.mtime is None or to_naive_utc(ef.mtime) == pf.mtime
        if same_size and same_time:
            return True
        what = "size" if not same_size else "modification time"
        self.changed.append(f"{pf.path} ({what})")
        self.kept_pending.add(pf.sha256)
        return False

    def missing_report(self) -> list[str]:
        """What the run could not decode because its source changed or is gone."""
        missing = [pf.path for pf in self.pending_files.values() if pf.sha256 not in self.decoding]
        self.kept_pending.update(
            pf.sha256 for pf in self.pending_files.values() if pf.sha256 not in self.decoding
        )
        out = []
        for what, paths in (("changed since the fast pass", self.changed), ("missing", missing)):
            if paths:
                shown = ", ".join(paths[:5]) + (
                    f" and {len(paths) - 5} more" if len(paths) > 5 else ""
                )
                out.append(
                    f"{len(paths)} pending file(s) {what}: not decoded, still pending: {shown}"
                )
        return out

    def _take_pending(self, ef: EvidenceFile, path: str, pf: store.PendingFile) -> None:
        """A stored file whose media a fast pass left without PDQ/vPDQ/thumbnail: read it
        once more, for decoding only (its stored digests are not computed again); content
        stored under several paths is decoded once."""
        if pf.sha256 in self.decoding:
            return
        self.decoding.add(pf.sha256)
        self.seq += 1
        try:
            job = self._job(ef, path)
        except OSError as exc:
            if (where := disk_full_at(exc)) is not None:
                raise DiskFullError(where) from None
            return  # stays hashes-only; `clear_pending` settles it at the exhibit's end
        job.sha256, job.md5, job.sha1 = pf.sha256, pf.md5, pf.sha1
        self.completing.add(job.seq)
        self._queue(job, ef.size)

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
            self.writer.known_media(media)
        self.writer.add(occ)

    def _job(self, ef: EvidenceFile, path: str) -> Job:
        name = path.rsplit("/", 1)[-1]
        ship = self.executor.ships_bytes(bool(ef.local_path))
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

    def _queue(self, job: Job, size: int | None) -> None:
        """Chunks of `chunk_files` files, or fewer that add up to 32 MiB: a few large files
        make a task of their own, so no worker is left with several while another idles."""
        self.chunk.append(job)
        self.chunk_bytes += len(job.data) if job.data is not None else 0
        self.chunk_size += size or 0
        if len(self.chunk) >= self.options.chunk_files or self.chunk_size >= 32 << 20:
            self._submit()

    def _submit(self) -> None:
        if not self.chunk:
            return
        jobs, size = self.chunk, self.chunk_bytes
        self.chunk, self.chunk_bytes, self.chunk_size = [], 0, 0
        self.futures[self.executor.submit(jobs)] = jobs
        self.inflight += size
        max_tasks = 4 * self.executor.parallelism
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
        self.writer.maybe_flush()

    def _recover(self, jobs: list[Job], stalled: bool = False) -> None:
        """A worker died (a decoder crashed the process, taking the pool with it) or hangs:
        retry every job that was in flight alone, one at a time, so the culprit is known
        for sure; it is hashed without decoding and recorded with the reason."""
        stranded = [job for group in (jobs, *self.futures.values()) for job in group]
        self.futures.clear()
        self.inflight = 0
        self.executor.reset(kill=stalled)
        for job in stranded:
            for result in self._alone(job):
                self._result(result)

    def _alone(self, job: Job) -> list[JobResult]:
        """One job on its own: its result, or its hashes with what went wrong."""
        future = self.executor.submit([job])
        try:
            results: list[JobResult] = future.result(timeout=self.options.stall_seconds)
            return results
        except BrokenProcessPool:
            self.executor.reset()
            reason = "fingerprinting crashed its worker"
        except TimeoutError:
            self.executor.reset(kill=True)
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
        if result.disk_full is not None:
            raise DiskFullError(result.disk_full)
        if result.seq in self.completing:
            self.completing.discard(result.seq)
            if result.fingerprint is not None and result.sha256:
                self._save_thumbnail(result)
                row = store.media_row(result.fingerprint, result.thumbnail)
                self.writer.complete(row, result.entry_hits)
            return
        occ = self.pending.pop(result.seq)
        if result.error:
            occ.error = occ.error or result.error
        else:
            occ.sha256 = result.sha256
            occ.size = result.size if result.size is not None else occ.size
            if result.fingerprint is not None and result.sha256:
                self._save_thumbnail(result)
                row = store.media_row(result.fingerprint, result.thumbnail)
                if self.options.fast:  # hashes only: the perceptual pass comes later
                    row["perceptual_pending"] = True
                self.writer.media(row, result.entry_hits, local_variants(result.fingerprint))
        self.writer.add(occ)

    def _save_thumbnail(self, result: JobResult) -> None:
        if result.thumbnail_data is not None and self.run.ws.dir is not None and result.sha256:
            result.thumbnail = thumbs.save(self.run.ws.dir, result.sha256, result.thumbnail_data)

    def drain(self) -> None:
        for _settled, _when, _n, ef, path, pf in sorted(self.deferred, key=lambda d: d[:3]):
            self._take_pending(ef, path, pf)
        self.deferred.clear()
        self._submit()
        while self.futures:
            self._wait_some()
        self.writer.maybe_flush(force=True)
