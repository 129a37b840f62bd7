"""Issue 6 closes its loop here: a platform's law-enforcement report package is ingested
into a case as an exhibit of hashes-only files, matched like any other file."""

from __future__ import annotations

import csv
import hashlib
import random
from pathlib import Path

from tantalio.lereport.schema import Account, LEReport, ReportedFile, Reporter, UploadEvent
from tantalio.reports.html import build_report
from tantalio.store import repo
from tantalio.store.media import Media
from tantalio.store.uploads import uploads_of_media
from tantalio.store.workspace import init_workspace
from tantalio.triage.hashset_import import import_hash_set
from tantalio.triage.pipeline import IngestOptions, ingest
from tantalio.triage.results import triage_rows

from .helpers import flip, rand_pdq


def test_report_package_becomes_an_exhibit(tmp_path: Path) -> None:
    rng = random.Random(6)
    known_bytes, near_pdq = b"known upload", rand_pdq(rng)
    md5 = hashlib.md5(known_bytes).hexdigest()
    sha = hashlib.sha256(known_bytes).hexdigest()
    report = LEReport(
        report_id="r-1",
        generated_at="2026-11-28T19:00:00+00:00",
        reporter=Reporter("Example Platform", "Ada", "Lovelace", "tns@example.org"),
        incident_type="Child Pornography (possession, manufacture, and distribution)",
        incident_datetime="2026-11-01T10:00:00+00:00",
        account=Account(id="user-42"),
        files=[
            ReportedFile("f1", md5=md5, sha256=sha, uploaded_at="2026-11-01T10:00:00+00:00"),
            ReportedFile("f2", sha256="ab" * 32, pdq=flip(near_pdq, [1, 5, 9]), pdq_quality=90),
            ReportedFile("f3", md5="cd" * 16),
        ],
    )
    package = tmp_path / "report-user-42.json"
    package.write_text(report.to_json())
    hma = tmp_path / "known.csv"
    hma.write_text(f"signal_type,signal,category,series\nmd5,{md5},1,Lake\npdq,{near_pdq},1,Lake\n")
    with init_workspace(tmp_path / "ws") as ws:
        import_hash_set(ws, hma, "hma", "bank")
        ingest(ws, "OP-1", [str(package)], options=IngestOptions(in_process=True))
        with ws.session() as s:
            rows = {r.path: r for r in triage_rows(s, repo.get_case(s, "OP-1").id)}
    assert rows["uploads/f1"].verdict == "known" and rows["uploads/f1"].series == "Lake"
    assert rows["uploads/f2"].verdict == "near-known" and rows["uploads/f2"].distance == 3
    # Known only by its MD5: matched by it, listed with it, no SHA-256 made up.
    f3 = rows["uploads/f3"]
    assert f3.verdict == "non-media" and f3.sha256 is None and f3.md5 == "cd" * 16
    assert rows["report-user-42.json"].verdict == "non-media"
    assert rows["uploads/f1"].exhibit == "report-user-42.json"


def _package(tmp_path: Path, name: str, files: list[ReportedFile], **kw: object) -> Path:
    report = LEReport(
        report_id=name,
        generated_at="2026-11-28T19:00:00+00:00",
        reporter=Reporter("Example Platform", "Ada", "Lovelace", "tns@example.org"),
        incident_type="Child Pornography (possession, manufacture, and distribution)",
        incident_datetime=None,
        account=Account(
            id="user-42", username="lake_fan", email="u42@example.org", service="ExampleChat"
        ),
        files=files,
        **kw,  # type: ignore[arg-type]
    )
    path = tmp_path / f"{name}.json"
    path.write_text(report.to_json())
    return path


