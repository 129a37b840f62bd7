"""CLI start-up time: this tree against an anchor commit, measured in the same run.

    flock /tmp/tantalio-bench.lock .venv/bin/python bench/bench_cli.py \
        [--anchor main] [--repeat 7] [--write docs/perf/cli.md]

Each command runs in a fresh `python` process with the anchor's `src/` (exported with
`git archive` into a temp directory) or this tree's first on `sys.path`, taking turns; the
table shows the median and best wall time of `--repeat` runs. `tantalio --version` goes
through the console entry point where the tree has one (`tantalio.cli:run`), else the Typer
app, as the installed `tantalio` script would.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMMANDS = (
    ["--version"],
    ["version"],
    ["--help"],
    ["hash", "--help"],
    ["ingest", "--help"],
    ["hashset", "import", "--help"],
    ["platform", "serve", "--help"],
)
ENTRY = (
    "import sys\n"
    "try:\n"
    "    from tantalio.cli import run\n"
    "except ImportError:\n"
    "    from tantalio.cli.main import app as run\n"
    "sys.argv = ['tantalio', *sys.argv[1:]]\n"
    "run()\n"
)


def export_tree(ref: str, into: Path) -> Path:
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", "--format=tar", ref, "src"],
        check=True,
        capture_output=True,
    ).stdout
    tar = into / "src.tar"
    tar.write_bytes(archive)
    with tarfile.open(tar) as tf:
        tf.extractall(into, filter="data")
    return into / "src"


def run_once(src: Path, args: list[str]) -> float:
    env = dict(os.environ, PYTHONPATH=str(src))
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", ENTRY, *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 2):
        raise SystemExit(f"{args} failed with {done.returncode} on {src}")
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--anchor", default="main", help="git ref to compare with")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--write", type=Path, help="also write the table to this Markdown file")
    opts = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        anchor = export_tree(opts.anchor, Path(tmp))
        here = ROOT / "src"
        rows = []
        for args in COMMANDS:
            times: dict[str, list[float]] = {"anchor": [], "here": []}
            for _ in range(opts.repeat):
                times["anchor"].append(run_once(anchor, args))
                times["here"].append(run_once(here, args))
            a, h = statistics.median(times["anchor"]), statistics.median(times["here"])
            rows.append(
                f"| `tantalio {' '.join(args)}` | {a:.2f} s (best {min(times['anchor']):.2f}) "
                f"| {h:.2f} s (best {min(times['here']):.2f}) | {a / h:.1f}x |"
            )
    head = (
        f"CLI start-up, median of {opts.repeat} runs (best in brackets), anchor "
        f"`{opts.anchor}` vs this tree, same run, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the end.\n\n"
        "| command | anchor | this tree | speed-up |\n|---|---|---|---|\n"
    )
    table = head + "\n".join(rows) + "\n"
    print(table)
    if opts.write:
        opts.write.write_text("# CLI start-up\n\n" + table)


if __name__ == "__main__":
    main()
