"""Issue 13 on Dask: ingest workers extract local features as the process pool does, so a
crop, a 3 degree rotation and a screenshot of a reference file get the same verdicts, match
kinds and transforms with `--dask-local` as in the ordinary run. Benign synthetic pictures."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from PIL import Image
from typer.testing import CliRunner

from tantalio.cli.main import app
from tantalio.demo import synth

pytestmark = pytest.mark.slow  # a LocalCluster start-up

runner = CliRunner()


def _rows(ws: Path, *extra: str, card: Path) -> dict[str, dict[str, object]]:
    args = ["ingest", "C", str(card), "--no-progress", *extra, "-w", str(ws)]
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    out = runner.invoke(app, ["triage", "C", "--format", "json", "-w", str(ws)])
    assert out.exit_code == 0, out.output
    return {str(r["path"]): r for r in map(json.loads, out.output.splitlines())}


def test_dask_workers_find_the_same_copies_by_local_features(tmp_path: Path) -> None:
    rng = random.Random(13)
    lake = synth.picture(rng, 480, 360, "landscape")
    refs = tmp_path / "refs"
    synth.write(refs / "lake.jpg", synth.jpeg_bytes(lake))
    card = tmp_path / "card"
    w, h = lake.size
    synth.write(card / "crop.jpg", synth.jpeg_bytes(lake.crop((70, 36, 460, 330))))
    synth.write(card / "rot3.jpg", synth.jpeg_bytes(lake.rotate(3, Image.Resampling.BICUBIC)))
    synth.write(card / "other.jpg", synth.jpeg_bytes(synth.picture(rng, w, h, "texture")))
    runs = {}
    for name, extra in (("pool", ("-j", "1")), ("dask", ("--dask-local", "1"))):
        ws = tmp_path / name
        assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
        made = runner.invoke(app, ["hashset", "create", "Refs", "--from", str(refs), "-w", str(ws)])
        assert made.exit_code == 0, made.output
        runs[name] = _rows(ws, *extra, card=card)
    keys = ("verdict", "match_kind", "match_sha256", "transform")
    assert {p: [r[k] for k in keys] for p, r in runs["dask"].items()} == {
        p: [r[k] for k in keys] for p, r in runs["pool"].items()
    }
    assert runs["dask"]["crop.jpg"]["match_kind"] == "local-features"
    assert runs["dask"]["rot3.jpg"]["verdict"] == "near-known"
    assert runs["dask"]["other.jpg"]["verdict"] == "new"
