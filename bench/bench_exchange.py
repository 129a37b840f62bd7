"""Benchmark of the central exchange (issue #11), with the workspace's own index (PDQIndex +
ExactIndex in-process) measured in the same run on the same hashes.

    .venv/bin/python bench/bench_exchange.py                       # 10M records (many minutes)
    .venv/bin/python bench/bench_exchange.py --records 1000000     # quicker
    flock /tmp/tantalio-bench.lock .venv/bin/python bench/bench_exchange.py \\
        --write docs/perf/exchange.md

Records: `--records` random SHA-256 + PDQ (numpy), spread over `--agencies` agencies; 1% are
planted near pairs (a record of another agency whose PDQ is a stored PDQ with 1..31 bits
flipped). They are bulk-loaded into the exchange database, then `tantalio exchange serve` (a
subprocess) starts and loads them. Measured over HTTP on 127.0.0.1: batched queries/s
(`--batch` queries a request, `--connections` clients, `--seconds` each; half the queries are
planted near-duplicates of stored records, half random: recall and false hits are checked),
the same with 8 PDQ orientations a query, and the push of `--push` records (the case behind
this project: 360,000) in batches of 10,000. The anchor: the workspace's own index, built
in-process from the same hashes and queried in the same batches.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SEED = 20261206


def hexes(arr: np.ndarray) -> list[str]:
    raw = arr.tobytes().hex()
    w = arr.shape[1] * 2
    return [raw[i : i + w] for i in range(0, len(raw), w)]


def flip(rows: np.ndarray, dists: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = rows.copy()
    for i, d in enumerate(dists):
        for b in rng.choice(256, int(d), replace=False):
            out[i, b // 8] ^= np.uint8(1 << (7 - b % 8))
    return out


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return 0.0


def load() -> str:
    a, b, c = Path("/proc/loadavg").read_text().split()[:3]
    return f"{a} {b} {c}"


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Data:
    """Records (sha256, md5, pdq, agency) and query sets with ground truth."""

    def __init__(self, n: int, agencies: int, n_queries: int, rng: np.random.Generator) -> None:
        self.n = n
        self.sha = rng.integers(0, 256, (n, 32), dtype=np.uint8)
        self.md5 = rng.integers(0, 256, (n, 16), dtype=np.uint8)
        self.pdq = rng.integers(0, 256, (n, 32), dtype=np.uint8)
        self.agency = (np.arange(n) % agencies).astype(np.int64)
        # 1% planted near pairs: record j is a near copy of record i, at another agency.
        planted = max(1, n // 100)
        j = rng.choice(n, planted, replace=False)
        i = (j + 1 + rng.integers(0, n - 1, planted)) % n
        self.pdq[j] = flip(self.pdq[i], rng.integers(1, 32, planted), rng)
        self.agency[j] = (self.agency[i] + 1) % agencies
        # Queries: half near a stored PDQ (0..31 bits, a new SHA-256), half random.
        half = n_queries // 2
        self.q_src = rng.choice(n, half, replace=False)
        self.q_pdq = np.concatenate(
            [
                flip(self.pdq[self.q_src], np.arange(half) % 32, rng),
                rng.integers(0, 256, (n_queries - half, 32), dtype=np.uint8),
            ]
        )
        self.q_sha = rng.integers(0, 256, (n_queries, 32), dtype=np.uint8)
        # A tenth of the planted queries also carry the stored SHA-256 (exact hits).
        exact = np.arange(half) % 10 == 0
        self.q_sha[:half][exact] = self.sha[self.q_src[exact]]


def bulk_load(db: str, data: Data, agency_ids: list[int], chunk: int = 200_000) -> float:
    """Insert every record with `ExchangeStore.bulk_insert`, in the order of the unique
    (agency, identity) index, so the database appends to its B-trees instead of seeking."""
    from tantalio.store.exchange import ExchangeStore

    store = ExchangeStore(db)
    t0 = time.perf_counter()
    order = np.lexsort((data.sha[:, :8].copy().view(">u8")[:, 0], data.agency))
    for a in range(0, data.n, chunk):
        sel = order[a : a + chunk]
        shas, md5s, pdqs = hexes(data.sha[sel]), hexes(data.md5[sel]), hexes(data.pdq[sel])
        rows = [
            (
                agency_ids[ag],
                f"sha256:{s}",
                s,
                m,
                p,
                90,
                1 if k % 7 == 0 else 3,
                None,
                "unidentified",
            )
            for k, ag, s, m, p in zip(
                sel.tolist(), data.agency[sel].tolist(), shas, md5s, pdqs, strict=True
            )
        ]
        store.bulk_insert(rows)
        print(f"  loaded {a + len(sel):,} records ({time.perf_counter() - t0:.0f} s)", flush=True)
    store.close()
    return time.perf_counter() - t0


def queries(
    data: Data, lo: int, hi: int, orientations: int, rng: np.random.Generator
) -> list[dict[str, Any]]:
    """Queries lo..hi of the planted half interleaved with as many of the random half."""
    half = len(data.q_src)
    size = (hi - lo) // 2
    lo %= half - size
    rows = np.concatenate([np.arange(lo, lo + size), half + np.arange(lo, lo + size)])
    pdqs, shas = hexes(data.q_pdq[rows]), hexes(data.q_sha[rows])
    out = []
    for k, p, s in zip(rows.tolist(), pdqs, shas, strict=True):
        q: dict[str, Any] = {"id": str(k), "sha256": s, "pdq": p}
        if orientations > 1:
            q["pdq_orientations"] = hexes(
                rng.integers(0, 256, (orientations - 1, 32), dtype=np.uint8)
            )
        out.append(q)
    return out


def http_queries(
    url: str,
    token: str,
    data: Data,
    batch: int,
    connections: int,
    seconds: float,
    orientations: int,
) -> dict[str, Any]:
    """Batches of queries from `connections` threads for `seconds`; recall on planted ones."""
    n_q = len(data.q_pdq)
    half = len(data.q_src)
    stop = time.perf_counter() + seconds
    counts = {"queries": 0, "requests": 0, "found": 0, "planted": 0, "false": 0}
    lat: list[float] = []
    lock = threading.Lock()

    def worker(w: int) -> None:
        rng = np.random.default_rng(SEED + w)
        pos = (w * batch * 7) % max(1, n_q - batch)
        with httpx.Client(
            base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=120
        ) as c:
            prepared = [
                queries(data, p, p + batch, orientations, rng)
                for p in range(pos, min(n_q, pos + batch * 8), batch)
            ]
            i = 0
            while i == 0 or time.perf_counter() < stop:  # at least one batch each
                body = {"queries": prepared[i % len(prepared)]}
                i += 1
                t0 = time.perf_counter()
                r = c.post("/v1/query", json=body)
                dt = time.perf_counter() - t0
                r.raise_for_status()
                found = planted = false = 0
                for res in r.json()["results"]:
                    k = int(res["id"])
                    if k < half:
                        planted += 1
                        found += bool(res["matches"])
                    elif res["matches"]:
                        false += 1
                with lock:
                    counts["queries"] += len(body["queries"])
                    counts["requests"] += 1
                    counts["found"] += found
                    counts["planted"] += planted
                    counts["false"] += false
                    lat.append(dt)

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(w,)) for w in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    lat.sort()
    return {
        **counts,
        "qps": counts["queries"] / wall,
        "p50_ms": 1000 * lat[len(lat) // 2] if lat else 0.0,
        "p99_ms": 1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else 0.0,
        "recall": counts["found"] / max(1, counts["planted"]),
    }


def http_push(url: str, token: str, data: Data, n: int, rng: np.random.Generator) -> dict[str, Any]:
    """A new agency pushes `n` records (1% near to stored records) in batches of 10,000."""
    sha = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    md5 = rng.integers(0, 256, (n, 16), dtype=np.uint8)
    pdq = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    near = rng.choice(n, n // 100, replace=False)
    pdq[near] = flip(
        data.pdq[rng.choice(data.n, len(near), replace=False)], rng.integers(1, 32, len(near)), rng
    )
    shas, md5s, pdqs = hexes(sha), hexes(md5), hexes(pdq)
    records = [
        {
            "sha256": s,
            "md5": m,
            "pdq": p,
            "pdq_quality": 90,
            "category": 3,
            "series": f"S{k % 500}",
            "status": "unidentified",
            "case_ref": "bench",
        }
        for k, (s, m, p) in enumerate(zip(shas, md5s, pdqs, strict=True))
    ]
    created = 0
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=600) as c:
        t0 = time.perf_counter()
        slowest = 0.0
        for a in range(0, n, 10_000):
            t1 = time.perf_counter()
            r = c.post("/v1/records", json={"records": records[a : a + 10_000]})
            r.raise_for_status()
            created += r.json()["created"]
            slowest = max(slowest, time.perf_counter() - t1)
        wall = time.perf_counter() - t0
        while c.get("/v1/status").json().get("pending_fanout"):
            time.sleep(0.5)
        settled = time.perf_counter() - t0
    return {
        "records": n,
        "created": created,
        "seconds": wall,
        "per_s": n / wall,
        "settled_s": settled,
        "slowest_request_s": slowest,
    }


def inprocess(data: Data, batch: int, seconds: float, orientations: int) -> dict[str, Any]:
    """The workspace's own index: PDQIndex (MIH) + ExactIndex built from the same hashes."""
    from tantalio.index import ExactIndex, PDQIndex

    ids = np.arange(data.n, dtype=np.int64)
    t0 = time.perf_counter()
    pdq = PDQIndex.build_from(ids, data.pdq)
    exact = ExactIndex.build_from(ids, data.sha, "sha256")
    build = time.perf_counter() - t0
    rng = np.random.default_rng(SEED)
    out: dict[str, Any] = {"build_s": build}
    for o in sorted({1, orientations}):
        n = 0
        stop = time.perf_counter() + seconds
        t0 = time.perf_counter()
        pos = 0
        while time.perf_counter() < stop:
            lo = pos % max(1, len(data.q_pdq) - batch)
            pos += batch
            qp = data.q_pdq[lo : lo + batch]
            if o > 1:
                extra = rng.integers(0, 256, (len(qp) * (o - 1), 32), dtype=np.uint8)
                groups_arr = np.concatenate([qp, extra])
            else:
                groups_arr = qp
            q, hit_ids, _ = pdq.search_arrays(groups_arr, 31)
            exact.lookup_arrays(hexes(data.q_sha[lo : lo + batch]), "sha256")
            n += len(qp)
        out[f"qps_{o}"] = n / (time.perf_counter() - t0)
    return out


