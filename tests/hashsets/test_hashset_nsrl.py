"""NSRL RDS v2 text and v3 SQLite, read-only."""

from __future__ import annotations

import hashlib
import io
import sqlite3
from pathlib import Path

import pytest
from hashset_samples import DATA, md5, sha1, sha256, where_suffixes

from tantalio.hashsets import HashSetFormatError, import_entries
from tantalio.hashsets.formats.nsrl import NsrlFormat


def test_rds_v2_text_dedupes_repeated_products() -> None:
    entries, warnings = import_entries(DATA / "NSRLFile.txt", "nsrl")
    got = sorted((e.sha1, e.md5, e.comments) for e in entries)
    assert got == sorted(
        (sha1(label), md5(label), f"{label}.dll")
        for label in ("benign-100", "benign-101", "benign-102")
    )
    assert where_suffixes(warnings) == [("6", "SHA-1")]


def test_rds_v3_sqlite_read_only(tmp_path: Path) -> None:
    path = DATA / "nsrl_v3.db"
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    entries, warnings = import_entries(path, "nsrl")
    got = [(e.sha256, e.sha1, e.md5, e.comments) for e in entries]
    assert got == [
        (sha256(label), sha1(label), md5(label), f"{label}.exe")
        for label in ("benign-110", "benign-111")
    ]
    assert where_suffixes(warnings) == [("record 4", "SHA-256")]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in DATA.glob("nsrl_v3.db*")) == ["nsrl_v3.db"]  # no journal


def test_rds_v3_from_a_stream_without_a_file() -> None:
    data = (DATA / "nsrl_v3.db").read_bytes()
    items = list(NsrlFormat().read(io.BytesIO(data), "upload.db"))
    assert [getattr(i, "sha256", None) for i in items[:2]] == [
        sha256("benign-110"),
        sha256("benign-111"),
    ]


def test_sqlite_without_the_file_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE FILE (name TEXT)")
    conn.commit()
    conn.close()
    with pytest.raises(HashSetFormatError, match="table FILE lacks sha256, sha1, md5, file_name"):
        list(import_entries(path, "nsrl")[0])


def test_text_without_nsrl_header_is_refused() -> None:
    with pytest.raises(HashSetFormatError, match='lacks "SHA-1" and "MD5"'):
        list(NsrlFormat().read(io.BytesIO(b"a,b\n1,2\n"), "x.txt"))
