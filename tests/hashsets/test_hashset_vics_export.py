"""VICS 2.0 export: written streamed, read back identical; reading stays flat in memory."""

from __future__ import annotations

import hashlib
import io
import json
import tracemalloc
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hashset_samples import md5, pdq, sha1, sha256

from tantalio.hashsets import HashEntry, VicsFile, VicsMedia, import_entries, jsonstream, write_vics
from tantalio.hashsets.formats.vics import VicsFormat
from tantalio.hashsets.vics_writer import VICS_CONTEXT


def _sample_media() -> list[VicsMedia]:
    when = datetime(2022, 5, 6, 7, 8, 9, tzinfo=UTC)
    return [
        VicsMedia(
            entry=HashEntry(
                md5=md5("export-1"),
                sha1=sha1("export-1"),
                sha256=sha256("export-1"),
                photodna="AAECAwQF/w==",
                category=1,
                source_category="1",
                series="Lighthouse",
                victim_identified=True,
                offender_identified=False,
                is_distributed=True,
                comments="stand-in, «quoted» ünïcode",
                tags=["landscape", "a;b"],
                original_id="1",
                added_at=when,
            ),
            files=[
                VicsFile(
                    path="phone1.zip/DCIM/a.jpg",
                    created=when,
                    written=when,
                    accessed=when,
                    deleted=False,
                    size=2048,
                ),
                VicsFile(path="disk.dd/$OrphanFiles/a (1).jpg", deleted=True),
            ],
            media_id=1,
            size=2048,
        ),
        VicsMedia(
            entry=HashEntry(md5=md5("export-2"), category=None, original_id="2"),
            files=[VicsFile(path="folder/b.png", written=when)],
            media_id=2,
        ),
        VicsMedia(
            entry=HashEntry(
                sha1=sha1("export-3"), category=0, source_category="0", original_id="7"
            ),
            media_id=7,
        ),
    ]


def test_round_trip_export_then_import() -> None:
    media = _sample_media()
    out = io.StringIO()
    assert write_vics(out, iter(media), case_number="CASE-9", agency="Unit X") == 3
    document = json.loads(out.getvalue())
    assert document["@odata.context"] == VICS_CONTEXT
    (case,) = document["value"]
    assert case["CaseNumber"] == "CASE-9" and case["AgencyName"] == "Unit X"
    first = case["Media"][0]
    assert first["MD5"] == md5("export-1").upper()
    assert first["MediaFiles"][1]["Unallocated"] is True
    assert first["MediaFiles"][0]["FileName"] == "a.jpg"
    assert first["DateUpdated"] == "2022-05-06T07:08:09Z"
    assert case["Media"][1]["Category"] is None  # uncategorized is written explicitly

    read = list(VicsFormat().read_media(io.BytesIO(out.getvalue().encode()), "export.json"))
    assert read == media


def test_round_trip_through_a_file_and_import_entries(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    with path.open("w", encoding="utf-8") as out:
        write_vics(out, _sample_media())
    entries, warnings = import_entries(path, None, strict=True)  # format detected
    assert [e for e in entries] == [m.entry for m in _sample_media()]
    assert warnings == []


def test_pdq_is_not_exported_but_nothing_else_is_lost() -> None:
    """VICS has no PDQ field: a PDQ-only entry is exported only if it has a VICS hash."""
    media = [VicsMedia(entry=HashEntry(md5=md5("x"), pdq=pdq("x")), media_id=1)]
    out = io.StringIO()
    write_vics(out, media)
    (back,) = VicsFormat().read_media(io.BytesIO(out.getvalue().encode()), "x.json")
    assert isinstance(back, VicsMedia) and back.entry.pdq is None and back.entry.md5 == md5("x")


def _generated(count: int) -> Iterator[VicsMedia]:
    for i in range(count):
        digest = hashlib.md5(i.to_bytes(4, "big")).hexdigest()
        yield VicsMedia(
            entry=HashEntry(
                md5=digest, sha1=digest + "00000000", category=i % 5, series=f"S{i % 50}"
            ),
            files=[VicsFile(path=f"exhibit{i % 7}/DCIM/img{i}.jpg", deleted=i % 3 == 0)],
            media_id=i + 1,
        )


def _write_big(path: Path, megabytes: float) -> int:
    count = int(megabytes * 1_000_000 / 275)  # about 275 bytes per generated Media
    with path.open("w", encoding="utf-8") as out:
        write_vics(out, _generated(count))
    return count


def _peak_while_reading(path: Path) -> tuple[int, int]:
    tracemalloc.start()
    try:
        with path.open("rb") as stream:
            count = sum(1 for _ in VicsFormat().read(stream, str(path)))
        return count, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_stays_flat_as_the_file_grows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Four times the data, the same peak: nothing but the buffer and one Media is held."""
    monkeypatch.setattr(jsonstream, "CHUNK", 64 * 1024)
    small, large = tmp_path / "small.json", tmp_path / "large.json"
    n_small = _write_big(small, 0.5)
    n_large = _write_big(large, 2.0)
    count_small, peak_small = _peak_while_reading(small)
    count_large, peak_large = _peak_while_reading(large)
    assert (count_small, count_large) == (n_small, n_large)
    assert peak_large < 1.3 * peak_small + 64 * 1024
    assert peak_large < 1_000_000  # a 2 MB file read with well under 1 MB


@pytest.mark.slow
def test_fifty_megabyte_export_reads_with_flat_memory(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    expected = _write_big(path, 50)
    assert path.stat().st_size > 45_000_000
    count, peak = _peak_while_reading(path)
    assert count == expected
    assert peak < 8_000_000  # the 1 MiB read buffer and its decoded text, not 50 MB