def start_server(
    db: str, key: Path, log: Path, index_dir: Path
) -> tuple[subprocess.Popen[bytes], str, float]:
    port = free_port()
    cmd = [
        sys.executable,
        "-m",
        "tantalio.cli.main",
        "exchange",
        "serve",
        "--db",
        db,
        "--port",
        str(port),
        "--signing-key",
        str(key),
        "--log-level",
        "warning",
        "--index-dir",
        str(index_dir),
    ]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=log.open("ab"))
    url = f"http://127.0.0.1:{port}"
    while True:
        try:
            httpx.get(f"{url}/v1/status", timeout=5)
            return proc, url, time.perf_counter() - t0
        except httpx.TransportError:
            if proc.poll() is not None:
                raise SystemExit(f"exchange serve exited: {log.read_text()[-3000:]}") from None
            time.sleep(0.5)


def index_status(url: str, token: str) -> dict[str, Any]:
    r = httpx.get(f"{url}/v1/status", headers={"Authorization": f"Bearer {token}"}, timeout=30)
    r.raise_for_status()
    return dict(r.json()["index"])


def stop_server(proc: subprocess.Popen[bytes]) -> float:
    """SIGTERM; seconds until the process is gone (it saves the snapshot if changed)."""
    t0 = time.perf_counter()
    proc.terminate()
    proc.wait(600)
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--records", type=int, default=10_000_000)
    ap.add_argument("--push", type=int, default=360_000)
    ap.add_argument("--agencies", type=int, default=15)
    ap.add_argument("--batch", type=int, default=1000, help="queries a request")
    ap.add_argument("--connections", type=int, default=2)
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument(
        "--db", default=None, help="exchange database URL (default: a temporary SQLite file)"
    )
    ap.add_argument("--write", type=Path, default=None, help="write the table (markdown) here")
    ap.add_argument(
        "--push-only",
        action="store_true",
        help="load, start and measure the push alone (no query phases, no in-process anchor)",
    )
    ap.add_argument(
        "--reuse-db",
        default=None,
        metavar="URL",
        help="an exchange database a run with the same --records (and seed) already loaded: "
        "skip the bulk load (the hashes are regenerated from the seed)",
    )
    ap.add_argument(
        "--index-dir",
        type=Path,
        default=None,
        help="the server's index snapshot directory (default: a temporary one)",
    )
    ap.add_argument(
        "--skip-rebuild",
        action="store_true",
        help="with --reuse-db and a snapshot in --index-dir: start from it only (no full "
        "rebuild start)",
    )
    args = ap.parse_args()
    if args.reuse_db:
        args.db = args.reuse_db

    from tantalio.exchange.admin import create_agency

    res: dict[str, Any] = {
        "args": vars(args) | {"write": str(args.write), "index_dir": str(args.index_dir)},
        "load_before": load(),
    }
    rng = np.random.default_rng(SEED)
    tmp = Path(tempfile.mkdtemp(prefix="tantalio-bench-exchange-"))
    db = args.db or f"sqlite:///{tmp / 'exchange.db'}"
    print(f"generating {args.records:,} records ...", flush=True)
    data = Data(args.records, args.agencies, 40_000, rng)
    run = time.strftime("%Y%m%d%H%M%S")
    if args.reuse_db:
        from tantalio.store.exchange import ExchangeStore

        store = ExchangeStore(db)
        stored = store.count_records()
        store.close()
        if stored < args.records:
            raise SystemExit(f"--reuse-db holds {stored:,} records, fewer than --records")
        print(f"reusing {db.split('@')[-1]} ({stored:,} records)", flush=True)
        res["db_load_s"] = None
        res["stored"] = stored
    else:
        ids = []
        for a in range(args.agencies):
            _, agency, _ = create_agency(
                db, f"agency-{a:02d}", "DE", "bench", ["push", "query"], 1e6, 10**6
            )
            ids.append(agency.id)
        print("bulk load ...", flush=True)
        res["db_load_s"] = bulk_load(db, data, ids)
        res["stored"] = args.records
    # New asking and pushing agencies each run (a reused database keeps the old ones).
    pusher, _, _ = create_agency(db, f"pusher-{run}", "FR", "bench", ["push", "query"], 1e6, 10**6)
    asker, _, _ = create_agency(db, f"asker-{run}", "NL", "bench", ["query"], 1e6, 10**6)

    if not args.push_only:
        print("workspace index in-process ...", flush=True)
        res["inproc"] = inprocess(data, args.batch, args.seconds, 8)
        print(f"  {res['inproc']}", flush=True)

    index_dir = args.index_dir or tmp / "index"
    key, log = tmp / "signing.pem", tmp / "serve.log"
    if not (args.skip_rebuild and (index_dir / "snapshot.json").exists()):
        import shutil

        shutil.rmtree(index_dir, ignore_errors=True)
        print("starting exchange serve (no snapshot: full rebuild) ...", flush=True)
        proc, url, res["start_rebuild_s"] = start_server(db, key, log, index_dir)
        res["rss_rebuild_mb"] = rss_mb(proc.pid)
        res["load_rebuild_s"] = index_status(url, asker)["load_s"]
        t0 = time.perf_counter()
        while not index_status(url, asker)["snapshot_saved"]:
            time.sleep(0.5)
        res["snapshot_save_s"] = time.perf_counter() - t0
        res["snapshot_mb"] = sum(f.stat().st_size for f in index_dir.rglob("*")) / 2**20
        res["stop_rebuild_s"] = stop_server(proc)
        print(
            f"  ready in {res['start_rebuild_s']:.1f} s, RSS {res['rss_rebuild_mb']:,.0f} MiB;"
            f" snapshot ({res['snapshot_mb']:,.0f} MiB) saved {res['snapshot_save_s']:.1f} s"
            " after ready",
            flush=True,
        )
    print("starting exchange serve (from the snapshot) ...", flush=True)
    proc, url, res["start_s"] = start_server(db, key, log, index_dir)
    status = index_status(url, asker)
    res["index_source"], res["load_snapshot_s"] = status["source"], status["load_s"]
    try:
        res["rss_mb"] = rss_mb(proc.pid)
        print(
            f"  ready in {res['start_s']:.1f} s ({res['index_source']}), RSS "
            f"{res['rss_mb']:,.0f} MiB",
            flush=True,
        )
        if not args.push_only:
            res["http_1"] = http_queries(
                url, asker, data, args.batch, args.connections, args.seconds, 1
            )
            print(f"  queries (1 orientation): {res['http_1']}", flush=True)
            res["http_8"] = http_queries(
                url, asker, data, args.batch, args.connections, args.seconds, 8
            )
            print(f"  queries (8 orientations): {res['http_8']}", flush=True)
            res["rss_queries_mb"] = rss_mb(proc.pid)
        if args.push:
            res["push"] = http_push(url, pusher, data, args.push, rng)
            print(f"  push: {res['push']}", flush=True)
        res["rss_after_mb"] = rss_mb(proc.pid)
    finally:
        res["stop_s"] = stop_server(proc)
    res["load_after"] = load()
    table = render(res)
    print(table)
    (tmp / "result.json").write_text(json.dumps(res, indent=1, default=str))
    if args.write:
        args.write.write_text(table)


