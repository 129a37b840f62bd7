"""Fault injection for the store (issue 14): a full disk, the database restarted mid-ingest
(SQLite and PostgreSQL), damaged evidence. Each run ends with one clear error or completes,
nothing committed is lost, and a rerun leaves the database identical to a clean run."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tantalio.demo import synth
from tantalio.store.dump import canonical_dump
from tantalio.store.errors import ConnectionLostError, DiskFullError
from tantalio.store.workspace import Workspace, init_workspace
from tantalio.triage.pipeline import IngestOptions, ingest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from evidence.ewf_damage import damage_chunk  # noqa: E402
from evidence.helpers import DATA  # noqa: E402

PG_ADMIN_URL = os.environ.get(
    "TANTALIO_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)

OPTIONS = dict(jobs=1, in_process=True, progress=False, batch_files=4, batch_seconds=0.0)


def _pictures(folder: Path, n: int, size: tuple[int, int] = (320, 240), seed: int = 1) -> Path:
    rng = random.Random(seed)
    for i in range(n):
        synth.write(folder / f"p{i:03d}.jpg", synth.jpeg_bytes(synth.picture(rng, *size)))
    return folder


def _dump(ws: Workspace) -> dict[str, list[object]]:
    with ws.session() as s:
        return canonical_dump(s)


def _clean_dump(tmp: Path, sources: list[str], url: str | None = None) -> dict[str, list[object]]:
    ws = init_workspace(tmp / "clean", database=url)
    try:
        ingest(ws, "K", sources, None, IngestOptions(**OPTIONS))  # type: ignore[arg-type]
        return _dump(ws)
    finally:
        ws.close()


# -- disk full ----------------------------------------------------------------------------
@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 2.5 MB tmpfs (root only): a full disk as the kernel reports it (ENOSPC), for
    the SQLite file, thumbnails and temp files alike. Grown afterwards to rerun."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a small tmpfs")
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2500k", "tmpfs", str(mount)], capture_output=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_disk_full_ends_with_one_line_no_leftovers_and_a_rerun_finishes(
    tmp_path: Path, tiny_disk: Path
) -> None:
    small = _pictures(tmp_path / "small", 30)
    big = _pictures(tmp_path / "big", 120, (640, 480), seed=2)
    sources = [str(small), str(big)]
    ws = init_workspace(tiny_disk / "ws")
    with pytest.raises(DiskFullError) as caught:
        ingest(ws, "K", sources, None, IngestOptions(**OPTIONS))  # type: ignore[arg-type]
    message = str(caught.value)
    assert message.startswith("disk full at ") and str(tiny_disk) in message
    assert message.endswith("; nothing lost; rerun to resume")
    assert not list(tiny_disk.rglob("*.tmp"))  # no half-written thumbnails
    with ws.session() as s:
        stored = len(canonical_dump(s)["files"])
    assert stored > 0  # the batches committed before the disk filled are kept
    subprocess.run(["mount", "-o", "remount,size=64m", str(tiny_disk)], check=True)
    ingest(ws, "K", sources, None, IngestOptions(**OPTIONS))  # type: ignore[arg-type]
    assert _dump(ws) == _clean_dump(tmp_path, sources)
    ws.close()


# -- the database restarted mid-ingest --------------------------------------------------
def _count(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as c:
            return int(c.execute(text("SELECT count(*) FROM file")).scalar_one())
    except Exception:
        return 0
    finally:
        engine.dispose()


def _terminate_others(url: str) -> int:
    engine = create_engine(url)
    try:
        with engine.begin() as c:
            return len(
                c.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                ).all()
            )
    finally:
        engine.dispose()


@pytest.fixture
def second_pg(pg_url: str) -> Iterator[str]:
    import psycopg

    name = f"tantalio_test_{uuid.uuid4().hex[:12]}"
    admin = PG_ADMIN_URL.replace("+psycopg", "")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.postgres
def test_postgresql_backends_terminated_mid_ingest(
    tmp_path: Path, pg_url: str, second_pg: str
) -> None:
    """pg_terminate_backend on every connection of the ingest, three times while it runs:
    it carries on over a fresh connection (pool pre-ping) or stops with one clear line;
    either way a rerun ends identical to a clean run."""
    folder = _pictures(tmp_path / "card", 60)
    ws = init_workspace(tmp_path / "ws", database=pg_url)
    errors: list[BaseException] = []

    def run() -> None:
        try:
            ingest(ws, "K", [str(folder)], None, IngestOptions(**OPTIONS))  # type: ignore[arg-type]
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=run)
    worker.start()
    kills = 0
    deadline = time.monotonic() + 120
    for threshold in (8, 24, 40):
        while worker.is_alive() and _count(pg_url) < threshold and time.monotonic() < deadline:
            time.sleep(0.05)
        if worker.is_alive():
            kills += _terminate_others(pg_url)
    worker.join(timeout=300)
    assert not worker.is_alive()
    assert kills > 0, "the ingest finished before a backend could be terminated"
    for exc in errors:
        assert isinstance(exc, ConnectionLostError), repr(exc)
        assert str(exc).endswith("; nothing lost; rerun to resume")
    ws.close()
    ws = init_workspace(tmp_path / "ws", database=pg_url)  # a new process would do this
    ingest(ws, "K", [str(folder)], None, IngestOptions(**OPTIONS))  # type: ignore[arg-type]
    assert _dump(ws) == _clean_dump(tmp_path, [str(folder)], second_pg)
    ws.close()


# -- damaged evidence ---------------------------------------------------------------------
def test_evidence_read_errors_are_recorded_and_a_rerun_changes_nothing(tmp_path: Path) -> None:
    """A corrupt E01 chunk and a zip member failing its CRC: the files are unreadable with
    the reason, the rest is stored, and a rerun (resume) equals a clean run."""
    bad = tmp_path / "bad.E01"
    damage_chunk(DATA / "mbr.E01", bad, 33)
    sources = [str(bad), str(DATA / "badcrc.zip")]
    ws = init_workspace(tmp_path / "ws")
    report = ingest(ws, "K", sources, None, IngestOptions(**OPTIONS))  # type: ignore[arg-type]
    assert [e.unreadable for e in report.exhibits] == [3, 1]
    first = _dump(ws)
    ingest(ws, "K", sources, None, IngestOptions(**OPTIONS))  # type: ignore[arg-type]
    assert _dump(ws) == first == _clean_dump(tmp_path, sources)
    ws.close()
