"""Evidence is never modified; nothing is written outside the private temp area; `open`
lifetimes are what the docs promise; every source kind is registered."""

from __future__ import annotations

import hashlib
import importlib
import inspect
import os
import pkgutil
import shutil
import stat
import tempfile
import threading
from pathlib import Path

import pytest

import tantalio.evidence.kinds
from tantalio.evidence import (
    EvidenceExpiredError,
    EvidenceLimits,
    EvidenceReadError,
    detach,
    open_source,
    registry,
)
from tantalio.evidence.base import SourceKind

from .helpers import DATA, EXPECTED, walk

OLD = 1_500_000_000  # atime/mtime set on the copies: older than anything a read would stamp


def _snapshot(root: Path) -> dict[str, tuple[str, int, int]]:
    """sha256, mtime and atime of every file (taken without opening through the walker)."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            st = path.stat()
            with open(path, "rb") as f:  # noqa: PTH123
                digest = hashlib.sha256(f.read()).hexdigest()
            os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # undo our own read's atime
            out[str(path.relative_to(root))] = (digest, st.st_mtime_ns, st.st_atime_ns)
    return out


@pytest.fixture
def evidence(tmp_path: Path, disks: Path) -> Path:
    """Every fixture in one folder, with old times so an access-time update would show."""
    root = tmp_path / "evidence"
    shutil.copytree(DATA, root)
    for name in ("fat.img", "mbr.dd", "ext4.img", "gpt-ntfs.dd"):
        shutil.copy(disks / name, root / name)
    for path in root.rglob("*"):
        os.utime(path, (OLD, OLD))
    return root


def _sources(root: Path) -> list[Path]:
    return [root] + sorted(p for p in root.iterdir() if p.is_file())


def test_walking_every_source_leaves_bytes_and_times_unchanged(evidence: Path) -> None:
    before = _snapshot(evidence)
    for source in _sources(evidence):
        walk(source)
    assert _snapshot(evidence) == before


def test_nothing_is_written_outside_the_private_temp_area(
    evidence: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    area = tmp_path / "area"
    system_tmp = tmp_path / "system-tmp"
    cwd = tmp_path / "cwd"
    for d in (area, system_tmp, cwd):
        d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(system_tmp))
    monkeypatch.chdir(cwd)
    listing = sorted(str(p) for p in evidence.rglob("*"))
    # A tiny buffer forces every spool path: nested zip/7z, 7z members, single .gz files.
    limits = EvidenceLimits(buffer_size=1000, temp_dir=str(area))
    spooled: list[tuple[int, int]] = []
    for source in _sources(evidence):
        for f in open_source(source, limits):
            for private in area.iterdir():
                spooled.append((stat.S_IMODE(private.stat().st_mode), len(os.listdir(private))))
                for spool in private.iterdir():
                    assert stat.S_IMODE(spool.stat().st_mode) == 0o600
            if f.path == "nested.zip/more.7z/e.png":
                assert f.open is not None
                with f.open() as stream:
                    assert hashlib.sha256(stream.read()).hexdigest() == EXPECTED["e.png"]
    assert spooled and {mode for mode, _ in spooled} == {0o700}
    assert max(count for _, count in spooled) >= 1
    assert list(area.iterdir()) == []
    assert list(system_tmp.iterdir()) == []
    assert list(cwd.iterdir()) == []
    assert sorted(str(p) for p in evidence.rglob("*")) == listing


def test_abandoning_a_walk_midway_cleans_up_and_stops_7z_extraction(tmp_path: Path) -> None:
    limits = EvidenceLimits(buffer_size=1000, temp_dir=str(tmp_path))
    walker = open_source(DATA / "nested.zip", limits)
    for f in walker:
        if f.path == "nested.zip/more.7z/e.png":
            break
    assert any(t.name == "tantalio-7z" for t in threading.enumerate())
    walker.close()  # type: ignore[attr-defined]
    assert list(tmp_path.iterdir()) == []
    assert not any(t.name == "tantalio-7z" and t.is_alive() for t in threading.enumerate())


def test_archive_members_expire_when_the_walk_advances_unless_detached() -> None:
    kept = []
    expired = []
    for f in open_source(DATA / "photos.tar.gz"):
        if f.path.endswith(".jpg"):
            expired.append(f)
            kept.append(detach(f))
    with pytest.raises(EvidenceExpiredError, match="photos.tar.gz/DCIM/a.jpg"):
        assert expired[0].open is not None
        expired[0].open()
    assert kept[0].open is not None
    with kept[0].open() as stream:
        assert hashlib.sha256(stream.read()).hexdigest() == EXPECTED["a.jpg"]


def test_detach_refuses_files_above_its_bound() -> None:
    for f in open_source(DATA / "photos.tar"):
        if f.path.endswith("b.png"):
            with pytest.raises(EvidenceReadError, match="exceed"):
                detach(f, max_bytes=100)
            return


def test_streams_are_read_only() -> None:
    for f in open_source(DATA / "nested.zip"):
        if f.open is None:
            continue
        with f.open() as stream:
            assert not stream.writable()
            with pytest.raises(OSError):
                stream.write(b"x")  # type: ignore[call-overload]


def test_every_kind_module_is_registered() -> None:
    registered = {type(kind) for kind in registry.KINDS}
    found = set()
    for info in pkgutil.iter_modules(tantalio.evidence.kinds.__path__):
        module = importlib.import_module(f"tantalio.evidence.kinds.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(cls, SourceKind)
                and cls.__module__ == module.__name__
                and not inspect.isabstract(cls)
                and not cls.__name__.startswith("_")
            ):
                found.add(cls)
    assert found and found <= registered
    names = [kind.name for kind in registry.KINDS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize(
    ("head", "name", "top", "expected"),
    [
        (b"PK\x03\x04", "renamed.jpg", False, "zip"),  # magic wins over the name
        (b"\xff\xd8\xff\xe0", "photo.gz", False, None),  # a JPEG named .gz is a JPEG
        (b"EVF\x09\x0d\x0a\xff\x00", "x.E01", True, "ewf"),
        (b"EVF\x09\x0d\x0a\xff\x00", "x.E01", False, None),  # disks only as the source
        (b"\x00" * 257 + b"ustar", "noext", False, "tar"),
        (b"junk", "x.zip", False, None),  # names decide nothing for archives
        (b"junk", "x.dd", True, "raw"),  # ...but do for a disk image given as the source
        (b"junk", "x.dd", False, None),
    ],
)
def test_recognition(head: bytes, name: str, top: bool, expected: str | None) -> None:
    kind = registry.detect(head.ljust(512, b"\x00"), name, top_level=top)
    assert (kind.name if kind else None) == expected
