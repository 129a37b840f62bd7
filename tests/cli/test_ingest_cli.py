from __future__ import annotations

import random
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
