"""Ingest on Dask distributed: the per-file work runs on Dask workers, the rest stays here.

The pipeline hands chunks of files to an executor (`submit(run_chunk, jobs)` and
`concurrent.futures.wait`). With Dask, that executor is the `Client`'s concurrent.futures
adapter, so the walk, the bounded in-flight window, the batched store writes, resumability
and progress are the very code the local process pool uses (docs/decisions/dask.md).

Workers are set up by a worker plugin (sent once per worker, and again to a worker that
joins or is restarted): the store probe for "already stored?", and the hash-entry PDQ
index snapshot — by path on this machine (`--dask-local`), else its files shipped inside
the plugin and written to the worker's local disk, then memory-mapped as usual. Remote
workers send thumbnails back as bytes (the client writes them into the workspace); local
ones write them directly, like the process pool.
"""

from __future__ import annotations

import contextlib
import tempfile
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin

DASHBOARD_OFF = None


@dataclass(slots=True)
class DaskOptions:
    address: str | None = None  # a running scheduler, e.g. tcp://10.0.0.5:8786
    local_workers: int = 0  # or start a LocalCluster of this many worker processes
    send_bytes: bool = False  # folder files read here and shipped (no shared storage)

    @property
    def local(self) -> bool:
        return self.address is None


class _ThreadProbes:
    """One store probe per worker thread (a sqlite3 connection may not cross threads)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.unreachable = False
        self._local = threading.local()

    def stored(self, sha256: str) -> bool:
        """False also when the database cannot be reached from this worker (a SQLite file
        on another machine): the file is then decoded, and the client's insert-or-ignore on
        the SHA-256 keeps one media row; slower, never wrong."""
        if self.unreachable:
            return False
        probe = getattr(self._local, "probe", None)
        try:
            if probe is None:
                from tantalio.store.probe import MediaProbe

                probe = self._local.probe = MediaProbe(self.url)
            return bool(probe.stored(sha256))
        except Exception:
            self.unreachable = True
            return False


@dataclass
class IngestWorkerPlugin(WorkerPlugin):
    """Prepares a Dask worker process for one ingest run (see the module docstring)."""

    db_url: str
    workspace_dir: str | None  # set only when the worker shares this machine's disk
    thumbnails: bool
    min_quality: int
    entry_index_path: str | None = None  # on a shared disk
    entry_index_files: dict[str, bytes] | None = None  # shipped to remote workers
    local_features: bool = False  # extract query local features (issue 13), as the pool does
    name: str = field(default_factory=lambda: f"tantalio-ingest-{uuid.uuid4().hex[:12]}")

    def setup(self, worker: Any) -> None:
        from tantalio.triage import worker as tw

        index = self.entry_index_path
        if self.entry_index_files is not None:
            target = Path(tempfile.mkdtemp(prefix="tantalio-entries-")) / "entries_pdq"
            target.mkdir()
            for rel, data in self.entry_index_files.items():
                (target / rel).write_bytes(data)
            index = str(target)
        tw.init_worker(
            self.db_url,
            self.workspace_dir,
            self.thumbnails,
            index,
            self.min_quality,
            ship_thumbnails=self.thumbnails and self.workspace_dir is None,
            local_features=self.local_features,
        )
        tw._state["probe"] = _ThreadProbes(self.db_url)


def _index_files(path: str | None) -> dict[str, bytes] | None:
    if path is None:
        return None
    root = Path(path)
    return {p.name: p.read_bytes() for p in sorted(root.iterdir()) if p.is_file()}


class DaskPool:
    """The pipeline's pool on Dask: an executor, plus what recovery needs (restart)."""

    def __init__(self, options: DaskOptions) -> None:
        from distributed import Client, LocalCluster

        self.options = options
        self.cluster: Any = None
        if options.local:
            self.cluster = LocalCluster(
                n_workers=max(1, options.local_workers),
                threads_per_worker=1,
                processes=True,
                host="127.0.0.1",
                dashboard_address=DASHBOARD_OFF,
            )
            self.client = Client(self.cluster)
        else:
            self.client = Client(options.address)
        self.plugin_name: str | None = None
        self.executor: Any = self.client.get_executor(pure=False)

    @property
    def workers(self) -> int:
        info = self.client.scheduler_info()
        return sum(int(w.get("nthreads", 1)) for w in info.get("workers", {}).values()) or 1

    def prepare(
        self,
        db_url: str,
        workspace_dir: str | None,
        thumbnails: bool,
        entry_index: str | None,
        min_quality: int,
        *,
        local_features: bool = False,
    ) -> list[str]:
        """Register the worker plugin; returns notes for the run's report (what the user
        should know about this set-up), printed by the CLI instead of a Python warning."""
        local = self.options.local
        notes: list[str] = []
        if not local and db_url.startswith("sqlite"):
            notes.append(
                "--dask with a SQLite workspace: remote workers cannot see the database, so "
                "they decode every file (no 'already stored' check); use PostgreSQL for "
                "multi-machine runs"
            )
        plugin = IngestWorkerPlugin(
            db_url,
            workspace_dir if local else None,
            thumbnails and workspace_dir is not None,
            min_quality,
            entry_index_path=entry_index if local else None,
            entry_index_files=None if local else _index_files(entry_index),
            local_features=local_features,
        )
        self.client.register_plugin(plugin, name=plugin.name)
        self.plugin_name = plugin.name
        return notes

    def restart(self) -> None:
        """A task hangs in a decoder: restart the workers busy with our tasks (a thread
        cannot be stopped; the nanny restarts the process, the plugin sets it up again)."""
        busy = [w for w, keys in self.client.processing().items() if keys]
        # Cancel our tasks first, or the scheduler would hand the hung one to the restarted
        # worker; the pipeline resubmits what it still needs, one file at a time.
        with contextlib.suppress(Exception):
            self.client.cancel(list(self.executor._futures))  # the executor's Dask futures
        if busy:
            with contextlib.suppress(Exception):
                self.client.restart_workers(busy, raise_for_error=False)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.executor.shutdown(wait=False)
        if self.plugin_name is not None:
            with contextlib.suppress(Exception):
                self.client.unregister_worker_plugin(self.plugin_name)
        with contextlib.suppress(Exception):
            self.client.close()
        if self.cluster is not None:
            with contextlib.suppress(Exception):
                self.cluster.close()
