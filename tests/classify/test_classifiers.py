"""Classifier plug-ins: the built-in media-kind scores real benign files, its bonuses re-rank
new media, a lab's plug-in is found through its entry point, and a broken one is an error."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import piexif
import pytest
from PIL import Image, ImageDraw
from sqlalchemy import select

from tantalio.classify.base import ClassifierError
from tantalio.classify.registry import load_classifiers
from tantalio.store.auth import AuditEvent
from tantalio.store.cases import File
from tantalio.store.scores import scores_of
from tantalio.store.workspace import init_workspace
from tantalio.triage.classify_run import classify_case
from tantalio.triage.pipeline import ingest


def _photo(path: Path, seed: int, exif: bool) -> None:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 255, (12, 16, 3), dtype=np.uint8)
    img = Image.fromarray(small).resize((640, 480), Image.Resampling.BICUBIC)
    if exif:
        tags = {"0th": {piexif.ImageIFD.Make: b"Fictocam", piexif.ImageIFD.Model: b"F1"}}
        img.save(path, quality=90, exif=piexif.dump(tags))
    else:
        img.save(path, quality=90)


def _screenshot(path: Path) -> None:
    rng = np.random.default_rng(3)
    small = rng.integers(0, 255, (39, 18, 3), dtype=np.uint8)
    Image.fromarray(small).resize((1080, 2340), Image.Resampling.BICUBIC).save(path)


def _document(path: Path) -> None:
    img = Image.new("RGB", (850, 1100), "white")
    draw = ImageDraw.Draw(img)
    for y in range(100, 1000, 40):
        draw.rectangle((80, y, 770, y + 12), fill=(20, 20, 20))
    img.save(path)


@pytest.fixture
def evidence(tmp_path: Path) -> Path:
    root = tmp_path / "phone"
    root.mkdir()
    _photo(root / "camera.jpg", 1, exif=True)
    _photo(root / "download.jpg", 2, exif=False)
    _screenshot(root / "Screenshot_20170601.png")
    _document(root / "letter.png")
    return root


def test_media_kind_scores_and_reranks(db_url: str, tmp_path: Path, evidence: Path) -> None:
    ws = init_workspace(tmp_path / "ws", database=db_url)
    try:
        ingest(ws, "OP-7", [str(evidence)])
        with ws.session() as s:
            before = {p: v for p, v in s.execute(select(File.path, File.priority))}
        report = classify_case(ws, "OP-7", user="erin")
        assert report.scored == {"media-kind": 4} and report.errors == []
        with ws.session() as s:
            media = {p: m for p, m in s.execute(select(File.path, File.media_id))}
            labels = {
                path: [(r.label, r.classifier, r.version) for r in rows]
                for path, mid in media.items()
                for rows in [scores_of(s, [mid]).get(mid, [])]
            }
            after = {p: v for p, v in s.execute(select(File.path, File.priority))}
            event = s.scalars(select(AuditEvent).where(AuditEvent.action == "classify")).one()
        assert labels == {
            "camera.jpg": [("camera-photo", "media-kind", "1")],
            "download.jpg": [("photo-no-exif", "media-kind", "1")],
            "Screenshot_20170601.png": [("screenshot", "media-kind", "1")],
            "letter.png": [("document-graphic", "media-kind", "1")],
        }
        assert after["camera.jpg"] == pytest.approx(before["camera.jpg"] + 0.5)
        assert after["letter.png"] == pytest.approx(before["letter.png"] - 1.0)
        order = sorted(after, key=lambda p: -after[p])
        assert order[0] == "camera.jpg" and order[-1] == "letter.png"
        detail = json.loads(event.detail)
        assert event.username == "erin" and detail["classifiers"] == {"media-kind": "1"}
        # A second run scores nothing again; --rerun scores everything again.
        assert classify_case(ws, "OP-7").scored == {"media-kind": 0}
        assert classify_case(ws, "OP-7", rerun=True).scored == {"media-kind": 4}
        with ws.session() as s:
            mid = media["camera.jpg"]
            assert len(scores_of(s, [mid])[mid]) == 1  # replaced, not duplicated
    finally:
        ws.close()


def _plugin(site: Path, name: str, body: str) -> None:
    (site / f"{name}.py").write_text(body)
    dist = site / f"{name}-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[tantalio.classifiers]\n{name} = {name}:Lab\n")


def test_a_lab_plugin_is_loaded_and_a_broken_one_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    _plugin(
        site,
        "labscore",
        "from tantalio.classify import Score\n"
        "class Lab:\n    name = 'lab-score'\n    version = '7'\n"
        "    def classify(self, item):\n        return [Score('lab', 0.5, 1.0, 'lab rule')]\n",
    )
    monkeypatch.syspath_prepend(str(site))
    names = [(c.name, c.version) for c in load_classifiers()]
    assert names == [("media-kind", "1"), ("lab-score", "7")]
    assert [c.name for c in load_classifiers(["lab-score"])] == ["lab-score"]
    with pytest.raises(ClassifierError, match="no classifier named nope"):
        load_classifiers(["nope"])
    _plugin(site, "labbroken", "raise ImportError('missing model file')\n")
    with pytest.raises(ClassifierError, match="labbroken.*missing model file"):
        load_classifiers()
    sys.modules.pop("labscore", None)
