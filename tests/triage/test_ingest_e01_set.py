"""Ingest of a multi-segment E01 set (NTFS on GPT): the pictures on it, a deleted one and one
in an alternate data stream included, are fingerprinted."""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import select

from tantalio.store import repo
from tantalio.store.media import Media
from tantalio.store.workspace import init_workspace
from tantalio.triage.pipeline import IngestOptions, ingest
from tantalio.triage.results import triage_rows

DATA = Path(__file__).resolve().parent.parent / "data" / "evidence"


def test_ingest_of_an_e01_set_fingerprints_its_pictures(tmp_path: Path) -> None:
    for seg in sorted(DATA.glob("gpt-ntfs.E0?")):
        shutil.copy(seg, tmp_path / seg.name)
    with init_workspace(tmp_path / "ws") as ws:
        report = ingest(
            ws, "E01", [str(tmp_path / "gpt-ntfs.E01")], options=IngestOptions(in_process=True)
        )
        (ex,) = report.exhibits
        assert (ex.label, ex.seen, ex.added) == ("gpt-ntfs.E01", 7, 7)
        with ws.session() as s:
            rows = {r.path: r for r in triage_rows(s, repo.get_case(s, "E01").id)}
            pictures = {
                path: s.scalar(select(Media).where(Media.id == r.media_id))
                for path, r in rows.items()
                if r.verdict == "new"
            }
        assert sorted(pictures) == [
            "gpt-ntfs.E01/p1/DCIM/b.png",
            "gpt-ntfs.E01/p1/DCIM/gone.jpg",
            "gpt-ntfs.E01/p1/DCIM/keep.jpg",
            "gpt-ntfs.E01/p1/Documents/notes.txt:thumb.jpg",
        ]
        assert rows["gpt-ntfs.E01/p1/DCIM/gone.jpg"].deleted
        for path, media in pictures.items():
            assert media is not None and media.kind == "image", path
            assert media.pdq is not None and len(media.pdq) == 64, path
            assert (media.width, media.height) == (64, 48), path
        assert rows["gpt-ntfs.E01/p1/Documents/notes.txt"].verdict == "non-media"
