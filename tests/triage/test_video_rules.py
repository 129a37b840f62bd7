"""Videos against a hash set by HMA's vPDQ rule, and video frames against pictures, in a
case workspace, both directions (hash set first, or evidence first): an excerpt (10 s of a
60 s known video), a re-encode and a resized copy are near-known; an unrelated video is
not; a frame of the known video saved as a JPEG and a video showing a known picture are
near-known too. Benign synthetic media (demo.synth.video_cases)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tantalio.demo import synth
from tantalio.fingerprint import fingerprint_bytes
from tantalio.store import repo
from tantalio.store.workspace import init_workspace
from tantalio.triage.hashset_import import import_hash_set
from tantalio.triage.pipeline import IngestOptions, ingest
from tantalio.triage.results import triage_rows

pytestmark = pytest.mark.slow
FAST = IngestOptions(in_process=True, batch_files=3)
NEAR = ("excerpt", "reencoded", "resized", "frame", "showing")


@pytest.fixture(scope="module")
def media(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(evidence folder, HMA CSV with the known video's vPDQ and the known picture's PDQ)."""
    root = tmp_path_factory.mktemp("videos")
    cases = synth.video_cases()
    for key in (*NEAR, "unrelated"):
        synth.write(root / "evidence" / f"{key}.{'jpg' if key == 'frame' else 'mp4'}", cases[key])
    video = fingerprint_bytes(cases["known"], "known.mp4")
    picture = fingerprint_bytes(cases["picture"], "known.jpg")
    frames = [f"{f.pdq},{f.quality},{f.timestamp:.3f}" for f in video.frames or []]
    cell = json.dumps(frames).replace('"', '""')
    hma = root / "known.csv"
    hma.write_text(f'signal_type,signal\nvpdq,"{cell}"\npdq,{picture.pdq}\n')
    return root / "evidence", hma


def _verdicts(ws_dir: Path) -> dict[str, tuple[str, str | None]]:
    from tantalio.store.workspace import open_workspace

    with open_workspace(ws_dir) as ws, ws.session() as s:
        rows = triage_rows(s, repo.get_case(s, "VID").id)
        return {Path(r.path).stem: (r.verdict, r.algorithm) for r in rows}


@pytest.mark.parametrize("order", ["hash-set-first", "evidence-first"])
def test_video_rules_in_triage(tmp_path: Path, media: tuple[Path, Path], order: str) -> None:
    evidence, hma = media
    with init_workspace(tmp_path / "ws") as ws:
        if order == "hash-set-first":
            import_hash_set(ws, hma, "hma", "known")
            ingest(ws, "VID", [str(evidence)], options=FAST)
        else:
            ingest(ws, "VID", [str(evidence)], options=FAST)
            import_hash_set(ws, hma, "hma", "known")
    verdicts = _verdicts(tmp_path / "ws")
    assert {k: v[0] for k, v in verdicts.items()} == {
        **{k: "near-known" for k in NEAR},
        "unrelated": "new",
    }
    assert verdicts["excerpt"][1] == verdicts["reencoded"][1] == "vpdq"
    assert verdicts["frame"][1] == "vpdq"  # the frame matched the known video
    assert verdicts["showing"][1] == "pdq"  # the video matched the known picture
