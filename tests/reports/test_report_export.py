from __future__ import annotations

import base64
import csv
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageFilter
from typer.testing import CliRunner

from tantalio.cli.main import app
from tantalio.demo.tree import build_tree, md5
from tantalio.fingerprint.engine import fingerprint_file
from tantalio.reports.html import build_report
from tantalio.reports.vics_export import export_vics
from tantalio.store import repo
from tantalio.store.workspace import init_workspace
from tantalio.triage.hashset_import import import_hash_set
from tantalio.triage.pipeline import IngestOptions, ingest
from tantalio.triage.results import triage_rows


@pytest.fixture(scope="module")
def case_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("case")
    src = root / "evidence"
    notes = build_tree(src, n=24, seed=5)
    hma = root / "known.csv"
    near = fingerprint_file(src / notes["known_near"]).pdq
    turned = fingerprint_file(src / notes["known_rotated"]).pdq
    hma.write_text(
        "signal_type,signal,category,series\n"
        f"md5,{md5(src / notes['known_exact'])},1,Lake\n"
        f"pdq,{near},2,Forest\n"
        f"pdq,{turned},2,Forest\n"
    )
    with init_workspace(root / "ws") as ws:
        import_hash_set(ws, hma, "hma", "stand-ins")
        ingest(ws, "OP-7", [str(src)], "phone1", IngestOptions(in_process=True, batch_files=7))
    return root


def _rows(root: Path) -> dict[str, object]:
    with init_workspace(root / "ws") as ws, ws.session() as s:
        case = repo.get_case(s, "OP-7")
        return {r.path: r for r in triage_rows(s, case.id)}


def test_verdicts_of_planted_copies(case_ws: Path) -> None:
    rows = _rows(case_ws)
    v = {p: r.verdict for p, r in rows.items()}  # type: ignore[attr-defined]
    assert v["dir1/pic001.jpg"] == "known" and v["copies/same.jpg"] == "known"
    assert v["dir2/pic002.jpg"] == "near-known"  # PDQ distance 0 but not the same bytes
    assert v["copies/small.jpg"] == "near-known"  # resized and recompressed
    assert v["phone.zip/DCIM/again.jpg"] == "near-known"  # inside the zip
    assert v["copies/turned.jpg"] == "near-known"  # rotated: found through orientations
    assert v["broken.jpg"] == "unreadable" and rows["broken.jpg"].error  # type: ignore[attr-defined]
    assert v["docs/notes.txt"] == "non-media" and v["phone.zip"] == "non-media"
    known = rows["copies/same.jpg"]
    assert (known.hashset, known.category, known.series, known.distance) == (  # type: ignore[attr-defined]
        "stand-ins",
        1,
        "Lake",
        0,
    )
    assert rows["copies/small.jpg"].distance <= 31  # type: ignore[attr-defined]
    assert sum(1 for x in v.values() if x == "new") == 24 - 3 + 8  # pictures + zip members


def test_triage_json_and_table(case_ws: Path) -> None:
    w = ["-w", str(case_ws / "ws")]
    out = CliRunner().invoke(app, ["triage", "OP-7", "--format", "json", *w])
    assert out.exit_code == 0, out.output
    objs = [json.loads(line) for line in out.output.splitlines()]
    assert len(objs) == 24 + 5 + 10
    keys = ["path", "exhibit", "sha256", "verdict", "hashset", "category", "series",
            "distance", "cases", "error"]  # fmt: skip
    assert all(list(o)[:10] == keys for o in objs)
    # settled files first, then the new media ranked by priority as the report ranks them
    verdicts = [o["verdict"] for o in objs]
    first_new = verdicts.index("new")
    assert set(verdicts[first_new:]) == {"new"} and "new" not in verdicts[:first_new]
    ranked = [(-o["priority"], o["exhibit"], o["path"]) for o in objs[first_new:]]
    assert ranked == sorted(ranked) and objs[first_new]["priority"] > objs[-1]["priority"]
    only_new = CliRunner().invoke(
        app, ["triage", "OP-7", "--format", "json", "--verdict", "new", *w]
    )
    assert only_new.output.splitlines() == out.output.splitlines()[first_new:]
    bad = CliRunner().invoke(app, ["triage", "OP-7", "--verdict", "knwon", *w])
    assert bad.exit_code == 2
    assert "--verdict 'knwon' is not a verdict; one of: known, near-known" in bad.output
    table = CliRunner().invoke(app, ["triage", "OP-7", *w])
    assert re.search(r"phone1\s+2\s+5\s+1\s+2\s+29\s+39", table.output), table.output


def _sharpness(img: Image.Image) -> float:
    edges = np.asarray(img.convert("L").filter(ImageFilter.FIND_EDGES), np.float32)
    return float(edges[4:-4, 4:-4].var())  # the filter leaves the border row unblurred


def test_report_html_csv_blurred_thumbnails(case_ws: Path, tmp_path: Path) -> None:
    with init_workspace(case_ws / "ws") as ws, ws.session() as s:
        files = build_report(ws, s, "OP-7", tmp_path / "rep")
        thumbs = sorted((case_ws / "ws" / "thumbs").rglob("*.jpg"))
    html = files.html.read_text()
    assert "<svg" in html and "Forest" in html and "Lake" in html
    assert "Unreadable files (1)" in html and "broken.jpg" in html
    assert "New media, ranked (29)" in html
    images = re.findall(r'src="data:image/jpeg;base64,([^"]+)"', html)
    assert len(images) == 29
    shown = [Image.open(io.BytesIO(base64.b64decode(b))) for b in images]
    assert {im.mode for im in shown} == {"L"}  # grayscale baked in
    originals = [Image.open(p) for p in thumbs]
    assert np.mean([*map(_sharpness, shown)]) < 0.1 * np.mean([*map(_sharpness, originals)])
    with files.csv.open() as fh:
        table = list(csv.DictReader(fh))
    assert len(table) == 39 and {r["verdict"] for r in table} >= {"known", "new", "unreadable"}


def test_export_vics_reads_back(case_ws: Path, tmp_path: Path) -> None:
    out = tmp_path / "op7.json"
    with init_workspace(case_ws / "ws") as ws:
        with ws.session() as s, out.open("w") as fh:
            n = export_vics(s, "OP-7", fh)
        doc = json.loads(out.read_text())
        media = doc["value"][0]["Media"]
        assert len(media) == n == 24 + 2 + 8 + 1  # pictures, 2 near-copies, zip, broken.jpg
        by_md5 = {m["MD5"].lower(): m for m in media}
        with ws.session() as s:
            rows = {r.path: r for r in triage_rows(s, repo.get_case(s, "OP-7").id)}
        exact = by_md5[md5(case_ws / "evidence" / "dir1" / "pic001.jpg")]
        assert exact["Category"] == 1 and exact["Series"] == "Lake"
        assert sorted(f["FilePath"] for f in exact["MediaFiles"]) == [
            "phone1/copies/same.jpg",
            "phone1/dir1/pic001.jpg",
        ]
        small = next(m for m in media if m["SHA256"].lower() == rows["copies/small.jpg"].sha256)
        assert small["Category"] is None and "near-known" in small["Comments"]
        result = import_hash_set(ws, out, "vics", "op7-export")
        assert result.entries == n and not result.warnings
