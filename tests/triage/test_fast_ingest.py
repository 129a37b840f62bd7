"""`tantalio ingest --fast` (issue 17): a first pass that hashes and matches exactly without
decoding, then a second (the same command without `--fast`) that decodes only what the
first left pending. Its exact-hash verdicts equal a full ingest's; fast + second pass ends
as a full ingest does, also after `kill -9` during either pass."""

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

TOTAL = 60 + 5 + 10  # pictures, planted files, zip members + the zip itself (demo tree)
EXACT = ("known", "known-good")


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "tantalio.cli.main", *args]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("TANTALIO_DB", None)
    env.pop("TANTALIO_WORKSPACE", None)
    return env


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(_cli(*args), env=_env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done


def _evidence(tmp_path: Path) -> tuple[Path, Path, Path]:
    src = tmp_path / "evidence"
    notes = build_tree(src, n=60)
    bad, good = tmp_path / "known.md5", tmp_path / "good.md5"
    bad.write_text(f"{md5(src / notes['known_exact'])}  stand-in.jpg\n")
    good.write_text(f"{md5(src / 'docs' / 'notes.txt')}  notes.txt\n")
    return src, bad, good


def _prepare(ws: Path, bad: Path, good: Path) -> None:
    _run("init", str(ws))
    for path, kind in ((bad, "known-bad"), (good, "known-good")):
        _run(
            *("hashset", "import", str(path), "--format", "md5sum", "--name", kind),
            *("--kind", kind, "-w", str(ws)),
        )


def _ingest(ws: Path, src: Path, *extra: str) -> list[str]:
    return [
        *("ingest", "CASE-1", str(src), "--batch", "2", "--jobs", "2", "--no-progress"),
        *extra,
        *("-w", str(ws)),
    ]


def _query(ws: Path, sql: str) -> list[tuple[object, ...]]:
    try:
        with sqlite3.connect(f"file:{ws / 'tantalio.db'}?mode=ro", uri=True, timeout=1) as c:
            return list(c.execute(sql).fetchall())
    except sqlite3.Error:
        return []


def _files(ws: Path) -> int:
    rows = _query(ws, "SELECT count(*) FROM file")
    return int(rows[0][0]) if rows else 0  # type: ignore[call-overload]


def _pending(ws: Path) -> int:
    rows = _query(
        ws,
        "SELECT count(*) FROM media WHERE perceptual_pending = 1 AND kind IN ('image', 'video')",
    )
    return int(rows[0][0]) if rows else -1  # type: ignore[call-overload]


def _pending_files(ws: Path) -> int:
    rows = _query(
        ws,
        "SELECT count(*) FROM file JOIN media ON media.id = file.media_id"
        " WHERE media.perceptual_pending = 1 AND media.kind IN ('image', 'video')",
    )
    return int(rows[0][0]) if rows else -1  # type: ignore[call-overload]


def _verdicts(ws: Path) -> dict[str, str]:
    return {str(p): str(v) for p, v in _query(ws, "SELECT path, verdict FROM file")}


def _exact_matches(ws: Path) -> set[tuple[object, ...]]:
    sql = (
        "SELECT media.sha256, match.algorithm, hash_entry.id FROM match"
        " JOIN media ON media.id = match.media_id"
        " JOIN hash_entry ON hash_entry.id = match.hash_entry_id"
        " WHERE match.algorithm IN ('md5', 'sha1', 'sha256')"
    )
    return set(_query(ws, sql))


def _dump(ws: Path) -> dict[str, list[object]]:
    with open_workspace(ws) as w, w.session() as s:
        return canonical_dump(s)


def _assert_same(a: dict[str, list[object]], b: dict[str, list[object]]) -> None:
    for table in sorted(set(a) | set(b)):
        left, right = a.get(table, []), b.get(table, [])
        only_left = [r for r in left if r not in right][:3]
        only_right = [r for r in right if r not in left][:3]
        assert left == right, f"{table}: two-pass-only {only_left} / full-only {only_right}"


def _kill_when(proc: subprocess.Popen[bytes], ready: object) -> None:
    deadline = time.monotonic() + 300
    while not ready() and proc.poll() is None and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)  # the main process, mid-batch
    proc.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # and the orphaned pool workers


