"""`make fuzz`: each target for a bounded time, in rounds of fresh random examples.

    .venv/bin/python -m fuzz.run [--seconds 60] [TARGET ...]

Exit status 1 at the first contract broken (Hypothesis prints the shrunk input's recipe).
"""

from __future__ import annotations

import argparse
import sys
import time

from fuzz.targets import TARGETS, run


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m fuzz.run")
    parser.add_argument("targets", nargs="*", help=f"default: all ({', '.join(TARGETS)})")
    parser.add_argument("--seconds", type=float, default=60.0, help="per target")
    parser.add_argument("--round", type=int, default=25, help="examples per round")
    args = parser.parse_args(argv)
    unknown = [t for t in args.targets if t not in TARGETS]
    if unknown:
        parser.error(f"unknown target(s): {', '.join(unknown)}")
    for name in args.targets or list(TARGETS):
        start, examples = time.monotonic(), 0
        while time.monotonic() - start < args.seconds:
            run(TARGETS[name], args.round)
            examples += args.round
        rate = examples / (time.monotonic() - start)
        print(f"{name}: {examples} inputs, contract kept ({rate:,.1f}/s)", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
