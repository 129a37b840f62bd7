"""The workspace keeps its local-features index in DIR/index/local_features/: built at the
first ingest that needs it, extended with references created afterwards, and rebuilt (with
a message naming the damaged file) when a file is damaged (benign synthetic pictures)."""

from __future__ import annotations

import random
from pathlib import Path

from typer.testing import CliRunner

from tantalio.cli.main import app
from tantalio.demo import synth
from tantalio.localfeat.index import LocalIndex

runner = CliRunner()


def _crop(ws: Path, name: str, seed: int, folder: Path) -> None:
    """A reference picture in `folder/refs-NAME` and a 64 % crop of it in `folder/card-NAME`."""
    pic = synth.picture(random.Random(seed), 480, 360, "landscape")
    synth.write(folder / f"refs-{name}" / f"{name}.jpg", synth.jpeg_bytes(pic))
    crop = pic.crop((48, 36, 432, 324))
    synth.write(folder / f"card-{name}" / f"{name}-crop.jpg", synth.jpeg_bytes(crop))


def _ok(*args: str) -> str:
    done = runner.invoke(app, list(args))
    assert done.exit_code == 0, done.output
    return done.output


def _near_known(ws: Path, case: str) -> set[str]:
    import json

    out = _ok("triage", case, "--format", "json", "-w", str(ws))
    rows = [json.loads(line) for line in out.splitlines()]
    return {
        Path(r["path"]).name
        for r in rows
        if r["verdict"] == "near-known" and r["match_kind"] == "local-features"
    }


def test_index_is_persisted_extended_and_rebuilt(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    _ok("init", str(ws))
    _crop(ws, "lake", 21, tmp_path)
    _crop(ws, "hill", 22, tmp_path)
    _ok("hashset", "create", "A", "--from", str(tmp_path / "refs-lake"), "-w", str(ws))
    _ok("ingest", "C1", str(tmp_path / "card-lake"), "-j", "1", "--no-progress", "-w", str(ws))
    assert _near_known(ws, "C1") == {"lake-crop.jpg"}
    saved = ws / "index" / "local_features"
    assert (saved / "header.json").is_file()
    assert len(LocalIndex.load(saved)) == 1

    # a reference created after the index was built is added to it (a second segment)
    _ok("hashset", "create", "B", "--from", str(tmp_path / "refs-hill"), "-w", str(ws))
    _ok("ingest", "C2", str(tmp_path / "card-hill"), "-j", "1", "--no-progress", "-w", str(ws))
    assert _near_known(ws, "C2") == {"hill-crop.jpg"}
    again = LocalIndex.load(saved)
    assert len(again) == 2 and len(again.segments) == 2

    # a damaged file is named, the index rebuilt from the database, and matching goes on
    post = next(saved.glob("*.post.npy"))
    post.write_bytes(b"\x93NUMPY garbage")
    _crop(ws, "moss", 23, tmp_path)
    _ok("hashset", "create", "C", "--from", str(tmp_path / "refs-moss"), "-w", str(ws))
    out = _ok(
        "ingest", "C3", str(tmp_path / "card-moss"), "-j", "1", "--no-progress", "-w", str(ws)
    )
    assert "local-features index" in out and post.name in out and "rebuilt" in out
    assert _near_known(ws, "C3") == {"moss-crop.jpg"}
    assert len(LocalIndex.load(saved)) == 3