def render(r: dict[str, Any]) -> str:
    a = r["args"]
    if a.get("push_only"):
        return render_push(r)
    ip, h1, h8, push = r["inproc"], r["http_1"], r["http_8"], r.get("push")
    load_s = r["db_load_s"]
    rows = [
        (
            "records at the exchange",
            f"{r['stored']:,} ({a['agencies']} agencies, 1% planted near pairs)",
            f"{a['records']:,} hashes",
        ),
        (
            "bulk load into the database",
            f"{load_s:.1f} s" if load_s is not None else "reused (--reuse-db)",
            "—",
        ),
    ]
    if "start_rebuild_s" in r:
        rows += [
            (
                "start, no snapshot (full rebuild from the database)",
                f"{r['start_rebuild_s']:.1f} s (index load {r['load_rebuild_s']:.1f} s), RSS "
                f"{r['rss_rebuild_mb']:,.0f} MiB; snapshot "
                f"({r['snapshot_mb']:,.0f} MiB) saved {r['snapshot_save_s']:.1f} s later",
                f"index build {ip['build_s']:.1f} s",
            )
        ]
    rows += [
        (
            "start from the snapshot until serving (process start, imports included)",
            f"**{r['start_s']:.1f} s** (index load {r['load_snapshot_s']:.1f} s, from "
            f"{r['index_source']}), RSS {r['rss_mb']:,.0f} MiB",
            "—",
        ),
        (
            f"queries/s, batches of {a['batch']} (SHA-256 + PDQ), 1 orientation",
            f"**{h1['qps']:,.0f}** over HTTP (p50 {h1['p50_ms']:.0f} ms, "
            f"p99 {h1['p99_ms']:.0f} ms a batch, {h1['queries']:,} queries)",
            f"{ip['qps_1']:,.0f} in-process (exchange/anchor {h1['qps'] / ip['qps_1']:.2f})",
        ),
        (
            "the same, 8 PDQ orientations a query",
            f"**{h8['qps']:,.0f}** over HTTP (p50 {h8['p50_ms']:.0f} ms a batch)",
            f"{ip['qps_8']:,.0f} in-process (exchange/anchor {h8['qps'] / ip['qps_8']:.2f})",
        ),
        (
            "recall of planted near-duplicates (≤ 31)",
            f"{100 * h1['recall']:.2f}% / {100 * h8['recall']:.2f}%",
            "—",
        ),
        ("hits for random queries (expected 0)", f"{h1['false'] + h8['false']}", "—"),
        ("server RSS after the queries", f"{r['rss_queries_mb']:,.0f} MiB", "—"),
    ]
    if push:
        rows += [
            (
                f"push of {push['records']:,} records over HTTP (10,000 a request)",
                f"**{push['seconds']:.1f} s** ({push['per_s']:,.0f} records/s; "
                f"{push['created']:,} created)",
                "—",
            ),
            (
                "… until its PDQ fan-out (feed rows, links) is done",
                f"{push['settled_s']:.1f} s",
                "—",
            ),
            ("server RSS after the push", f"{r['rss_after_mb']:,.0f} MiB", "—"),
        ]
    rows.append(
        ("stop (SIGTERM; saves the snapshot if records changed)", f"{r['stop_s']:.1f} s", "—")
    )
    db = a["db"]
    lines = [
        f"`.venv/bin/python bench/bench_exchange.py --records {a['records']} --push {a['push']}"
        f"{' --reuse-db …' if a['reuse_db'] else ''}`"
        f" — database: {'SQLite' if not db else db.split(':')[0]},"
        f" {a['connections']} client connections on 127.0.0.1,"
        f" load average before {r['load_before']}, after {r['load_after']} (2 shared cores).",
        "",
        "| measure | exchange (`tantalio exchange serve`) "
        "| workspace index in-process (PDQIndex + ExactIndex) |",
        "|---|---|---|",
        *[f"| {m} | {x} | {y} |" for m, x, y in rows],
        "",
    ]
    return "\n".join(lines)


