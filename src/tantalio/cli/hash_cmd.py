"""`tantalio hash PATH...`: one JSON fingerprint per line on stdout, for files and folders.

stdout carries only JSON lines (keys: `record.JSON_KEYS` where they apply), so the output can
be piped or redirected; the progress bar and the per-file error notes go to stderr, the bar
only when stderr is a terminal (the bar must not capture stdout: `tantalio hash DIR >
out.jsonl` in a terminal writes every line to the file, issue 16). Folders are walked
recursively in sorted order without following symbolic links; special files (FIFOs,
devices, sockets) are skipped, since reading them could block. A PATH that does not exist
gets an error line and makes the exit status 1.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from tantalio.cli.exits import JOBS_HELP

if TYPE_CHECKING:
    from tantalio.fingerprint.record import Fingerprint


def register(app: typer.Typer) -> None:
    app.command("hash")(hash_command)


def hash_command(
    paths: list[Path] = typer.Argument(..., help="Files and/or folders (walked recursively)."),
    jobs: int | None = typer.Option(None, "--jobs", "-j", min=0, help=JOBS_HELP),
    timeout: float | None = typer.Option(
        None, "--timeout", min=1.0, help="Seconds before an image is abandoned (default 60)."
    ),
) -> None:
    """Fingerprint files: size, MD5/SHA-1/SHA-256, type, PDQ (+8 orientations), EXIF, vPDQ."""
    from tantalio.fingerprint import FingerprintConfig, fingerprint_many
    from tantalio.fingerprint.record import Fingerprint

    cfg = FingerprintConfig() if timeout is None else FingerprintConfig(timeout_s=timeout)
    missing: list[str] = []
    files = list(_walk(paths, missing))
    for name in missing:
        _emit(Fingerprint(size=0, md5="", sha1="", sha256="", path=name, error="no such file"))
        typer.echo(f"tantalio hash: {name}: no such file or directory", err=True)
    results = fingerprint_many(files, jobs=jobs or None, config=cfg)  # 0: all cores
    try:
        if sys.stderr.isatty() and files:
            _with_progress(results, len(files))
        else:
            for fp in results:
                _emit(fp)
                _note(fp)
        sys.stdout.flush()
    except BrokenPipeError:  # `tantalio hash ... | head`: the reader has gone, stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        raise typer.Exit(1) from None
    if missing:
        raise typer.Exit(1)


def _with_progress(results: Iterator[Fingerprint], total: int) -> None:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    columns = (
        TextColumn("hashing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    # redirect_stdout=False: by default rich sends sys.stdout writes to its console (stderr)
    progress = Progress(
        *columns, console=console, transient=True, redirect_stdout=False, redirect_stderr=False
    )
    with progress:
        task = progress.add_task("hash", total=total)
        for fp in results:
            _emit(fp)
            if fp.error:
                console.print(f"[yellow]{fp.path}[/]: {fp.error}", markup=True, highlight=False)
            progress.advance(task)


def _emit(fp: Fingerprint) -> None:
    sys.stdout.write(json.dumps(fp.to_json_dict(), ensure_ascii=False) + "\n")


def _note(fp: Fingerprint) -> None:
    if fp.error:
        sys.stderr.write(f"tantalio hash: {fp.path}: {fp.error}\n")


def _walk(paths: list[Path], missing: list[str]) -> Iterator[str]:
    for path in paths:
        name = os.fspath(path)
        if os.path.isdir(name):
            yield from _walk_dir(name)
        elif os.path.lexists(name):
            yield name  # a file, or a link/special file named explicitly: the engine says
        else:
            missing.append(name)


def _walk_dir(top: str) -> Iterator[str]:
    def onerror(exc: OSError) -> None:
        sys.stderr.write(f"tantalio hash: {exc.filename}: cannot list: {exc.strerror}\n")

    for root, dirs, files in os.walk(top, onerror=onerror, followlinks=False):
        dirs.sort()
        for fname in sorted(files):
            full = os.path.join(root, fname)
            try:
                st = os.lstat(full)
            except OSError:
                continue
            if _is_regular(st.st_mode):
                yield full


def _is_regular(mode: int) -> bool:
    import stat

    return stat.S_ISREG(mode)
