"""Text export parse rate per language style, all styles in one process, alternating rounds:
a quick check that no language is far slower than the others (issue 15), and, run twice
with PYTHONPATH pointing at another checkout's `src/`, a before/after comparison.

    .venv/bin/python bench/bench_chat_langs.py [--messages 20000] [--rounds 2]
    PYTHONPATH=/work/main/src .venv/bin/python bench/bench_chat_langs.py   # main's parser

The exports are bench_chats.make_export's (the same generator as the 1M-message runs); the
best of the rounds is reported per style, with the 1-minute load average at the end.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "scripts"))


def main() -> None:
    import bench_chats
    from tantalio.chats.registry import parse_exhibit

    ap = argparse.ArgumentParser()
    ap.add_argument("--messages", type=int, default=20_000)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    n = args.messages
    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-langs-") as tmp:
        folders = {}
        for style in bench_chats.STYLES:
            folders[style] = Path(tmp) / style
            bench_chats.make_export(folders[style], style, n)
        for _ in range(args.rounds):
            for style, folder in folders.items():
                t = time.perf_counter()
                parse_exhibit(folder)
                times.setdefault(style, []).append(time.perf_counter() - t)
    import tantalio

    print(f"parser: {Path(tantalio.__file__).parent}; {n:,} messages per export")
    print("| style | messages/s (best) | seconds per round |")
    print("|---|---:|---|")
    for style, secs in times.items():
        rounds = ", ".join(f"{s:.2f}" for s in secs)
        print(f"| {style} | {n / min(secs):,.0f} | {rounds} |")
    print(f"load average: {Path('/proc/loadavg').read_text().split()[0]}")


if __name__ == "__main__":
    main()
