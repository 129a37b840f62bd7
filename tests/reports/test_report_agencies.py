"""The HTML report lists, per media, the other agencies that saw or identified it at the
central exchange (agency, country, series, status, victim identified): one entry per media
however many files hold it, media with an identified victim first."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
from PIL import Image

from tantalio.reports.html import build_report
from tantalio.reports.sections import agency_media
from tantalio.store.exchange_ws import ExchangeMatch
from tantalio.store.repo import get_case
from tantalio.store.workspace import init_workspace
from tantalio.triage.pipeline import IngestOptions, ingest
from tantalio.triage.results import TriageRow, triage_rows


def _picture(path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (9, 12, 3), dtype=np.uint8)
    Image.fromarray(small).resize((480, 360), Image.Resampling.BICUBIC).save(path, quality=90)


def _match(media_id: int, agency: str, country: str, series: str | None, status: str,
           victim: bool) -> ExchangeMatch:  # fmt: skip
    return ExchangeMatch(
        media_id=media_id,
        key=f"{agency}-{series}",
        agency=agency,
        country=country,
        series=series,
        status=status,
        victim_identified=victim,
        algorithm="sha256",
    )


def test_html_report_lists_agencies_per_media(tmp_path: Path) -> None:
    evidence = tmp_path / "phone"
    evidence.mkdir()
    for i in range(3):
        _picture(evidence / f"pic{i}.jpg", i)
    shutil.copy(evidence / "pic1.jpg", evidence / "copy_of_pic1.jpg")  # one media, two files
    with init_workspace(tmp_path / "ws") as ws:
        ingest(ws, "OP-9", [str(evidence)], options=IngestOptions(jobs=1, progress=False))
        with ws.transaction() as s:
            rows = {r.path: r for r in triage_rows(s, get_case(s, "OP-9").id)}
            seen, identified = rows["pic0.jpg"].media_id, rows["pic1.jpg"].media_id
            assert seen is not None and identified is not None
            s.add_all(
                [
                    _match(seen, "Agency B", "FR", "B-12", "unidentified", False),
                    _match(seen, "Agency C", "NL", None, "in-progress", False),
                    _match(identified, "Agency A", "DE", "Lake-3", "identified", True),
                ]
            )
        with ws.session() as s:
            files = build_report(ws, s, "OP-9", tmp_path / "out", pdf=False)
    html = files.html.read_text(encoding="utf-8")
    assert 'id="agencies">Seen or identified by other agencies (2)' in html
    section = html[html.index('id="agencies"') : html.index("Unreadable files")]
    # one row per agency record; the identified media (two files) first
    rows_html = re.findall(r'<tr class="agency[^"]*">(.*?)</tr>', section, re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", r, re.S) for r in rows_html]
    assert [c[-5:] for c in cells] == [
        ["Agency A", "DE", "Lake-3", "identified", "yes"],
        ["Agency B", "FR", "B-12", "unidentified", "no"],
        ["Agency C", "NL", "", "in-progress", "no"],
    ]
    assert "copy_of_pic1.jpg" in cells[0][2] and "pic1.jpg" in cells[0][2]
    assert 'rowspan="2"' in rows_html[1]  # pic0: two agencies, one media cell
    assert 'class="agency identified"' in section
    assert "pic2.jpg" not in section  # no agency holds it


def test_report_without_agencies_says_none(tmp_path: Path) -> None:
    evidence = tmp_path / "phone"
    evidence.mkdir()
    _picture(evidence / "pic0.jpg", 0)
    with init_workspace(tmp_path / "ws") as ws:
        ingest(ws, "OP-1", [str(evidence)], options=IngestOptions(jobs=1, progress=False))
        with ws.session() as s:
            files = build_report(ws, s, "OP-1", tmp_path / "out", pdf=False)
    html = files.html.read_text(encoding="utf-8")
    assert "other agencies (0)</h2>\n<p>None (this workspace is not connected" in html


def test_agency_media_groups_files_and_keeps_each_record_once() -> None:
    a = {"agency": "A", "country": "DE", "series": "S", "status": "identified",
         "victim_identified": False}  # fmt: skip
    b = {"agency": "B", "country": "FR", "series": None, "status": "unidentified",
         "victim_identified": True}  # fmt: skip
    rows = [
        TriageRow("x.jpg", "E1", "aa", "known", agencies=[a], media_id=1),
        TriageRow("y.jpg", "E2", "aa", "known", agencies=[a], media_id=1),
        TriageRow("z.jpg", "E1", "bb", "seen-elsewhere", agencies=[b, b], media_id=2),
        TriageRow("n.jpg", "E1", "cc", "new", media_id=3),
    ]
    out = agency_media(rows)
    assert [(m.sha256, m.files, len(m.agencies)) for m in out] == [
        ("bb", ["E1: z.jpg"], 1),  # a victim identified comes first
        ("aa", ["E1: x.jpg", "E2: y.jpg"], 1),
    ]
