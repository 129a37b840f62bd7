"""Ingest on Dask distributed (docs/decisions/dask.md): the same database as the ordinary
ingest, on SQLite and PostgreSQL, with a real LocalCluster of worker processes."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dask
import pytest
from distributed import Client, LocalCluster
from distributed.diagnostics.plugin import WorkerPlugin
from typer.testing import CliRunner

from tantalio.cli.main import app
from tantalio.demo import synth
from tantalio.demo.tree import build_tree
from tantalio.fingerprint.engine import fingerprint_bytes
from tantalio.store import repo
from tantalio.store.dump import canonical_dump
from tantalio.store.workspace import Workspace, init_workspace, open_workspace
from tantalio.triage.dask_backend import DaskOptions
from tantalio.triage.hashset_import import import_hash_set
from tantalio.triage.pipeline import IngestOptions, ingest
from tantalio.triage.results import triage_rows

pytestmark = pytest.mark.slow  # in the normal suite; about 20 s with its cluster start-ups
ORDINARY = IngestOptions(in_process=True, batch_files=7)


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """Two worker processes on this machine, used as if remote (by address). A task that
    kills its worker is given up at once (no retries), to keep the test short."""
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        lc = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        )
    try:
        yield str(lc.scheduler_address)
    finally:
        lc.close()


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Benign synthetic pictures, a zip with members, a corrupt JPEG; and a hash set
    (HMA CSV) with one picture's PDQ, so the workers' entry-index search is exercised."""
    root = tmp_path_factory.mktemp("dask")
    src = root / "ev"
    notes = build_tree(src, n=6, seed=5)
    pdq = fingerprint_bytes((src / notes["known_near"]).read_bytes()).pdq
    hashes = root / "known.csv"
    hashes.write_text(f"signal_type,signal,category,series\npdq,{pdq},1,Stand-in\n")
    return src, hashes


def _workspace(path: Path, hashes: Path, url: str | None = None) -> Workspace:
    ws = init_workspace(path, database=url)
    import_hash_set(ws, hashes, "hma", "known", "known-bad")
    return ws


def _dump(ws: Workspace) -> dict[str, list[object]]:
    with ws.session() as s:
        return canonical_dump(s)


def _verdicts(ws: Workspace) -> dict[str, tuple[str, str | None]]:
    with ws.session() as s:
        rows = triage_rows(s, repo.get_case(s, "C").id)
        return {r.path: (r.verdict, r.error) for r in rows}


@pytest.fixture(scope="module")
def ordinary(tree: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Any:
    src, hashes = tree
    with _workspace(tmp_path_factory.mktemp("ordinary") / "ws", hashes) as ws:
        ingest(ws, "C", [str(src)], options=ORDINARY)
        return _dump(ws), _verdicts(ws)


def test_dask_local_cli_equals_ordinary_ingest(
    tree: tuple[Path, Path], ordinary: Any, tmp_path: Path
) -> None:
    src, hashes = tree
    _workspace(tmp_path / "ws", hashes).close()
    args = [
        "ingest",
        "C",
        str(src),
        "--dask-local",
        "2",
        "--no-progress",
        "-w",
        str(tmp_path / "ws"),
    ]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "ev: 21 files, 21 added" in result.output
    with open_workspace(tmp_path / "ws") as ws:
        assert _dump(ws) == ordinary[0]
        assert _verdicts(ws)["dir2/pic002.jpg"][0] == "near-known"  # searched on a worker
        assert any((tmp_path / "ws" / "thumbs").rglob("*.jpg"))  # written by the workers


@pytest.mark.postgres
def test_remote_workers_on_postgresql_then_rerun_adds_nothing(
    tree: tuple[Path, Path], ordinary: Any, cluster: str, pg_url: str, tmp_path: Path
) -> None:
    """By address (remote mode): folder files shipped as bytes, the entry index shipped in
    the worker plugin, thumbnails sent back and written here."""
    src, hashes = tree
    options = IngestOptions(batch_files=7, dask=DaskOptions(cluster, send_bytes=True))
    with _workspace(tmp_path / "ws", hashes, pg_url) as ws:
        report = ingest(ws, "C", [str(src)], options=options)
        assert report.exhibits[0].added == 21
        assert _dump(ws) == ordinary[0]
        assert any((tmp_path / "ws" / "thumbs").rglob("*.jpg"))
        again = ingest(ws, "C", [str(src)], options=options)
        assert again.exhibits[0].added == 0 and again.exhibits[0].skipped == 21
        assert _dump(ws) == ordinary[0]


class _Faults(WorkerPlugin):
    """Fault injection on the workers: `boom.jpg` raises inside the task, `die.jpg` kills
    the worker process, `hang.jpg` never returns (set up again on every restarted worker)."""

    name = "tantalio-test-faults"

    def setup(self, worker: Any) -> None:
        from tantalio.triage import worker as tw

        original = getattr(tw, "_original_run_job", tw.run_job)
        tw._original_run_job = original  # type: ignore[attr-defined]

        def faulty(job: Any) -> Any:
            if job.name == "boom.jpg":
                raise RuntimeError("decoder exploded")
            if job.name == "die.jpg":
                os._exit(1)
            if job.name == "hang.jpg":
                time.sleep(3600)
            return original(job)

        tw.run_job = faulty

    def teardown(self, worker: Any) -> None:
        from tantalio.triage import worker as tw

        tw.run_job = getattr(tw, "_original_run_job", tw.run_job)


def test_failing_killing_or_hanging_task_becomes_an_error_record(
    tree: tuple[Path, Path], cluster: str, tmp_path: Path
) -> None:
    src, hashes = tree
    rng = random.Random(8)
    for name in ("boom.jpg", "die.jpg", "fine.jpg", "hang.jpg"):
        synth.write(tmp_path / "ev" / "x" / name, synth.jpeg_bytes(synth.picture(rng, 160, 120)))
    with Client(cluster) as client:
        client.register_plugin(_Faults(), name=_Faults.name)
        try:
            options = IngestOptions(batch_files=7, stall_seconds=2, dask=DaskOptions(cluster))
            with _workspace(tmp_path / "ws", hashes) as ws:
                report = ingest(ws, "C", [str(tmp_path / "ev")], options=options)
                v = _verdicts(ws)
        finally:
            client.unregister_worker_plugin(_Faults.name)
    assert report.exhibits[0].added == 4
    # remote workers + SQLite: said once in the run's report (the CLI prints it), not warned
    [note] = [m for m in report.messages if not m.startswith("classifiers")]
    assert "SQLite workspace" in note and "PostgreSQL" in note
    assert v["x/boom.jpg"] == (
        "unreadable",
        "fingerprinting failed: RuntimeError: decoder exploded",
    )
    assert v["x/die.jpg"] == ("unreadable", "fingerprinting crashed its worker")
    assert v["x/hang.jpg"] == ("unreadable", "fingerprinting timed out")
    assert v["x/fine.jpg"][0] == "new"
