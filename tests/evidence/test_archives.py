"""Archives and nesting: paths, sizes, contents, order, depth limit."""

from __future__ import annotations

import pytest

from tantalio.evidence import EvidenceLimits, open_source

from .helpers import DATA, EXPECTED, by_path, walk


def test_nested_zip_tar_gz_7z_lists_every_member_before_its_container() -> None:
    seen = walk(DATA / "nested.zip")
    assert [(s.path, s.container) for s in seen] == [
        ("nested.zip/photos/a.jpg", None),
        ("nested.zip/inner.tar.gz/DCIM/b.png", None),
        ("nested.zip/inner.tar.gz/deeper.zip/d.jpg", None),
        ("nested.zip/inner.tar.gz/deeper.zip", "zip"),
        ("nested.zip/inner.tar.gz", "gzip"),
        ("nested.zip/more.7z/e.png", None),
        ("nested.zip/more.7z/docs/readme.txt", None),
        ("nested.zip/more.7z", "7z"),
        ("nested.zip", "zip"),
    ]
    files = by_path(seen)
    assert files["nested.zip/photos/a.jpg"].sha256 == EXPECTED["a.jpg"]
    assert files["nested.zip/inner.tar.gz/DCIM/b.png"].sha256 == EXPECTED["b.png"]
    assert files["nested.zip/inner.tar.gz/deeper.zip/d.jpg"].sha256 == EXPECTED["d.jpg"]
    assert files["nested.zip/more.7z/e.png"].sha256 == EXPECTED["e.png"]
    assert files["nested.zip/more.7z/docs/readme.txt"].sha256 == EXPECTED["readme.txt"]
    assert files["nested.zip"].size == (DATA / "nested.zip").stat().st_size
    assert all(s.error is None and s.read_error is None for s in seen)


@pytest.mark.parametrize(
    ("name", "container"),
    [
        ("photos.tar", "tar"),
        ("photos.tar.gz", "gzip"),
        ("photos.tar.bz2", "bzip2"),
        ("photos.tar.xz", "xz"),
        ("photos.tar.zst", "zstd"),
    ],
)
def test_tar_in_every_compression(name: str, container: str) -> None:
    seen = walk(DATA / name)
    assert [(s.path, s.size, s.sha256) for s in seen[:2]] == [
        (f"{name}/DCIM/a.jpg", 1705, EXPECTED["a.jpg"]),
        (f"{name}/DCIM/b.png", 4551, EXPECTED["b.png"]),
    ]
    assert (seen[2].path, seen[2].container, seen[2].error) == (name, container, None)
    assert len(seen) == 3


def test_single_compressed_file_is_listed_under_its_own_name() -> None:
    seen = walk(DATA / "single.jpg.gz")
    assert [(s.path, s.sha256) for s in seen] == [
        ("single.jpg.gz/single.jpg", EXPECTED["c.jpg"]),
        ("single.jpg.gz", seen[1].sha256),
    ]
    assert seen[0].size == 1653


def test_sizes_come_from_headers_without_reading_content() -> None:
    sizes = {f.path: f.size for f in open_source(DATA / "nested.zip")}  # nothing opened
    assert sizes["nested.zip/inner.tar.gz/DCIM/b.png"] == 4551
    assert sizes["nested.zip/more.7z/e.png"] == 4458


def test_order_is_stable_across_walks() -> None:
    first = [f.path for f in open_source(DATA / "nested.zip")]
    assert first == [f.path for f in open_source(DATA / "nested.zip")]


@pytest.mark.parametrize(
    ("depth", "expanded", "stopped"),
    [
        (0, [], "nested.zip"),
        (1, ["nested.zip"], "nested.zip/inner.tar.gz"),
        (2, ["nested.zip", "nested.zip/inner.tar.gz"], "nested.zip/inner.tar.gz/deeper.zip"),
    ],
)
def test_depth_limit_lists_the_deeper_archive_unexpanded(
    depth: int, expanded: list[str], stopped: str
) -> None:
    files = by_path(walk(DATA / "nested.zip", EvidenceLimits(max_depth=depth)))
    for path in expanded:
        assert files[path].error is None
    blocked = files[stopped]
    assert blocked.error == (
        f"nested archive depth limit ({depth}) reached: {blocked.container} contents not "
        "expanded (raise it with --max-archive-depth)"
    )
    assert blocked.sha256 is not None  # its own bytes are still read and hashed
    assert not any(p.startswith(stopped + "/") for p in files)


def test_expand_archives_off_lists_the_archive_as_one_file() -> None:
    seen = walk(DATA / "nested.zip", EvidenceLimits(expand_archives=False))
    assert [(s.path, s.container, s.error) for s in seen] == [("nested.zip", None, None)]


def test_duplicate_member_names_get_distinct_paths() -> None:
    files = by_path(walk(DATA / "hostile.tar"))
    assert files["hostile.tar/dup.txt"].size == 6
    assert files["hostile.tar/dup.txt#2"].size == 7


def test_streamed_tar_member_can_be_opened_twice_while_current() -> None:
    for f in open_source(DATA / "photos.tar.xz"):
        if f.path.endswith("b.png"):
            assert f.open is not None
            with f.open() as one:
                first = one.read()
            with f.open() as two:  # the stream has passed: re-read from the start
                assert two.read() == first
            return
    pytest.fail("member not found")
