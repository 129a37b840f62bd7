"""ExactIndex: MD5 / SHA-1 / SHA-256 digests -> ids, mixed algorithms, add/remove, save/load."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from tantalio.index import ExactIndex, algorithm_of


def _digests(i: int) -> dict[str, str]:
    data = f"benign file {i}".encode()
    return {name: hashlib.new(name, data).hexdigest() for name in ("md5", "sha1", "sha256")}


@pytest.fixture
def index() -> ExactIndex:
    ids, digests = [], []
    for i in range(3_000):
        for d in _digests(i).values():
            ids.append(i)
            digests.append(d)
    return ExactIndex.build_from(ids, digests)


def test_lookup_each_algorithm_mixed(index: ExactIndex) -> None:
    queries = [_digests(5)["md5"], _digests(7)["sha256"].upper(), _digests(9)["sha1"], "0" * 40]
    assert index.lookup(queries) == [[5], [7], [9], []]
    assert len(index) == 9_000 and index.count("sha1") == 3_000
    assert algorithm_of("a" * 64) == "sha256"


def test_one_digest_many_ids_and_replays_do_not_grow(index: ExactIndex) -> None:
    d = _digests(11)["md5"]
    index.add([50_000, 11], [d, d])  # the same file in another hash set, and a repeat
    assert index.lookup([d]) == [[11, 50_000]]
    assert len(index) == 9_001
    for _ in range(5):  # a replayed change feed
        index.add([50_000, 50_000], [_digests(1)["md5"], d])
    assert len(index) == 9_001 and index.lookup([d]) == [[11, 50_000]]
    index.add([11], [_digests(12)["md5"]])  # an edited entry: its old md5 no longer matches
    assert index.lookup([d, _digests(12)["md5"]]) == [[50_000], [11, 12]]


def test_add_remove_and_merges(index: ExactIndex) -> None:
    for i in range(3_000, 3_400):
        index.add([i], [_digests(i)["sha256"]])
    assert index.lookup([_digests(3_399)["sha256"]]) == [[3_399]]
    assert index.remove([5, 3_399, 123_456]) == 4  # id 5 has three digests
    assert index.lookup([_digests(5)["md5"], _digests(3_399)["sha256"], _digests(6)["md5"]]) == [
        [],
        [],
        [6],
    ]
    index.remove(range(0, 3_000))
    assert len(index) == 399 and index.lookup([_digests(3_000)["sha256"]]) == [[3_000]]
    index.compact()
    assert len(index) == 399


def test_byte_arrays_need_the_algorithm() -> None:
    raw = np.frombuffer(hashlib.md5(b"x").digest(), np.uint8)[None, :]
    index = ExactIndex.build_from([1], raw, algorithm="md5")
    assert index.lookup([hashlib.md5(b"x").hexdigest()]) == [[1]]
    with pytest.raises(ValueError, match="algorithm="):
        ExactIndex.build_from([1], raw)


@pytest.mark.parametrize(
    ("digest", "message"),
    [("abc", "digest #1"), ("z" * 32, "not hexadecimal"), (None, "not a string")],
)
def test_bad_digests_rejected(digest: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ExactIndex.build_from([1, 2], ["0" * 32, digest])  # type: ignore[list-item]


def test_save_load_round_trip(tmp_path: Path, index: ExactIndex) -> None:
    index.add([9_999], [_digests(9_999)["sha1"]])
    index.remove([3])
    index.save(tmp_path / "exact")
    for mmap in (False, True):
        loaded = ExactIndex.load(tmp_path / "exact", mmap=mmap)
        assert len(loaded) == len(index)
        queries = [_digests(9_999)["sha1"], _digests(3)["md5"], _digests(4)["sha256"]]
        assert loaded.lookup(queries) == [[9_999], [], [4]]
        loaded.add([1], [_digests(3)["md5"]])
        assert loaded.lookup([_digests(3)["md5"]]) == [[1]]


def test_load_refuses_a_pdq_index_directory(tmp_path: Path) -> None:
    from tantalio.index import PDQIndex

    PDQIndex().save(tmp_path / "pdq")
    with pytest.raises(ValueError, match="not a tantalio-exact-index"):
        ExactIndex.load(tmp_path / "pdq")
