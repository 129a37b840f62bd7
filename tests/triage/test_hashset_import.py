from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from sqlalchemy import select

from tantalio.hashsets.base import HashSetFormatError
from tantalio.store import repo
from tantalio.store.cases import File
from tantalio.store.hashsets import HashEntry, HashSet
from tantalio.store.media import Match, Media
from tantalio.store.workspace import open_workspace
from tantalio.triage.hashset_import import import_hash_set
from tantalio.triage.verdicts import refresh_cases

from .helpers import fingerprint, flip, rand_pdq, store_files


def _verdicts(ws) -> dict[str, str | None]:
    with ws.session() as s:
        return {p: v for p, v in s.execute(select(File.path, File.verdict))}


def test_import_after_ingest_matches_exact_pdq_rotated_and_vpdq(
    db_url: str, tmp_path: Path
) -> None:
    rng = random.Random(7)
    known_pdq, rotated_known, other = rand_pdq(rng), rand_pdq(rng), rand_pdq(rng)
    orient = [rand_pdq(rng) for _ in range(8)]
    orient[1] = flip(rotated_known, [3, 70, 200])  # rot90 of this image is near a known one
    frames = [rand_pdq(rng) for _ in range(10)]
    fps = {
        "a/exact.jpg": fingerprint(b"exact", pdq=other),
        "a/near.jpg": fingerprint(b"near", pdq=flip(known_pdq, list(range(0, 40, 2)))),
        "a/rotated.jpg": fingerprint(b"rot", pdq=orient[0], orientations=orient),
        "a/lowq.jpg": fingerprint(b"lowq", pdq=known_pdq, quality=20),
        "a/video.mp4": fingerprint(b"video", kind="video", frames=frames[:9] + [rand_pdq(rng)]),
        "a/new.jpg": fingerprint(b"new", pdq=rand_pdq(rng)),
        "a/notes.txt": fingerprint(b"text", kind="other"),
        "a/broken.zip/x.jpg": "encrypted member: not read",
    }
    md5_exact = fps["a/exact.jpg"].md5
    hma = tmp_path / "known.csv"
    vpdq = json.dumps([f"{h},100,{i}.0" for i, h in enumerate(frames)])
    hma.write_text(
        "signal_type,signal,category,series\n"
        f"md5,{md5_exact},1,Lake\n"
        f"pdq,{known_pdq},1,Lake\n"
        f"pdq,{rotated_known},2,Forest\n"
        f'vpdq,"{vpdq.replace(chr(34), chr(34) * 2)}",1,Forest\n'
    )
    with open_workspace(db_url) as ws:
        store_files(ws, "C1", "phone1", fps)
        with ws.transaction() as s:
            refresh_cases(s, [repo.get_case(s, "C1").id])
        assert _verdicts(ws)["a/exact.jpg"] == "new"
        result = import_hash_set(ws, hma, "hma", "stand-ins")
        assert result.entries == 4 and result.kind == "known-bad" and not result.warnings
        assert result.matched_media == 4
        v = _verdicts(ws)
        assert v == {
            "a/exact.jpg": "known",
            "a/near.jpg": "near-known",
            "a/rotated.jpg": "near-known",
            "a/lowq.jpg": "new",  # quality < 50 is never matched
            "a/video.mp4": "near-known",  # 9 of 10 unique frames: 90% >= 80%
            "a/new.jpg": "new",
            "a/notes.txt": "non-media",
            "a/broken.zip/x.jpg": "unreadable",
        }
        with ws.session() as s:
            rot = s.execute(
                select(Match.orientation, Match.distance)
                .join(Media, Media.id == Match.media_id)
                .where(Media.sha256 == fps["a/rotated.jpg"].sha256, Match.algorithm == "pdq")
            ).one()
            assert rot == ("rot90", 3)
            video = s.execute(select(Match.score).where(Match.algorithm == "vpdq")).scalar_one()
            assert video == pytest.approx(0.9)


def test_malformed_file_imports_nothing(db_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"@odata.context": "x/$metadata#Media", "value": [{"MD5": "' + "a" * 32)
    with open_workspace(db_url) as ws:
        with pytest.raises(HashSetFormatError):
            import_hash_set(ws, bad, "vics", "broken")
        with ws.session() as s:
            assert s.scalars(select(HashSet)).all() == []
            assert s.scalars(select(HashEntry)).all() == []


def test_name_taken_unless_replace(db_url: str, tmp_path: Path) -> None:
    first = tmp_path / "a.md5"
    first.write_text("d41d8cd98f00b204e9800998ecf8427e  empty\n")
    second = tmp_path / "b.md5"
    second.write_text(
        "0cc175b9c0f1b6a831c399e269772661  a\n900150983cd24fb0d6963f7d28e17f72  abc\n"
    )
    with open_workspace(db_url) as ws:
        import_hash_set(ws, first, "md5sum", "list")
        with pytest.raises(repo.HashSetExists):
            import_hash_set(ws, second, "md5sum", "list")
        result = import_hash_set(ws, second, "md5sum", "list", replace=True)
        assert result.replaced and result.entries == 2
        with ws.session() as s:
            assert s.scalars(select(HashEntry.md5).order_by(HashEntry.md5)).all() == [
                "0cc175b9c0f1b6a831c399e269772661",
                "900150983cd24fb0d6963f7d28e17f72",
            ]


def test_known_good_and_seen_elsewhere(db_url: str, tmp_path: Path) -> None:
    rng = random.Random(3)
    shared = fingerprint(b"shared", pdq=rand_pdq(rng))
    icon = fingerprint(b"icon", pdq=rand_pdq(rng))
    nsrl_like = tmp_path / "good.sha256"
    nsrl_like.write_text(f"{icon.sha256}  icon.png\n")
    with open_workspace(db_url) as ws:
        store_files(ws, "C1", "disk", {"x/shared.jpg": shared, "x/icon.png": icon})
        store_files(ws, "C2", "phone", {"dcim/same.jpg": shared})
        import_hash_set(ws, nsrl_like, "sha256sum", "good", kind="known-good")
        with ws.transaction() as s:
            refresh_cases(s, [repo.get_case(s, "C1").id, repo.get_case(s, "C2").id])
        v = _verdicts(ws)
        assert v["x/icon.png"] == "known-good"
        assert v["x/shared.jpg"] == "seen-elsewhere"
        assert v["dcim/same.jpg"] == "seen-elsewhere"


def test_matched_series_are_created_and_linked(db_url: str, tmp_path: Path) -> None:
    from tantalio.store.series import MediaSeries, Series

    a, b = fingerprint(b"series-a"), fingerprint(b"series-b")
    hma = tmp_path / "s.csv"
    hma.write_text(f"signal_type,signal,series\nmd5,{a.md5},Harbour\nmd5,{b.md5},Harbour\n")
    with open_workspace(db_url) as ws:
        store_files(ws, "C1", "disk", {"a.jpg": a, "b.jpg": b})
        import_hash_set(ws, hma, "hma", "series-list")
        with ws.session() as s:
            (series,) = s.scalars(select(Series)).all()
            assert series.name == "Harbour" and series.status == "unidentified"
            links = s.scalars(select(MediaSeries).where(MediaSeries.series_id == series.id)).all()
            assert len(links) == 2 and {x.source for x in links} == {"hashset"}
