from __future__ import annotations

import random
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tantalio.demo import synth
from tantalio.demo.tree import build_tree
from tantalio.store import repo
from tantalio.store.cases import Exhibit, File
from tantalio.store.media import Media
from tantalio.store.workspace import init_workspace
from tantalio.triage import ingest_run
from tantalio.triage.analyzers import AnalyzerContext
from tantalio.triage.pipeline import IngestOptions, ingest
from tantalio.triage.results import triage_rows

FAST = IngestOptions(in_process=True, batch_files=9)


def _verdicts(ws, case: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with ws.session() as s:
        return {r.path: r.verdict for r in triage_rows(s, repo.get_case(s, case).id)}


def test_ingest_with_worker_pool_on_both_backends(db_url: str, tmp_path: Path) -> None:
    src = tmp_path / "ev"
    build_tree(src, n=12, seed=3)
    with init_workspace(tmp_path / "ws", database=db_url) as ws:
        assert ws.url == db_url
        report = ingest(ws, "C", [str(src)], options=IngestOptions(jobs=2, batch_files=5))
        (ex,) = report.exhibits
        assert ex.label == "ev" and ex.seen == ex.added == 12 + 5 + 10 and ex.skipped == 0
        assert ex.new_media == 12 + 4 + 8 + 1  # same.jpg and again.jpg repeat content; +the zip
        with ws.session() as s:
            assert s.scalar(select(func.count(Media.id))) == ex.new_media
            assert s.scalar(select(Exhibit.status)) == "complete"
            assert (ws.dir / "thumbs").is_dir() and any((ws.dir / "thumbs").rglob("*.jpg"))
        v = _verdicts(ws, "C")
        assert v["broken.jpg"] == "unreadable" and v["docs/notes.txt"] == "non-media"
        assert report.verdicts["new"] == sum(1 for x in v.values() if x == "new")
        again = ingest(ws, "C", [str(src)], options=FAST)
        assert again.exhibits[0].added == 0 and again.exhibits[0].skipped == ex.seen


def test_same_content_in_two_cases_is_seen_elsewhere(tmp_path: Path) -> None:
    rng = random.Random(9)
    shared = synth.jpeg_bytes(synth.picture(rng, 200, 150))
    synth.write(tmp_path / "a" / "x.jpg", shared)
    synth.write(tmp_path / "a" / "only-a.jpg", synth.jpeg_bytes(synth.picture(rng, 200, 150)))
    synth.write(tmp_path / "b" / "deep" / "y.jpg", shared)
    with init_workspace(tmp_path / "ws") as ws:
        ingest(ws, "CASE-A", [str(tmp_path / "a")], options=FAST)
        assert _verdicts(ws, "CASE-A")["x.jpg"] == "new"
        ingest(ws, "CASE-B", [str(tmp_path / "b")], options=FAST)
        assert _verdicts(ws, "CASE-A") == {"x.jpg": "seen-elsewhere", "only-a.jpg": "new"}
        with ws.session() as s:
            rows = list(triage_rows(s, repo.get_case(s, "CASE-B").id))
        assert [(r.path, r.verdict, r.cases) for r in rows] == [
            ("deep/y.jpg", "seen-elsewhere", ["CASE-A"])
        ]


def test_several_sources_into_one_exhibit(tmp_path: Path) -> None:
    rng = random.Random(4)
    for name in ("card1", "card2"):
        synth.write(tmp_path / name / "DCIM" / "a.jpg", synth.jpeg_bytes(synth.picture(rng)))
    with init_workspace(tmp_path / "ws") as ws:
        sources = [str(tmp_path / "card1"), str(tmp_path / "card2")]
        ingest(ws, "C", sources, exhibit="phone", options=FAST)
        with ws.session() as s:
            paths = s.scalars(select(File.path).order_by(File.path)).all()
            assert paths == ["card1/DCIM/a.jpg", "card2/DCIM/a.jpg"]
            assert s.scalars(select(Exhibit.label)).all() == ["phone"]
        with pytest.raises(ValueError, match="same name"):
            ingest(ws, "C", [str(tmp_path / "card1"), str(tmp_path / "card1" / ".." / "card1")])


class _TextAnalyzer:
    """A stand-in for the chats analyzer: wants .txt files and reads them whole."""

    name = "text"

    def __init__(self) -> None:
        self.seen: dict[str, bytes] = {}

    def wants(self, path: str) -> bool:
        return path.endswith(".txt")

    def analyze(self, ctx: AnalyzerContext) -> list[str]:
        for p in ctx.paths:
            self.seen[p] = (ctx.root / p).read_bytes()
        return [f"read {len(ctx.paths)} files of {ctx.exhibit_label}"]


def test_analyzers_get_spooled_files_at_their_exhibit_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "ev"
    build_tree(src, n=4, seed=2)
    analyzer = _TextAnalyzer()
    monkeypatch.setattr(ingest_run, "load_analyzers", lambda: [analyzer])
    with init_workspace(tmp_path / "ws") as ws:
        report = ingest(ws, "C", [str(src)], options=FAST)
        assert analyzer.seen == {"docs/notes.txt": b"shopping list\n"}
        assert report.exhibits[0].messages == ["text: read 1 files of ev"]
        analyzer.seen.clear()
        ingest(ws, "C", [str(src)], options=FAST)  # complete exhibit: not analysed again
        assert analyzer.seen == {}
