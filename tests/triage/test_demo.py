"""`python -m tantalio.demo` (what `make demo` runs) plants every verdict and finishes."""

from __future__ import annotations

from pathlib import Path

import pytest

from tantalio.demo.__main__ import main
from tantalio.store import repo
from tantalio.store.workspace import open_workspace
from tantalio.triage.results import counts_by_exhibit, triage_rows

pytestmark = pytest.mark.slow


def test_demo_plants_every_verdict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--out", str(tmp_path / "demo"), "--jobs", "2"]) == 0
    out = capsys.readouterr().out
    report = tmp_path / "demo" / "report" / "report.html"
    assert f"report: {report.resolve()}" in out and report.is_file()
    pdf = report.with_name("report.pdf")  # issue 16: the demo shows the PDF for court too
    assert f"pdf:    {pdf}" in out and pdf.read_bytes().startswith(b"%PDF")
    with open_workspace(tmp_path / "demo" / "workspace") as ws, ws.session() as s:
        rows = list(triage_rows(s, repo.get_case(s, "OP-DEMO").id))
    counts = counts_by_exhibit(rows)
    assert set(counts) == {"phone1", "laptop", "usb"}
    totals: dict[str, int] = {}
    for per in counts.values():
        for verdict, n in per.items():
            totals[verdict] = totals.get(verdict, 0) + n
    assert totals == {
        "known": 10,
        "near-known": 5,
        "known-good": 3,
        "seen-elsewhere": 2,
        "unreadable": 1,
        "non-media": 5,
        "new": 175,
    }
    by_path = {r.path: r for r in rows}
    deleted = by_path["usb.dd/_NOWN2.JPG"]  # deleted on the FAT stick, still known
    assert deleted.deleted and deleted.verdict == "known" and deleted.series == "Lakeside"
    assert by_path["Movies/shared.mp4"].algorithm == "vpdq"
    assert by_path["Pictures/Downloads/turned.jpg"].verdict == "near-known"
    nested = "laptop.zip/Users/alex/backup/backup-2016.zip/old/keep_me.jpg"
    assert by_path[nested].verdict == "known"
    top = max((r for r in rows if r.verdict == "new"), key=lambda r: r.priority or 0)
    assert top.path.startswith("DCIM/Camera/IMG_2017051")  # the camera burst comes first
    # The chat case (three phones, three languages) gives the network page its graph.
    assert "$ tantalio network OP-LENGUAS --top 5" in out
    from tantalio.demo.chatscenario import build_world
    from tantalio.network import build_graph, rank
    from tantalio.store.chats import load_graph_data

    with open_workspace(tmp_path / "demo" / "workspace") as ws, ws.session() as s:
        data = load_graph_data(s, [repo.get_case(s, "OP-LENGUAS").id])
    ranking = rank(data, build_graph(data))
    cast = build_world().cast
    assert {r.key for r in ranking[:3]} == {cast[k].jid for k in ("D1", "D2", "D3")}
