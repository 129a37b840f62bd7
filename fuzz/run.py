"""`make fuzz`: each target for a bounded time, in rounds of fresh random examples.

    .venv/bin/python -m fuzz.run [--seconds 60] [TARGET ...]

Each target runs in a child process, so an input that hangs a C library (found: a damaged
ext4 image loops forever inside libtsk's directory listing) costs that target, not the
campaign: the child dumps its stack after `TANTALIO_FUZZ_HANG_SECONDS` and exits, and the
input is kept in `fuzz-findings/`. Exit status 1 when any contract was broken or any input
hung (Hypothesis prints a broken contract's shrunk input).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

from fuzz.targets import FINDINGS, TARGETS, run


def _one(name: str, seconds: float, per_round: int) -> int:
    start, examples = time.monotonic(), 0
    while time.monotonic() - start < seconds:
        run(TARGETS[name], per_round, hang_watch=True)
        examples += per_round
    rate = examples / (time.monotonic() - start)
    print(f"{name}: {examples} inputs, contract kept ({rate:,.1f}/s)", flush=True)
    return 0


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzz.run")
    parser.add_argument("targets", nargs="*", help=f"default: all ({', '.join(TARGETS)})")
    parser.add_argument("--seconds", type=float, default=60.0, help="per target")
    parser.add_argument("--round", type=int, default=25, help="examples per round")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    unknown = [t for t in args.targets if t not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s): {', '.join(unknown)}")
    if args.child:
        return _one(args.targets[0], args.seconds, args.round)
    failed = []
    for name in args.targets or list(TARGETS):
        child = [sys.executable, "-m", "fuzz.run", "--child", "--seconds", str(args.seconds)]
        done = subprocess.run([*child, "--round", str(args.round), name])
        if done.returncode != 0:
            hung = sorted(FINDINGS.glob(f"{name}-current-*"))
            what = f"hung on {hung[0]}" if hung else f"contract broken (exit {done.returncode})"
            print(f"{name}: {what}", flush=True)
            failed.append(name)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
