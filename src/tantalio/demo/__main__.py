"""`python -m tantalio.demo` (what `make demo` runs): build the benign demo case and triage it.

Runs the same commands an examiner would — init, hashset import, ingest, triage, report —
prints each before running it, then the report's path and the summary table.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import time
from pathlib import Path

from tantalio.demo.build import build


def _run(args: list[str]) -> None:
    from tantalio.cli.main import app

    print(f"\n$ tantalio {shlex.join(args)}", flush=True)
    try:
        app(args=args, prog_name="tantalio", standalone_mode=False)
    except SystemExit as exc:
        if exc.code:
            raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tantalio.demo", description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("demo-output"))
    parser.add_argument("--seed", type=int, default=2017)
    parser.add_argument("--jobs", type=int, default=0)
    opts = parser.parse_args(argv)
    started = time.monotonic()
    out: Path = opts.out
    if out.exists():
        shutil.rmtree(out)
    print(f"building the benign demo evidence in {out}/ (seed {opts.seed}) ...", flush=True)
    demo = build(out, opts.seed)
    ws = str(out / "workspace")
    w = ["-w", ws]
    _run(["init", ws])
    for path, fmt, name, kind in demo.hashsets:
        _run(["hashset", "import", str(path), "--format", fmt, "--name", name, "--kind", kind, *w])
    jobs = ["--jobs", str(opts.jobs), "--no-progress"] if opts.jobs else ["--no-progress"]
    assert demo.earlier is not None
    _run(["ingest", "OP-2016", str(demo.earlier), *jobs, *w])
    for label, source in demo.evidence.items():
        _run(["ingest", "OP-DEMO", str(source), "--exhibit", label, *jobs, *w])
    if demo.chats is not None:  # the chat case: its phones' media and chats, then the network
        for label, source in demo.chats.phones.items():
            _run(["ingest", demo.chats.case, str(source), "--exhibit", label, *jobs, *w])
        _run(["network", demo.chats.case, "--top", "5", *w])
    _run(["report", "OP-DEMO", "--out", str(out / "report"), *w])
    _run(["triage", "OP-DEMO", *w])
    report = (out / "report" / "report.html").resolve()
    print(f"\nreport: {report}")
    print(f"demo finished in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
