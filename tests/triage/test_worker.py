"""The worker reads each file once and hashes it once; large files take their own path."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tantalio.demo import synth
from tantalio.demo.tree import build_tree
from tantalio.store.dump import canonical_dump
from tantalio.store.workspace import init_workspace
from tantalio.triage import worker
from tantalio.triage.pipeline import IngestOptions, ingest

FAST = IngestOptions(in_process=True, batch_files=7)


def _ingest_dump(src: Path, ws_dir: Path) -> dict[str, list[object]]:
    with init_workspace(ws_dir) as ws:
        ingest(ws, "C", [str(src)], options=FAST)
        ingest(ws, "D", [str(src)], options=FAST)  # everything stored: looked up, not decoded
        with ws.session() as s:
            return canonical_dump(s)


def test_large_file_path_stores_what_the_in_memory_path_stores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "ev"
    build_tree(src, n=8, seed=4)
    synth.write(src / "clip.mp4", synth.video_bytes(random.Random(3), seconds=2))
    in_memory = _ingest_dump(src, tmp_path / "ws1")
    monkeypatch.setattr(worker, "INLINE_MAX", 0)  # every folder file counts as large
    large = _ingest_dump(src, tmp_path / "ws2")
    assert large == in_memory
    assert any(row for row in in_memory["media"])


def test_stored_content_is_not_fingerprinted_again(tmp_path: Path) -> None:
    rng = random.Random(2)
    data = synth.jpeg_bytes(synth.picture(rng, 300, 200))
    synth.write(tmp_path / "a" / "x.jpg", data)
    synth.write(tmp_path / "b" / "y.jpg", data)
    with init_workspace(tmp_path / "ws") as ws:
        ingest(ws, "A", [str(tmp_path / "a")], options=FAST)
        worker.init_worker(ws.url, str(ws.dir), thumbnails=True)
        result = worker.run_job(worker.Job(1, "y.jpg", path=str(tmp_path / "b" / "y.jpg")))
    assert result.sha256 is not None and result.fingerprint is None and result.error is None
    assert result.size == len(data)
