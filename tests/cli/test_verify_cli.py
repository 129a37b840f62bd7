"""`tantalio ingest` / `verify` / `triage` / `report` on E01 images (issue 14): the stored
acquisition hashes are recorded per exhibit and checked; damage shows everywhere."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

from typer.testing import CliRunner

from tantalio.cli.main import app

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from evidence.ewf_damage import damage_chunk  # noqa: E402
from evidence.helpers import DATA  # noqa: E402


def test_verification_is_stored_and_shown(tmp_path: Path) -> None:
    runner = CliRunner()
    ws = tmp_path / "ws"
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    shutil.copy(DATA / "mbr.E01", tmp_path / "good.E01")
    damage_chunk(DATA / "mbr.E01", tmp_path / "bad.E01", 33)
    args = ["-w", str(ws), "--jobs", "1", "--no-progress"]
    done = runner.invoke(app, ["ingest", "K", str(tmp_path / "good.E01"), *args])
    assert done.exit_code == 0, done.output
    assert "good.E01: 8 files" in done.output and "image MATCH" in done.output
    done = runner.invoke(app, ["ingest", "K", str(tmp_path / "bad.E01"), *args])
    assert done.exit_code == 0, done.output
    assert "image MISMATCH" in done.output
    assert "corrupt chunk 33 (media bytes 1,081,344-1,114,111)" in done.output
    skipped = tmp_path / "later.E01"
    shutil.copy(DATA / "mbr.E01", skipped)
    done = runner.invoke(app, ["ingest", "K", str(skipped), *args, "--no-verify"])
    assert "image NOT VERIFIED" in done.output

    table = runner.invoke(app, ["triage", "K", "-w", str(ws)])
    assert "image good.E01: MATCH" in table.output
    assert "image later.E01: NOT VERIFIED" in table.output
    assert "image bad.E01: MISMATCH (corrupt chunk 33" in table.output
    rows = [
        json.loads(line)
        for line in runner.invoke(app, ["triage", "K", "--format", "json", "-w", str(ws)])
        .output.strip()
        .splitlines()
    ]
    photos = next(r for r in rows if r["exhibit"] == "bad.E01" and r["path"].endswith("photos.zip"))
    assert photos["verdict"] == "unreadable" and photos["sha256"] is None
    assert "corrupt chunk 33" in photos["error"]

    later = runner.invoke(app, ["verify", "later.E01", "-w", str(ws)])
    assert later.exit_code == 0 and "later.E01: match; MD5 matches" in later.output
    bad = runner.invoke(app, ["verify", "bad.E01", "--case", "K", "-w", str(ws)])
    assert bad.exit_code == 3 and "MD5 differs" in bad.output
    assert runner.invoke(app, ["verify", "nope", "-w", str(ws)]).exit_code == 1

    out = tmp_path / "report"
    assert runner.invoke(app, ["report", "K", "-o", str(out), "-w", str(ws)]).exit_code == 0
    html = (out / "report.html").read_text()
    section = html[html.index('<table id="exhibits">') :]
    section = section[: section.index("</table>")]
    assert section.count("<b>MATCH</b>") == 2 and section.count("<b>MISMATCH</b>") == 1
    assert "corrupt chunk 33" in section and "4da3c6c318513cb7c4cdd2b262fda3b7" in section


def test_reports_and_exports_carry_the_audit_head(tmp_path: Path) -> None:
    runner = CliRunner()
    ws = tmp_path / "ws"
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    assert (
        runner.invoke(app, ["user", "add", "ann", "--role", "admin", "-w", str(ws)]).exit_code == 0
    )
    shutil.copy(DATA / "mbr.E01", tmp_path / "good.E01")
    runner.invoke(app, ["ingest", "K", str(tmp_path / "good.E01"), "-w", str(ws), "-j", "1"])
    head = runner.invoke(app, ["audit", "verify", "-w", str(ws)]).output.splitlines()[0]
    head = head.removeprefix("head: ")
    assert re.match(r"^\d+:[0-9a-f]{64}$", head)
    report = runner.invoke(app, ["report", "K", "-o", str(tmp_path / "r"), "-w", str(ws)])
    assert f"audit head: {head}" in report.output  # the head when the report was written
    assert f"tantalio audit verify --expect {head}" in (tmp_path / "r" / "report.html").read_text()
    # the report is itself audited (issue 16): the export carries the head after that event
    head = runner.invoke(app, ["audit", "verify", "-w", str(ws)]).output.splitlines()[0]
    head = head.removeprefix("head: ")
    out = tmp_path / "k.vics.json"
    export = runner.invoke(app, ["export", "K", "-o", str(out), "-w", str(ws)])
    assert f"audit head: {head}" in export.output
    assert json.loads(out.read_text())["@tantalio.auditHead"] == head
    back = runner.invoke(
        app, ["hashset", "import", str(out), "--format", "vics", "--name", "back", "-w", str(ws)]
    )
    assert back.exit_code == 0, back.output


def test_verify_of_a_multi_source_exhibit_asks_which_image(tmp_path: Path) -> None:
    """An exhibit read from several sources (issue 17) has no one image to read: `verify`
    names the recorded sources and wants `--source`, which it then verifies."""
    runner = CliRunner()
    ws = tmp_path / "ws"
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    shutil.copy(DATA / "mbr.E01", tmp_path / "disk.E01")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.txt").write_text("benign\n")
    args = ["-w", str(ws), "--jobs", "1", "--no-progress"]
    sources = [str(tmp_path / "disk.E01"), str(tmp_path / "notes")]
    done = runner.invoke(app, ["ingest", "K", *sources, "--exhibit", "X", *args])
    assert done.exit_code == 0, done.output
    asked = runner.invoke(app, ["verify", "X", "-w", str(ws)])
    assert asked.exit_code == 1 and "read from 2 sources" in asked.output
    assert "name the image with --source" in asked.output
    done = runner.invoke(app, ["verify", "X", "--source", sources[0], "-w", str(ws)])
    assert done.exit_code == 0 and "X: match; MD5 matches" in done.output
