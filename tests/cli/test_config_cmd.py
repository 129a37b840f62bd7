"""Issue 12: one MatchRules per workspace, configured once (`tantalio config`, kept in
workspace.json) and read by every matcher of the workspace (`workspace_rules`)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from tantalio.cli.main import app as cli
from tantalio.store.workspace import open_workspace
from tantalio.triage.indexes import WorkspaceIndexes, workspace_rules


def test_config_sets_the_workspaces_rules(tmp_path: Path) -> None:
    ws_dir = tmp_path / "ws"
    run = CliRunner().invoke
    assert run(cli, ["init", str(ws_dir)]).exit_code == 0
    r = run(cli, ["config", "-w", str(ws_dir)])
    assert r.exit_code == 0 and "pdq_threshold=31 " in r.output and "*" not in r.output
    r = run(
        cli,
        ["config", "-w", str(ws_dir), "--pdq-threshold", "24", "--no-orientations"]
        + ["--vpdq-query-share", "0.6", "--vpdq-index-share", "off", "--quality-min", "60"],
    )
    assert r.exit_code == 0, r.output
    assert "pdq_threshold=24*" in r.output and "vpdq_index_share=off*" in r.output
    marker = json.loads((ws_dir / "workspace.json").read_text())
    assert marker["match_rules"] == {
        "min_quality": 60,
        "orientations": False,
        "vpdq_query_share": 0.6,
        "vpdq_index_share": None,
        "pdq_threshold": 24,
    }
    ws = open_workspace(ws_dir)
    try:
        rules = workspace_rules(ws)
        assert (rules.pdq_threshold, rules.orientations, rules.vpdq_index_share) == (
            24,
            False,
            None,
        )
        assert WorkspaceIndexes(ws).rules == rules  # what ingest, import and the web query use
    finally:
        ws.close()
    # A bad value is refused naming the file; nothing is written.
    r = run(cli, ["config", "-w", str(ws_dir), "--quality-min", "101"])
    assert r.exit_code != 0 and "workspace.json" in r.output
    assert json.loads((ws_dir / "workspace.json").read_text()) == marker
    r = run(cli, ["config", "-w", str(ws_dir), "--reset", "all"])
    assert r.exit_code == 0 and "*" not in r.output
    assert "match_rules" not in json.loads((ws_dir / "workspace.json").read_text())
