"""Exit statuses, the same for every command (documented in `tantalio --help` and
docs/decisions/cli.md)."""

from __future__ import annotations

from typing import NoReturn

import typer

OK = 0  # done
FAILED = 1  # the work could not be done, or not all of it: a missing file or workspace,
# an unknown case or hash set, a refused file; also Ctrl-C (an ingest resumes on rerun)
USAGE = 2  # the command line is wrong: an unknown command or option, a value it refuses

JOBS_HELP = "Worker processes (default and 0: all cores)."

HELP = (
    "Exit status: 0 done; 1 the work failed or was only partly done (missing file or "
    "workspace, unknown case or hash set, refused input, interrupted); 2 the command line is "
    "wrong (unknown command or option, refused value). `--jobs 0` means all cores wherever "
    "it appears."
)


def fail(message: str, code: int = FAILED) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def usage(message: str) -> NoReturn:
    fail(message, USAGE)
