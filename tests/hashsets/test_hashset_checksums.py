"""md5sum/sha1sum/sha256sum lists in every line style."""

from __future__ import annotations

import io

import pytest
from hashset_samples import DATA, md5, sha1, sha256, where_suffixes

from tantalio.hashsets import HashSetFormatError, import_entries, read_stream


def test_md5sum_line_styles() -> None:
    entries, warnings = import_entries(DATA / "list.md5", "md5sum")
    got = [(e.md5, e.comments) for e in entries]
    assert got == [
        (md5("benign-80"), "photos/a.jpg"),
        (md5("benign-81"), "photos/b.jpg"),  # binary-mode `*`
        (md5("benign-82"), None),  # bare, upper-case
        (md5("benign-83"), "photos/d e.jpg"),  # BSD tag
        (md5("benign-84"), "photos/new\nline.jpg"),  # coreutils escaping
    ]
    assert where_suffixes(warnings) == [("8", "MD5"), ("9", "MD5")]
    assert "not hex" in warnings[0].message and "SHA256 line" in warnings[1].message


def test_sha1sum_with_crlf_and_sha256sum_with_bsd_tags() -> None:
    entries, warnings = import_entries(DATA / "list.sha1", "sha1sum")
    assert [(e.sha1, e.comments) for e in entries] == [
        (sha1("benign-90"), "a.png"),
        (sha1("benign-91"), None),
    ]
    assert warnings == []
    entries, warnings = import_entries(DATA / "list.sha256", "sha256sum")
    assert [e.sha256 for e in entries] == [sha256("benign-95"), sha256("benign-96")]
    assert warnings == []


def test_wrong_algorithm_is_reported_per_line() -> None:
    entries, warnings = import_entries(DATA / "list.sha256", "md5sum")
    assert list(entries) == []
    assert [(w.field, "32 hex digits" in w.message or "SHA256" in w.message) for w in warnings] == [
        ("MD5", True),
        ("MD5", True),
    ]


def test_a_file_that_is_no_list_at_all_is_refused() -> None:
    junk = b"".join(b"this is prose, line %d, not a checksum\n" % i for i in range(500))
    entries, warnings = read_stream(io.BytesIO(junk), "notes.txt", "md5sum")
    with pytest.raises(HashSetFormatError, match="not a md5sum file: its first 100 records"):
        list(entries)


def test_strict_on_an_unseekable_stream_raises_at_the_bad_line() -> None:
    class Pipe(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self._data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:  # type: ignore[no-untyped-def,override]
            chunk = self._data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    data = f"{md5('p1')}  a\nnot-a-hash  b\n".encode()
    stream = io.BufferedReader(Pipe(data))
    entries, _ = read_stream(stream, "pipe", None, strict=True)  # format detected
    assert next(entries).md5 == md5("p1")
    with pytest.raises(HashSetFormatError) as caught:
        next(entries)
    assert (caught.value.where, caught.value.field) == ("pipe:2", "MD5")


def test_non_utf8_name_is_reported_and_kept() -> None:
    data = f"{md5('n1')}  caf\xe9.jpg\n".encode("latin-1")
    entries, warnings = read_stream(io.BytesIO(data), "l.md5", "md5sum")
    (entry,) = list(entries)
    assert entry.md5 == md5("n1") and entry.comments == "caf\ufffd.jpg"
    assert [(w.where, w.field) for w in warnings] == [("l.md5:1", "name")]


def test_utf16_list_from_windows() -> None:
    text = f"{md5('w1')}  a.jpg\r\n{md5('w2')}  b.jpg\r\n"
    entries, warnings = read_stream(io.BytesIO(text.encode("utf-16")), "w.md5", "md5sum")
    assert [e.md5 for e in entries] == [md5("w1"), md5("w2")]
    assert warnings == []


def test_missing_file_and_undetectable_format() -> None:
    with pytest.raises(HashSetFormatError, match="no such file"):
        import_entries(DATA / "nope.md5", "md5sum")
    with pytest.raises(HashSetFormatError, match="cannot tell the hash-set format"):
        read_stream(io.BytesIO(b"hello\n"), "x.txt")


def test_warnings_are_capped_and_counted(monkeypatch: pytest.MonkeyPatch) -> None:
    from tantalio.hashsets import importer

    monkeypatch.setattr(importer, "MAX_WARNINGS", 10)
    data = (f"{md5('c0')}  ok\n" + "zz  bad\n" * 30).encode()
    entries, warnings = read_stream(io.BytesIO(data), "c.md5", "md5sum")
    assert len(list(entries)) == 1
    assert len(warnings) == 11
    assert warnings[-1].message == "20 more warnings not listed"
