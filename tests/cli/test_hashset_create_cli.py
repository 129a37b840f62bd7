"""Issue 13 through the CLI: `tantalio hashset create NAME --from DIR` stores every signal
of each (benign, synthetic) reference file; triage then finds a crop, a 3 degree rotation and
a screenshot of a reference that PDQ misses, and says how it found them."""

from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

from PIL import Image, ImageDraw
from sqlalchemy import select
from typer.testing import CliRunner

from tantalio.cli.main import app
from tantalio.demo import synth
from tantalio.store.hashsets import HashEntry, HashEntryFeatures
from tantalio.store.workspace import open_workspace

runner = CliRunner()


def _screenshot(img: Image.Image) -> Image.Image:
    """A phone screenshot: status bar, the picture scaled down between margins, a caption."""
    canvas = Image.new("RGB", (360, 740), (250, 250, 250))
    canvas.paste(img.resize((340, 255)), (10, 200))
    draw = ImageDraw.Draw(canvas)
    draw.rectangle((0, 0, 360, 40), fill=(20, 20, 20))
    draw.text((10, 10), "12:34  LTE 80%", fill=(255, 255, 255))
    draw.text((10, 480), "caption text here", fill=(0, 0, 0))
    return canvas


def _setup(tmp_path: Path) -> tuple[Path, Path, str]:
    rng = random.Random(13)
    original = synth.picture(rng, 480, 360, "landscape")
    ref_bytes = synth.jpeg_bytes(original)
    refs = tmp_path / "refs"
    synth.write(refs / "lake.jpg", ref_bytes)
    synth.write(refs / "notes.txt", b"not a picture: hashes only")
    w, h = original.size
    card = tmp_path / "card"
    synth.write(card / "exact.jpg", ref_bytes)
    crop = original.crop((int(w * 0.1), int(h * 0.1), int(w * 0.9), int(h * 0.9)))
    synth.write(card / "crop.jpg", synth.jpeg_bytes(crop))
    synth.write(card / "rot3.jpg", synth.jpeg_bytes(original.rotate(3, Image.Resampling.BICUBIC)))
    synth.write(card / "shot.jpg", synth.jpeg_bytes(_screenshot(original)))
    synth.write(card / "other.jpg", synth.jpeg_bytes(synth.picture(rng, 480, 360, "texture")))
    ws = tmp_path / "ws"
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    return ws, card, hashlib.sha256(ref_bytes).hexdigest()


def _create(ws: Path, refs: Path) -> str:
    made = runner.invoke(app, ["hashset", "create", "Refs", "--from", str(refs), "-w", str(ws)])
    assert made.exit_code == 0, made.output
    return made.output


def _triage(ws: Path, card: Path, *extra: str) -> dict[str, dict[str, object]]:
    args = ["ingest", "C", str(card), "-j", "1", "--no-progress", *extra, "-w", str(ws)]
    done = runner.invoke(app, args)
    assert done.exit_code == 0, done.output
    out = runner.invoke(app, ["triage", "C", "--format", "json", "-w", str(ws)])
    assert out.exit_code == 0, out.output
    return {r["path"]: r for r in map(json.loads, out.output.splitlines())}


def test_create_stores_every_signal_and_triage_finds_crops_rotations_screenshots(
    tmp_path: Path,
) -> None:
    ws, card, ref_sha = _setup(tmp_path)
    output = _create(ws, tmp_path / "refs")
    assert "from 2 files: 2 entries, 1 with local features" in output
    with open_workspace(ws) as w, w.session() as s:
        entry = s.scalars(select(HashEntry).where(HashEntry.sha256 == ref_sha)).one()
        assert entry.md5 and entry.sha1 and entry.pdq
        features = s.get(HashEntryFeatures, entry.id)
        assert features is not None and (features.local_features or "").startswith("lf1:")
    rows = _triage(ws, card)
    for row in rows.values():
        assert {"match_kind", "match_sha256", "transform"} <= row.keys()
    assert rows["exact.jpg"]["verdict"] == "known"
    assert rows["exact.jpg"]["match_sha256"] == ref_sha and rows["exact.jpg"]["transform"] is None
    for name, angle in (("crop.jpg", 0.0), ("rot3.jpg", 3.0)):
        row = rows[name]
        assert row["verdict"] == "near-known", name
        assert row["match_kind"] == "local-features" and row["match_sha256"] == ref_sha
        t = row["transform"]
        assert isinstance(t, dict)
        assert t["inliers"] >= 22 and 0 <= t["false_match_probability"] < 1e-6
        assert abs(t["rotation_deg"] - angle) < 1.0 and t["flip"] is False
    crop_box = rows["crop.jpg"]["transform"]["crop_box"]  # type: ignore[index]
    assert crop_box[0] > 20 and crop_box[1] > 15 and crop_box[2] < 460 and crop_box[3] < 345
    shot = rows["shot.jpg"]
    assert shot["verdict"] == "near-known" and shot["match_sha256"] == ref_sha
    assert shot["match_kind"] in ("pdq-trimmed", "local-features") and shot["transform"]
    assert rows["other.jpg"]["verdict"] == "new" and rows["other.jpg"]["match_kind"] is None


def test_no_local_features_turns_the_stage_off(tmp_path: Path) -> None:
    ws, card, _ = _setup(tmp_path)
    _create(ws, tmp_path / "refs")
    rows = _triage(ws, card, "--no-local-features")
    assert rows["crop.jpg"]["verdict"] == "new" and rows["rot3.jpg"]["verdict"] == "new"
    assert rows["shot.jpg"]["match_kind"] == "pdq-trimmed"  # not a local-features stage


def test_create_refuses_a_missing_folder_and_a_taken_name(tmp_path: Path) -> None:
    ws, _, _ = _setup(tmp_path)
    missing = runner.invoke(
        app, ["hashset", "create", "X", "--from", str(tmp_path / "nope"), "-w", str(ws)]
    )
    assert missing.exit_code == 1 and "nope: no such file or folder" in missing.output
    _create(ws, tmp_path / "refs")
    again = runner.invoke(
        app, ["hashset", "create", "Refs", "--from", str(tmp_path / "refs"), "-w", str(ws)]
    )
    assert again.exit_code == 1 and "exists already" in again.output
    keys = tmp_path / "lab"
    assert runner.invoke(app, ["hashset", "keygen", str(keys)]).exit_code == 0
    out = tmp_path / "refs.json"
    published = runner.invoke(
        app,
        ["hashset", "publish", "Refs", "--key", f"{keys}.key.pem", "--issuer", "Lab",
         "--out", str(out), "-w", str(ws)],
    )  # fmt: skip
    assert published.exit_code == 0 and "published 2 entries" in published.output
