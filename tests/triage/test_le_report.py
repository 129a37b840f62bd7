"""Issue 6 closes its loop here: a platform's law-enforcement report package is ingested
into a case as an exhibit of hashes-only files, matched like any other file."""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

from tantalio.lereport.schema import Account, LEReport, ReportedFile, Reporter
from tantalio.store import repo
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
    assert rows["uploads/f3"].verdict == "unreadable" and "no SHA-256" in rows["uploads/f3"].error
    assert rows["report-user-42.json"].verdict == "non-media"
    assert rows["uploads/f1"].exhibit == "report-user-42.json"