def test_md5_only_file_matched_by_md5_with_its_uploads(tmp_path: Path, db_url: str) -> None:
    """Issue 16: a file the package knows only by MD5 (an MD5-only list matched it) is
    `known` through that MD5, its media has no SHA-256, and the reported account, IP
    addresses and upload times stay linked to it, the time zone kept as stated."""
    md5 = hashlib.md5(b"only an md5 is known").hexdigest()
    first = _package(
        tmp_path,
        "r-md5",
        [
            ReportedFile("p1", md5=md5),
            ReportedFile("p2", md5="ef" * 16, ip="198.51.100.9", uploaded_at="2026-11-02 08:00:00"),
        ],
        upload_events=[
            UploadEvent("p1", time="2026-11-01T12:00:00+02:00", ip="203.0.113.7", port=5555),
            UploadEvent("p1", time="2026-11-03T09:30:00Z", ip="2001:db8::1"),
        ],
    )
    second = _package(tmp_path, "r-md5-again", [ReportedFile("q1", md5=md5.upper())])
    md5_list = tmp_path / "md5.csv"
    md5_list.write_text(f"signal_type,signal,category,series\nmd5,{md5},1,Harbour\n")
    with init_workspace(tmp_path / "ws", database=db_url) as ws:
        import_hash_set(ws, md5_list, "hma", "md5-only")
        opts = IngestOptions(in_process=True)
        ingest(ws, "OP-9", [str(first)], options=opts)
        ingest(ws, "OP-9", [str(second)], options=opts)
        ingest(ws, "OP-9", [str(first)], options=opts)  # a rerun adds nothing
        with ws.session() as s:
            rows = {r.path: r for r in triage_rows(s, repo.get_case(s, "OP-9").id)}
            p1 = rows["uploads/p1"]
            media = s.get(Media, p1.media_id)
            assert media is not None and media.sha256 is None and media.md5 == md5
            ups = uploads_of_media(s, [p1.media_id])[p1.media_id]
            p2_ups = uploads_of_media(s, [rows["uploads/p2"].media_id])
            files = build_report(ws, s, "OP-9", tmp_path / "rep", pdf=False)
            html = files.html.read_text()
    assert p1.verdict == "known" and p1.algorithm == "md5" and p1.series == "Harbour"
    assert p1.sha256 is None and p1.md5 == md5 and p1.to_json()["md5"] == md5
    # The second package's copy is the same media (found by MD5 among SHA-256-less media).
    assert rows["uploads/q1"].media_id == p1.media_id and rows["uploads/q1"].verdict == "known"
    # p1: two upload events, earliest first, in UTC, as given, with the account.
    assert [(u.ip, u.port, u.time_given) for u in ups[:2]] == [
        ("203.0.113.7", 5555, "2026-11-01T12:00:00+02:00"),
        ("2001:db8::1", None, "2026-11-03T09:30:00Z"),
    ]
    assert [u.uploaded_at.isoformat() for u in ups[:2] if u.uploaded_at] == [
        "2026-11-01T10:00:00",
        "2026-11-03T09:30:00",
    ]
    assert len(ups) == 3  # + the second package's upload of the same content (no time)
    assert ups[0].account_id == "user-42" and ups[0].service == "ExampleChat"
    assert ups[0].account == {"username": "lake_fan", "email": "u42@example.org"}
    assert ups[0].reporter == "Example Platform" and ups[0].report_id == "r-md5"
    # p2: no event listed, so the file's own IP and time; no zone stated: kept, not guessed.
    (p2,) = next(iter(p2_ups.values()))
    assert p2.ip == "198.51.100.9" and p2.time_given == "2026-11-02 08:00:00"
    assert p2.uploaded_at is None and not p2.zone_stated
    with files.csv.open() as fh:  # the CSV names the MD5-only file by its MD5
        table = {r["path"]: r for r in csv.DictReader(fh)}
    assert table["uploads/p1"]["sha256"] == "" and table["uploads/p1"]["md5"] == md5
    assert table["uploads/p1"]["algorithm"] == "md5"
    # The case report lists the uploads, in UTC, by the hash the file is known by.
    section = html.split('id="reported-uploads"')[1].split("</table>")[0]
    assert "ExampleChat · user-42 · lake_fan · u42@example.org" in section
    assert "203.0.113.7</code>:5555" in section and "2026-11-01 10:00:00" in section
    assert f"MD5 {md5}" in section and "known" in section
    assert "2026-11-02 08:00:00 <em>(time zone not stated)</em>" in section
