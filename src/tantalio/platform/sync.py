"""Keep a process's in-memory `MatchIndex` equal to the database, incrementally.

Start-up loads every live entry once; after that the process tails `platform_index_changes`
(append-only, ordered by `seq`). A write made by this process calls `refresh()` right after
its commit, so a new hash is matchable at once; writes by other processes (other workers,
`tantalio platform bank import` from a shell) arrive within `poll_interval_s`.

Sequence numbers are handed out before commit, so on PostgreSQL a later seq can become
visible before an earlier one. Skipped seqs are remembered as gaps and asked for again until
they appear or `GAP_TTL_S` passes (a rolled-back transaction leaves a gap forever).
"""

from __future__ import annotations

import logging
import threading
import time

from tantalio.platform.matchindex import MatchIndex
from tantalio.store.platform import PlatformStore
from tantalio.store.platform.records import IndexChange

log = logging.getLogger(__name__)
GAP_TTL_S = 60.0


class IndexSync:
    def __init__(self, store: PlatformStore, index: MatchIndex) -> None:
        self.store = store
        self.index = index
        self.last_seq = 0
        self._gaps: dict[int, float] = {}
        self._guard_id = 0  # entries with id <= this were bulk-loaded at start-up
        self.lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.loaded_at: float | None = None
        self.load_seconds = 0.0
        self.on_refresh: list = []
        self.on_bulk: list = []  # called for a bulk segment added (op "bulk")

    def full_load(self) -> int:
        """Load every live entry; returns how many rows were read."""
        t0 = time.perf_counter()
        with self.lock:
            start_seq = self.store.max_change_seq()
            n, last_id = self.index.bulk_load(self.store.iter_index_columns())
            self.last_seq = start_seq
            self._guard_id = last_id
        self.load_seconds = time.perf_counter() - t0
        self.loaded_at = time.time()
        self.refresh()
        log.info("index loaded: %d entries in %.1f s", n, self.load_seconds)
        return n

    def gaps(self) -> list[int]:
        return list(self._gaps)

    def position(self, seq: int, gaps: list[int]) -> None:
        """Start following after `seq` (a loaded snapshot's position), asking again for the
        sequence numbers that were still missing when it was written."""
        with self.lock:
            now = time.monotonic()
            self.last_seq = seq
            self._gaps = {g: now for g in gaps}
            self._guard_id = 0
            self.loaded_at = time.time()

    def refresh(self) -> int:
        """Apply pending changes; returns how many change rows were applied."""
        with self.lock:
            changes = self.store.changes_since(self.last_seq, list(self._gaps))
            for c in changes:
                self._apply(c)
            self._track_gaps(changes)
        for hook in self.on_refresh:
            hook()
        return len(changes)

    def _apply(self, c: IndexChange) -> None:
        if c.op == "add":
            for rows in self.store.index_rows_in_runs([(c.first_id, c.last_id)], live_only=True):
                if rows[0].id <= self._guard_id:
                    # May already be in from the start-up load: remove first, add exactly once.
                    self.index.remove_rows([r for r in rows if r.id <= self._guard_id])
                self.index.add_rows(rows)
        elif c.op == "remove":
            for rows in self.store.index_rows_in_runs([(c.first_id, c.last_id)], live_only=False):
                self.index.remove_rows([r for r in rows if r.bank_id == c.bank_id])
        elif c.op == "bulk":
            for hook in self.on_bulk:
                hook()
        else:  # pragma: no cover - written only by PlatformStore
            log.warning("unknown index change op %r at seq %d", c.op, c.seq)

    def _track_gaps(self, changes: list[IndexChange]) -> None:
        now = time.monotonic()
        for c in changes:
            self._gaps.pop(c.seq, None)
        new = sorted(c.seq for c in changes if c.seq > self.last_seq)
        expected = self.last_seq + 1
        for seq in new:
            for missing in range(expected, seq):
                if seq - missing < 10_000:
                    self._gaps.setdefault(missing, now)
            expected = seq + 1
        if new:
            self.last_seq = new[-1]
        for seq, since in list(self._gaps.items()):
            if now - since > GAP_TTL_S:
                del self._gaps[seq]

    # -- background follower -------------------------------------------------------------

    def start(self, interval_s: float) -> None:
        if self._thread is not None:
            return
        self._stop.clear()

        def run() -> None:
            while not self._stop.wait(interval_s):
                try:
                    self.refresh()
                except Exception:  # keep following; the next poll retries
                    log.exception("index refresh failed")

        self._thread = threading.Thread(target=run, name="platform-index-sync", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
