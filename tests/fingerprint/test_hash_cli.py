"""`tantalio hash`: JSON lines with exactly the issue's keys, folders walked recursively."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tantalio.cli.main import app
from tantalio.fingerprint import JSON_KEYS


def test_hash_folder_and_files(tmp_path: Path, data_dir: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    shutil.copy(data_dir / "exif.jpg", tmp_path / "a" / "exif.jpg")
    shutil.copy(data_dir / "clip.mp4", tmp_path / "a" / "b" / "clip.mp4")
    (tmp_path / "a" / "b" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    (tmp_path / "a" / "notes.txt").write_text("hello\n")
    single = data_dir / "photo.png"
    result = CliRunner().invoke(app, ["hash", str(tmp_path / "a"), str(single), "--jobs", "2"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    paths = [Path(d["path"]).relative_to(tmp_path).as_posix() for d in lines[:4]]
    # a folder's files first, then its subfolders, each sorted by name
    assert paths == ["a/exif.jpg", "a/notes.txt", "a/b/broken.png", "a/b/clip.mp4"]
    assert lines[4]["path"] == str(single)
    for d in lines:
        keys = list(d)
        assert keys == [k for k in JSON_KEYS if k in d]  # the keys, in its order
    image = lines[0]
    assert list(image) == [
        "path", "size", "md5", "sha1", "sha256", "type", "mime", "width", "height",
        "pdq", "pdq_quality", "pdq_orientations", "exif", "error",
    ]  # fmt: skip
    assert image["exif"]["serial"] == "TST-000123" and len(image["pdq_orientations"]) == 8
    video = lines[3]
    assert {"duration", "frames"} <= set(video) and video["frames"][1]["timestamp"] == 1.0
    assert "pdq" not in video
    broken = lines[2]
    assert broken["type"] == "png" and broken["error"] and broken["sha256"]
    assert lines[1]["type"] == "other" and lines[1]["error"] is None


def test_missing_path_is_reported_and_fails(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["hash", str(tmp_path / "nope.jpg"), "--jobs", "0"])
    assert result.exit_code == 1
    line = json.loads(result.stdout.splitlines()[0])
    assert line["path"].endswith("nope.jpg") and line["error"] == "no such file"


def test_progress_bar_path_writes_the_same_lines(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tantalio.cli.hash_cmd import _with_progress
    from tantalio.fingerprint import fingerprint_file

    fps = [fingerprint_file(data_dir / "photo.png"), fingerprint_file(data_dir / "missing")]
    _with_progress(iter(fps), total=2)
    out = capsys.readouterr()
    lines = [json.loads(line) for line in out.out.splitlines()]
    assert [d["path"] for d in lines] == [fp.path for fp in fps]
    assert "missing" in out.err and "cannot open" in out.err


def test_redirected_stdout_gets_every_line_while_stderr_is_a_terminal(
    tmp_path: Path, data_dir: Path
) -> None:
    """`tantalio hash DIR > out.jsonl` typed in a terminal (issue 16): the progress bar on
    the terminal, every JSON line in the file, none on the terminal."""
    import os
    import pty
    import subprocess
    import sys
    import threading

    src = tmp_path / "src"
    src.mkdir()
    for name in ("exif.jpg", "photo.png"):
        shutil.copy(data_dir / name, src / name)
    (src / "notes.txt").write_text("hello\n")
    master, slave = pty.openpty()
    terminal = bytearray()

    def read_terminal() -> None:
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                return
            if not chunk:
                return
            terminal.extend(chunk)

    reader = threading.Thread(target=read_terminal, daemon=True)
    reader.start()
    out = tmp_path / "out.jsonl"
    with out.open("wb") as fh:
        code = subprocess.run(
            [sys.executable, "-m", "tantalio.cli.main", "hash", str(src), "--jobs", "1"],
            stdout=fh,
            stderr=slave,
            stdin=subprocess.DEVNULL,
            timeout=120,
        ).returncode
    os.close(slave)
    reader.join(timeout=10)
    os.close(master)
    assert code == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [Path(d["path"]).name for d in lines] == ["exif.jpg", "notes.txt", "photo.png"]
    assert b'"sha256"' not in terminal  # the data went only to the file