def _start(args: list[str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        _cli(*args),
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def test_fast_verdicts_equal_full_exact_verdicts_then_second_pass_equals_full(
    tmp_path: Path,
) -> None:
    src, bad, good = _evidence(tmp_path)
    full, fast = tmp_path / "full", tmp_path / "fast"
    for ws in (full, fast):
        _prepare(ws, bad, good)
    _run(*_ingest(full, src))
    first = _run(*_ingest(fast, src, "--fast"))
    assert f"{TOTAL} added" in first.stdout

    full_v, fast_v = _verdicts(full), _verdicts(fast)
    assert len(fast_v) == TOTAL
    settled = {p: v for p, v in full_v.items() if v in EXACT}
    assert {p: v for p, v in fast_v.items() if v in EXACT} == settled
    assert "known" in settled.values() and "known-good" in settled.values()
    assert _exact_matches(fast) == _exact_matches(full)
    hashes = "SELECT sha256, md5, sha1, size, kind, type FROM media ORDER BY sha256"
    assert _query(fast, hashes) == _query(full, hashes)
    # nothing decoded: no PDQ, no thumbnail, the images and videos wait
    assert _query(fast, "SELECT count(*) FROM media WHERE pdq IS NOT NULL")[0][0] == 0
    assert _pending(fast) > 0
    status = _query(fast, "SELECT status FROM exhibit")
    assert status == [("fast",)]

    second = _run(*_ingest(fast, src))
    assert f"{TOTAL} already stored" in second.stdout
    assert "decoded after a fast pass" in second.stdout
    assert _pending(fast) == 0
    _assert_same(_dump(fast), _dump(full))
    assert _verdicts(fast) == full_v


def test_kill_9_during_each_pass_then_rerun_ends_as_full_ingest(tmp_path: Path) -> None:
    src, bad, good = _evidence(tmp_path)
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    for ws in (clean, killed):
        _prepare(ws, bad, good)
    _run(*_ingest(clean, src))

    # kill -9 during the fast pass; the fast rerun finishes it
    proc = _start(_ingest(killed, src, "--fast"))
    _kill_when(proc, lambda: _files(killed) >= 6)
    stored = _files(killed)
    assert 0 < stored < TOTAL, f"the kill did not land mid-run ({stored} of {TOTAL} files)"
    rerun = _run(*_ingest(killed, src, "--fast"))
    assert f"{stored} already stored" in rerun.stdout
    pending = _pending(killed)
    assert pending > 0

    # kill -9 during the second pass (some media decoded, some still pending)
    proc = _start(_ingest(killed, src))
    _kill_when(proc, lambda: 0 <= _pending(killed) < pending - 4)
    left = _pending(killed)
    assert 0 < left < pending, f"the kill did not land mid-pass ({left} of {pending} pending)"
    _run(*_ingest(killed, src))
    assert _pending(killed) == 0
    _assert_same(_dump(killed), _dump(clean))


def test_second_pass_hashes_nothing_and_reads_each_pending_content_once(tmp_path: Path) -> None:
    """In-process, so this process's hash counter sees every byte the second pass hashes:
    none (the stored MD5/SHA-1/SHA-256 are reused); each pending content decoded once even
    when stored under two paths (`copies/same.jpg` = `dir1/pic001.jpg`)."""
    from tantalio.fingerprint import crypto
    from tantalio.store.workspace import init_workspace
    from tantalio.triage.pipeline import IngestOptions, ingest

    src, _bad, _good = _evidence(tmp_path)
    init_workspace(tmp_path / "ws")
    with open_workspace(tmp_path / "ws") as ws:
        ingest(ws, "CASE-1", [str(src)], None, IngestOptions(fast=True, in_process=True))
        pending = _pending(tmp_path / "ws")
        hashes = "SELECT sha256, md5, sha1, size FROM media ORDER BY sha256"
        before = _query(tmp_path / "ws", hashes)
        crypto.hashed_bytes = 0
        report = ingest(ws, "CASE-1", [str(src)], None, IngestOptions(in_process=True))
    assert crypto.hashed_bytes == 0
    assert report.exhibits[0].completed == pending > 0
    assert _pending(tmp_path / "ws") == 0
    assert _query(tmp_path / "ws", hashes) == before
    assert _query(tmp_path / "ws", "SELECT count(*) FROM media WHERE pdq IS NOT NULL")[0][0] > 0


def test_finish_runs_the_second_pass_from_the_workspace_alone(tmp_path: Path) -> None:
    src, bad, good = _evidence(tmp_path)
    full, fast = tmp_path / "full", tmp_path / "fast"
    for ws in (full, fast):
        _prepare(ws, bad, good)
    _run(*_ingest(full, src))
    _run(*_ingest(fast, src, "--fast"))
    done = _run("ingest", "CASE-1", "--finish", "--jobs", "2", "--no-progress", "-w", str(fast))
    assert "decoded after a fast pass" in done.stdout
    assert _pending(fast) == 0
    _assert_same(_dump(fast), _dump(full))
    assert _verdicts(fast) == _verdicts(full)


def test_finish_reports_changed_and_missing_sources_and_leaves_them_pending(
    tmp_path: Path,
) -> None:
    src, bad, good = _evidence(tmp_path)
    ws = tmp_path / "ws"
    _prepare(ws, bad, good)
    _run(*_ingest(ws, src, "--fast"))
    pending = _pending(ws)
    changed, gone = src / "dir0" / "pic000.png", src / "dir2" / "pic005.jpg"
    changed.write_bytes(changed.read_bytes() + b"tampered")
    gone.unlink()
    done = _run("ingest", "CASE-1", "--finish", "--no-progress", "-w", str(ws))
    assert "1 pending file(s) changed since the fast pass" in done.stderr
    assert "dir0/pic000.png (size)" in done.stderr
    assert "1 pending file(s) missing" in done.stderr and "dir2/pic005.jpg" in done.stderr
    assert _pending(ws) == 2 < pending
    # the stored hashes of the changed file are the fast pass's, not the tampered bytes'
    old = _query(ws, "SELECT media.md5 FROM media JOIN file ON file.media_id = media.id "
                     "WHERE file.path = 'dir0/pic000.png'")  # fmt: skip
    assert old and old[0][0] != md5(changed)


def test_finish_without_the_recorded_source_reports_it(tmp_path: Path) -> None:
    src, bad, good = _evidence(tmp_path)
    ws = tmp_path / "ws"
    _prepare(ws, bad, good)
    _run(*_ingest(ws, src, "--fast"))
    pending = _pending(ws)
    src.rename(tmp_path / "moved")
    done = _run("ingest", "CASE-1", "--finish", "--no-progress", "-w", str(ws))
    assert f"is missing: nothing decoded, its {_pending_files(ws)} pending file(s)" in done.stderr
    assert _pending(ws) == pending
    refused = subprocess.run(
        _cli("ingest", "CASE-1", "--finish", str(src), "-w", str(ws)),
        env=_env(), capture_output=True, text=True,
    )  # fmt: skip
    assert refused.returncode != 0 and "--finish takes the case only" in refused.stderr
