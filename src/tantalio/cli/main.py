"""The `tantalio` command: a thin Typer app; each command group lives in its own module.

Modules register themselves by being listed in `_COMMAND_MODULES`; each exposes
`register(app: typer.Typer) -> None`. Keeping the list here (and nothing else) lets
parallel work on separate command groups avoid touching one another's files.
"""

from __future__ import annotations

import importlib

import typer

app = typer.Typer(
    name="tantalio",
    help="Triage seized media against known hash sets and surface what is new.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

_COMMAND_MODULES = (
    "tantalio.cli.hash_cmd",
    "tantalio.cli.workspace_cmd",
    "tantalio.cli.hashset_cmd",
    "tantalio.cli.subscribe_cmd",
    "tantalio.cli.classify_cmd",
    "tantalio.cli.chats_cmd",
    "tantalio.cli.web_cmd",
    "tantalio.cli.access_cmd",  # after workspace_cmd: adds to its `case` group
    "tantalio.cli.platform_cmd",
)


@app.callback()
def _root() -> None:
    """tantalio: triage seized media, match known hash sets, link cases."""


@app.command()
def version() -> None:
    """Print tantalio's version."""
    from tantalio import __version__

    typer.echo(__version__)


for _name in _COMMAND_MODULES:
    try:
        _module = importlib.import_module(_name)
    except ModuleNotFoundError as exc:  # a command group not written yet
        if exc.name != _name:
            raise
        continue
    _module.register(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
