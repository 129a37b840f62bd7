"""Where the per-file work runs: a local process pool, Dask workers, or this process.

The exhibit pass (`triage/exhibit_pass.py`) only sees `Executor`: it submits chunks of
`Job`s and gets `concurrent.futures` futures of their results back, so the walk, the
bounded in-flight window, recovery and the batched writes are one code path whichever
executor runs the work. `make_executor` picks one from the ingest options.
"""

from __future__ import annotations

import contextlib
import os
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context
from typing import TYPE_CHECKING, Protocol

from tantalio.triage.ingest_types import IngestOptions
from tantalio.triage.worker import (
    PRELOAD,
    Job,
    JobResult,
    init_worker,
    run_chunk,
    run_fast_chunk,
)

if TYPE_CHECKING:
    from tantalio.triage.dask_backend import DaskOptions, DaskPool


@dataclass(frozen=True, slots=True)
class WorkerSetup:
    """What every worker is initialised with (`worker.init_worker`)."""

    db_url: str
    workspace_dir: str | None
    thumbnails: bool
    entry_index: str | None  # the hash-entry PDQ index snapshot, mapped read-only
    min_quality: int
    fast: bool = False  # the fast pass: hashes and type only (`ingest --fast`)
    local_features: bool = False  # extract query local features (issue 13)

    def args(self) -> tuple[str, str | None, bool, str | None, int]:
        return (
            self.db_url,
            self.workspace_dir,
            self.thumbnails,
            self.entry_index,
            self.min_quality,
        )

    def local_args(self) -> tuple[str, str | None, bool, str | None, int, bool, bool, bool]:
        """`init_worker`'s arguments on this machine (thumbnails written, not shipped). Dask
        workers are registered with `args` and `local_features`: they run no fast pass."""
        return (*self.args(), False, self.fast, self.local_features)


class Executor(Protocol):
    notes: list[str]  # what the user should know about this set-up (the run's report)

    def start(self) -> None:
        """Get the workers going (while the walk begins); idempotent."""

    @property
    def parallelism(self) -> int: ...

    def submit(self, jobs: list[Job]) -> Future[list[JobResult]]: ...

    def ships_bytes(self, folder_file: bool) -> bool:
        """Whether a file goes to the workers as bytes rather than a path."""

    def reset(self, kill: bool = False) -> None:
        """A worker died (or, with `kill`, hangs): drop what is in flight, go on afresh."""

    def close(self) -> None: ...


def make_executor(options: IngestOptions, setup: WorkerSetup) -> Executor:
    if options.dask is not None:
        return DaskExecutor(options.dask, setup)
    if options.in_process:
        return InlineExecutor(setup)
    if setup.fast:
        return HashThreads(options.jobs)
    return ProcessPool(options.jobs, setup)


