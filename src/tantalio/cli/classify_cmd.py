"""`tantalio classify`: run the classifier plug-ins over a case and re-rank its new media."""

from __future__ import annotations

import typer

from tantalio.cli.workspace_cmd import WorkspaceOpt, fail, open_cli_workspace


def classify_cmd(
    case: str | None = typer.Argument(None, help="Case reference (default: every case)."),
    classifier: list[str] = typer.Option(
        [], "--classifier", "-c", help="Only this classifier (repeatable)."
    ),
    rerun: bool = typer.Option(False, "--rerun", help="Score again media already scored."),
    list_only: bool = typer.Option(False, "--list", help="List the installed classifiers."),
    workspace: WorkspaceOpt = None,
) -> None:
    """Score media with the built-in and installed classifier plug-ins (entry point group
    `tantalio.classifiers`); their bonuses feed the ranking of new media."""
    from tantalio.classify.base import ClassifierError
    from tantalio.classify.registry import load_classifiers
    from tantalio.store.repo import NotFound
    from tantalio.triage.classify_run import classify_case

    try:
        if list_only:
            for c in load_classifiers():
                doc = (type(c).__doc__ or "").strip().splitlines()
                typer.echo(f"{c.name} {c.version}" + (f": {doc[0]}" if doc else ""))
            return
        with open_cli_workspace(workspace) as ws:
            report = classify_case(ws, case, names=classifier or None, rerun=rerun)
    except (ClassifierError, NotFound) as exc:
        fail(str(exc))
    for name, n in report.scored.items():
        typer.echo(f"{name}: {n} media scored")
    for label, n in sorted(report.labels.items()):
        typer.echo(f"  {label}: {n}")
    for err in report.errors[:20]:
        typer.echo(f"warning: {err}", err=True)
    if len(report.errors) > 20:
        typer.echo(f"warning: … {len(report.errors) - 20} more", err=True)


def register(app: typer.Typer) -> None:
    app.command("classify")(classify_cmd)
