"""The `tantalio` command: a thin Typer app; each command group lives in its own module.

Modules register themselves by being listed in `COMMAND_MODULES`; each exposes
`register(app: typer.Typer) -> None`. Keeping the list here (and nothing else) lets
parallel work on separate command groups avoid touching one another's files. A listed module
that cannot be imported raises `tantalio.listed.RegistryError` instead of dropping its
commands silently.
"""

from __future__ import annotations

from collections.abc import Iterable

import typer

from tantalio.cli import exits
from tantalio.listed import import_listed

app = typer.Typer(
    name="tantalio",
    help="Triage seized media against known hash sets and surface what is new.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    epilog=exits.HELP,
    # Plain help and errors: Rich's formatter imports markdown and syntax highlighting
    # (about a second on a loaded machine) on every `--help` and every usage error.
    rich_markup_mode=None,
)

COMMAND_MODULES = (
    "tantalio.cli.hash_cmd",
    "tantalio.cli.workspace_cmd",
    "tantalio.cli.config_cmd",
    "tantalio.cli.hashset_cmd",
    "tantalio.cli.subscribe_cmd",
    "tantalio.cli.classify_cmd",
    "tantalio.cli.chats_cmd",
    "tantalio.cli.web_cmd",
    "tantalio.cli.access_cmd",  # after workspace_cmd: adds to its `case` group
    "tantalio.cli.platform_cmd",
    "tantalio.cli.exchange_cmd",  # the exchange server (creates the `exchange` group)
    "tantalio.cli.exchange_ws_cmd",  # a workspace's exchange commands (joins that group)
)


def _print_version(value: bool) -> None:
    if value:
        from tantalio import __version__

        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _root(
    _version: bool = typer.Option(
        False,
        "--version",
        is_eager=True,
        callback=_print_version,
        help="Print tantalio's version and exit.",
    ),
) -> None:
    """tantalio: triage seized media, match known hash sets, link cases."""


@app.command()
def version() -> None:
    """Print tantalio's version."""
    from tantalio import __version__

    typer.echo(__version__)


def register_commands(target: typer.Typer, names: Iterable[str] = COMMAND_MODULES) -> None:
    for module in import_listed("tantalio.cli.main.COMMAND_MODULES", names):
        module.register(target)


register_commands(app)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