class HashThreads:
    """The fast pass's executor: threads of this process, `jobs` 0 meaning all cores.

    The fast pass only reads and hashes, and hashlib releases the GIL while it hashes a
    large buffer (as does the read), so threads hash on every core. Nothing decodes, so
    there is no crash or hang to isolate a process from; no process start, no pickling of
    archive members' bytes to another process, no "already stored?" query per file (the
    batched insert skips stored content)."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs or os.cpu_count() or 1
        self.notes: list[str] = []
        self._pool: ThreadPoolExecutor | None = None

    def start(self) -> None:
        self._get()

    def _get(self) -> ThreadPoolExecutor:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.jobs, thread_name_prefix="tantalio-hash")
        return self._pool

    @property
    def parallelism(self) -> int:
        return self.jobs

    def submit(self, jobs: list[Job]) -> Future[list[JobResult]]:
        return self._get().submit(run_fast_chunk, jobs)

    def ships_bytes(self, folder_file: bool) -> bool:
        return False

    def reset(self, kill: bool = False) -> None:
        return None  # a thread that raised is retried file by file (`ExhibitPass._alone`)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class ProcessPool:
    """Forkserver worker processes on this machine; `jobs` 0 means all cores."""

    def __init__(self, jobs: int, setup: WorkerSetup) -> None:
        self.jobs = jobs or os.cpu_count() or 1
        self.setup = setup
        self.notes: list[str] = []
        self._pool: ProcessPoolExecutor | None = None

    def start(self) -> None:
        self._get()

    def _get(self) -> ProcessPoolExecutor:
        if self._pool is None:
            ctx = get_context("forkserver")
            # imported once, shared by workers; a fast pass decodes nothing: no engine
            preload = [m for m in PRELOAD if not (self.setup.fast and m.endswith(".engine"))]
            ctx.set_forkserver_preload(preload)
            self._pool = ProcessPoolExecutor(
                max_workers=self.jobs,
                mp_context=ctx,
                initializer=init_worker,
                initargs=self.setup.local_args(),
            )
            for _ in range(self.jobs):  # start the workers now, while the walk begins
                self._pool.submit(run_chunk, [])
        return self._pool

    @property
    def parallelism(self) -> int:
        return self.jobs

    def submit(self, jobs: list[Job]) -> Future[list[JobResult]]:
        return self._get().submit(run_chunk, jobs)

    def ships_bytes(self, folder_file: bool) -> bool:
        return False  # same machine: folder files by path, members as bytes or temp files

    def reset(self, kill: bool = False) -> None:
        if self._pool is None:
            return
        if kill:  # a worker stuck in a decoder never returns: end the processes
            for proc in list(getattr(self._pool, "_processes", {}).values()):
                with contextlib.suppress(Exception):
                    proc.kill()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class DaskExecutor:
    """The per-file work on Dask workers (triage/dask_backend.py, docs/decisions/dask.md)."""

    def __init__(self, options: DaskOptions, setup: WorkerSetup) -> None:
        self.options = options
        self.setup = setup
        self.notes: list[str] = []
        self._dask: DaskPool | None = None

    def start(self) -> None:
        self._get()

    def _get(self) -> DaskPool:
        if self._dask is None:
            from tantalio.triage.dask_backend import DaskPool

            self._dask = DaskPool(self.options)
            self.notes += self._dask.prepare(
                *self.setup.args(), local_features=self.setup.local_features
            )
        return self._dask

    @property
    def parallelism(self) -> int:
        return self._get().workers

    def submit(self, jobs: list[Job]) -> Future[list[JobResult]]:
        future: Future[list[JobResult]] = self._get().executor.submit(run_chunk, jobs)
        return future

    def ships_bytes(self, folder_file: bool) -> bool:
        """Always for remote workers (they cannot see our temp files), folder files only
        with `--dask-send-bytes` (else the workers must see the same paths: shared storage)."""
        if self.options.local:
            return False
        return self.options.send_bytes or not folder_file

    def reset(self, kill: bool = False) -> None:
        # Dask replaces a dead worker itself; a hung one we restart.
        if kill and self._dask is not None:
            self._dask.restart()

    def close(self) -> None:
        if self._dask is not None:
            self._dask.close()
            self._dask = None


class InlineExecutor:
    """Fingerprint in this process (tests, debugging): no isolation from a crashing decoder.
    Futures come back already done; a chunk that raises is retried file by file like any
    failed task."""

    def __init__(self, setup: WorkerSetup) -> None:
        self.setup = setup
        self.notes: list[str] = []
        self._started = False

    def start(self) -> None:
        if not self._started:
            init_worker(*self.setup.local_args())
            self._started = True

    @property
    def parallelism(self) -> int:
        return 1

    def submit(self, jobs: list[Job]) -> Future[list[JobResult]]:
        self.start()
        future: Future[list[JobResult]] = Future()
        try:
            future.set_result(run_chunk(jobs))
        except Exception as exc:
            future.set_exception(exc)
        return future

    def ships_bytes(self, folder_file: bool) -> bool:
        return False

    def reset(self, kill: bool = False) -> None:
        return None

    def close(self) -> None:
        return None
