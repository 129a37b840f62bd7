"""`fingerprint_many`: every core busy, results in input order, and no file can stop the run.

Why not `concurrent.futures.ProcessPoolExecutor`: a worker that segfaults in a C decoder
breaks the whole executor, and a worker stuck inside a decoder cannot be stopped. Here each
worker has its own pipe and a short queue of paths (`chunksize` per message, two messages
ahead, so it never waits for the parent); the parent watches every worker's pipe and process
sentinel. A worker that dies, or spends longer than `timeout_s` (`video_timeout_s` once it
reports a video) on one file, is killed and replaced; that file is hashed again without
decoding (size, hashes, type) and carries the error, and the files queued behind it are
handed to other workers.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from multiprocessing import get_context
from multiprocessing.connection import Connection, wait
from typing import Any

from tantalio.fingerprint.config import DEFAULT_CONFIG, FingerprintConfig
from tantalio.fingerprint.errors import why
from tantalio.fingerprint.record import Fingerprint

_GRACE_S = 2.0  # past the deadline before a worker is killed (the video loop stops itself)
_AHEAD_PER_JOB = 256  # results buffered beyond the next one to yield, per worker

# (input index, path, error): with an error set the worker only hashes (the decode failed).
_Task = tuple[int, str, "str | None"]


def available_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0)) or 1
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def fingerprint_many(
    paths: Iterable[str | os.PathLike[str]],
    jobs: int | None = None,
    config: FingerprintConfig | None = None,
    chunksize: int = 4,
) -> Iterator[Fingerprint]:
    """Fingerprint files on `jobs` worker processes (default: every available core),
    yielding one Fingerprint per path, in input order. `jobs=0` runs in this process
    (no isolation from crashing decoders, no timeout): for debugging.
    """
    cfg = config or DEFAULT_CONFIG
    n = available_cpus() if jobs is None else jobs
    if n <= 0:
        from tantalio.fingerprint.engine import fingerprint_file

        for p in paths:
            yield fingerprint_file(p, cfg)
        return
    pool = _Pool(n, cfg, max(1, chunksize))
    try:
        yield from pool.run(os.fspath(p) for p in paths)
    finally:
        pool.close()


def _worker_main(conn: Connection, cfg: FingerprintConfig) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    from tantalio.fingerprint import engine

    current = [-1]

    def video_started() -> None:
        conn.send(("video", current[0]))

    engine.on_video_start = video_started
    while True:
        try:
            tasks = conn.recv()
        except (EOFError, OSError):
            return
        if tasks is None:
            return
        for index, path, error in tasks:
            current[0] = index
            try:
                if error:
                    fp = engine.hash_only_file(path, error)
                else:
                    fp = engine.fingerprint_file(path, cfg)
            except Exception as exc:  # engine bugs become errors, never a dead worker
                fp = Fingerprint(size=0, md5="", sha1="", sha256="", path=path)
                fp.error = f"internal error: {why(exc)}"
            conn.send(("done", index, fp))


@dataclass(eq=False)
class _Worker:
    proc: Any
    conn: Connection
    queue: deque[_Task] = field(default_factory=deque)
    since: float = 0.0  # when the file at queue[0] started (or the last result arrived)
    limit: float = 0.0  # seconds allowed for queue[0]


class _Pool:
    def __init__(self, jobs: int, cfg: FingerprintConfig, chunksize: int) -> None:
        self.jobs = jobs
        self.cfg = cfg
        self.chunksize = chunksize
        self.ctx = get_context(cfg.mp_context)
        if cfg.mp_context == "forkserver":
            self.ctx.set_forkserver_preload(["tantalio.fingerprint.engine"])
        self.workers: list[_Worker] = []
        self.retry: deque[_Task] = deque()
        self.results: dict[int, Fingerprint] = {}
        self.inputs: Iterator[tuple[int, str]] = iter(())
        self.pulled = 0
        self.exhausted = False

    # ------------------------------------------------------------ lifecycle

    def _start(self) -> _Worker:
        parent, child = self.ctx.Pipe(duplex=True)
        proc = self.ctx.Process(  # type: ignore[attr-defined]
            target=_worker_main, args=(child, self.cfg), daemon=True, name="tantalio-fp"
        )
        proc.start()
        child.close()
        return _Worker(proc, parent)

    def close(self) -> None:
        for w in self.workers:
            with contextlib.suppress(OSError):
                w.conn.send(None)
        deadline = time.monotonic() + 2.0
        for w in self.workers:
            w.proc.join(max(0.0, deadline - time.monotonic()))
            if w.proc.is_alive():
                w.proc.kill()
                w.proc.join()
            w.conn.close()
        self.workers = []

    # ------------------------------------------------------------ the loop

    def run(self, paths: Iterator[str]) -> Iterator[Fingerprint]:
        self.inputs = enumerate(paths)
        self.pulled = 0  # tasks taken from the input so far
        self.exhausted = False
        next_out = 0
        max_ahead = _AHEAD_PER_JOB * self.jobs
        while True:
            self._dispatch(horizon=next_out + max_ahead)
            while next_out in self.results:
                yield self.results.pop(next_out)
                next_out += 1
            busy = [w for w in self.workers if w.queue]
            if not busy:
                if self.exhausted and not self.retry:
                    return
                continue
            now = time.monotonic()
            timeout = max(0.0, min(w.since + w.limit + _GRACE_S for w in busy) - now)
            handles: list[Any] = [w.conn for w in busy] + [w.proc.sentinel for w in busy]
            ready = set(wait(handles, timeout))
            for w in busy:
                ok = self._drain(w) if w.conn in ready else True
                if not ok or w.proc.sentinel in ready:
                    self._drain(w)  # results it sent before it died
                    w.proc.join(5.0)  # its pipe can close a moment before it is reaped
                    self._replace(w, _crash_reason(w.proc.exitcode))
                elif w.queue and time.monotonic() > w.since + w.limit + _GRACE_S:
                    self._replace(w, f"timed out after {w.limit:g}s")

    def _take(self, horizon: int) -> list[_Task]:
        """Up to `chunksize` tasks: retries first, then new paths up to index `horizon`
        (so one slow file cannot make the reorder buffer grow without bound)."""
        chunk: list[_Task] = []
        while self.retry and len(chunk) < self.chunksize:
            chunk.append(self.retry.popleft())
        while not self.exhausted and len(chunk) < self.chunksize and self.pulled <= horizon:
            item = next(self.inputs, None)
            if item is None:
                self.exhausted = True
                break
            self.pulled += 1
            chunk.append((item[0], item[1], None))
        return chunk

    def _dispatch(self, horizon: int) -> None:
        while len(self.workers) < self.jobs:
            self.workers.append(self._start())
        for w in sorted(self.workers, key=lambda w: len(w.queue)):
            while len(w.queue) < 2 * self.chunksize:
                chunk = self._take(horizon)
                if not chunk:
                    return
                if not w.queue:
                    self._begin(w, chunk[0])
                w.queue.extend(chunk)
                try:
                    w.conn.send(chunk)
                except OSError:  # it died while idle (OOM killer...): nothing was started
                    for _ in chunk:
                        w.queue.pop()
                    self.retry.extendleft(reversed(chunk))
                    self._drain(w)
                    w.proc.join(1.0)
                    self._replace(w, _crash_reason(w.proc.exitcode))
                    return

    def _begin(self, w: _Worker, task: _Task) -> None:
        w.since = time.monotonic()
        # a hash-only retry may be a multi-gigabyte video: give it the long limit
        w.limit = self.cfg.video_timeout_s if task[2] else self.cfg.timeout_s

    def _drain(self, w: _Worker) -> bool:
        """Read every message waiting from `w`; False once its pipe is closed."""
        try:
            while w.conn.poll():
                msg = w.conn.recv()
                if msg[0] == "done":
                    _, index, fp = msg
                    self.results[index] = fp
                    if w.queue and w.queue[0][0] == index:
                        w.queue.popleft()
                    if w.queue:
                        self._begin(w, w.queue[0])
                elif msg[0] == "video" and w.queue and w.queue[0][0] == msg[1]:
                    w.limit = max(w.limit, self.cfg.video_timeout_s)
        except (EOFError, OSError):
            return False
        return True

    def _replace(self, w: _Worker, reason: str) -> None:
        if w.proc.is_alive():
            w.proc.kill()
        w.proc.join()
        w.conn.close()
        if w.queue:
            index, path, previous = w.queue.popleft()
            # files queued behind it never started: they go back first, in order
            self.retry.extendleft(reversed(w.queue))
            w.queue.clear()
            if previous:  # hashing alone failed too: nothing more to try
                fp = Fingerprint(size=0, md5="", sha1="", sha256="", path=path)
                fp.error = f"{previous}; hashing also failed: {reason}"
                self.results[index] = fp
            else:
                self.retry.appendleft((index, path, reason))
        self.workers[self.workers.index(w)] = self._start()


def _crash_reason(exitcode: int | None) -> str:
    if exitcode is not None and exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"worker crashed ({name}) while decoding"
    if exitcode is None:
        return "worker stopped answering while decoding"
    return f"worker exited (code {exitcode}) while decoding"
