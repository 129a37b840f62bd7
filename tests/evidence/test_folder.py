"""Folder sources: recursion, order, symlinks, special files, local paths."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tantalio.evidence import EvidenceSourceError, open_source

from .helpers import DATA, EXPECTED, by_path, walk


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "phone1"
    shutil.copytree(DATA / "tree", root)
    return root


def test_folder_tree_paths_sizes_and_contents(tree: Path) -> None:
    seen = walk(tree)
    assert [(s.path, s.size, s.sha256) for s in seen] == [
        ("DCIM/100CAM/IMG_0001.jpg", 1705, EXPECTED["a.jpg"]),
        ("DCIM/100CAM/IMG_0002.png", 4551, EXPECTED["b.png"]),
        ("Documents/notes.txt", 45, EXPECTED["notes.txt"]),
        ("Downloads/photos.zip/c.jpg", 1653, EXPECTED["c.jpg"]),
        ("Downloads/photos.zip", 1616, seen[4].sha256),
        ("empty.bin", 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
        ("ünïcode name.txt", 47, EXPECTED["readme.txt"]),
    ]
    assert seen[4].container == "zip"


def test_folder_files_carry_local_paths_usable_after_the_walk(tree: Path) -> None:
    files = list(open_source(tree))
    first = files[0]
    assert first.local_path == str(tree / "DCIM" / "100CAM" / "IMG_0001.jpg")
    assert first.open is not None
    with first.open() as f:  # the walk is over: plain files stay openable
        assert len(f.read()) == 1705
    member = next(f for f in files if f.path == "Downloads/photos.zip/c.jpg")
    assert member.local_path is None


def test_symlinks_are_never_followed(tree: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("not evidence\n")
    os.symlink(outside, tree / "link_out")
    os.symlink("Documents/notes.txt", tree / "link_in")
    os.symlink(tmp_path, tree / "Documents" / "dir_out")
    files = by_path(walk(tree))
    assert files["link_out"].error == (
        f"symbolic link to '{outside}' (points outside the source); not followed"
    )
    assert files["link_in"].error == (
        "symbolic link to 'Documents/notes.txt' (inside the source; its target is listed at "
        "its own path); not followed"
    )
    assert (files["Documents/dir_out"].error or "").endswith(
        "(points outside the source); not followed"
    )
    assert not any("outside.txt" in p for p in files)
    assert files["link_out"].sha256 is None


def test_fifo_is_listed_but_never_opened(tree: Path) -> None:
    os.mkfifo(tree / "pipe")
    files = by_path(walk(tree))  # would block forever if the FIFO were opened
    assert files["pipe"].error == "not a regular file (a FIFO); not opened"


def test_undecodable_file_names_become_escapes(tree: Path) -> None:
    raw = os.fsencode(str(tree)) + b"/bad\xffname.txt"
    with open(raw, "wb") as f:
        f.write(b"x")
    files = by_path(walk(tree))
    assert files["bad\\xffname.txt"].sha256 is not None


def test_missing_source_raises_at_once(tmp_path: Path) -> None:
    with pytest.raises(EvidenceSourceError, match="No such file"):
        open_source(tmp_path / "nope")


def test_a_plain_file_as_source_is_one_record(tmp_path: Path) -> None:
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    seen = walk(tmp_path / "photo.jpg")
    assert [(s.path, s.size, s.container) for s in seen] == [("photo.jpg", 22, None)]


def test_a_source_given_through_a_symlink_keeps_its_given_name(tmp_path: Path) -> None:
    os.symlink(DATA / "photos.tar", tmp_path / "exhibit7.tar")
    paths = [s.path for s in walk(tmp_path / "exhibit7.tar")]
    assert paths == ["exhibit7.tar/DCIM/a.jpg", "exhibit7.tar/DCIM/b.png", "exhibit7.tar"]
