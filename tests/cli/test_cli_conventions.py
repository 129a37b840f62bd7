"""What every command shares (issue 16): help texts, exit statuses, `--jobs 0`, "did you
mean" for case and hash-set names, the formats under `hashset import --help`, and a start-up
that imports no heavy package before a command needs it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.main import get_command
from typer.testing import CliRunner

from tantalio import __version__
from tantalio.cli.exits import JOBS_HELP
from tantalio.cli.main import app
from tantalio.hashsets.registry import FORMATS

runner = CliRunner()


def _commands(cmd: Any = None, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    cmd = cmd if cmd is not None else get_command(app)
    yield path, cmd
    for name, sub in (getattr(cmd, "commands", None) or {}).items():
        yield from _commands(sub, (*path, name))


def test_every_command_has_help_for_itself_and_each_parameter() -> None:
    seen = 0
    for path, cmd in _commands():
        seen += 1
        assert cmd.help, f"tantalio {' '.join(path)}: no help text"
        for p in cmd.params:
            if p.name != "help":
                assert p.help, f"tantalio {' '.join(path)}: {p.name} has no help"
        result = runner.invoke(app, [*path, "--help"], terminal_width=100)
        assert result.exit_code == 0, (path, result.output)
        first = cmd.help.strip().splitlines()[0].split()[:3]
        assert " ".join(first) in " ".join(result.output.split()), (path, result.output)
    assert seen > 30  # every group and subcommand was walked


def test_root_help_documents_exit_statuses_and_version() -> None:
    result = runner.invoke(app, ["--help"], terminal_width=100)
    text = " ".join(result.output.split())
    assert (
        "Exit status: 0 done; 1 the work failed" in text and "2 the command line is wrong" in text
    )
    assert "--version" in text
    version = runner.invoke(app, ["--version"])
    assert version.exit_code == 0 and version.output.strip() == __version__


def test_exit_statuses(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("TANTALIO_DB", "TANTALIO_WORKSPACE", "TANTALIO_AS"):
        monkeypatch.delenv(var, raising=False)
    ws = tmp_path / "ws"
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    assert runner.invoke(app, ["case", "create", "OP-7", "-w", str(ws)]).exit_code == 0
    w = ["-w", str(ws)]
    usage = [
        ["no-such-command"],
        ["triage", "OP-7", "--no-such-option", *w],
        ["triage", "OP-7", "--format", "xml", *w],
        ["triage", "OP-7", "--verdict", "maybe", *w],
        ["hashset", "import", str(tmp_path), "-f", "nope", "-n", "x", *w],
        ["hashset", "import", str(tmp_path), "-f", "md5sum", "-n", "x", "--kind", "evil", *w],
        ["ingest", "OP-7", str(tmp_path), "--dask", "tcp://x:1", "--dask-local", "1", *w],
        ["ingest", "OP-7", str(tmp_path), "--jobs", "-1", *w],
        ["export", "OP-7", "--format", "csv", "-o", str(tmp_path / "x"), *w],
        ["network", "OP-7", "--format", "xml", *w],
    ]
    for args in usage:
        assert runner.invoke(app, args).exit_code == 2, args
    failed = [
        ["case", "list", "-w", str(tmp_path / "nowhere")],
        ["triage", "OP-9", *w],
        ["ingest", "OP-7", str(tmp_path / "missing"), *w],
        ["hash", str(tmp_path / "missing.jpg")],
        ["user", "disable", "nobody", *w],
        ["audit", "verify", "-w", str(tmp_path / "nowhere")],
    ]
    for args in failed:
        assert runner.invoke(app, args).exit_code == 1, args


def test_did_you_mean_for_case_and_hash_set_names(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    w = ["-w", str(ws)]
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    for ref in ("OP-2026-17", "K-1"):
        assert runner.invoke(app, ["case", "create", ref, *w]).exit_code == 0
    typo = runner.invoke(app, ["triage", "op_2026_17", *w])
    assert typo.exit_code == 1
    assert "no case 'op_2026_17' in this workspace; did you mean 'OP-2026-17'?" in typo.output
    far = runner.invoke(app, ["report", "ZZZZ", "-o", str(tmp_path / "r"), *w])
    assert far.exit_code == 1 and "did you mean" not in far.output
    lst = tmp_path / "l.md5"
    lst.write_text("d41d8cd98f00b204e9800998ecf8427e  a\n")
    imported = runner.invoke(
        app, ["hashset", "import", str(lst), "-f", "md5sum", "-n", "Known", *w]
    )
    assert imported.exit_code == 0, imported.output
    assert runner.invoke(app, ["hashset", "keygen", str(tmp_path / "k")]).exit_code == 0
    publish = ["hashset", "publish", "known", "--key", str(tmp_path / "k.key.pem")]
    wrong = runner.invoke(app, [*publish, "--issuer", "Lab", "-o", str(tmp_path / "o"), *w])
    assert wrong.exit_code == 1 and "did you mean 'Known'?" in wrong.output


def test_jobs_means_the_same_everywhere() -> None:
    with_jobs = [(path, p) for path, cmd in _commands() for p in cmd.params if "--jobs" in p.opts]
    assert {path for path, _ in with_jobs} == {("hash",), ("ingest",)}
    assert all(p.help == JOBS_HELP for _, p in with_jobs)  # "default and 0: all cores"


def test_hashset_import_help_lists_every_format() -> None:
    result = runner.invoke(app, ["hashset", "import", "--help"])
    listed = {
        line.split()[0]: " ".join(line.split()[1:])
        for line in result.output.split("Formats (--format):")[1].strip().splitlines()
    }
    assert listed == {name: fmt.description for name, fmt in FORMATS.items()}


def test_start_up_imports_no_heavy_package() -> None:
    """`tantalio --version` answers before Typer is imported, and loading the whole command
    tree imports none of the packages that made every command take seconds to start."""
    probe = (
        "import sys; sys.argv = ['tantalio', '--version']\n"
        "from tantalio.cli import run; run()\n"
        "assert 'typer' not in sys.modules, 'typer imported'\n"
        "import tantalio.cli.main\n"
        "heavy = {'numpy', 'PIL', 'sqlalchemy', 'fastapi', 'lxml', 'networkx', 'distributed',"
        " 'alembic', 'cryptography'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
        "print(sorted(m for m in sys.modules if m.startswith('tantalio.') and not"
        " m.startswith('tantalio.cli')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    ).stdout.splitlines()
    assert out[0] == __version__
    assert json.loads(out[1].replace("'", '"')) == []
    assert json.loads(out[2].replace("'", '"')) == ["tantalio.listed"]
