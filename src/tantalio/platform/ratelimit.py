"""Per-key token buckets: in process memory, or in one file shared by every worker (or, for
several hosts, in the platform database: ratelimit_db.py).

`tantalio platform serve --workers N` runs N processes; buckets held in each process's
memory would give a key up to N times its rate, which makes the lookup API a cheaper match
oracle than its owner meant. `SharedBuckets` keeps the buckets in a small file that every
worker maps with `mmap` and guards with `fcntl.flock` (one short exclusive lock per
request), so the limit holds for the host as a whole. `multiprocessing.shared_memory` is not
used: on Python 3.11 its resource tracker unlinks a segment when any worker that opened it
exits.

Clock: buckets store stamps from `CLOCK_MONOTONIC`. On Linux (and macOS) it is one
system-wide clock, so stamps written by one worker are comparable in another (processes of
one `serve` share a time namespace), and unlike `time.time()` it never jumps when the wall
clock is set, which would otherwise refill buckets early or freeze them. The shared file
lives only as long as one `serve` run, so stamps never outlive a boot.

Layout (little-endian): a 16-byte header (magic, slot count), then fixed slots of
(used, key id, tokens, stamp) with open addressing (linear probing) on the key id. Slots are
never freed: a key's slot is found once per process and remembered. When no slot is free the
key falls back to an in-process bucket, so past `slots` keys on one host the newest keys'
limits are per process again (a revoked key keeps its slot; 4096 slots by default).
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

RATE_FILE_ENV = "TANTALIO_RATE_FILE"
RATE_STORE_ENV = "TANTALIO_RATE_STORE"  # "database": buckets in the platform database
MAGIC = b"TNTRATE1"
DEFAULT_SLOTS = 4096
_HEADER = struct.Struct("<8sq")  # magic, slot count
_SLOT = struct.Struct("<qqdd")  # used (0/1), key id, tokens, stamp
_FULL = -1  # remembered slot index for a key that found no free slot


def clock() -> float:
    """Seconds on the system-wide monotonic clock (comparable across processes)."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def take(
    tokens: float, stamp: float, now: float, rate_per_s: float, burst: int
) -> tuple[float, float]:
    """Refill a bucket to `now` and try to take one token: (tokens left, wait). `wait` is 0.0
    when a token was taken, else the seconds until one is available."""
    tokens = min(float(burst), tokens + max(0.0, now - stamp) * rate_per_s)
    if tokens >= 1.0:
        return tokens - 1.0, 0.0
    return tokens, (1.0 - tokens) / rate_per_s


class Buckets(Protocol):
    def allow(self, key_id: int, rate_per_s: float, burst: int) -> float:
        """0.0 when the request may proceed, else the seconds until a token is available."""
        ...


@dataclass(slots=True)
class _Bucket:
    tokens: float
    stamp: float


class LocalBuckets:
    """Buckets in this process's memory: right for one worker, and the fallback of a full
    shared table."""

    def __init__(self) -> None:
        self._buckets: dict[int, _Bucket] = {}
        self._lock = threading.Lock()

    def allow(self, key_id: int, rate_per_s: float, burst: int) -> float:
        now = clock()
        with self._lock:
            b = self._buckets.get(key_id)
            if b is None:
                b = self._buckets[key_id] = _Bucket(float(burst), now)
            b.tokens, wait = take(b.tokens, b.stamp, now, rate_per_s, burst)
            b.stamp = now
            return wait


