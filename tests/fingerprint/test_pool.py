"""fingerprint_many: input order, and a crashing or hanging decoder never stops the run.

The faults are injected into the decoder of forked workers (`mp_context="fork"` makes the
workers inherit the patched function): a real SIGSEGV and a real hang, in real processes.
"""

from __future__ import annotations

import faulthandler
import hashlib
import os
import signal
import time
from pathlib import Path

import pytest

from tantalio.fingerprint import FingerprintConfig, fingerprint_file, fingerprint_many
from tantalio.fingerprint import image as image_mod


def _corpus(tmp_path: Path, data_dir: Path, n: int = 12) -> list[Path]:
    sources = ["photo.jpg", "photo.png", "anim.gif", "exif.jpg", "clip.mp4", "photo.webp"]
    paths = []
    for i in range(n):
        src = data_dir / sources[i % len(sources)]
        dst = tmp_path / f"{i:02d}_{src.name}"
        dst.write_bytes(src.read_bytes())
        paths.append(dst)
    (tmp_path / "zz.txt").write_text("plain text")
    return [*paths, tmp_path / "zz.txt", tmp_path / "missing.png"]


def test_results_in_input_order_and_equal_to_single_calls(tmp_path: Path, data_dir: Path) -> None:
    paths = _corpus(tmp_path, data_dir)
    got = list(fingerprint_many(paths, jobs=2, chunksize=2))
    assert [fp.path for fp in got] == [str(p) for p in paths]
    assert got == [fingerprint_file(p) for p in paths]
    assert list(fingerprint_many(iter(paths[:3]), jobs=0)) == got[:3]


def test_empty_input() -> None:
    assert list(fingerprint_many([], jobs=2)) == []


def test_crash_and_hang_are_isolated(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = _corpus(tmp_path, data_dir, n=8)
    crash, hang = tmp_path / "crash.png", tmp_path / "hang.png"
    for p in (crash, hang):
        p.write_bytes((data_dir / "photo.png").read_bytes() + p.name.encode())
    real_decode = image_mod.decode

    def faulty(data: bytes, type_: str, cfg: FingerprintConfig):  # type: ignore[no-untyped-def]
        if data.endswith(b"crash.png"):
            faulthandler.disable()  # a quiet crash: pytest's traceback dump is not the point
            os.kill(os.getpid(), signal.SIGSEGV)
        if data.endswith(b"hang.png"):
            time.sleep(3600)
        return real_decode(data, type_, cfg)

    monkeypatch.setattr(image_mod, "decode", faulty)
    order = [*paths[:3], crash, *paths[3:6], hang, *paths[6:]]
    cfg = FingerprintConfig(timeout_s=1.0, mp_context="fork")
    started = time.monotonic()
    got = list(fingerprint_many(order, jobs=2, config=cfg, chunksize=3))
    assert time.monotonic() - started < 30
    assert [fp.path for fp in got] == [str(p) for p in order]
    by_path = {fp.path: fp for fp in got}
    for path, phrase in ((crash, "worker crashed (SIGSEGV)"), (hang, "timed out after 1s")):
        fp = by_path[str(path)]
        assert fp.error and fp.error.startswith(phrase), fp.error
        assert fp.type == "png" and fp.pdq is None
        assert fp.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    others = [fp for fp in got if fp.path not in (str(crash), str(hang))]
    assert all(fp.pdq for fp in others if fp.kind == "image")
    assert all(fp.frames for fp in others if fp.kind == "video")


def test_worker_dying_while_idle_costs_no_file(tmp_path: Path, data_dir: Path) -> None:
    """A worker killed between files (the OOM killer, an operator) is replaced and the file
    that was about to be sent to it is fingerprinted normally, without an error."""
    import multiprocessing

    first, second = tmp_path / "1.png", tmp_path / "2.png"
    for p in (first, second):
        p.write_bytes((data_dir / "photo.png").read_bytes())

    def paths():
        yield first
        time.sleep(1.0)  # the only worker finishes the first file and waits for more
        for child in multiprocessing.active_children():
            if child.name == "tantalio-fp":
                child.kill()
                child.join()
        yield second

    cfg = FingerprintConfig(mp_context="fork")
    got = list(fingerprint_many(paths(), jobs=1, config=cfg, chunksize=1))
    assert [fp.path for fp in got] == [str(first), str(second)]
    assert all(fp.error is None and fp.pdq for fp in got)
