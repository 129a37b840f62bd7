"""Benchmark of the platform matching service, with python-threatexchange's PDQIndex (what
HMA uses) measured in the same run.

    .venv/bin/python bench/bench_platform.py                 # 10M hashes (several minutes)
    .venv/bin/python bench/bench_platform.py --size 200000   # quick run
    flock /tmp/tantalio-bench.lock .venv/bin/python bench/bench_platform.py \
        --write docs/perf/platform.md

A bank of `--size` random PDQ hashes plus `--planted` near-duplicate queries (a stored hash
with 0..31 bits flipped: ground truth by construction) and as many random queries. Steps:
bulk insert into the platform database; start `tantalio platform serve` (uvicorn, a
subprocess) and time until it answers /status; recall and lookups/s over HTTP from a
bounded asyncio load generator on 127.0.0.1 (HMA's `GET /m/raw_lookup`, keep-alive,
`--concurrency` connections, at most `--http-seconds` and `--http-max` requests); new-hash
latency (same process over HTTP, and from another process through the change feed);
in-process lookups/s and memory of the same index; then threatexchange's PDQIndex on the
same hashes in a subprocess. Loads stay on loopback and are bounded in count and time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SEED = 20261128


# -- data ------------------------------------------------------------------------------------


def make_data(
    size: int, planted: int, seed: int = SEED
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(bank hashes uint8 (n,32), planted queries, their source rows, their distances,
    random queries). Distances cycle through 0..31 so the threshold itself is tested."""
    rng = np.random.default_rng(seed)
    bank = rng.integers(0, 256, (size, 32), dtype=np.uint8)
    src = rng.choice(size, planted, replace=False)
    dist = np.arange(planted) % 32
    queries = bank[src].copy()
    for i, d in enumerate(dist):
        bits = rng.choice(256, int(d), replace=False)
        for b in bits:
            queries[i, b // 8] ^= np.uint8(1 << (7 - b % 8))
    randoms = rng.integers(0, 256, (planted, 32), dtype=np.uint8)
    return bank, queries, src, dist, randoms


def hexes(arr: np.ndarray) -> list[str]:
    raw = arr.tobytes().hex()
    return [raw[i : i + 64] for i in range(0, len(raw), 64)]


def rss_mb(pid: int | None = None) -> tuple[float, float]:
    """(current RSS, peak RSS) in MiB of a process (default: this one)."""
    status = Path(f"/proc/{pid or 'self'}/status").read_text()
    vals = {
        line.split(":")[0]: line.split()[1]
        for line in status.splitlines()
        if line.startswith(("VmRSS", "VmHWM"))
    }
    return int(vals["VmRSS"]) / 1024, int(vals["VmHWM"]) / 1024


# -- HTTP load generator ---------------------------------------------------------------------


async def _worker(
    host: str,
    port: int,
    requests: list[bytes],
    next_i: list[int],
    stop_at: float,
    max_n: int,
    lat: list[float],
    bodies: dict[int, bytes] | None,
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < stop_at:
            i = next_i[0]
            if i >= max_n:
                return
            next_i[0] = i + 1
            t0 = time.perf_counter()
            writer.write(requests[i % len(requests)])
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            body = await reader.readexactly(length)
            lat.append(time.perf_counter() - t0)
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"HTTP error: {head[:40]!r} {body[:200]!r}")
            if bodies is not None:
                bodies[i] = body
    finally:
        writer.close()


def http_run(
    port: int,
    key: str,
    paths: list[str],
    *,
    concurrency: int,
    seconds: float,
    max_n: int,
    keep_bodies: bool = False,
) -> dict[str, Any]:
    reqs = [
        f"GET {p} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n\r\n".encode()
        for p in paths
    ]
    return run_requests(port, reqs, concurrency, seconds, max_n, keep_bodies=keep_bodies)


def run_requests(
    port: int,
    reqs: list[bytes],
    concurrency: int,
    seconds: float,
    max_n: int = 10**9,
    *,
    keep_bodies: bool = True,
) -> dict[str, Any]:
    """Send the raw requests `reqs` in turn from `concurrency` keep-alive connections for
    `seconds` (or `max_n` requests): rate, latency percentiles and (optionally) bodies."""
    lat: list[float] = []
    bodies: dict[int, bytes] | None = {} if keep_bodies else None
    next_i = [0]

    async def main() -> float:
        t0 = time.perf_counter()
        stop = t0 + seconds
        await asyncio.gather(
            *(
                _worker("127.0.0.1", port, reqs, next_i, stop, max_n, lat, bodies)
                for _ in range(concurrency)
            )
        )
        return time.perf_counter() - t0

    try:  # the load generator shares the 2 cores with the server: keep it cheap
        import uvloop

        elapsed = uvloop.run(main())
    except ImportError:
        elapsed = asyncio.run(main())
    arr = np.array(lat) if lat else np.zeros(1)
    return {
        "n": len(lat),
        "seconds": elapsed,
        "rps": len(lat) / elapsed,
        "p50_ms": float(np.percentile(arr, 50) * 1000),
        "p99_ms": float(np.percentile(arr, 99) * 1000),
        "bodies": bodies,
    }


# -- server ----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    db: str, port: int, workers: int, index_dir: str | None = None
) -> tuple[subprocess.Popen[bytes], float]:
    import httpx

    cmd = [
        sys.executable,
        "-m",
        "tantalio.cli.main",
        "platform",
        "serve",
        "--db",
        db,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    if index_dir:
        cmd += ["--index-dir", index_dir]
    t0 = time.perf_counter()
    # The server writes an access log line per request on stderr: a pipe nobody reads would
    # fill and stall it mid-benchmark, so its stderr goes to a file, read if it dies.
    fd, log_path = tempfile.mkstemp(prefix="bench-platform-", suffix=".log")
    with os.fdopen(fd, "wb") as log:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
    deadline = t0 + 1800
    while time.perf_counter() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("server exited: " + Path(log_path).read_text(errors="replace"))
        try:
            if httpx.get(f"http://127.0.0.1:{port}/status", timeout=1).status_code == 200:
                return proc, time.perf_counter() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not become ready")


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def server_rss(proc: subprocess.Popen[bytes]) -> tuple[float, float]:
    """RSS of the serving processes (the uvicorn parent and its workers), summed."""
    pids = [proc.pid]
    try:
        children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    cur = peak = 0.0
    for pid in pids:
        try:
            c, p = rss_mb(pid)
        except OSError:
            continue
        cur, peak = cur + c, peak + p
    return cur, peak


# -- in-process runs (subprocesses, so memory is measured cleanly) ----------------------------


def inproc_ours(size: int, planted: int, seconds: float) -> dict[str, Any]:
    from tantalio.platform.matchindex import MatchIndex

    bank, queries, src, dist, randoms = make_data(size, planted)
    base = rss_mb()[0]
    t0 = time.perf_counter()
    index = MatchIndex()
    ids = np.arange(1, size + 1, dtype=np.int64)
    chunk = 1_000_000
    index.bulk_load(
        (
            ids[i : i + chunk].tolist(),
            [1] * len(ids[i : i + chunk]),
            [None] * len(ids[i : i + chunk]),
            [None] * len(ids[i : i + chunk]),
            [None] * len(ids[i : i + chunk]),
            hexes(bank[i : i + chunk]),
            [None] * len(ids[i : i + chunk]),
        )
        for i in range(0, size, chunk)
    )
    build = time.perf_counter() - t0
    del bank
    mem = rss_mb()[0] - base
    qh = hexes(queries)
    rh = hexes(randoms)
    found = index.search_pdq(qh, 31)
    recall = float(
        np.mean([any(m.entry_id == s + 1 for m in f) for f, s in zip(found, src, strict=True)])
    )
    exact_d = all(min(m.distance for m in f) == d for f, d in zip(found, dist, strict=True) if f)
    false_random = sum(len(f) for f in index.search_pdq(rh, 31))
    mixed = [h for pair in zip(qh, rh, strict=True) for h in pair]
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds and n < 200_000:
        index.search_pdq([mixed[n % len(mixed)]], 31)
        n += 1
    single = n / (time.perf_counter() - t0)
    t0 = time.perf_counter()
    index.search_pdq(mixed, 31)
    batch = len(mixed) / (time.perf_counter() - t0)
    return {
        "build_s": build,
        "rss_mb": mem,
        "index_mb": index.memory_bytes() / 2**20,
        "recall": recall,
        "distances_exact": exact_d,
        "random_hits": false_random,
        "single_qps": single,
        "batch_qps": batch,
    }


def inproc_threatexchange(size: int, planted: int, seconds: float) -> dict[str, Any]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from threatexchange.signal_type.pdq.pdq_index import PDQIndex

    bank, queries, src, dist, randoms = make_data(size, planted)
    bank_hex = hexes(bank)
    del bank
    base = rss_mb()[0]
    t0 = time.perf_counter()
    index = PDQIndex(entries=((h, i + 1) for i, h in enumerate(bank_hex)))
    build = time.perf_counter() - t0
    mem = rss_mb()[0] - base
    del bank_hex
    qh, rh = hexes(queries), hexes(randoms)
    found = [index.query(h) for h in qh]
    recall = float(
        np.mean([any(m.metadata == s + 1 for m in f) for f, s in zip(found, src, strict=True)])
    )
    false_random = sum(len(index.query(h)) for h in rh)
    mixed = [h for pair in zip(qh, rh, strict=True) for h in pair]
    n = 0
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < seconds and n < 200_000:
        index.query(mixed[n % len(mixed)])
        n += 1
    single = n / (time.perf_counter() - t0)
    return {
        "build_s": build,
        "rss_mb": mem,
        "recall": recall,
        "random_hits": false_random,
        "single_qps": single,
    }


def run_sub(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [
        sys.executable,
        __file__,
        "--_sub",
        kind,
        "--size",
        str(args.size),
        "--planted",
        str(args.planted),
        "--inproc-seconds",
        str(args.inproc_seconds),
    ]
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=3600)
    if out.returncode != 0:
        return {"error": out.stderr.strip().splitlines()[-1] if out.stderr else "failed"}
    return json.loads(out.stdout.strip().splitlines()[-1])


# -- main ------------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--size", type=int, default=10_000_000)
    ap.add_argument("--planted", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--http-seconds", type=float, default=20.0)
    ap.add_argument("--http-max", type=int, default=200_000)
    ap.add_argument("--inproc-seconds", type=float, default=10.0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument(
        "--db", default=None, help="database URL (default: a SQLite file in a temp dir)"
    )
    ap.add_argument("--skip-threatexchange", action="store_true")
    ap.add_argument("--write", type=Path, default=None, help="write the table (markdown) here")
    ap.add_argument("--_sub", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._sub:
        fn = inproc_ours if args._sub == "ours" else inproc_threatexchange
        print(json.dumps(fn(args.size, args.planted, args.inproc_seconds)))
        return

    from tantalio.platform.auth import create_key
    from tantalio.store.platform import PlatformStore

    tmp = tempfile.TemporaryDirectory(prefix="bench-platform-")
    db = args.db or f"sqlite:///{tmp.name}/platform.db"
    res: dict[str, Any] = {
        "size": args.size,
        "planted": args.planted,
        "workers": args.workers,
        "concurrency": args.concurrency,
        "db": db.split(":")[0],
    }
    print(
        f"generating {args.size:,} hashes + {args.planted} planted + {args.planted} random queries",
        flush=True,
    )
    bank, queries, src, dist, randoms = make_data(args.size, args.planted)

    store = PlatformStore(db)
    bank_id = store.create_bank("BENCH").id
    t0 = time.perf_counter()
    chunk = 1_000_000
    for i in range(0, args.size, chunk):
        store.add_pdq_bulk(bank_id, hexes(bank[i : i + chunk]), source_list="bench")
    res["db_insert_s"] = time.perf_counter() - t0
    first_id = store.list_entries(bank_id, limit=1)[0].id
    key, _ = create_key(store, "bench", ["lookup", "curate"], rate_per_s=1e9, burst=10**9)
    del bank
    print(f"db insert: {res['db_insert_s']:.1f} s", flush=True)

    port = free_port()
    index_dir = f"{tmp.name}/index"
    proc, res["load_s"] = start_server(db, port, args.workers, index_dir)
    try:
        res["server_rss_mb"], res["server_peak_mb"] = server_rss(proc)
        print(
            f"server ready in {res['load_s']:.1f} s, RSS {res['server_rss_mb']:.0f} MiB", flush=True
        )
        import httpx

        http = httpx.Client(
            base_url=f"http://127.0.0.1:{port}",
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        )
        st = http.get("/v1/status").json()
        res["index_mb"] = st["index_memory_bytes"] / 2**20
        res["server_index_load_s"] = st["load_seconds"]

        # Recall over HTTP: every planted near-duplicate must come back with its distance.
        qh, rh = hexes(queries), hexes(randoms)
        paths = [f"/m/raw_lookup?signal_type=pdq&signal={h}&include_distance=true" for h in qh + rh]
        rec = http_run(
            port,
            key,
            paths,
            concurrency=args.concurrency,
            seconds=600,
            max_n=len(paths),
            keep_bodies=True,
        )
        bodies = rec["bodies"] or {}
        hits = 0
        dist_ok = True
        for i in range(len(qh)):
            matches = json.loads(bodies[i])["matches"]
            want = int(src[i]) + first_id
            got = [m for m in matches if m["bank_content_id"] == want]
            hits += bool(got)
            dist_ok &= bool(got) and int(got[0]["distance"]) == int(dist[i])
        res["http_recall"] = hits / len(qh)
        res["http_distances_exact"] = dist_ok
        res["http_random_hits"] = sum(
            len(json.loads(bodies[len(qh) + i])["matches"]) for i in range(len(rh))
        )
        print(
            f"recall over HTTP: {res['http_recall']:.4f} "
            f"(random-query hits {res['http_random_hits']})",
            flush=True,
        )

        # Throughput: mixed planted/random queries, bounded in time and count.
        mixed = [p for pair in zip(paths[: len(qh)], paths[len(qh) :], strict=True) for p in pair]
        thr = http_run(
            port,
            key,
            mixed,
            concurrency=args.concurrency,
            seconds=args.http_seconds,
            max_n=args.http_max,
        )
        res.update(
            {
                "http_rps": thr["rps"],
                "http_n": thr["n"],
                "http_p50_ms": thr["p50_ms"],
                "http_p99_ms": thr["p99_ms"],
            }
        )
        print(
            f"HTTP: {thr['rps']:.0f} lookups/s ({thr['n']} in {thr['seconds']:.1f} s, "
            f"p50 {thr['p50_ms']:.1f} ms, p99 {thr['p99_ms']:.1f} ms)",
            flush=True,
        )

        # New hash matchable: through this server's API, and from another process.
        same, other = [], []
        rng = np.random.default_rng(1)
        for _ in range(5):
            h = rng.integers(0, 256, 32, dtype=np.uint8).tobytes().hex()
            t0 = time.perf_counter()
            cid = http.post("/c/bank/BENCH/signal", json={"pdq": h}).json()["id"]
            while (
                cid
                not in http.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": h}).json()[
                    "matches"
                ]
            ):
                time.sleep(0.005)
            same.append(time.perf_counter() - t0)
            h2 = rng.integers(0, 256, 32, dtype=np.uint8).tobytes().hex()
            t0 = time.perf_counter()
            store.add_pdq_bulk(bank_id, [h2], source_list="bench-live")
            while not http.get("/m/raw_lookup", params={"signal_type": "pdq", "signal": h2}).json()[
                "matches"
            ]:
                assert time.perf_counter() - t0 < 30
                time.sleep(0.005)
            other.append(time.perf_counter() - t0)
        res["new_hash_same_ms"] = max(same) * 1000
        res["new_hash_other_ms"] = max(other) * 1000
        print(
            f"new hash matchable: {res['new_hash_same_ms']:.0f} ms via API, "
            f"{res['new_hash_other_ms']:.0f} ms from another process (max of 5)",
            flush=True,
        )
        http.close()
        # Restart from the index snapshot the server wrote once it was serving.
        snap = Path(index_dir) / "snapshot" / "snapshot.json"
        deadline = time.perf_counter() + 600
        while not snap.exists() and time.perf_counter() < deadline:
            time.sleep(0.5)
        stop_server(proc)
        proc, res["restart_s"] = start_server(db, port, args.workers, index_dir)
        print(f"restart from snapshot: ready in {res['restart_s']:.1f} s", flush=True)
    finally:
        stop_server(proc)
        store.close()
        tmp.cleanup()

    print("in-process: tantalio index ...", flush=True)
    res["ours"] = run_sub("ours", args)
    if not args.skip_threatexchange:
        print("in-process: python-threatexchange PDQIndex ...", flush=True)
        res["tx"] = run_sub("tx", args)
    table = render(res)
    print(table)
    if args.write:
        args.write.parent.mkdir(parents=True, exist_ok=True)
        args.write.write_text(PERF_HEAD + table + PERF_NOTES)


PERF_HEAD = """# Platform matching service — performance

Command (one run, both systems on the same hashes):

    flock /tmp/tantalio-bench.lock .venv/bin/python bench/bench_platform.py \\
        --write docs/perf/platform.md
    .venv/bin/python bench/bench_platform.py --size 200000   # quick run

Server: `tantalio platform serve` (uvicorn, httptools + uvloop) in a subprocess; load
generator: a bounded asyncio client in the benchmark process on the same cores, keep-alive
connections to 127.0.0.1, at most `--http-seconds` and `--http-max` requests, queries
alternating planted near-duplicates and random hashes. The python-threatexchange column is
`threatexchange.signal_type.pdq.pdq_index.PDQIndex`, the index HMA serves lookups from,
built and queried in-process in a subprocess (HMA's HTTP server is not installed here; its
lookups/s over HTTP cannot exceed its index's). Targets (issue 6): >= 2,000 PDQ lookups/s
over HTTP at 10M hashes, 100 % recall at the bank threshold, new hashes matchable in < 1 s.

"""

PERF_NOTES = """
Notes
- HTTP throughput comes from coalescing concurrent lookups into one vectorised index search
  (`platform/batcher.py`), a lean ASGI path for `GET /m/raw_lookup`, and uvicorn's C HTTP
  parser and event loop.
- Start-up reads every live entry from the database once and builds the index in one pass;
  after that the index changes only incrementally (no rebuild, no pickle).
- "New hash matchable through the API": POST `/c/bank/<b>/signal`, then raw lookups until it
  is returned. "From another process": written with the store directly (as `tantalio
  platform bank import` does), picked up by the server's change-feed poll (every 0.5 s).
  HMA rebuilds its index on a schedule and its workers reload the whole index.
"""


def render(r: dict[str, Any]) -> str:
    o, t = r.get("ours", {}), r.get("tx", {})

    def f(d: dict[str, Any], k: str, fmt: str = "{:,.0f}") -> str:
        v = d.get(k)
        if v is None:
            return f"failed: {d['error']}" if "error" in d else "—"
        return fmt.format(v)

    http = (
        f"**{r['http_rps']:,.0f}** (p50 {r['http_p50_ms']:.1f} ms, p99 {r['http_p99_ms']:.1f} ms, "
        f"{r['http_n']:,} requests)"
    )
    rows = [
        ("bulk insert into the database", f"{r['db_insert_s']:.1f} s", "—"),
        (
            "service start until /status answers (imports, DB read, index build)",
            f"{r['load_s']:.1f} s (index load {r['server_index_load_s']:.1f} s)",
            "—",
        ),
        (
            "service restart with an index snapshot (`--index-dir`) until ready",
            f"{r['restart_s']:.1f} s" if "restart_s" in r else "—",
            "—",
        ),
        ("index build in-process", f(o, "build_s", "{:.1f} s"), f(t, "build_s", "{:.1f} s")),
        (
            "memory: serving process RSS",
            f"{r['server_rss_mb']:,.0f} MiB (index arrays {r['index_mb']:,.0f} MiB)",
            "—",
        ),
        (
            "memory: index in-process (RSS growth)",
            f(o, "rss_mb", "{:,.0f} MiB"),
            f(t, "rss_mb", "{:,.0f} MiB"),
        ),
        ("PDQ lookups/s over HTTP (GET /m/raw_lookup)", http, "—"),
        ("PDQ lookups/s in-process, one query at a time", f(o, "single_qps"), f(t, "single_qps")),
        (f"PDQ lookups/s in-process, batch of {2 * r['planted']:,}", f(o, "batch_qps"), "—"),
        (
            "recall at distance <= 31 (planted) over HTTP",
            f"{r['http_recall']:.2%} (distances exact: {r['http_distances_exact']})",
            "—",
        ),
        (
            "recall at distance <= 31 (planted) in-process",
            f(o, "recall", "{:.2%}"),
            f(t, "recall", "{:.2%}"),
        ),
        (
            "hits for random queries (expected 0)",
            str(r["http_random_hits"]),
            f(t, "random_hits", "{}"),
        ),
        (
            "new hash matchable: added through the API, then looked up",
            f"{r['new_hash_same_ms']:.0f} ms",
            "after the next index build + reload",
        ),
        (
            "new hash matchable: added by another process (change feed)",
            f"{r['new_hash_other_ms']:.0f} ms",
            "—",
        ),
    ]
    head = (
        f"Bank of {r['size']:,} random PDQ hashes; {r['planted']:,} planted near-duplicates "
        f"(0..31 bits flipped) and {r['planted']:,} random queries. Database: {r['db']}. "
        f"uvicorn workers: {r['workers']}; load generator: {r['concurrency']} keep-alive "
        f"connections on 127.0.0.1. Machine: {os.cpu_count()} cores, shared.\n\n"
        "| measure | tantalio platform | python-threatexchange PDQIndex (HMA's index) |\n"
        "|---|---|---|\n"
    )
    return head + "".join(f"| {a} | {b} | {c} |\n" for a, b, c in rows)


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    main()
