"""The local-features index's query phase alone, in one process: CPU per query, recall and
false matches of the copy suite against a kept index, for several retrieval settings in one
run (the first is the anchor). Reuses what bench_copies.py --workdir W kept (W/lfindex-N,
W/queries.pkl) and builds what is missing (N references: generation + build as there).

    .venv/bin/python bench/lf_queries.py --workdir /tmp/lfindex2-work --n 1000000 \\
        --config "soft=2,retrieval=0" --config "soft=1,retrieval=200"

A config sets module constants of tantalio.localfeat.index: soft (SOFT), probe (PROBE),
retrieval (RETRIEVAL_KEYPOINTS), shortlist (SHORTLIST), stop (STOP_WORD), compiled
(COMPILED, 0/1: the scoring loop or the numpy passes), and point: the inliers a match needs
(default: the shipped operating point, signals/rules.py).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import pickle
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_copies as bc  # noqa: E402
import copy_suite as cs  # noqa: E402
from tantalio.fingerprint import fingerprint_bytes  # noqa: E402
from tantalio.localfeat import index as lfi  # noqa: E402
from tantalio.localfeat.index import LocalIndex  # noqa: E402
from tantalio.localfeat.record import decode  # noqa: E402
from tantalio.signals.rules import DEFAULT_LOCAL_MIN_INLIERS  # noqa: E402

KEYS = {
    "soft": "SOFT",
    "probe": "PROBE",
    "retrieval": "RETRIEVAL_KEYPOINTS",
    "shortlist": "SHORTLIST",
    "stop": "STOP_WORD",
    "compiled": "COMPILED",
    "prefetch": "SCORE_PREFETCH",
}


def queries(work: Path, corpus: Path | None) -> dict:
    path = work / "queries.pkl"
    if path.is_file():
        with open(path, "rb") as fh:
            return pickle.load(fh)
    suite = cs.build(corpus, 40, 160)
    refs = [fingerprint_bytes(cs.encode(o), "ref.jpg", bc.REFERENCE) for o in suite.originals]
    items, truth, kinds = [], [], []
    for i, c in enumerate(suite.copies):
        fp = fingerprint_bytes(cs.encode(c.image, quality=92), "x.jpg", bc.QUERY)
        items.append((i, bc.variants(fp)))
        truth.append(int(c.original))
        kinds.append(str(c.transform))
    d_items = []
    for i, d in enumerate(suite.distractors):
        fp = fingerprint_bytes(cs.encode(d, quality=92), "d.jpg", bc.QUERY)
        d_items.append((-1 - i, [decode(v) for v in bc._query_variants(fp)]))
    pool = bc.descriptor_pool(suite, 600, np.random.default_rng(5))
    out = {"items": items, "d_items": d_items, "truth": truth, "kinds": kinds}
    out["refs"] = [fp.extra["local_features"] for fp in refs]
    out["pool"] = pool
    with open(path, "wb") as fh:
        pickle.dump(out, fh)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workdir", type=Path, required=True)
    ap.add_argument("--n", type=int, required=True)
    ap.add_argument("--corpus", type=Path, default=Path("/work/corpus"))
    ap.add_argument("--config", action="append", default=[])
    ap.add_argument("--limit", type=int, default=0, help="first copies only (0: all)")
    ap.add_argument(
        "--processes", type=int, default=1, help="query processes (forked; 2: the target's cores)"
    )
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    q = queries(args.workdir, args.corpus)
    kept = args.workdir / f"lfindex-{args.n}"
    if not (kept / "header.json").is_file():
        if "refs" not in q:
            sys.exit(f"{kept}: no index and no references in queries.pkl: run bench_copies")

        class _FP:  # what build_scale reads of a reference fingerprint
            def __init__(self, lf: str) -> None:
                self.extra = {"local_features": lf}

        kept.mkdir(parents=True)
        rng = np.random.default_rng(args.n)
        how, _, _ = bc.build_scale(args.n, [_FP(r) for r in q["refs"]], q["pool"], rng, kept, None)  # type: ignore[arg-type]
        print(how, file=sys.stderr)
    global _INDEX
    index = _INDEX = LocalIndex.load(kept)
    items = q["items"][: args.limit or None]
    procs = max(1, args.processes)
    print(
        f"# {args.n:,} references ({index.keypoints:,} descriptors), {len(items)} copies,"
        f" {len(q['d_items'])} distractors, {procs} process(es); load {bc.load()}"
    )
    print()
    print(
        "| config | queries/s | CPU ms per query (mean / p95) | distractor ms (mean / p95) |"
        " recall | false matches | load after |"
    )
    print("|---|---:|---:|---:|---:|---:|---|")
    defaults = {k: getattr(lfi, v) for k, v in KEYS.items()}
    per_edit: list[tuple[str, dict[str, list[int]]]] = []
    ctx = multiprocessing.get_context("fork")
    for cfg in args.config or [""]:
        for k, v in defaults.items():
            setattr(lfi, KEYS[k], v)
        point = DEFAULT_LOCAL_MIN_INLIERS
        for part in filter(None, cfg.split(",")):
            k, v = part.split("=")
            if k == "point":
                point = int(v)
            else:
                setattr(lfi, KEYS[k], type(defaults[k])(int(v)))
        global _POINT
        _POINT = point
        # the workers are forked after the settings are made: they inherit them
        with ctx.Pool(procs) as workers:
            workers.map(_query, items[: 4 * procs])  # warm: page in the vocabulary and lists
            t = time.perf_counter()
            results = workers.map(_query, items, chunksize=4)
            wall = time.perf_counter() - t
            d_results = workers.map(_query, q["d_items"], chunksize=4)
        hits, false = 0, 0
        edits: dict[str, list[int]] = {}
        for (best, _), want, kind in zip(results, q["truth"], q["kinds"], strict=False):
            hits += best == want
            false += best >= 0 and best != want
            edits.setdefault(kind, []).append(int(best == want))
        false += sum(best >= 0 for best, _ in d_results)
        per_edit.append((cfg or "defaults", edits))
        ms = np.array([c for _, c in results]) * 1e3
        dms = np.array([c for _, c in d_results]) * 1e3
        print(
            f"| {cfg or 'defaults'} (point {point}) | {len(items) / wall:.1f} |"
            f" {ms.mean():.1f} / {np.percentile(ms, 95):.1f} |"
            f" {dms.mean():.1f} / {np.percentile(dms, 95):.1f} |"
            f" {hits / len(items):.3f} | {false} | {bc.load()} |",
            flush=True,
        )
    print()
    for cfg, edits in per_edit:
        print(
            f"- recall per edit, {cfg}: "
            + ", ".join(f"{k} {np.mean(v):.3f}" for k, v in edits.items())
        )
    print(f"\nload after {bc.load()}; pid {os.getpid()}")


_INDEX: LocalIndex | None = None
_POINT = DEFAULT_LOCAL_MIN_INLIERS


def _query(item: tuple[int, list]) -> tuple[int, float]:
    """(best reference or -1, CPU seconds) of one query, in a worker process."""
    assert _INDEX is not None
    t = time.process_time()
    found = _INDEX.search(item[1], _POINT, references=bc.ONE_MILLION)
    return (found[0].ref if found else -1), time.process_time() - t


if __name__ == "__main__":
    main()
