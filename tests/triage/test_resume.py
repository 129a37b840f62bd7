"""Resumability (issue 3): rerunning adds nothing twice; after `kill -9` in the middle of an
ingest, rerunning finishes and the database ends identical to an uninterrupted run."""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tantalio.demo.tree import build_tree, md5
from tantalio.store.dump import canonical_dump
from tantalio.store.workspace import open_workspace

pytestmark = pytest.mark.slow


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "tantalio.cli.main", *args]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("TANTALIO_DB", None)
    env.pop("TANTALIO_WORKSPACE", None)
    return env


def _prepare(ws: Path, hashes: Path) -> None:
    for cmd in (
        ["init", str(ws)],
        ["hashset", "import", str(hashes), "--format", "md5sum", "--name", "k", "-w", str(ws)],
    ):
        subprocess.run(_cli(*cmd), check=True, env=_env(), capture_output=True)


def _files(ws: Path) -> int:
    try:
        with sqlite3.connect(f"file:{ws / 'tantalio.db'}?mode=ro", uri=True, timeout=1) as c:
            return int(c.execute("SELECT count(*) FROM file").fetchone()[0])
    except sqlite3.Error:
        return 0


def _dump(ws: Path) -> dict[str, list[object]]:
    with open_workspace(ws) as w, w.session() as s:
        return canonical_dump(s)


def _assert_same(a: dict[str, list[object]], b: dict[str, list[object]]) -> None:
    """Equal dumps, or a message naming the table and the first differing rows."""
    for table in sorted(set(a) | set(b)):
        left, right = a.get(table, []), b.get(table, [])
        only_left = [r for r in left if r not in right][:3]
        only_right = [r for r in right if r not in left][:3]
        assert left == right, f"{table}: resumed-only {only_left} / uninterrupted-only {only_right}"


def test_kill_9_then_rerun_equals_uninterrupted(tmp_path: Path) -> None:
    src = tmp_path / "evidence"
    notes = build_tree(src, n=60)
    hashes = tmp_path / "known.md5"
    hashes.write_text(f"{md5(src / notes['known_exact'])}  stand-in.jpg\n")
    total = 60 + 5 + 10  # pictures, planted files, zip members + the zip itself
    ingest = ["ingest", "CASE-1", str(src), "--batch", "4", "--jobs", "2", "--no-progress"]

    clean, killed = tmp_path / "clean", tmp_path / "killed"
    for ws in (clean, killed):
        _prepare(ws, hashes)
    subprocess.run(_cli(*ingest, "-w", str(clean)), check=True, env=_env(), capture_output=True)
    assert _files(clean) == total

    proc = subprocess.Popen(
        _cli(*ingest, "-w", str(killed)),
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while _files(killed) < 12 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)  # the main process, mid-batch
    proc.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # and the orphaned pool workers
    stored = _files(killed)
    assert 0 < stored < total, f"the kill did not land mid-run ({stored} of {total} files)"

    rerun = subprocess.run(
        _cli(*ingest, "-w", str(killed)), env=_env(), capture_output=True, text=True
    )
    assert rerun.returncode == 0, rerun.stderr
    assert f"{stored} already stored" in rerun.stdout

    _assert_same(_dump(killed), _dump(clean))

    # And a third run over a complete exhibit adds nothing at all.
    again = subprocess.run(
        _cli(*ingest, "-w", str(clean)), env=_env(), capture_output=True, text=True
    )
    assert f"0 added, {total} already stored" in again.stdout
    assert _dump(clean) == _dump(killed)
