from __future__ import annotations

import random
import sys
from pathlib import Path

from typer.testing import CliRunner

from tantalio.cli.main import app
from tantalio.demo import synth


def test_ingest_progress_summary_and_errors(tmp_path: Path) -> None:
    rng = random.Random(1)
    for i in range(4):
        synth.write(tmp_path / "card" / f"p{i}.jpg", synth.jpeg_bytes(synth.picture(rng, 160, 120)))
    ws = tmp_path / "ws"
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    args = ["ingest", "K-1", str(tmp_path / "card"), "--jobs", "1", "-w", str(ws)]
    result = runner.invoke(app, [*args, "--progress"])
    assert result.exit_code == 0, result.output
    assert "files/s" in result.output and "ETA" in result.output  # the progress bar
    assert "card: 4 files, 4 added, 0 already stored, 4 new media" in result.output
    assert "verdicts: new 4" in result.output
    missing = runner.invoke(app, ["ingest", "K-1", str(tmp_path / "nope"), "-w", str(ws)])
    assert missing.exit_code == 1 and "no such file or folder" in missing.output
    unknown = runner.invoke(app, ["triage", "K-9", "-w", str(ws)])
    assert unknown.exit_code == 1 and "no case 'K-9'" in unknown.output


def test_archive_limits_are_raised_or_lowered_from_the_cli(tmp_path: Path) -> None:
    import json

    nested = Path(__file__).resolve().parents[1] / "data" / "evidence" / "nested.zip"
    runner = CliRunner()
    for depth in ("1", "9"):
        ws = tmp_path / f"ws{depth}"
        assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
        args = ["-w", str(ws), "--jobs", "1", "--no-progress", "--max-archive-depth", depth]
        done = runner.invoke(app, ["ingest", "K", str(nested), *args])
        assert done.exit_code == 0, done.output
        rows = runner.invoke(app, ["triage", "K", "--format", "json", "-w", str(ws)])
        errors = [json.loads(line)["error"] or "" for line in rows.output.splitlines()]
        limited = [e for e in errors if "nested archive depth limit" in e]
        if depth == "1":
            assert limited and "(1) reached" in limited[0] and "--max-archive-depth" in limited[0]
        else:
            assert not limited
    bad = runner.invoke(app, ["ingest", "K", str(nested), "--max-archive-depth", "0"])
    assert bad.exit_code == 2


def test_a_member_behind_a_traversal_name_is_matched(tmp_path: Path) -> None:
    """Issue 14: known bytes under `../../x` or `/x` in an archive are hashed and matched
    under the safe path (never written to disk)."""
    import hashlib
    import json

    data = Path(__file__).resolve().parents[1] / "data" / "evidence"
    known = tmp_path / "known.sha256"
    known.write_text(f"{hashlib.sha256(b'traversal' + bytes([10])).hexdigest()}  stand-in\n")
    ws = tmp_path / "ws"
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    imported = runner.invoke(
        app, ["hashset", "import", str(known), "-f", "sha256sum", "-n", "K", "-w", str(ws)]
    )
    assert imported.exit_code == 0, imported.output
    done = runner.invoke(app, ["ingest", "C", str(data / "zipslip.zip"), "-j", "1", "-w", str(ws)])
    assert done.exit_code == 0, done.output
    rows = runner.invoke(app, ["triage", "C", "--format", "json", "-w", str(ws)]).output
    verdicts = {r["path"]: r["verdict"] for r in map(json.loads, rows.splitlines())}
    assert verdicts["zipslip.zip/%2E%2E/%2E%2E/evil.txt"] == "known"
    assert verdicts["zipslip.zip/link"] == "unreadable"


def test_a_disk_image_that_hangs_libtsk_does_not_stop_the_run(tmp_path: Path) -> None:
    """Issue 14, fuzzing finding: an ext4 file system that makes libtsk loop forever costs its
    own partition (a record naming the image, partition and folder); the image's other
    partition and the other exhibits of the run are ingested, and the run ends."""
    import gzip
    import json

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from evidence.helpers import FINDING, mbr_disk

    data = Path(__file__).resolve().parents[1] / "data" / "evidence"
    with gzip.open(FINDING) as f:
        hostile = f.read()
    with gzip.open(data / "fat.img.gz") as f:
        fat = f.read()
    disk = mbr_disk(tmp_path / "seized.dd", [(0x83, hostile), (0x0C, fat)])
    rng = random.Random(3)
    card = tmp_path / "card"
    synth.write(card / "p.jpg", synth.jpeg_bytes(synth.picture(rng, 160, 120)))
    ws = tmp_path / "ws"
    runner = CliRunner()
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    args = ["-w", str(ws), "--jobs", "1", "--no-progress", "--disk-timeout", "2"]
    done = runner.invoke(app, ["ingest", "K", str(disk), str(card), *args])
    assert done.exit_code == 0, done.output
    rows = runner.invoke(app, ["triage", "K", "--format", "json", "-w", str(ws)])
    by_path = {r["path"]: r for r in map(json.loads, rows.output.splitlines())}
    hung = by_path["seized.dd/p1"]
    assert hung["verdict"] == "unreadable"
    assert hung["error"].startswith(
        "seized.dd: partition 1, listing folder /: libtsk gave no answer within 2 s"
    )
    assert any(p.startswith("seized.dd/p2/DCIM/") and r["sha256"] for p, r in by_path.items())
    assert [r["verdict"] for r in by_path.values() if r["exhibit"] == "card"] == ["new"]
