"""`ingest CASE --finish` over an exhibit read from several sources (issue 17): the exhibit
records every source with the prefix its paths got (`exhibit_source`), the second pass walks
each, a source that is gone is named and its pictures stay pending while the others' are
decoded, and whatever reads a file again (retro matching, the media page) finds it in the
source that holds it."""

from __future__ import annotations

import io
import os
import random
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sqlalchemy import select

from tantalio.demo import synth
from tantalio.demo.tree import build_tree
from tantalio.fingerprint import crypto
from tantalio.store.cases import ExhibitSource, File, source_walk_path
from tantalio.store.matching import media_sources
from tantalio.store.web_media import source_candidates
from tantalio.store.workspace import Workspace, init_workspace
from tantalio.triage.pipeline import IngestOptions, finish_pending, ingest

from .test_fast_ingest import _assert_same, _dump, _env, _kill_when, _start

pytestmark = pytest.mark.slow

PENDING_MEDIA = (
    "SELECT count(DISTINCT media.id) FROM media JOIN file ON file.media_id = media.id"
    " WHERE media.perceptual_pending AND media.kind IN ('image', 'video')"
)


def _sources(root: Path) -> list[Path]:
    """Two folders and an archive (its members are named `cam.zip/...` by the walk). No
    picture of B or the archive is in A (the demo tree's corrupt JPEG would be)."""
    build_tree(root / "A", n=16, seed=1)
    build_tree(root / "B", n=8, seed=2)
    (root / "B" / "broken.jpg").unlink()
    rng = random.Random(3)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(4):
            zf.writestr(f"DCIM/c{i}.jpg", synth.jpeg_bytes(synth.picture(rng, 320, 240)))
    synth.write(root / "cam.zip", buf.getvalue())
    return [root / "A", root / "B", root / "cam.zip"]


def _scalar(ws: Workspace, sql: str, **params: object) -> int:
    from sqlalchemy import text

    with ws.session() as s:
        return int(s.execute(text(sql), params).scalar() or 0)


def _pending_under(ws: Workspace, root: str, what: str = "DISTINCT media.id") -> int:
    sql = PENDING_MEDIA.replace("DISTINCT media.id", what) + " AND file.path LIKE :p"
    return _scalar(ws, sql, p=root + "%")


def _decoded_under(ws: Workspace, root: str) -> int:
    sql = (
        "SELECT count(DISTINCT media.id) FROM media JOIN file ON file.media_id = media.id"
        " WHERE media.pdq IS NOT NULL AND file.path LIKE :p"
    )
    return _scalar(ws, sql, p=root + "%")


def test_source_walk_path_tells_the_sources_of_an_exhibit_apart() -> None:
    assert source_walk_path("/e/A", "A/", "folder", "A/dir0/x.jpg") == "dir0/x.jpg"
    assert source_walk_path("/e/A", "A/", "folder", "B/dir0/x.jpg") is None
    assert source_walk_path("/e/cam.zip", "", "zip", "cam.zip/DCIM/c0.jpg") == "cam.zip/DCIM/c0.jpg"
    assert source_walk_path("/e/cam.zip", "", "zip", "cam.zip") == "cam.zip"
    assert source_walk_path("/e/cam.zip", "", "zip", "A/cam.zip/x.jpg") is None
    # an exhibit of one folder (or one recorded before the table): every path is its own
    assert source_walk_path("/e/A", "", "folder", "dir0/x.jpg") == "dir0/x.jpg"
    assert source_walk_path("/e/A", "", None, "B/x.jpg") == "B/x.jpg"


