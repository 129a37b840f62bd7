"""ICSE/Baseline CSV and HMA/ThreatExchange CSV samples, and the CSV exports read back."""

from __future__ import annotations

import io

from hashset_samples import DATA, md5, pdq, sha1, sha256, where_suffixes

from tantalio.hashsets import HashEntry, import_entries, write_hash_csv, write_hma_csv
from tantalio.hashsets.formats.hma import HmaFormat
from tantalio.hashsets.formats.icse import IcseFormat


def test_icse_header_variants_bom_crlf_and_bad_rows() -> None:
    entries, warnings = import_entries(DATA / "icse.csv", "icse")
    got = list(entries)
    assert [e.original_id for e in got] == ["1001", "1002", "1003", "1006"]
    first = got[0]
    assert first.md5 == md5("benign-40") and first.sha1 == sha1("benign-40")
    assert first.photodna is not None and len(first.photodna) == 192
    assert (first.victim_identified, first.offender_identified) == (True, False)
    assert first.series == "Lighthouse" and first.category == 1
    assert first.tags == ["baseline"]  # Baseline = 1
    assert got[1].victim_identified is False and got[1].category == 2 and got[1].tags == []
    assert got[2].md5 is None and got[2].sha1 == sha1("benign-42")
    assert got[2].series == "Orchard, north"  # quoted cell with the delimiter inside
    assert got[3].victim_identified is None  # "maybe" ignored, row kept
    assert where_suffixes(warnings) == [
        ("5", "MD5"),
        ("6", "MD5"),
        ("7", "VictimIdentified"),
        ("8", None),
    ]
    assert "35" in warnings[0].message and "13 cells" in warnings[3].message


def test_icse_semicolons_and_category_names() -> None:
    entries, warnings = import_entries(DATA / "icse_semicolon.csv", "icse")
    got = [(e.md5, e.sha1, e.series, e.victim_identified, e.category) for e in entries]
    assert got == [
        (md5("benign-50"), sha1("benign-50"), "Meadow", True, 1),
        (md5("benign-51"), None, None, False, 0),
    ]
    assert warnings == []


def test_icse_without_a_hash_column_is_not_icse() -> None:
    import pytest

    from tantalio.hashsets import HashSetFormatError

    with pytest.raises(HashSetFormatError, match=r"x\.csv:1: no hash column"):
        list(IcseFormat().read(io.BytesIO(b"Name,Size\na,1\n"), "x.csv"))


def test_hma_with_header_extra_columns_and_vpdq() -> None:
    entries, warnings = import_entries(DATA / "hma.csv", "hma")
    got = list(entries)
    assert got[0].pdq == pdq("benign-60") and got[0].category == 1
    assert got[0].comments == "stand-in"  # `note` column
    assert got[1].md5 == md5("benign-61")  # video_md5
    assert got[2].md5 == md5("benign-62") and got[2].category == 2  # upper-case normalised
    assert got[3].vpdq == [f"{pdq('frame-0')},100,0.000", f"{pdq('frame-1')},90,1.000"]
    assert len(got) == 4
    assert where_suffixes(warnings) == [("6", "signal_type"), ("7", "signal")]
    assert "'url' is not a file hash" in warnings[0].message


def test_hma_without_header() -> None:
    entries, warnings = import_entries(DATA / "hma_bare.csv", "hma")
    assert [(e.pdq, e.sha256) for e in entries] == [
        (pdq("benign-70"), None),
        (None, sha256("benign-71")),
    ]
    assert warnings == []


def test_hash_csv_export_reads_back_as_icse() -> None:
    original = [
        HashEntry(md5=md5("e1"), sha1=sha1("e1"), category=1, series="A, B", tags=["x", "y"],
                  victim_identified=True, original_id="9"),
        HashEntry(sha256=sha256("e2"), pdq=pdq("e2"), category=None, comments="line\nbreak"),
    ]  # fmt: skip
    out = io.StringIO(newline="")
    assert write_hash_csv(out, original) == 2
    back = list(IcseFormat().read(io.BytesIO(out.getvalue().encode()), "export.csv"))
    assert all(isinstance(e, HashEntry) for e in back)
    for entry in back:
        assert isinstance(entry, HashEntry)
        entry.source_category = None  # the reader records the source's text
    for entry in original:
        entry.source_category = None
    assert back == original


def test_hma_csv_export_reads_back() -> None:
    entries = [HashEntry(md5=md5("h1"), pdq=pdq("h1")), HashEntry(sha256=sha256("h2"))]
    out = io.StringIO(newline="")
    assert write_hma_csv(out, entries) == 3
    back = list(HmaFormat().read(io.BytesIO(out.getvalue().encode()), "x.csv"))
    assert [(e.pdq, e.md5, e.sha256) for e in back] == [  # type: ignore[union-attr]
        (pdq("h1"), None, None),
        (None, md5("h1"), None),
        (None, None, sha256("h2")),
    ]


def test_hma_vpdq_rows_keep_category_series_and_comments() -> None:
    frames = f'"[""{pdq("v-0")},100,0.000"",""{pdq("v-1")},90,1.000""]"'
    text = (
        "signal_type,signal,category,series,note\n"
        f"vpdq,{frames},1,Harbour,stand-in video\n"
        f"pdq,{pdq('p-0')},2,Meadow,\n"
        "vpdq,[not json,1,Harbour,\n"
    )
    got = list(HmaFormat().read(io.BytesIO(text.encode()), "v.csv"))
    video, picture, bad = got
    assert isinstance(video, HashEntry)
    assert video.vpdq == [f"{pdq('v-0')},100,0.000", f"{pdq('v-1')},90,1.000"]
    assert (video.category, video.series, video.comments) == (1, "Harbour", "stand-in video")
    assert isinstance(picture, HashEntry) and (picture.category, picture.series) == (2, "Meadow")
    assert not isinstance(bad, HashEntry) and bad.where == "v.csv:4" and bad.field == "signal"


def test_hma_row_longer_than_its_header_is_skipped() -> None:
    data = f"signal_type,signal,category\npdq,{pdq('a')},1\npdq,{pdq('b')},1,surplus\n".encode()
    entries = list(HmaFormat().read(io.BytesIO(data), "x.csv"))
    got = [e for e in entries if isinstance(e, HashEntry)]
    [warning] = [w for w in entries if not isinstance(w, HashEntry)]
    assert [e.pdq for e in got] == [pdq("a")]
    assert warning.where == "x.csv:3" and warning.message.endswith("row skipped")
