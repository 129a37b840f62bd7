"""`tantalio config`: the workspace's match rules, kept in its workspace.json.

    tantalio config [-w DIR]                      show them (`*`: set for this workspace)
    tantalio config --pdq-threshold 28 --no-orientations --vpdq-index-share off ...
    tantalio config --reset orientations | --reset all

One `MatchRules` per workspace: ingest, hash-set import, list subscriptions and the web query
all read it (`triage.indexes.workspace_rules`). A change applies to what is matched from then
on (the PDQ indexes rebuild for a new threshold on next use); verdicts already stored stay as
they are until media or hash sets are matched again. Each change is an audit event.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import typer

from tantalio.cli.actor import AsOpt, cli_actor, record
from tantalio.cli.rule_options import (
    FrameDistOpt,
    FramesImagesOpt,
    IndexShareOpt,
    OrientOpt,
    PdqThresholdOpt,
    QualityOpt,
    QueryShareOpt,
    reset_keys,
    rule_keys,
    rule_options,
    rules_text,
)
from tantalio.cli.workspace_cmd import WorkspaceOpt, fail, open_cli_workspace


def config(
    threshold: int | None = PdqThresholdOpt,
    quality_min: int | None = QualityOpt,
    orientations: bool | None = OrientOpt,
    vpdq_frame_distance: int | None = FrameDistOpt,
    vpdq_query_share: str | None = QueryShareOpt,
    vpdq_index_share: str | None = IndexShareOpt,
    frames_vs_images: bool | None = FramesImagesOpt,
    reset: list[str] = typer.Option(
        [], "--reset", help="A match rule to set back to its default (repeatable; 'all')."
    ),
    workspace: WorkspaceOpt = None,
    as_user: AsOpt = None,
) -> None:
    """Show or change the workspace's match rules (workspace.json `match_rules`)."""
    from tantalio.signals import MatchRules
    from tantalio.signals.rules import RulesError
    from tantalio.store.workspace import MARKER

    changes: dict[str, Any] = dict(
        rule_options(
            quality_min,
            orientations,
            vpdq_frame_distance,
            vpdq_query_share,
            vpdq_index_share,
            frames_vs_images,
        )
    )
    if threshold is not None:
        changes["pdq_threshold"] = threshold
    try:
        dropped = reset_keys(reset, rule_keys())
    except ValueError as exc:
        fail(str(exc))
    with open_cli_workspace(workspace) as ws:
        if ws.dir is None:
            fail("a workspace opened by database URL has no workspace.json to configure")
        marker = Path(ws.dir) / MARKER
        data = json.loads(marker.read_text(encoding="utf-8"))
        own = {k: v for k, v in (data.get("match_rules") or {}).items() if k not in dropped}
        own.update(changes)
        try:
            rules = MatchRules.from_mapping(own)
        except (RulesError, TypeError) as exc:
            fail(f"{marker}: {exc}")
        if changes or dropped:
            if own:
                data["match_rules"] = own
            else:
                data.pop("match_rules", None)
            tmp = marker.with_suffix(".tmp")
            tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
            tmp.replace(marker)
            record(ws, cli_actor(as_user), "config", match_rules=own)
    typer.echo(f"match rules: {rules_text(rules.to_dict(), set(own))}")


def register(app: typer.Typer) -> None:
    app.command("config")(config)
