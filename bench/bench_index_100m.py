"""PDQ index at 100M hashes on one box (issue 17), beside our 10M and python-threatexchange.

One command. The first run generates and builds the data (~10-20 min on the shared 2-core
machine, ~12 GB peak, ~14 GB of disk); every later run reuses it and takes ~3 minutes:

    flock /tmp/tantalio-bench.lock .venv/bin/python bench/bench_index_100m.py \\
        --data /work/bench-data/pdq100m

Steps, each in its own child process (clean memory figures):
1. generate (once): 100M random 256-bit hashes, 1% of them planted near copies (0..31
   bits) of others, streamed into a memory-mapped `hashes.npy` (never a second copy in
   memory), and 4,000 queries: near copies of stored hashes at distances 0..31 (cycling);
2. build (once): `tantalio.index.bulk.build_dir` (tables written into memory-mapped files);
   and the 10M anchor's index, `build_dir` of the first 10M hashes;
3. brute force (once): the complete answer of 64 queries by faiss's exhaustive
   `IndexBinaryFlat`, scanned block by block over the mapped file (and for the anchors'
   queries over their first 10M / 1M rows);
4. serve: `PDQIndex.load(mmap=True)` (restart time, cold: the files' pages are dropped from
   the page cache first with posix_fadvise, and warm), single and batched lookups/s, recall,
   resident memory (anonymous and file-backed), an add and how soon it matches; the
   compiled search against the numpy passes and against itself without prefetching,
   alternating on the same mapped index; then single and batched again with both cores kept
   busy by two spinning processes;
5. anchors, quiet then busy the same way: our index of the first 10M hashes loaded into
   memory, and threatexchange's PDQIndex of the first 1M (the largest it holds here:
   ~0.65 GB per million in Python maps).
Writes docs/perf/index_100m.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
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
NOTES = "\n## Reading the numbers"
BLOCK = 1 << 22  # rows per generation / brute-force block
TABLE_HEAD = (
    "| box | implementation | stored | load avg | single lookups/s | batched lookups/s "
    "| recall@31 planted | full recall (64 q) | false hits | RSS MiB (anon + file) |"
)


def uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


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


def pmd_mapped_mb(directory: Path) -> float:
    """MiB of the index files' mappings in this process mapped by 2 MiB page-table entries
    (`FilePmdMapped` in smaps): how much of the index the huge-page advice reached."""
    total, inside = 0, False
    with open("/proc/self/smaps") as fh:
        for line in fh:
            parts = line.split()
            if parts and "-" in parts[0] and len(parts) >= 5:
                inside = parts[-1].startswith(str(directory))
            elif inside and parts and parts[0] == "FilePmdMapped:":
                total += int(parts[1])
    return total / 1024


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
    # One untimed pass over every query first: after the cold restart most of the index is
    # still on disk or not yet mapped into this process, and the first pass pays for reading
    # and mapping it (measured: 1,270 CPU µs per query against 825-960 once warm), which is
    # restart cost, not lookup cost. Reported apart.
    out["first_pass"], _ = batched(index, queries)

    single = queries[: args.single]
    t = time.perf_counter()
    for h in single:
        index.search([h])
    out["single_qps"] = len(single) / (time.perf_counter() - t)
    batch, (q, ids, _dist) = batched(index, queries)
    out.update(batch)
    out["join_ab"] = join_ab(index, queries, args.ab_rounds)
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
    out["pmd_mapped_mb"] = pmd_mapped_mb(data / "index")
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
    out["ab"] = compare_paths(index, qwords[: args.ab_queries], args.ab_rounds)
    out["scaling"] = thread_scaling(index, queries[:2000], 2)
    out["scaling_load"] = os.getloadavg()[0]
    busy: dict[str, Any] = {"load": os.getloadavg()[0]}
    with Busy():
        busy.update(lookups(index, queries, args.single))
        busy["load_end"] = os.getloadavg()[0]
    return {"quiet": out, "busy": busy}


def lookups(index: Any, queries: list[str], n_single: int) -> dict[str, float]:
    """Single lookups/s (one `search` call per hash) and batched (one `search_arrays`)."""
    index.search(queries[:20])
    single = queries[:n_single]
    t = time.perf_counter()
    for h in single:
        index.search([h])
    single_qps = len(single) / (time.perf_counter() - t)
    return {"single_qps": single_qps, **batched(index, queries)[0]}


def batched(index: Any, queries: list[str]) -> tuple[dict[str, float], Any]:
    """One `search_arrays` over all queries: lookups/s, and what the process spent on it:
    CPU µs per query (all threads, user + system: on 2 cores 2,000/s needs <= 1,000) and
    the page faults taken (a mapped index whose pages are not yet mapped, or were evicted,
    pays them inside the measured phase)."""
    import resource

    r0, c0 = resource.getrusage(resource.RUSAGE_SELF), os.times()
    t = time.perf_counter()
    found = index.search_arrays(queries)
    wall = time.perf_counter() - t
    r1, c1 = resource.getrusage(resource.RUSAGE_SELF), os.times()
    cpu = (c1.user - c0.user) + (c1.system - c0.system)
    return {
        "batch_qps": len(queries) / wall,
        "batch_cpu_us": cpu / len(queries) * 1e6,
        "batch_sys_us": (c1.system - c0.system) / len(queries) * 1e6,
        "batch_cores": cpu / wall,
        "batch_minflt": r1.ru_minflt - r0.ru_minflt,
        "batch_majflt": r1.ru_majflt - r0.ru_majflt,
    }, found


def join_ab(index: Any, queries: list[str], rounds: int) -> dict[str, Any]:
    """The batched phase again, alternating the row-ordered join (join.py) with the
    per-query kernel on the same mapped index: the anchor of the join, same run. Then the
    process's peak resident memory (the join's candidate lists included)."""
    from tantalio.index import join

    rounds_of: dict[str, list[dict[str, float]]] = {"join": [], "per-query kernel": []}
    saved = join.USE_JOIN
    try:
        for _ in range(rounds):
            for name, runs in rounds_of.items():
                join.USE_JOIN = name == "join"
                runs.append(batched(index, queries)[0])
    finally:
        join.USE_JOIN = saved
    return {"rounds": rounds_of, "memory": status_mb()}


def thread_scaling(index: Any, queries: list[str], rounds: int) -> dict[str, list[Any]]:
    """Batched lookups on one search thread and on two, alternating on the same mapped
    index: wall lookups/s and CPU µs per query of each round. Two threads that each keep
    their one-thread CPU cost give twice the lookups/s; a higher CPU cost per query on two
    threads is contention (shared memory system, or another process on a core)."""
    from tantalio.index import pdq

    saved = pdq.SEARCH_THREADS
    out: dict[str, list[Any]] = {"1": [], "2": []}
    try:
        for _ in range(rounds):
            for threads in ("1", "2"):
                pdq.SEARCH_THREADS = int(threads)
                pdq._pool = None  # a pool of the new size
                stats, _ = batched(index, queries)
                out[threads].append([stats["batch_qps"], stats["batch_cpu_us"]])
    finally:
        pdq.SEARCH_THREADS, pdq._pool = saved, None
    return out


def compare_paths(index: Any, qwords: np.ndarray, rounds: int) -> dict[str, Any]:
    """The segment search on one thread, per query: the compiled loop with prefetching, the
    same loop without (only what the out-of-order window overlaps), and the numpy passes;
    alternating, on the same mapped index. Also the reads per query, so the cost per random
    read follows."""
    from tantalio.index import kernel, mih

    seg = index._state.segments[0]
    values = seg.layout.values(qwords)
    variants = {"compiled": True, "compiled, no prefetch": True, "numpy": False}
    times: dict[str, list[float]] = {k: [] for k in variants}
    saved_k, saved_p = mih.USE_KERNEL, kernel.PREFETCH
    try:
        for _ in range(rounds):
            for name, use in variants.items():
                mih.USE_KERNEL = use
                kernel.PREFETCH = 0 if "no prefetch" in name else saved_p
                t = time.thread_time()  # CPU time: a shared box's preemption left out
                seg.search(qwords, RADIUS, values)
                times[name].append((time.thread_time() - t) / len(qwords))
    finally:
        mih.USE_KERNEL, kernel.PREFETCH = saved_k, saved_p
    probes, candidates = measured_costs(index, qwords)
    # Bucket bounds per probe, a row-table slice per probe of a chunk with a row table (not
    # the chunk the rows are sorted by), one hash per candidate.
    chunk_of = seg._plan(RADIUS)[0]
    last = len(seg.layout.widths) - 1
    tabled = int(np.count_nonzero(chunk_of != last)) if seg.direct else len(chunk_of)
    reads = probes + tabled + candidates
    return {
        "queries": len(qwords),
        "rounds": rounds,
        "reads_per_query": reads,
        "us_per_query": {k: [v * 1e6 for v in times[k]] for k in times},
        "ns_per_read": {k: min(times[k]) * 1e9 / reads for k in times},
    }


def step_anchors(args: argparse.Namespace) -> dict[str, Any]:
    """Our index of the first 10M hashes (in memory) and threatexchange's of the first 1M,
    quiet then busy, each built or loaded once."""
    from tantalio.index import PDQIndex
    from tantalio.index.codec import words_to_hex

    data = Path(args.data)
    out: dict[str, Any] = {"quiet": {}, "busy": {}}
    anchors = json.loads((data / "anchors.json").read_text())
    if args.anchor_10m:
        a = anchors["ours"]
        queries = words_to_hex(np.load(data / "anchor_ours_queries.npy"))
        rss0 = status_mb()["VmRSS"]
        t = time.perf_counter()
        index = PDQIndex.load(data / "anchor10m")
        load_s = time.perf_counter() - t
        growth = status_mb()["VmRSS"] - rss0
        got = index.search(queries)
        base = {"impl": "tantalio PDQIndex (in memory)", "n": len(index), "rss_mb": growth}
        base.update(_quality(got, a))
        base["load_s"] = load_s
        out["quiet"]["ours10m"] = {**base, **lookups(index, queries, args.single)}
        with Busy():
            out["busy"]["ours10m"] = {**base, **lookups(index, queries, args.single)}
        del index
    if args.tx_size:
        out["quiet"]["tx"], out["busy"]["tx"] = _threatexchange(data, anchors["tx"], args)
    return out


def _quality(got: list[list[tuple[int, int]]], anchor: dict[str, Any]) -> dict[str, Any]:
    picks = anchor["picks"]
    recall = sum(int(p) in {i for i, _ in r} for p, r in zip(picks, got, strict=True))
    want = {(i, j) for i, row in enumerate(anchor["brute"]) for j in row}
    have = {(i, j) for i, row in enumerate(got[: len(anchor["brute"])]) for j, _ in row}
    return {
        "recall": recall / len(picks),
        "full_recall": len(want & have) / max(len(want), 1),
        "false_hits": len(have - want),
    }


def _threatexchange(
    data: Path, anchor: dict[str, Any], args: argparse.Namespace
) -> tuple[dict[str, Any], dict[str, Any]]:
    from importlib.metadata import version as dist_version

    from threatexchange.signal_type.pdq.pdq_index import PDQIndex as TXIndex

    from tantalio.index.codec import words_to_hex

    hexes = words_to_hex(np.asarray(np.load(data / "hashes.npy", mmap_mode="r")[: args.tx_size]))
    queries = words_to_hex(np.load(data / "anchor_tx_queries.npy"))
    rss0 = status_mb()["VmRSS"]
    index = TXIndex(entries=zip(hexes, range(len(hexes)), strict=True))
    del hexes
    base: dict[str, Any] = {
        "impl": f"threatexchange {dist_version('threatexchange')} PDQIndex",
        "n": args.tx_size,
        "rss_mb": status_mb()["VmRSS"] - rss0,
    }
    got = [[(m.metadata, 0) for m in index.query(q)] for q in queries[:CHECK_QUERIES]]
    batch = queries[: args.batch_tx]
    raw = index.index.search_with_distance_in_result(batch, RADIUS)
    found = [[(index.local_id_to_entry[i][1], 0) for i, _h, _d in raw[q]] for q in batch]
    quality = _quality(got + found[len(got) :], {**anchor, "picks": anchor["picks"][: len(batch)]})
    base.update(quality)

    def measure() -> dict[str, Any]:
        single = queries[: args.single_tx]
        t = time.perf_counter()
        for q in single:
            index.query(q)
        single_qps = len(single) / (time.perf_counter() - t)
        # Its public query() takes one hash; the batched figure uses the faiss matcher
        # underneath (PDQMultiHashIndex.search_with_distance_in_result), which takes a list.
        t = time.perf_counter()
        index.index.search_with_distance_in_result(batch, RADIUS)
        return {
            **base,
            "single_qps": single_qps,
            "batch_qps": len(batch) / (time.perf_counter() - t),
        }

    quiet = measure()
    with Busy():
        busy = measure()
    return quiet, busy


def step_prepare_anchors(args: argparse.Namespace) -> dict[str, Any]:
    """The anchors' data, once: the 10M index (`build_dir` of the first 10M hashes), and
    per anchor 4,000 queries near its own rows with the brute-force answer of the first 64."""
    import faiss

    from tantalio.index.bulk import build_dir
    from tantalio.index.codec import bytes_to_words, words_to_bytes

    data = Path(args.data)
    words = np.load(data / "hashes.npy", mmap_mode="r")
    rng = np.random.default_rng(args.seed + 1)
    t = time.perf_counter()
    out: dict[str, Any] = {}
    for name, n in (("ours", args.anchor_10m), ("tx", args.tx_size)):
        if not n:
            continue
        picks = rng.integers(0, n, size=args.queries)
        stored = words_to_bytes(np.asarray(words[np.sort(picks)]))[np.argsort(np.argsort(picks))]
        q = flip_random_bits(stored, np.arange(args.queries) % (RADIUS + 1), rng)
        np.save(data / f"anchor_{name}_queries.npy", bytes_to_words(q))
        found: list[list[int]] = [[] for _ in range(CHECK_QUERIES)]
        for lo in range(0, n, BLOCK):
            flat = faiss.IndexBinaryFlat(256)
            flat.add(words_to_bytes(np.asarray(words[lo : min(n, lo + BLOCK)])))
            lims, _d, ids = flat.range_search(q[:CHECK_QUERIES], RADIUS + 1)
            for i in range(CHECK_QUERIES):
                found[i].extend((ids[lims[i] : lims[i + 1]] + lo).tolist())
        out[name] = {"n": n, "picks": picks.tolist(), "brute": [sorted(f) for f in found]}
    if args.anchor_10m:
        build_dir(data / "anchor10m", words[: args.anchor_10m], workers=2)
    (data / "anchors.json").write_text(json.dumps(out))
    return {"anchors_s": time.perf_counter() - t}


def measured_costs(index: Any, qwords: np.ndarray) -> tuple[int, float]:
    """Probes per query and the mean candidates they return (bucket sizes summed), read from
    the built tables: the two costs the chunk layout trades against each other."""
    seg = index._state.segments[0]
    chunk_of, masks, bases, shifts = seg._plan(RADIUS)
    values = seg.layout.values(qwords)
    probes = np.bitwise_xor((values >> shifts).take(chunk_of, axis=1), masks) + bases
    sizes = seg.offsets.take(probes + 1).astype(np.int64) - seg.offsets.take(probes)
    return int(probes.shape[1]), float(sizes.sum(axis=1).mean())


STEPS = {
    "generate": step_generate,
    "build": step_build,
    "brute": step_brute,
    "anchors_data": step_prepare_anchors,
    "serve": step_serve,
    "anchors": step_anchors,
}


def child(step: str, args: argparse.Namespace, extra: list[str] | None = None) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--step", step, "--data", args.data, "--n", str(args.n)]
    cmd += ["--queries", str(args.queries), "--single", str(args.single)]
    cmd += ["--seed", str(args.seed), "--chunks", str(args.chunks)]
    cmd += ["--anchor-10m", str(args.anchor_10m), "--tx-size", str(args.tx_size)]
    cmd += ["--single-tx", str(args.single_tx), "--batch-tx", str(args.batch_tx)]
    cmd += ["--ab-queries", str(args.ab_queries), "--ab-rounds", str(args.ab_rounds)]
    cmd += extra or []
    print(f"… {step} {' '.join(extra or [])}", file=sys.stderr, flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        return {"error": f"{step}: exit {proc.returncode}"}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
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
    from tantalio.index.mih import (
        Layout,
        allocate_radii,
        chunk_probes,
        key_bits_for,
        row_bits_for,
    )

    rows = []
    for m in range(8, 17):
        layout = Layout.even(m)
        keys = key_bits_for(n, layout.widths)
        radii = allocate_radii(RADIUS, layout.widths, keys, n, direct=True)
        probes = cands = 0.0
        for k, r in zip(keys, radii, strict=True):
            p = chunk_probes(k, r)
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
                # Packed row tables, none for the last chunk (rows sorted by it).
                "tables_mb": table_mb + (m - 1) * n * row_bits_for(n) / 8e6,
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
    p.add_argument(
        "--prepare", action="store_true", help="only generate, build and brute-force, then stop"
    )
    p.add_argument("--out", default=str(ROOT / "docs/perf/index_100m.md"))
    p.add_argument("--no-write", action="store_true")
    p.add_argument("--single-tx", type=int, default=100, help="threatexchange single lookups")
    p.add_argument("--batch-tx", type=int, default=1000, help="threatexchange batched lookups")
    p.add_argument("--ab-queries", type=int, default=300, help="queries per A/B round")
    p.add_argument("--ab-rounds", type=int, default=3, help="A/B rounds (alternating)")
    p.add_argument(
        "--no-cold", dest="cold_restart", action="store_false", help="skip the cold restart"
    )
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
        ("anchors_data", data / "anchors.json"),
    ):
        if args.rebuild or not done.exists() or step not in steps:
            steps[step] = child(step, args)
            steps_file.write_text(json.dumps(steps, indent=1))
    res.update(steps)
    if args.prepare:
        print(json.dumps(steps, indent=1))
        return
    res["uptime_start"] = uptime()
    load = os.getloadavg()[0]
    served = child("serve", args, ["--cold"] if args.cold_restart else [])
    res["quiet"] = {"load": load, "ours": served.get("quiet", served)}
    res["busy"] = {"load": served.get("busy", {}).get("load", 0.0)}
    if "busy" in served:
        res["busy"]["ours"] = {**served["quiet"], **served["busy"]}
        res["busy"]["load_end"] = served["busy"]["load_end"]
    if args.anchor_10m or args.tx_size:
        load = os.getloadavg()[0]
        anchors = child("anchors", args)
        for box in ("quiet", "busy"):
            res[box].update(anchors.get(box, {}))
        res["quiet"]["anchor_load"] = load
    res["uptime_end"] = uptime()
    res["layouts"] = layout_costs(args.n)
    (data / "result.json").write_text(json.dumps(res, indent=1))
    text = report(res, args)
    print(text)
    if not args.no_write:
        out = Path(args.out)
        # The hand-written reading of the figures (from "## Reading the numbers" on) stays.
        old = out.read_text() if out.exists() else ""
        notes = old[old.find(NOTES) :] if NOTES in old else ""
        out.write_text(text + notes)


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
    for box in ("quiet",):
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
    ab = res.get("quiet", {}).get("ours", {}).get("ab")
    if ab:
        lines += [
            "",
            f"## The segment search, one thread: compiled vs numpy ({ab['queries']} queries, "
            f"{ab['rounds']} rounds alternating, quiet box)",
            "",
            f"Random reads per query: {ab['reads_per_query']:,.0f} (bucket bounds per probe, "
            "row-table slice per probe outside the last chunk, one hash per candidate).",
            "",
            "| path | CPU µs per query (each round) | CPU ns per random read (best round) |",
            "|---|---|---:|",
        ]
        for name, us in ab["us_per_query"].items():
            rounds = ", ".join(f"{v:,.0f}" for v in us)
            lines.append(f"| {name} | {rounds} | {ab['ns_per_read'][name]:.1f} |")
    o = res.get("quiet", {}).get("ours", {})
    if "first_pass" in o:
        f = o["first_pass"]
        lines += [
            "",
            f"First batched pass after the restart (untimed warm-up before the table's "
            f"figures): {_f(f['batch_qps'])} lookups/s, {_f(f['batch_cpu_us'])} CPU µs per "
            f"query, {f['batch_minflt']:,} minor and {f['batch_majflt']:,} major page faults.",
        ]
    if "batch_cpu_us" in o:
        lines += [
            "",
            f"Batched phase (4,000 queries, quiet): {_f(o['batch_cpu_us'])} CPU µs per query "
            f"({_f(o['batch_sys_us'])} system), {o['batch_cores']:.2f} cores busy, "
            f"{o['batch_minflt']:,} minor and {o['batch_majflt']:,} major page faults; "
            f"{_f(o.get('pmd_mapped_mb'))} MiB of the mapped index on 2 MiB pages after the "
            "quiet phase.",
        ]
    if "join_ab" in o:
        ab2 = o["join_ab"]
        lines += [
            "",
            f"Batched, the join against the per-query kernel ({args.queries:,} queries "
            "per round, alternating, same index):",
            "",
            "| path | lookups/s (each round) | CPU µs per query (each round) | cores busy |",
            "|---|---|---|---|",
        ]
        for name, rows in ab2["rounds"].items():
            lines.append(
                f"| {name} | {', '.join(_f(r['batch_qps']) for r in rows)} "
                f"| {', '.join(_f(r['batch_cpu_us']) for r in rows)} "
                f"| {', '.join(format(r['batch_cores'], '.2f') for r in rows)} |"
            )
        peak = ab2["memory"]
        lines.append(
            f"\nPeak resident memory of the serving process (VmHWM, join lists included): "
            f"{peak['VmHWM']:,.0f} MiB; resident after: {peak['VmRSS']:,.0f} MiB."
        )
    if "scaling" in o:
        lines += [
            "",
            f"Thread scaling (2,000 queries batched per round, alternating, load "
            f"{o['scaling_load']:.1f} after):",
            "",
            "| search threads | lookups/s (each round) | CPU µs per query (each round) |",
            "|---:|---|---|",
        ]
        for threads, rows in o["scaling"].items():
            qps = ", ".join(f"{r[0]:,.0f}" for r in rows)
            cpu = ", ".join(f"{r[1]:,.0f}" for r in rows)
            lines.append(f"| {threads} | {qps} | {cpu} |")
    lines += [
        "",
        f"- uptime at start: {res.get('uptime_start', '—')}; at end: {res.get('uptime_end', '—')}",
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
