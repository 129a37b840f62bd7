"""PDQ index at 100M hashes on one box (issue 17), beside our 10M and python-threatexchange.

One command (takes ~20-30 min on the shared 2-core machine; needs ~13 GB of disk):

    flock /tmp/tantalio-bench.lock .venv/bin/python bench/bench_index_100m.py \\
        --data /work/bench-data/pdq100m

Steps, each in its own child process (clean memory figures):
1. generate: 100M random 256-bit hashes, 1% of them planted near copies (0..31 bits) of
   others, streamed into a memory-mapped `hashes.npy` (never a second copy in memory), and
   4,000 queries: near copies of stored hashes at distances 0..31 (cycling);
2. build: `tantalio.index.bulk.build_dir` (tables written into memory-mapped files);
3. brute force: the complete answer of 64 queries by faiss's exhaustive `IndexBinaryFlat`,
   scanned block by block over the mapped file;
4. serve: `PDQIndex.load(mmap=True)` (restart time, cold: the files' pages are dropped from
   the page cache first with posix_fadvise, and warm), single and batched lookups/s, recall,
   resident memory (anonymous and file-backed), an add and how soon it matches;
then the same serve step with both cores kept busy by two spinning processes (`--load`).
Anchors in the same run: `bench_index.py`'s workers for our 10M and threatexchange's
PDQIndex at 1M (the largest it holds here: ~0.65 GB per million in Python maps), quiet and
under the same load. Writes docs/perf/index_100m.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
RADIUS = 31
CHECK_QUERIES = 64
BLOCK = 1 << 22  # rows per generation / brute-force block
TABLE_HEAD = (
    "| box | implementation | stored | load avg | single lookups/s | batched lookups/s "
    "| recall@31 planted | full recall (64 q) | false hits | RSS MiB (anon + file) |"
)


def status_mb() -> dict[str, float]:
    """Resident memory of this process: total, anonymous, file-backed (mapped index files),
    and the peak."""
    out: dict[str, float] = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                out[key] = int(rest.split()[0]) / 1024
    return out


def flip_random_bits(
    rows: np.ndarray, distances: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Copies of `rows` (uint8, (k, 32)) with exactly distances[i] random bits flipped."""
    bits = np.unpackbits(rows, axis=1)
    rank = np.argsort(np.argsort(rng.random(bits.shape), axis=1), axis=1)
    bits ^= (rank < distances[:, None]).astype(np.uint8)
    return np.packbits(bits, axis=1)