class SharedBuckets:
    """Token buckets in a file mapped by every worker process of one host.

    `SharedBuckets(path)` creates and formats the file if it is missing or empty (under the
    same lock, so concurrent first openers agree); an existing file keeps its slot count."""

    def __init__(self, path: str | os.PathLike[str], slots: int = DEFAULT_SLOTS) -> None:
        if slots < 1:
            raise ValueError("slots must be >= 1")
        self.path = Path(path)
        self._want_slots = slots
        self._lock = threading.Lock()
        self._fallback = LocalBuckets()
        self._open()

    def _open(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                size = os.fstat(fd).st_size
                if size == 0:
                    os.write(fd, _HEADER.pack(MAGIC, self._want_slots))
                    size = _HEADER.size + self._want_slots * _SLOT.size
                    os.ftruncate(fd, size)
                magic, slots = _HEADER.unpack(os.pread(fd, _HEADER.size, 0).ljust(_HEADER.size))
                if magic != MAGIC or size != _HEADER.size + slots * _SLOT.size:
                    raise ValueError(f"{self.path} is not a tantalio rate-limit file")
                mm = mmap.mmap(fd, size)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        except BaseException:
            os.close(fd)
            raise
        self._fd, self._mm, self.slots = fd, mm, int(slots)
        self._pid = os.getpid()
        self._slot_of: dict[int, int] = {}

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                self._mm.close()
                os.close(self._fd)
                self._fd = -1

    def _reopen_after_fork(self) -> None:
        """A forked child shares the parent's open file description, and flock does not
        exclude between holders of one description: give the child its own."""
        self._mm.close()
        os.close(self._fd)
        self._open()

    def _find(self, key_id: int) -> int:
        """The key's slot index, claiming a free one if needed; _FULL when none is free.
        Call with the file locked."""
        start = (key_id * 0x9E3779B97F4A7C15 & 0xFFFFFFFFFFFFFFFF) % self.slots
        for i in range(self.slots):
            idx = (start + i) % self.slots
            off = _HEADER.size + idx * _SLOT.size
            used, kid, _, _ = _SLOT.unpack_from(self._mm, off)
            if not used:
                return idx
            if kid == key_id:
                return idx
        return _FULL

    def allow(self, key_id: int, rate_per_s: float, burst: int) -> float:
        """0.0 when the request may proceed, else the seconds until a token is available."""
        with self._lock:
            if self._fd < 0:
                raise ValueError("SharedBuckets is closed")
            if os.getpid() != self._pid:
                self._reopen_after_fork()
            idx = self._slot_of.get(key_id)
            if idx != _FULL:
                fcntl.flock(self._fd, fcntl.LOCK_EX)
                try:
                    if idx is None:
                        idx = self._slot_of[key_id] = self._find(key_id)
                    if idx != _FULL:
                        return self._take(idx, key_id, rate_per_s, burst)
                finally:
                    fcntl.flock(self._fd, fcntl.LOCK_UN)
        return self._fallback.allow(key_id, rate_per_s, burst)

    def _take(self, idx: int, key_id: int, rate_per_s: float, burst: int) -> float:
        off = _HEADER.size + idx * _SLOT.size
        now = clock()
        used, _, tokens, stamp = _SLOT.unpack_from(self._mm, off)
        if not used:
            tokens, stamp = float(burst), now
        tokens, wait = take(tokens, stamp, now, rate_per_s, burst)
        _SLOT.pack_into(self._mm, off, 1, key_id, tokens, now)
        return wait


def buckets_from_env(db_url: str | None = None) -> Buckets:
    """`DatabaseBuckets` on `db_url` when $TANTALIO_RATE_STORE is `database` (set by
    `tantalio platform serve --rate-limits database`: several hosts, one database), else
    `SharedBuckets` on $TANTALIO_RATE_FILE when it names a file (set by `serve --workers N`),
    else `LocalBuckets` (one worker: no file, no locks)."""
    if os.environ.get(RATE_STORE_ENV) == "database":
        if not db_url:
            raise ValueError(f"${RATE_STORE_ENV}=database needs the platform database URL")
        from tantalio.platform.ratelimit_db import DatabaseBuckets

        return DatabaseBuckets(db_url)
    path = os.environ.get(RATE_FILE_ENV)
    return SharedBuckets(path) if path else LocalBuckets()
