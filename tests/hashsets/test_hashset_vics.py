"""VICS JSON 1.x and 2.0, both shapes, read from the samples; errors, strict mode, chunking."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest
from hashset_samples import DATA, md5, pdq, sha1, sha256, where_suffixes

from tantalio.hashsets import (
    HashSetFormatError,
    ParseWarning,
    VicsMedia,
    import_entries,
    jsonstream,
)
from tantalio.hashsets.formats.vics import VicsFormat


def _media(sample: str, **options: object) -> tuple[list[VicsMedia], list[ParseWarning]]:
    media: list[VicsMedia] = []
    warnings: list[ParseWarning] = []
    with (DATA / sample).open("rb") as stream:
        for item in VicsFormat(**options).read_media(stream, sample):  # type: ignore[arg-type]
            (media if isinstance(item, VicsMedia) else warnings).append(item)  # type: ignore[arg-type]
    return media, warnings


def test_vics_1x_cases_with_bom_crlf_and_net_dates() -> None:
    media, warnings = _media("vics_1x_cases.json")
    entries = [m.entry for m in media]
    assert [e.original_id for e in entries] == ["1", "2", "3", "5"]
    first = entries[0]
    assert first.md5 == md5("benign-1")  # upper-case in the file, lower-case here
    assert first.sha1 == sha1("benign-1")
    assert first.category == 1 and first.source_category == "1"
    assert first.series == "Lighthouse"
    assert (first.victim_identified, first.offender_identified, first.is_distributed) == (
        True,
        False,
        True,
    )
    assert first.comments == "stand-in for known material"
    assert first.tags == ["landscape", "coast"]
    assert first.added_at == datetime(2017, 7, 14, 2, 40, tzinfo=UTC)  # /Date(1500000000000)/
    assert media[0].size == 2835 and media[0].media_id == 1
    (occurrence,) = media[0].files
    assert occurrence.path == "phone1.zip/DCIM/a.jpg"
    # /Date(ms+0100)/: the milliseconds are UTC, the offset does not move the instant.
    assert occurrence.created == datetime(2017, 7, 14, 2, 40, tzinfo=UTC)
    assert occurrence.written == datetime(2017, 7, 14, 2, 41, tzinfo=UTC)
    assert occurrence.deleted is False
    # VICS 1.x: 0 meant "uncategorized"; the source value is kept.
    assert (entries[1].category, entries[1].source_category) == (None, "0")
    assert (entries[2].category, entries[2].source_category) == (None, "7")
    assert entries[3].sha1 == sha1("benign-5") and entries[3].md5 is None
    assert entries[3].category == 3 and entries[3].series == "Orchard"
    assert where_suffixes(warnings) == [
        ("record 3 (line 40)", "Category"),
        ("record 4 (line 45)", "MD5"),
    ]
    assert "kept uncategorized" in warnings[0].message
    assert "32 hex digits" in warnings[1].message and "skipped" in warnings[1].message


def test_vics_2_flat_media_iso_dates_photodna_and_hash_lists() -> None:
    media, warnings = _media("vics_2_media.json")
    entries = {m.entry.original_id: m.entry for m in media}
    assert sorted(entries) == ["10", "11", "12", "13", "15"]
    assert entries["10"].category == 0  # VICS 2.0: 0 is non-pertinent
    assert entries["10"].md5 == md5("benign-10")
    assert entries["10"].added_at == datetime(2023, 6, 7, 2, 31, 49, 830000, tzinfo=UTC)
    eleven = entries["11"]
    assert eleven.photodna is not None and len(eleven.photodna) == 192  # stored as given
    assert eleven.victim_identified is True  # "true" as a string
    assert eleven.tags == ["texture", "noise"]
    assert eleven.added_at == datetime(2023, 6, 7, 2, 31, 49, tzinfo=UTC)  # +02:00 -> UTC
    twelve = entries["12"]
    assert twelve.category is None and twelve.source_category is None
    assert (twelve.sha1, twelve.sha256, twelve.pdq) == (
        sha1("benign-12"),
        sha256("benign-12"),
        pdq("benign-12"),
    )
    assert entries["13"].offender_identified is None
    assert entries["15"].added_at is None
    assert where_suffixes(warnings) == [
        ("record 4 (line 33)", "OffenderIdentified"),
        ("record 5 (line 39)", "MD5"),
        ("record 6 (line 44)", "DateUpdated"),
    ]


def test_vics_2_cases_minified_with_media_files() -> None:
    media, warnings = _media("vics_2_cases.json")
    assert warnings == []
    harbour, other = media
    assert harbour.entry.series == "Harbour"  # {"Name": ...} object form
    assert harbour.entry.is_distributed is False
    deleted, copy = harbour.files
    assert deleted.path == "disk.dd/Users/x/b.png"
    assert deleted.deleted is True
    assert deleted.created == datetime(2021, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert copy.path == "E:\\export\\b copy.png"  # FileName joined to a directory FilePath
    assert copy.written == datetime(2021, 1, 3, tzinfo=UTC)  # no zone: UTC
    assert other.entry.md5 == md5("benign-21") and other.files == []


def test_vics_1x_flat_media_category_names() -> None:
    media, warnings = _media("vics_1x_media.json")
    assert warnings == []
    got = [(m.entry.md5, m.entry.category, m.entry.source_category) for m in media]
    assert got == [
        (md5("benign-30"), 1, "CAM"),
        (md5("benign-31"), 0, "Non-Pertinent"),
        (md5("benign-32"), None, "0"),
    ]


def test_category_scheme_and_map_overrides() -> None:
    media, _ = _media("vics_1x_cases.json", category_scheme="three-tier")
    assert [m.entry.category for m in media] == [1, None, None, 0]
    media, warnings = _media("vics_1x_cases.json", category_map={"7": 4})
    assert [m.entry.category for m in media] == [1, None, 4, 3]
    assert [w.field for w in warnings] == ["MD5"]


def test_not_json_and_truncated_json_raise_with_file_and_line() -> None:
    with pytest.raises(HashSetFormatError, match=r"not_vics\.json: not a VICS file"):
        list(import_entries(DATA / "not_vics.json", "vics")[0])
    with pytest.raises(
        HashSetFormatError, match=r"truncated_vics\.json:1: not valid JSON.*ends early"
    ):
        list(import_entries(DATA / "truncated_vics.json", "vics")[0])


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"@odata.context": "x#Media"}', "no 'value' list"),
        ('{"@odata.context": "x#Media", "value": {}}', "'value' is not a list"),
        ('{"value": []} trailing', "data after the JSON object"),
        ('{"value": [1 2]}', "expected ',' or ']'"),
        ("[]", "does not start with '{'"),
        ('{"value": ["\xff"]}', "not UTF-8"),
    ],
)
def test_structural_problems_raise(text: str, problem: str) -> None:
    data = text.encode("latin-1") if "\xff" in text else text.encode()
    with pytest.raises(HashSetFormatError, match=problem):
        list(VicsFormat().read(io.BytesIO(data), "x.json"))


def test_lenient_keeps_the_rest_strict_rejects_the_file() -> None:
    entries, warnings = import_entries(DATA / "vics_2_media.json", "vics")
    assert len(list(entries)) == 5 and len(warnings) == 3
    # Strict: the whole file is checked before anything is returned.
    with pytest.raises(HashSetFormatError) as caught:
        import_entries(DATA / "vics_2_media.json", "vics", strict=True)
    assert caught.value.field == "OffenderIdentified"
    assert caught.value.where.endswith("vics_2_media.json:record 4 (line 33)")
    entries, warnings = import_entries(DATA / "vics_2_cases.json", "vics", strict=True)
    assert len(list(entries)) == 2 and warnings == []


def test_tiny_buffer_gives_identical_results(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every value straddles a chunk boundary somewhere: the sliding buffer must not care."""
    samples = ["vics_1x_cases.json", "vics_2_media.json", "vics_2_cases.json", "vics_1x_media.json"]
    expected = {s: _media(s) for s in samples}
    for size in (1, 3, 7, 64):
        monkeypatch.setattr(jsonstream, "CHUNK", size)
        for sample in samples:
            assert _media(sample) == expected[sample], (sample, size)


