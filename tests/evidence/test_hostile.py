"""Hostile and broken input: recorded with a reason, never followed, never fatal."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from tantalio.evidence import EvidenceLimits

from .helpers import DATA, EXPECTED, by_path, walk


def test_zip_slip_and_absolute_names_are_hashed_under_a_safe_path_links_not_followed() -> None:
    files = by_path(walk(DATA / "zipslip.zip"))
    assert set(files) == {
        "zipslip.zip/%2E%2E/%2E%2E/evil.txt",
        "zipslip.zip/%2Fetc/abs.txt",
        "zipslip.zip/%2E%2E/%2E%2E/win.txt",
        "zipslip.zip/ok/fine.txt",
        "zipslip.zip/link",
        "zipslip.zip",
    }
    # issue 14: known bytes behind a hostile name must still be matched (nothing is
    # written to disk, so reading them is safe)
    sha = hashlib.sha256
    assert files["zipslip.zip/%2E%2E/%2E%2E/evil.txt"].sha256 == sha(b"traversal\n").hexdigest()
    assert files["zipslip.zip/%2Fetc/abs.txt"].sha256 == sha(b"absolute\n").hexdigest()
    win = files["zipslip.zip/%2E%2E/%2E%2E/win.txt"]
    assert win.sha256 == sha(b"backslash traversal\n").hexdigest() and win.error is None
    assert files["zipslip.zip/link"].error == "symbolic link to '/etc/passwd'; not followed"
    assert files["zipslip.zip/link"].sha256 is None  # open is None
    assert files["zipslip.zip/ok/fine.txt"].sha256 == EXPECTED["notes.txt"]
    assert files["zipslip.zip"].error is None


def test_tar_traversal_links_and_special_files() -> None:
    files = by_path(walk(DATA / "hostile.tar"))
    errors = {p: s.error for p, s in files.items() if s.error}
    assert errors == {
        "hostile.tar/sym": "symbolic link to '/etc/shadow'; not followed",
        "hostile.tar/hard": "hard link to 'ok.txt' (listed at its own path); not followed",
        "hostile.tar/fifo": "not a regular file (a FIFO); not opened",
    }
    sha = hashlib.sha256
    assert files["hostile.tar/%2E%2E/escape.txt"].sha256 == sha(b"traversal\n").hexdigest()
    assert files["hostile.tar/%2Fabs.txt"].sha256 == sha(b"absolute\n").hexdigest()
    assert files["hostile.tar/ok.txt"].sha256 == EXPECTED["notes.txt"]


def test_7z_traversal_names_are_hashed_and_nothing_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import py7zr

    payload = b"seven traversal\n"
    # py7zr refuses to write such a name; a hostile archiver would not
    monkeypatch.setattr(py7zr.py7zr, "check_archive_path", lambda _: True)
    with py7zr.SevenZipFile(tmp_path / "slip.7z", "w") as z:
        z.writestr(payload, "../../seven.txt")
        z.writestr(b"ok\n", "ok.txt")
    monkeypatch.undo()
    before = set(tmp_path.parent.iterdir())
    files = by_path(walk(tmp_path / "slip.7z"))
    assert files["slip.7z/%2E%2E/%2E%2E/seven.txt"].sha256 == hashlib.sha256(payload).hexdigest()
    assert set(tmp_path.parent.iterdir()) == before  # nothing extracted beside the archive
    assert not (tmp_path.parent.parent / "seven.txt").exists()


def test_a_7z_made_from_stdin_is_read(tmp_path: Path) -> None:
    """`7z a -si` stores one member with no name and the pipe's mode (issue 14); the fixture
    was made by `7z a -si` (scripts/make_evidence_fixtures.py), and a fresh one is made too
    where 7z is installed."""
    data = (DATA / "tree" / "DCIM" / "100CAM" / "IMG_0001.jpg").read_bytes()
    archives = [DATA / "stdin.7z"]
    if shutil.which("7z") is not None:
        subprocess.run(
            ["7z", "a", "-si", str(tmp_path / "fresh.7z")],
            input=data,
            check=True,
            capture_output=True,
        )
        archives.append(tmp_path / "fresh.7z")
    for archive in archives:
        files = by_path(walk(archive))
        assert files[archive.name].error is None, files[archive.name].error
        members = [s for p, s in files.items() if p != archive.name]
        assert [s.sha256 for s in members] == [EXPECTED["a.jpg"]], members


def test_zip_bomb_member_is_refused_from_its_header() -> None:
    files = by_path(walk(DATA / "bomb.zip"))
    bomb = files["bomb.zip/zeros.bin"]
    assert bomb.size == 8 << 20
    assert bomb.sha256 is None
    assert bomb.error is not None
    assert bomb.error.startswith("zip bomb: compression ratio 1,028:1 exceeds the limit 100:1")
    assert files["bomb.zip/small.txt"].sha256 == EXPECTED["notes.txt"]
    assert files["bomb.zip"].error is None


def test_ratio_limit_is_configuration() -> None:
    files = by_path(walk(DATA / "bomb.zip", EvidenceLimits(max_ratio=2000)))
    assert files["bomb.zip/zeros.bin"].error is None
    assert files["bomb.zip/zeros.bin"].sha256 is not None


def test_tar_gz_bomb_stops_expansion_and_says_so_on_the_archive() -> None:
    files = by_path(walk(DATA / "bomb.tar.gz"))
    assert files["bomb.tar.gz/ok.txt"].sha256 == EXPECTED["notes.txt"]
    bomb = files["bomb.tar.gz/zeros.bin"]
    assert bomb.sha256 is None and (bomb.error or "").startswith("zip bomb: compression ratio")
    archive = files["bomb.tar.gz"]
    assert archive.error is not None and archive.error.endswith("expansion stopped")
    assert archive.sha256 is not None


def test_single_gzip_bomb_is_stopped_by_the_stream_guard() -> None:
    files = by_path(walk(DATA / "bomb.gz"))
    inner = files["bomb.gz/bomb"]
    assert inner.sha256 is None
    assert (inner.error or "").startswith("zip bomb: compression ratio")


def test_member_and_total_size_limits() -> None:
    files = by_path(walk(DATA / "photos.tar.gz", EvidenceLimits(max_member_size=2000)))
    assert files["photos.tar.gz/DCIM/a.jpg"].error is None  # 1,705 bytes
    assert (files["photos.tar.gz/DCIM/b.png"].error or "").startswith(
        "member of 4,551 bytes exceeds the member size limit 2,000"
    )
    files = by_path(walk(DATA / "photos.tar", EvidenceLimits(max_total_size=2000)))
    assert files["photos.tar/DCIM/a.jpg"].error is None
    assert (files["photos.tar/DCIM/b.png"].error or "").startswith(
        "archive expansion would exceed the total-size limit 2,000 bytes"
    )


def test_member_count_limit_is_reported_on_the_archive() -> None:
    seen = walk(DATA / "nested.zip", EvidenceLimits(max_members=1))
    files = by_path(seen)
    assert "nested.zip/photos/a.jpg" in files
    assert "nested.zip/inner.tar.gz" not in files
    assert files["nested.zip"].error == (
        "zip lists 3 members; only the first 1 were listed (member-count limit)"
    )


def test_encrypted_zip_member() -> None:
    files = by_path(walk(DATA / "encrypted.zip"))
    assert files["encrypted.zip/secret.jpg"].error == (
        "encrypted member (password required); not opened"
    )
    assert files["encrypted.zip/secret.jpg"].size == 1705
    assert files["encrypted.zip/plain.txt"].sha256 == EXPECTED["notes.txt"]


def test_encrypted_7z_content_and_names() -> None:
    files = by_path(walk(DATA / "encrypted.7z"))
    assert files["encrypted.7z/secret.png"].error == (
        "encrypted member (password required); not opened"
    )
    assert files["encrypted.7z/secret.png"].size == 4458
    assert files["encrypted.7z"].error is None
    seen = walk(DATA / "encrypted-names.7z")
    assert len(seen) == 1
    assert seen[0].error == (
        "encrypted 7z archive: file names are encrypted too (password required); not expanded"
    )
    assert seen[0].sha256 is not None  # the archive's own bytes can still match a hash set


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("corrupt.zip", "corrupt zip archive: BadZipFile: File is not a zip file"),
        (
            "corrupt.tar.gz",
            "corrupt gzip archive: EOFError: Compressed file ended before the "
            "end-of-stream marker was reached",
        ),
    ],
)
def test_corrupt_archive_is_recorded_not_fatal(name: str, reason: str) -> None:
    seen = walk(DATA / name)
    assert seen[-1].path == name
    assert seen[-1].error == reason
    assert seen[-1].sha256 is not None


def test_corrupt_member_data_fails_on_read_as_os_error() -> None:
    seen = walk(DATA / "badcrc.zip")
    assert seen[0].path == "badcrc.zip/notes.txt"
    assert seen[0].read_error is not None
    assert "badcrc.zip/notes.txt" in seen[0].read_error
    assert "Bad CRC-32" in seen[0].read_error or "Error -3" in seen[0].read_error


def test_a_bad_archive_inside_a_folder_does_not_stop_the_walk(tmp_path: object) -> None:
    import shutil
    from pathlib import Path

    root = Path(str(tmp_path)) / "mixed"
    root.mkdir()
    for name in ("corrupt.zip", "bomb.zip", "encrypted-names.7z", "photos.tar.gz"):
        shutil.copy(DATA / name, root / name)
    files = by_path(walk(root))
    assert files["corrupt.zip"].error is not None
    assert files["encrypted-names.7z"].error is not None
    assert files["photos.tar.gz/DCIM/b.png"].sha256 == EXPECTED["b.png"]


def test_a_member_without_a_name_never_takes_the_archive_path(tmp_path: Path) -> None:
    import zipfile

    with zipfile.ZipFile(tmp_path / "odd.zip", "w") as zf:
        zf.writestr(".", b"dot")
        zf.writestr("ok.txt", b"ok")
    files = by_path(walk(tmp_path / "odd.zip"))
    assert files["odd.zip/%2E"].sha256 == hashlib.sha256(b"dot").hexdigest()
    assert files["odd.zip"].error is None


@pytest.mark.parametrize(
    "name",
    ["nested.zip", "photos.tar", "photos.tar.gz", "photos.tar.bz2", "photos.tar.xz",
     "photos.tar.zst", "photos.7z", "single.jpg.gz"],
)  # fmt: skip
def test_damaged_archives_never_stop_the_walk(name: str, tmp_path: Path) -> None:
    data = (DATA / name).read_bytes()
    for i, cut in enumerate((len(data) // 10, len(data) // 2, len(data) * 9 // 10)):
        truncated = tmp_path / f"cut{i}-{name}"
        truncated.write_bytes(data[:cut])
        flipped = tmp_path / f"flip{i}-{name}"
        damaged = bytearray(data)
        for j in range(cut, min(cut + 64, len(damaged))):
            damaged[j] ^= 0x5A
        flipped.write_bytes(bytes(damaged))
        for source in (truncated, flipped):
            seen = walk(source)  # must not raise
            assert seen[-1].path == source.name
            paths = [s.path for s in seen]
            assert len(paths) == len(set(paths))
