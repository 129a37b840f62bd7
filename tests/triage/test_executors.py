"""The pipeline's executors behind one interface (issue 12): picked from the options, and a
failing task costs its files a reason, whichever executor ran it."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tantalio.demo import synth
from tantalio.store.workspace import init_workspace
from tantalio.triage import executors
from tantalio.triage.dask_backend import DaskOptions
from tantalio.triage.executors import (
    DaskExecutor,
    InlineExecutor,
    ProcessPool,
    WorkerSetup,
    make_executor,
)
from tantalio.triage.pipeline import IngestOptions, ingest
from tantalio.triage.results import triage_rows
from tantalio.triage.worker import Job, JobResult

SETUP = WorkerSetup("sqlite://", None, False, None, 50)


def test_options_pick_the_executor() -> None:
    assert isinstance(make_executor(IngestOptions(), SETUP), ProcessPool)
    assert make_executor(IngestOptions(jobs=3), SETUP).parallelism == 3
    assert isinstance(make_executor(IngestOptions(in_process=True), SETUP), InlineExecutor)
    dask = make_executor(IngestOptions(dask=DaskOptions(local_workers=1)), SETUP)
    assert isinstance(dask, DaskExecutor)  # nothing started until the first exhibit
    remote = DaskExecutor(DaskOptions("tcp://10.0.0.5:8786"), SETUP)
    assert remote.ships_bytes(folder_file=False) and not remote.ships_bytes(folder_file=True)


def test_a_failing_chunk_costs_its_file_a_reason_not_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "ev"
    src.mkdir()
    (src / "fine.png").write_bytes(synth.png_bytes(synth.landscape(random.Random(1), 64, 48)))
    (src / "boom.png").write_bytes(synth.png_bytes(synth.landscape(random.Random(2), 64, 48)))
    real = executors.run_chunk

    def run_chunk(jobs: list[Job]) -> list[JobResult]:
        if any(j.name == "boom.png" for j in jobs):
            raise RuntimeError("decoder exploded")
        return real(jobs)

    monkeypatch.setattr(executors, "run_chunk", run_chunk)
    options = IngestOptions(in_process=True, chunk_files=1, thumbnails=False)
    with init_workspace(tmp_path / "ws") as ws:
        report = ingest(ws, "C", [str(src)], options=options)
        with ws.session() as s:
            rows = {r.path: r for r in triage_rows(s, 1)}
    assert report.exhibits[0].added == 2
    assert rows["fine.png"].error is None and rows["fine.png"].verdict == "new"
    assert rows["boom.png"].error == "fingerprinting failed: RuntimeError: decoder exploded"
