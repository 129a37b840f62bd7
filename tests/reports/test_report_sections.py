"""The report says what the examiner decided and what is known (issue 16): category counts
that agree with the dashboard (the examiner's category wins, both shown), hash-set matches,
the examiner's series, chats, the audit summary with the chain head, the CSV and triage JSON
carrying the examiner's category and series, and a PDF whose thumbnails stay blurred."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import numpy as np
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from tantalio.reports.html import build_report
from tantalio.store import repo
from tantalio.store.audit import audit
from tantalio.store.cases import File
from tantalio.store.review import add_members, categorize, create_series
from tantalio.store.web_queries import case_summary
from tantalio.store.workspace import init_workspace
from tantalio.triage.hashset_import import import_hash_set
from tantalio.triage.pipeline import ingest
from tantalio.triage.results import triage_rows


def _picture(path: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (9, 12, 3), dtype=np.uint8)
    Image.fromarray(small).resize((480, 360), Image.Resampling.BICUBIC).save(path, quality=90)


def test_report_sections_pdf_and_csv(tmp_path: Path) -> None:
    import hashlib

    evidence = tmp_path / "phone"
    evidence.mkdir()
    for i in range(6):
        _picture(evidence / f"pic{i}.jpg", i)
    md5 = {i: hashlib.md5((evidence / f"pic{i}.jpg").read_bytes()).hexdigest() for i in range(6)}
    hma = tmp_path / "known.csv"
    hma.write_text(f"signal_type,signal,category,series\nmd5,{md5[0]},1,Lake\nmd5,{md5[1]},0,\n")
    with init_workspace(tmp_path / "ws") as ws:
        import_hash_set(ws, hma, "hma", "stand-ins", kind="known-bad")
        ingest(ws, "OP-3", [str(evidence)])
        with ws.transaction() as s:
            case = repo.get_case(s, "OP-3")
            mids = {p: m for p, m in s.execute(select(File.path, File.media_id))}
            categorize(s, [mids["pic0.jpg"], mids["pic2.jpg"]], 2)  # examiner over hash set
            series = create_series(s, "Harbour walk")
            add_members(s, series.id, [mids["pic2.jpg"], mids["pic3.jpg"]])
            audit(s, "reveal", username="erin", object_type="media", object_id=mids["pic2.jpg"])
        with ws.session() as s:
            files = build_report(ws, s, "OP-3", tmp_path / "rep")
            summary = case_summary(s, repo.get_case(s, "OP-3"))
            rows = {r.path: r for r in triage_rows(s, case.id)}
    # Dashboard and report count categories one way: examiner's, else the hash set's.
    assert summary.categories == {2: 2, 0: 1, "none": 3}
    assert summary.categories_examiner == {2: 2, "none": 4}
    assert summary.categories_hashset == {1: 1, 0: 1, "none": 4}
    html = files.html.read_text()
    assert re.search(r"2 · Child exploitive / age difficult</td><td class=\"n\">2</td>", html)
    assert "stand-ins</td><td>known 1, known-non-pertinent 1" in html
    assert 'Harbour walk</td><td class="n">2</td>' in html
    assert "No chat database" in html
    # New media name the classifier plug-ins' labels with their source, as their tiles do.
    ranked = html.split("New media, ranked")[1].split("<h2")[0]
    assert re.search(r"photo-no-exif \(media-kind \d+\)", ranked)
    assert "Audited events about this case" in html and 'reveal</td><td class="n">1' in html
    assert re.search(r"sequence \d+, hash <code>[0-9a-f]{64}</code>", html)
    # The triage JSON and the CSV carry the examiner's category and series.
    assert rows["pic2.jpg"].examiner_category == 2
    assert rows["pic2.jpg"].examiner_series == ["Harbour walk"]
    assert json.loads(json.dumps(rows["pic0.jpg"].to_json()))["category"] == 1  # the set's
    with files.csv.open() as fh:
        table = {r["path"]: r for r in csv.DictReader(fh)}
    assert table["pic2.jpg"]["examiner_category"] == "2"
    assert table["pic3.jpg"]["examiner_series"] == "Harbour walk"
    # The PDF: pages with the sections, thumbnails still grayscale.
    assert files.pdf is not None and files.pdf_error is None
    reader = PdfReader(str(files.pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Case OP-3" in text and "Audit summary" in text and "Hash-set matches" in text
    images = [img for page in reader.pages for img in page.images]
    assert images, "the ranked new media keep their (blurred) thumbnails"
    for img in images:
        assert Image.open(io.BytesIO(img.data)).mode in ("L", "LA")


def test_writing_a_pdf_leaves_pillow_refusing_truncated_images(tmp_path: Path) -> None:
    """WeasyPrint switches Pillow's LOAD_TRUNCATED_IMAGES on when imported; a report must not
    leave a process reading truncated images as whole."""
    from PIL import ImageFile

    from tantalio.reports.pdf import write_pdf

    write_pdf("<html><body><p>x</p></body></html>", tmp_path / "x.pdf")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    assert (tmp_path / "x.pdf").read_bytes().startswith(b"%PDF")