def test_finish_decodes_every_source_of_the_exhibit_and_hashes_nothing(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Relative source paths given in one folder, `--finish` run from another: the
    recorded sources are absolute. In-process, so the hash counter sees every byte."""
    evidence = tmp_path / "evidence"
    _sources(evidence)
    monkeypatch.chdir(evidence)
    with init_workspace(tmp_path / "ws", database=db_url) as ws:
        fast = IngestOptions(fast=True, in_process=True, progress=False)
        ingest(ws, "CASE-1", ["A", "B", "cam.zip"], "X", fast)
        with ws.session() as s:
            recorded = [(r.path, r.prefix, r.kind) for r in s.scalars(select(ExhibitSource))]
        assert recorded == [
            (str(evidence / "A"), "A/", "folder"),
            (str(evidence / "B"), "B/", "folder"),
            (str(evidence / "cam.zip"), "", "zip"),
        ]
        roots = ("A/", "B/", "cam.zip/")
        before = {r: _pending_under(ws, r) for r in roots}
        assert all(n > 0 for n in before.values()), before
        pending = _scalar(ws, PENDING_MEDIA)

        monkeypatch.chdir(tmp_path)
        crypto.hashed_bytes = 0
        report = finish_pending(ws, "CASE-1", IngestOptions(in_process=True, progress=False))
        assert crypto.hashed_bytes == 0
        assert report.exhibits[0].completed == pending
        assert report.exhibits[0].added == 0 and report.exhibits[0].messages == []
        assert _scalar(ws, PENDING_MEDIA) == 0
        for root in roots:
            assert _decoded_under(ws, root) > 0, root
        assert _scalar(ws, "SELECT count(*) FROM exhibit WHERE status = 'complete'") == 1

        # readers of the evidence find a file of the second folder in it, not in the first
        with ws.session() as s:
            mid = s.scalar(select(File.media_id).where(File.path == "B/dir2/pic005.jpg"))
            assert mid is not None
            assert media_sources(s, [mid])[mid] == [(str(evidence / "B"), "dir2/pic005.jpg")]
            found = [(src, p) for src, p, _ in source_candidates(s, mid)]
            assert found == [(str(evidence / "B"), "dir2/pic005.jpg")]
            mid = s.scalar(select(File.media_id).where(File.path == "cam.zip/DCIM/c0.jpg"))
            assert mid is not None
            assert media_sources(s, [mid])[mid] == [
                (str(evidence / "cam.zip"), "cam.zip/DCIM/c0.jpg")
            ]


def test_finish_names_a_missing_source_and_decodes_the_others(tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    a, b, cam = _sources(evidence)
    with init_workspace(tmp_path / "ws") as ws:
        fast = IngestOptions(fast=True, in_process=True, progress=False)
        ingest(ws, "CASE-1", [str(a), str(b), str(cam)], "X", fast)
        held = {r: _pending_under(ws, r) for r in ("B/", "cam.zip/")}
        files = {r: _pending_under(ws, r, "file.id") for r in held}
        cam.rename(tmp_path / "cam-moved.zip")
        b.rename(tmp_path / "B-moved")
        options = IngestOptions(in_process=True, progress=False)
        report = finish_pending(ws, "CASE-1", options)
        messages = report.exhibits[0].messages
        assert messages == [
            f"source {b} (paths B/...) is missing: nothing decoded, "
            f"its {files['B/']} pending file(s) stay pending",
            f"source {cam} is missing: nothing decoded, "
            f"its {files['cam.zip/']} pending file(s) stay pending",
        ]
        assert _pending_under(ws, "A/") == 0 and _decoded_under(ws, "A/") > 0
        assert {r: _pending_under(ws, r) for r in held} == held  # as the fast pass left them
        # not complete: the run that finds them again runs the exhibit analyzers as well
        assert _scalar(ws, "SELECT count(*) FROM exhibit WHERE status = 'fast'") == 1

        (tmp_path / "B-moved").rename(b)
        (tmp_path / "cam-moved.zip").rename(cam)
        report = finish_pending(ws, "CASE-1", options)
        assert report.exhibits[0].messages == []
        assert _scalar(ws, PENDING_MEDIA) == 0
        assert _decoded_under(ws, "B/") > 0 and _decoded_under(ws, "cam.zip/") > 0
        assert _scalar(ws, "SELECT count(*) FROM exhibit WHERE status = 'complete'") == 1


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "tantalio.cli.main", *args]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(_cli(*args), env=_env(), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done


def _query(ws: Path, sql: str) -> int:
    try:
        with sqlite3.connect(f"file:{ws / 'tantalio.db'}?mode=ro", uri=True, timeout=1) as c:
            return int(c.execute(sql).fetchone()[0])
    except sqlite3.Error:
        return -1


def test_kill_9_in_either_pass_of_a_multi_source_exhibit_then_finish_ends_as_full_ingest(
    tmp_path: Path,
) -> None:
    sources = [str(p) for p in _sources(tmp_path / "evidence")]
    clean, killed = tmp_path / "clean", tmp_path / "killed"
    for ws in (clean, killed):
        _run("init", str(ws))
    common = ("--batch", "2", "--jobs", "2", "--no-progress")
    _run("ingest", "CASE-1", *sources, "--exhibit", "X", *common, "-w", str(clean))
    total = _query(clean, "SELECT count(*) FROM file")

    # kill -9 during the fast pass (halfway, so that many pictures wait for the second
    # pass): `--finish` alone, no sources given, finishes the walk and decodes
    proc = _start(["ingest", "CASE-1", *sources, "--exhibit", "X", "--fast", *common,
                   "-w", str(killed)])  # fmt: skip
    _kill_when(proc, lambda: _query(killed, "SELECT count(*) FROM file") >= total // 2)
    stored = _query(killed, "SELECT count(*) FROM file")
    assert 0 < stored < total, f"the kill did not land mid-run ({stored} of {total} files)"
    assert _query(killed, "SELECT count(*) FROM exhibit_source") == 3

    # kill -9 during --finish (some pictures decoded, some pending), then --finish again
    pending = _query(killed, PENDING_MEDIA)
    assert pending > 0
    proc = _start(["ingest", "CASE-1", "--finish", *common, "-w", str(killed)])
    _kill_when(proc, lambda: 0 <= _query(killed, PENDING_MEDIA) < pending - 4)
    left = _query(killed, PENDING_MEDIA)
    assert 0 < left < pending, f"the kill did not land mid-pass ({left} of {pending} pending)"
    done = _run("ingest", "CASE-1", "--finish", *common, "-w", str(killed))
    assert "pending file(s)" not in done.stderr, done.stderr
    assert _query(killed, PENDING_MEDIA) == 0
    _assert_same(_dump(killed), _dump(clean))
    assert os.path.isdir(sources[0])  # the evidence is where it was: read-only walks