def step_generate(args: argparse.Namespace) -> dict[str, Any]:
    from numpy.lib.format import open_memmap

    from tantalio.index.codec import bytes_to_words, words_to_bytes

    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    n = args.n
    rng = np.random.default_rng(args.seed)
    t = time.perf_counter()
    words = open_memmap(data / "hashes.tmp.npy", "w+", np.uint64, (n, 4))
    for lo in range(0, n, BLOCK):
        hi = min(n, lo + BLOCK)
        block = rng.integers(0, 256, size=(hi - lo, 32), dtype=np.uint8)
        # 1% planted near-duplicates of rows of the same block (re-encodes, crops).
        dup = rng.choice(hi - lo, size=(hi - lo) // 100, replace=False)
        src = rng.integers(0, hi - lo, size=len(dup))
        block[dup] = flip_random_bits(block[src], rng.integers(0, RADIUS + 1, len(dup)), rng)
        words[lo:hi] = bytes_to_words(block)
    words.flush()
    picks = np.sort(rng.choice(n, size=args.queries, replace=False))
    stored = words_to_bytes(np.asarray(words[picks]))
    queries = flip_random_bits(stored, np.arange(args.queries) % (RADIUS + 1), rng)
    order = rng.permutation(args.queries)  # distances cycle; rows in random order
    np.save(data / "picks.npy", picks[order])
    np.save(data / "queries.npy", bytes_to_words(queries[order]))
    del words
    os.replace(data / "hashes.tmp.npy", data / "hashes.npy")
    return {"generate_s": time.perf_counter() - t, "peak_mb": status_mb()["VmHWM"]}


def step_build(args: argparse.Namespace) -> dict[str, Any]:
    from tantalio.index.bulk import build_dir

    data = Path(args.data)
    words = np.load(data / "hashes.npy", mmap_mode="r")
    t = time.perf_counter()
    build_dir(data / "index", words, n_chunks=args.chunks or None, workers=2)
    build_s = time.perf_counter() - t
    size = sum(f.stat().st_size for f in (data / "index").iterdir())
    return {"build_s": build_s, "peak_mb": status_mb()["VmHWM"], "disk_mb": size / 1e6}


def step_brute(args: argparse.Namespace) -> dict[str, Any]:
    import faiss

    from tantalio.index.codec import words_to_bytes

    data = Path(args.data)
    words = np.load(data / "hashes.npy", mmap_mode="r")
    q = words_to_bytes(np.load(data / "queries.npy")[:CHECK_QUERIES])
    t = time.perf_counter()
    found: list[list[int]] = [[] for _ in range(len(q))]
    for lo in range(0, len(words), BLOCK):
        flat = faiss.IndexBinaryFlat(256)
        flat.add(words_to_bytes(np.asarray(words[lo : lo + BLOCK])))
        lims, _d, ids = flat.range_search(q, RADIUS + 1)  # faiss: distance < radius
        for i in range(len(q)):
            found[i].extend((ids[lims[i] : lims[i + 1]] + lo).tolist())
        flat.reset()
    (data / "brute.json").write_text(json.dumps([sorted(f) for f in found]))
    return {"brute_s": time.perf_counter() - t}


def _drop_cache(directory: Path) -> None:
    """Evict the index files' pages from the page cache (drop_caches needs privileges we
    lack; fadvise on our own files does not)."""
    for file in directory.iterdir():
        fd = os.open(file, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def step_serve(args: argparse.Namespace) -> dict[str, Any]:
    from tantalio.index import PDQIndex
    from tantalio.index.codec import words_to_hex

    data = Path(args.data)
    qwords = np.load(data / "queries.npy")
    picks = np.load(data / "picks.npy")
    queries = words_to_hex(qwords)
    out: dict[str, Any] = {}
    if args.cold:
        _drop_cache(data / "index")
        t = time.perf_counter()
        index = PDQIndex.load(data / "index", mmap=True)
        out["load_s"] = time.perf_counter() - t
        index.search(queries[:100])
        out["cold_restart_100q_s"] = time.perf_counter() - t
        del index
    t = time.perf_counter()
    index = PDQIndex.load(data / "index", mmap=True)
    out["warm_load_s"] = time.perf_counter() - t
    index.search(queries[:100])
    out["warm_restart_100q_s"] = time.perf_counter() - t
    out["n"] = len(index)

    single = queries[: args.single]
    t = time.perf_counter()
    for h in single:
        index.search([h])
    out["single_qps"] = len(single) / (time.perf_counter() - t)
    t = time.perf_counter()
    q, ids, _dist = index.search_arrays(queries)
    out["batch_qps"] = len(queries) / (time.perf_counter() - t)
    found = {(int(a), int(b)) for a, b in zip(q.tolist(), ids.tolist(), strict=True)}
    out["recall"] = sum((i, int(p)) in found for i, p in enumerate(picks)) / len(picks)
    brute_file = data / "brute.json"
    if brute_file.exists():
        brute = json.loads(brute_file.read_text())
        got = index.search(queries[: len(brute)])
        want = {(i, j) for i, row in enumerate(brute) for j in row}
        have = {(i, j) for i, row in enumerate(got) for j, _ in row}
        out["full_recall"] = len(want & have) / max(len(want), 1)
        out["false_hits"] = len(have - want)
        out["check_pairs"] = len(want)
    out["mem_after_queries"] = status_mb()
    out["probes"], out["candidates"] = measured_costs(index, qwords[:200])

    rng = np.random.default_rng(7)
    add_s, seen_s = [], []
    for k in range(100):
        h = rng.bytes(32).hex()
        t = time.perf_counter()
        index.add([args.n + k], [h])
        t_added = time.perf_counter()
        add_s.append(t_added - t)
        hit = index.search([h])[0][:1]
        seen_s.append(time.perf_counter() - t_added)
        assert hit == [(args.n + k, 0)], hit
    out["add_first_ms"] = add_s[0] * 1e3
    out["add_median_ms"] = statistics.median(add_s[1:]) * 1e3
    out["matchable_after_add_max_ms"] = max(seen_s) * 1e3
    out["mem_end"] = status_mb()
    return out


def measured_costs(index: Any, qwords: np.ndarray) -> tuple[int, float]:
    """Probes per query and the mean candidates they return (bucket sizes summed), read from
    the built tables: the two costs the chunk layout trades against each other."""
    seg = index._state.segments[0]
    chunk_of, masks, bases, shifts = seg._plan(RADIUS)
    values = seg.layout.values(qwords)
    probes = np.bitwise_xor((values >> shifts).take(chunk_of, axis=1), masks) + bases
    sizes = seg.offsets.take(probes + 1).astype(np.int64) - seg.offsets.take(probes)
    return int(probes.shape[1]), float(sizes.sum(axis=1).mean())


STEPS = {"generate": step_generate, "build": step_build, "brute": step_brute, "serve": step_serve}


def child(step: str, args: argparse.Namespace, extra: list[str] | None = None) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--step", step, "--data", args.data, "--n", str(args.n)]
    cmd += ["--queries", str(args.queries), "--single", str(args.single)]
    cmd += ["--seed", str(args.seed), "--chunks", str(args.chunks)] + (extra or [])
    print(f"… {step} {' '.join(extra or [])}", file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        return {"error": f"{step}: exit {proc.returncode}"}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    print(json.dumps(result), file=sys.stderr, flush=True)
    return result


def anchor(kind: str, n: int, args: argparse.Namespace) -> dict[str, Any]:
    cmd = [sys.executable, str(ROOT / "bench/bench_index.py"), "--worker", kind, "--n", str(n)]
    cmd += ["--queries", str(args.queries), "--single", str(args.single), "--no-persist"]
    cmd += ["--single-tx", "300", "--batch-tx", "1000"]
    print(f"… anchor {kind} at {n:,}", file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        return {"impl": kind, "n": n, "error": f"exit {proc.returncode}"}
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    print(json.dumps(result), file=sys.stderr, flush=True)
    return result


class Busy:
    """Two processes spinning on the CPU: 'both cores busy with another process'."""

    def __enter__(self) -> Busy:
        spin = "while True: pass"
        self.procs = [subprocess.Popen([sys.executable, "-c", spin]) for _ in range(2)]
        time.sleep(1)
        return self

    def __exit__(self, *exc: object) -> None:
        for p in self.procs:
            p.kill()
            p.wait()


def layout_costs(n: int) -> list[dict[str, Any]]:
    """Per query at radius 31 and `n` random hashes: bucket probes and expected candidates
    (n / 2**k per probe of a k-bit table) for each chunk count."""
    from tantalio.index.mih import Layout, allocate_radii, key_bits_for

    rows = []
    for m in range(8, 17):
        layout = Layout.even(m)
        keys = key_bits_for(n, layout.widths)
        radii = allocate_radii(RADIUS, layout.widths)
        probes = cands = 0.0
        for k, r in zip(keys, radii, strict=True):
            p = sum(math.comb(k, i) for i in range(min(r, k) + 1)) if r >= 0 else 0
            probes += p
            cands += p * n / 2**k
        table_mb = sum((2**k + 1) * 4 for k in keys) / 1e6
        rows.append(
            {
                "chunks": m,
                "widths": f"{min(layout.widths)}-{max(layout.widths)}",
                "radii": f"{min(radii)}-{max(radii)}",
                "probes": int(probes),
                "candidates": int(cands),
                "tables_mb": table_mb + m * n * 4 / 1e6,
            }
        )
    return rows


def main() -> None:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--data", default="/work/bench-data/pdq100m")
    p.add_argument("--n", type=int, default=100_000_000)
    p.add_argument("--queries", type=int, default=4000)
    p.add_argument("--single", type=int, default=1000)
    p.add_argument("--seed", type=int, default=2017)
    p.add_argument("--chunks", type=int, default=0, help="chunk count (0: the default)")
    p.add_argument("--anchor-10m", type=int, default=10_000_000, help="our anchor size (0: skip)")
    p.add_argument("--tx-size", type=int, default=1_000_000, help="threatexchange size (0: skip)")
    p.add_argument("--rebuild", action="store_true", help="regenerate and rebuild")
    p.add_argument("--out", default=str(ROOT / "docs/perf/index_100m.md"))
    p.add_argument("--no-write", action="store_true")
    p.add_argument("--step", choices=sorted(STEPS), help=argparse.SUPPRESS)
    p.add_argument("--cold", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.step:
        print(json.dumps(STEPS[args.step](args)))
        return

    data = Path(args.data)
    res: dict[str, Any] = {"load_start": os.getloadavg()}
    # Generation, build and brute force run once per data directory; their figures are
    # kept beside the data (steps.json) and reported again by later runs.
    steps_file = data / "steps.json"
    steps = json.loads(steps_file.read_text()) if steps_file.exists() else {}
    for step, done in (
        ("generate", data / "hashes.npy"),
        ("build", data / "index" / "index.json"),
        ("brute", data / "brute.json"),
    ):
        if args.rebuild or not done.exists() or step not in steps:
            steps[step] = child(step, args)
            steps_file.write_text(json.dumps(steps, indent=1))
    res.update(steps)
    res["quiet"] = {"load": os.getloadavg()[0], "ours": child("serve", args, ["--cold"])}
    if args.anchor_10m:
        res["quiet"]["ours10m"] = anchor("ours", args.anchor_10m, args)
    if args.tx_size:
        res["quiet"]["tx"] = anchor("threatexchange", args.tx_size, args)
    with Busy():
        res["busy"] = {"load": os.getloadavg()[0], "ours": child("serve", args)}
        if args.anchor_10m:
            res["busy"]["ours10m"] = anchor("ours", args.anchor_10m, args)
        if args.tx_size:
            res["busy"]["tx"] = anchor("threatexchange", args.tx_size, args)
        res["busy"]["load_end"] = os.getloadavg()[0]
    res["layouts"] = layout_costs(args.n)
    (data / "result.json").write_text(json.dumps(res, indent=1))
    text = report(res, args)
    print(text)
    if not args.no_write:
        Path(args.out).write_text(text)


def _f(v: Any, d: int = 0) -> str:
    return "—" if v is None else f"{v:,.{d}f}"


def report(res: dict[str, Any], args: argparse.Namespace) -> str:
    gen, build = res.get("generate", {}), res.get("build", {})
    lines = [
        "# PDQ index at 100M hashes (issue 17)",
        "",
        f"Measured by `flock /tmp/tantalio-bench.lock .venv/bin/python bench/bench_index_100m.py "
        f"--data {args.data}` on {time.strftime('%Y-%m-%d')}: {os.cpu_count()} cores "
        f"({platform.machine()}), load average at start {res['load_start'][0]:.1f} "
        f"(shared machine); numpy {np.__version__}.",
        "",
        f"Stored: {args.n:,} random 256-bit hashes, 1% planted near copies (0..31 bits) of others. "
        f"Queries: {args.queries:,} near copies of stored hashes at distances 0..31. "
        "Our 100M index is built by `bulk.build_dir` and served memory-mapped "
        "(`PDQIndex.load(mmap=True)`); the anchors are `bench_index.py`'s in-memory workers "
        "(ours at 10M, threatexchange's PDQIndex "
        "at its largest size here), run in the same invocation. *Busy*: two other processes "
        "spin on both cores throughout.",
        "",
    ]
    if gen:
        lines.append(
            f"- generate (streamed to disk): {_f(gen.get('generate_s'))} s, "
            f"peak RSS {_f(gen.get('peak_mb'))} MiB"
        )
    if build:
        lines.append(
            f"- build: {_f(build.get('build_s'), 1)} s, peak RSS {_f(build.get('peak_mb'))} MiB, "
            f"{_f(build.get('disk_mb'))} MB on disk (target ≤ 10 min)"
        )
    lines += [
        "",
        TABLE_HEAD,
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for box in ("quiet", "busy"):
        b = res.get(box, {})
        o = b.get("ours", {})
        if o and "error" not in o:
            mem = o["mem_after_queries"]
            lines.append(
                f"| {box} | tantalio PDQIndex (mmap) | {o['n']:,} | {b['load']:.1f} "
                f"| {_f(o['single_qps'])} | {_f(o['batch_qps'])} | {o['recall']:.2%} "
                f"| {o.get('full_recall', 0):.2%} | {o.get('false_hits', '—')} "
                f"| {mem['VmRSS']:,.0f} ({mem['RssAnon']:,.0f} + {mem['RssFile']:,.0f}) |"
            )
        for key in ("ours10m", "tx"):
            r = b.get(key)
            if r and "error" not in r:
                lines.append(
                    f"| {box} | {r['impl']} | {r['n']:,} | {b['load']:.1f} | {_f(r['single_qps'])} "
                    f"| {_f(r['batch_qps'])} | {r['recall']:.2%} | {r['full_recall']:.2%} "
                    f"| {r['false_hits']} | growth {_f(r['rss_mb'])} |"
                )
            elif r:
                lines.append(
                    f"| {box} | {r.get('impl')} | {r.get('n')} | failed: {r['error']} |" + " |" * 6
                )
    lines.append("")
    o = res.get("quiet", {}).get("ours", {})
    if "candidates" in o:
        lines.append(
            f"- measured on the built tables (200 queries): {o['probes']:,} probes and "
            f"{o['candidates']:,.0f} candidates per query"
        )
    for box in ("quiet", "busy"):
        o = res.get(box, {}).get("ours", {})
        if not o or "error" in o:
            continue
        if "cold_restart_100q_s" in o:
            lines.append(
                f"- {box}: restart from disk, page cache dropped for the index files: load "
                f"{o['load_s']:.2f} s, load + first 100 queries {o['cold_restart_100q_s']:.1f} s "
                "(target ≤ 30 s)"
            )
        lines.append(
            f"- {box}: warm restart (load + first 100 queries) {o['warm_restart_100q_s']:.2f} s; "
            f"add: first {o['add_first_ms']:.0f} ms, median {o['add_median_ms']:.2f} ms; an added "
            f"hash is matched by the next search (at most {o['matchable_after_add_max_ms']:.1f} ms "
            "after add returns; target ≤ 1 s)"
        )
    q, b = res.get("quiet", {}), res.get("busy", {})
    for name, key in (("single", "single_qps"), ("batched", "batch_qps")):
        with contextlib.suppress(KeyError, TypeError, ZeroDivisionError):
            lines.append(
                f"- {name}: 100M vs threatexchange at {q['tx']['n']:,}: quiet "
                f"{q['ours'][key] / q['tx'][key]:.1f}×, busy {b['ours'][key] / b['tx'][key]:.1f}×; "
                f"100M vs our 10M: quiet {q['ours'][key] / q['ours10m'][key]:.2f}, busy "
                f"{b['ours'][key] / b['ours10m'][key]:.2f}"
            )
    lines += [
        "",
        f"## Chunk layout at {args.n:,} (radius 31, per query, expected for random hashes)",
        "",
        "| chunks | widths | radii | probes | candidates | tables MB (offsets + order) |",
        "|---:|---|---|---:|---:|---:|",
    ]
    for r in res["layouts"]:
        lines.append(
            f"| {r['chunks']} | {r['widths']} | {r['radii']} | {r['probes']:,} "
            f"| {r['candidates']:,} | {r['tables_mb']:,.0f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
