"""The `tantalio` command line (Typer, in `cli/main.py`).

`run` is the console entry point: `tantalio --version` answers before anything else is
imported (Typer builds every command's parameters through pydantic at start-up); every other
command goes to the Typer app, whose modules import their heavy packages inside the commands.
"""

from __future__ import annotations

import sys


def run() -> None:
    if sys.argv[1:] == ["--version"]:
        from tantalio import __version__

        sys.stdout.write(f"{__version__}\n")
        return
    from tantalio.cli.main import app

    app()