def render_push(r: dict[str, Any]) -> str:
    """The table of a `--push-only` run."""
    a, push = r["args"], r["push"]
    db = "SQLite" if not a["db"] else a["db"].split(":")[0]
    rows = [
        ("records at the exchange before the push", f"{a['records']:,} ({a['agencies']} agencies)"),
        ("bulk load into the database", f"{r['db_load_s'] or 0:.1f} s"),
        (
            "start until serving",
            f"{r['start_s']:.1f} s ({r.get('index_source')}), RSS {r['rss_mb']:,.0f} MiB",
        ),
        (
            f"push of {push['records']:,} records over HTTP (10,000 a request)",
            f"**{push['seconds']:.1f} s** ({push['per_s']:,.0f} records/s; "
            f"{push['created']:,} created; slowest request {push['slowest_request_s']:.1f} s)",
        ),
        ("… until its PDQ fan-out (feed rows, links) is done", f"{push['settled_s']:.1f} s"),
        ("server RSS after the push", f"{r['rss_after_mb']:,.0f} MiB"),
    ]
    lines = [
        f"`.venv/bin/python bench/bench_exchange.py --push-only --records {a['records']}"
        f" --push {a['push']}` — database: {db}, load average before {r['load_before']},"
        f" after {r['load_after']} (2 shared cores).",
        "",
        "| measure | exchange (`tantalio exchange serve`) |",
        "|---|---|",
        *[f"| {m} | {x} |" for m, x in rows],
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