def test_undeclared_shape_is_recognised_per_element() -> None:
    case = {"CaseNumber": "A", "Media": [{"MD5": md5("u1")}]}
    text = json.dumps({"value": [case, {"SHA1": sha1("u2"), "Category": 2}]})
    items = list(VicsFormat().read(io.BytesIO(text.encode()), "u.json"))
    assert [(e.md5, e.sha1, e.category) for e in items] == [  # type: ignore[union-attr]
        (md5("u1"), None, None),
        (None, sha1("u2"), 2),
    ]


def test_is_skip_tells_left_out_from_kept() -> None:
    from tantalio.hashsets import is_skip

    entries, warnings = import_entries(DATA / "vics_2_media.json", "vics")
    list(entries)
    assert [is_skip(w) for w in warnings] == [False, True, False]


@pytest.mark.parametrize(
    "text",
    [
        '{"value":[' + "[" * 100_000 + "]" * 100_000 + "]}",
        '{"value":[{"CaseNumber":"x","Media":[{"MD5":' + "[" * 100_000 + "]" * 100_000 + "}]}]}",
        '{"junk":' + '{"a":' * 100_000 + "1" + "}" * 100_000 + ',"value":[]}',
    ],
)
def test_nesting_100000_deep_is_refused_clearly(text: str) -> None:
    """Issue 14: a clear refusal, never a RecursionError."""
    with pytest.raises(HashSetFormatError, match=r"nested more than 256 deep; refused"):
        list(VicsFormat().read(io.BytesIO(text.encode()), "deep.json"))


def test_nesting_up_to_the_limit_is_skipped_normally() -> None:
    deep = '{"a":' * 200 + "1" + "}" * 200
    text = '{"extra":' + deep + ',"value":[{"MD5":"' + "a" * 32 + '"}]}'
    entries = list(VicsFormat().read(io.BytesIO(text.encode()), "ok.json"))
    assert len(entries) == 1
