"""Alternating A/B of `platform serve` raw-lookup throughput between source trees.

    .venv/bin/python bench/ab_platform_http.py --tree base=/tmp/base \
        --tree main=. --tree "main-nolog=.:--no-access-log" --rounds 4

Each tree (a checkout's root; `:FLAGS` adds `platform serve` options) gets its own database
of `--size` random PDQs built by its own code and its own server (`PYTHONPATH=TREE/src`,
one worker), all running at once. Then rounds of `--n` keep-alive `GET /m/raw_lookup`
requests go to each server in turn (A B C, B C A, ...), so a burst of load from other
processes on the machine hits every tree alike. Besides lookups/s and p50 (wall clock, load
dependent), each round records the server's CPU time per request (utime + stime from
/proc: what the code costs, nearly independent of load). Figures are the medians over rounds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_platform import free_port, hexes, http_run, make_data  # noqa: E402

SETUP = """
import sys
from tantalio.platform.auth import create_key
from tantalio.store.platform import PlatformStore
hashes = open(sys.argv[2]).read().split()
store = PlatformStore(sys.argv[1])
bank_id = store.create_bank("BENCH").id
store.add_pdq_bulk(bank_id, hashes, source_list="bench")
key, _ = create_key(store, "bench", ["lookup"], rate_per_s=1e9, burst=10**9)
store.close()
print(key)
"""


def cpu_s(pid: int) -> float:
    """utime + stime of a process and its threads, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    def __init__(self, name: str, tree: Path, flags: list[str], hashes: str, tmp: str) -> None:
        self.name, self.tree = name, tree
        self.env = dict(os.environ, PYTHONPATH=str(tree / "src"))
        db = f"sqlite:///{tmp}/{name}.db"
        out = subprocess.run(
            [sys.executable, "-c", SETUP, db, hashes],
            env=self.env,
            capture_output=True,
            text=True,
            check=True,
        )
        self.key = out.stdout.strip().splitlines()[-1]
        self.port = free_port()
        cmd = [sys.executable, "-m", "tantalio.cli.main", "platform", "serve", "--db", db]
        cmd += ["--port", str(self.port), "--log-level", "warning", *flags]
        self.log = open(f"{tmp}/{name}.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            cmd, cwd=tree, env=self.env, stdout=subprocess.DEVNULL, stderr=self.log
        )

    def wait_ready(self) -> None:
        import httpx

        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name}: server exited")
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/status", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name}: not ready")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=60)
        self.log.close()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--tree", action="append", required=True, help="NAME=PATH[:FLAGS]")
    p.add_argument("--size", type=int, default=100_000)
    p.add_argument("--planted", type=int, default=1000)
    p.add_argument("--n", type=int, default=4000, help="requests per tree per round")
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--concurrency", type=int, default=16)
    args = p.parse_args()

    bank, queries, _src, _dist, randoms = make_data(args.size, args.planted)
    tmp = tempfile.mkdtemp(prefix="ab-platform-")
    hash_file = f"{tmp}/hashes.txt"
    Path(hash_file).write_text("\n".join(hexes(bank)))
    qh, rh = hexes(queries), hexes(randoms)
    paths = [
        f"/m/raw_lookup?signal_type=pdq&signal={h}&include_distance=true"
        for pair in zip(qh, rh, strict=True)
        for h in pair
    ]
    servers = []
    for spec in args.tree:
        name, _, rest = spec.partition("=")
        path, _, flags = rest.partition(":")
        servers.append(Server(name, Path(path).resolve(), flags.split(), hash_file, tmp))
    results: dict[str, list[dict[str, Any]]] = {s.name: [] for s in servers}
    try:
        for s in servers:
            s.wait_ready()
            http_run(s.port, s.key, paths, concurrency=args.concurrency, seconds=60, max_n=500)
        for r in range(args.rounds):
            order = servers[r % len(servers) :] + servers[: r % len(servers)]
            for s in order:
                c0 = cpu_s(s.proc.pid)
                res = http_run(
                    s.port, s.key, paths, concurrency=args.concurrency, seconds=120, max_n=args.n
                )
                res["cpu_us"] = (cpu_s(s.proc.pid) - c0) / res["n"] * 1e6
                res["load"] = os.getloadavg()[0]
                results[s.name].append(res)
                print(
                    f"round {r} {s.name:12s} {res['rps']:7.0f}/s p50 {res['p50_ms']:.2f} ms "
                    f"cpu {res['cpu_us']:.0f} us/req load {res['load']:.1f}",
                    flush=True,
                )
    finally:
        for s in servers:
            s.stop()
    print(f"\n{args.rounds} rounds x {args.n} requests, size {args.size:,}, c={args.concurrency}")
    print("| tree | lookups/s | p50 ms | server CPU us/request | load (1 min) |")
    print("|---|---:|---:|---:|---:|")
    for name, rs in results.items():
        med = {k: statistics.median(x[k] for x in rs) for k in ("rps", "p50_ms", "cpu_us", "load")}
        print(
            f"| {name} | {med['rps']:,.0f} | {med['p50_ms']:.2f} | {med['cpu_us']:.0f} "
            f"| {min(x['load'] for x in rs):.1f}-{max(x['load'] for x in rs):.1f} |"
        )


if __name__ == "__main__":
    main()
