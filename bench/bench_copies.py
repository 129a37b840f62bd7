"""Copies PDQ misses (issue 13): recall per edit, false matches, extraction cost, index scale.

One command (a benign suite: the corpus when given, generated images otherwise):

    .venv/bin/python bench/bench_copies.py --corpus /work/corpus [--scale 100000,1000000]

Phases, all in one run so the anchor and tantalio see the same files:
1. the suite (bench/copy_suite.py): originals become references (fingerprinted as a hash set
   stores them: PDQ, trimmed PDQ, 64 ORB keypoints); every copy and every distractor is
   fingerprinted as a query (PDQ, trimmed PDQ, 400 keypoints + mirror + trimmed picture);
   CPU time per image with and without local features (decode included);
2. chance pairs: every (distractor, reference) and (copy, other original's reference) pair is
   verified exhaustively (not only the best-voted candidates) and the false-match model is
   fitted on their inlier counts (localfeat/calibration.py); the operating point is the
   fewest inliers whose false-match probability per query at 1M references is <= --fmp;
3. recall per edit at that point: the anchor (PDQ in 8 orientations at 31, what HMA and
   tantalio did before), + pdq-trimmed, + local features (signals.lookup, as triage and the
   platform call it); false matches over copies and distractors;
4. with --scale N[,N...]: the bag-of-binary-words index of N references: the suite's
   originals and N - 40 references that behave like distinct pictures (64 real ORB
   descriptors of other benign pictures each, bits lightly flipped, random positions), saved
   and opened memory-mapped; its disk size, the RSS of a query process, build time,
   queries/s on one process per core with verification, the recall of the suite's copies
   among them, false matches, and PDQ alone at the same N (the anchor).
Prints markdown; --out writes it (docs/perf/local-features.md).
"""

from __future__ import annotations

import argparse
import collections
import os
import platform
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import copy_suite as cs  # noqa: E402
from tantalio.fingerprint import FingerprintConfig, fingerprint_bytes  # noqa: E402
from tantalio.fingerprint.record import Fingerprint  # noqa: E402
from tantalio.index import PDQIndex  # noqa: E402
from tantalio.localfeat import calibration  # noqa: E402
from tantalio.localfeat.extract import features  # noqa: E402
from tantalio.localfeat.index import (  # noqa: E402
    K_NEAREST,
    RETRIEVAL_KEYPOINTS,
    SHORTLIST,
    SOFT,
    LocalIndex,
    RefArrays,
    one_to_one,
)
from tantalio.localfeat.record import Features, decode  # noqa: E402
from tantalio.localfeat.verify import verify  # noqa: E402
from tantalio.signals import MatchRules  # noqa: E402
from tantalio.signals.lookup import LocalHit, Query, lookup  # noqa: E402
from tantalio.signals.rules import DEFAULT_LOCAL_MIN_INLIERS as POINT  # noqa: E402

REFERENCE = FingerprintConfig(local_features="reference")
QUERY = FingerprintConfig(local_features="query")
PLAIN = FingerprintConfig()  # PDQ + trimmed PDQ: what every file gets anyway
ONE_MILLION = 1_000_000
MATCHER = cv2.BFMatcher(cv2.NORM_HAMMING)


def load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


class Refs:
    """Reference PDQs (real PDQ index) and local features (real LocalIndex)."""

    def __init__(self, fps: Sequence[Fingerprint], local: LocalIndex, scale_refs: int) -> None:
        self.pic = PDQIndex(64)
        self.pic.add(list(range(len(fps))), [fp.pdq or "0" * 64 for fp in fps])
        self.local = local
        self.scale_refs = scale_refs

    def exact(self, column: str, value: str) -> list[int]:
        return []

    def pdq(self, hashes: Sequence[str], radius: int) -> list[list[tuple[int, int]]]:
        return self.pic.search(list(hashes), radius)

    def frames(self, hashes: Sequence[str], radius: int) -> list[list[tuple[int, int, int]]]:
        return [[] for _ in hashes]

    def frame_count(self, ref: int) -> int:
        return 0

    def local_features(self, variants: Sequence[str], rules: MatchRules) -> list[LocalHit]:
        found = self.local.search(
            [decode(v) for v in variants], rules.local_min_inliers, references=self.scale_refs
        )
        return [
            LocalHit(m.ref, m.inliers, m.false_match_probability, m.verified.transform())
            for m in found
        ]


def timed_fingerprint(data: bytes, cfg: FingerprintConfig) -> tuple[Fingerprint, float]:
    t = time.process_time()
    fp = fingerprint_bytes(data, "x.jpg", cfg)
    return fp, time.process_time() - t


def variants(fp: Fingerprint) -> list[Features]:
    out = [decode(fp.extra["local_features"])]
    out += [decode(v) for v in fp.extra.get("local_features_variants", [])]
    return out


def pair_inliers(q: Features, r: Features) -> int:
    """Best similarity inliers of one (query variant, reference) pair: each query keypoint's
    4 nearest descriptors of that reference (as the index looks them up), all verified."""
    if not len(q) or not len(r):
        return 0
    knn = MATCHER.knnMatch(q.descriptors, r.descriptors, k=min(K_NEAREST, len(r)))
    flat = [(m.queryIdx, m.trainIdx, m.distance) for ms in knn for m in ms if m.distance <= 64]
    if len(flat) < 3:
        return 0
    a = np.array(flat)
    pairs = one_to_one(a[:, 0].astype(np.intp), a[:, 1].astype(np.int64), a[:, 2])
    found = verify(q, r, pairs)
    return 0 if found is None else found.inliers


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", type=Path, default=None)
    ap.add_argument("--originals", type=int, default=40)
    ap.add_argument("--distractors", type=int, default=160)
    ap.add_argument(
        "--fmp", type=float, default=1e-6, help="false-match probability per query at 1M"
    )
    ap.add_argument(
        "--scale",
        type=lambda v: [int(x) for x in v.split(",") if x],
        default=[],
        help="references in the scale phase (comma-separated for several, e.g. 100000,1000000)",
    )
    ap.add_argument(
        "--pool", type=int, default=600, help="benign pictures whose descriptors --scale draws"
    )
    ap.add_argument("--words", type=int, default=None, help="vocabulary size for --scale")
    ap.add_argument(
        "--workdir",
        type=Path,
        default=None,
        help="keep the --scale index of N references in WORKDIR/lfindex-N and reuse it when"
        " it is there (a rerun then measures the queries only); default: a temporary folder",
    )
    ap.add_argument("--scale-only", action="store_true", help="skip the model and recall phases")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    out: list[str] = []

    def say(line: str = "") -> None:
        print(line, flush=True)
        out.append(line)

    t0 = time.time()
    suite = cs.build(args.corpus, args.originals, args.distractors)
    say("# Copies PDQ misses: crops, pads, banners, screenshots, rotations (issue 13)")
    say()
    corpus = f" --corpus {args.corpus}" if args.corpus else ""
    scale = (
        f" --scale {','.join(map(str, args.scale))} --pool {args.pool}"
        f"{f' --words {args.words}' if args.words else ''}"
        f"{' --scale-only' if args.scale_only else ''}"
        if args.scale
        else ""
    )
    say(
        f"Run: `bench/bench_copies.py{corpus} --originals {args.originals} --distractors"
        f" {args.distractors}{scale}`, {platform.machine()},"
        f" {os.cpu_count()} cores; suite: {suite.source}, {len(suite.originals)} originals,"
        f" {len(suite.copies)} copies ({len(cs.TRANSFORMS)} edits), {len(suite.distractors)}"
        f" distractors (built in {time.time() - t0:.0f} s); load at start {load()}."
    )
    # ------------------------------------------------------------ 1. fingerprints
    refs = [fingerprint_bytes(cs.encode(o), "ref.jpg", REFERENCE) for o in suite.originals]
    plain_cpu, query_cpu = [], []
    copies, distractors = [], []
    for c in suite.copies:
        data = cs.encode(c.image, quality=92)
        _, tp = timed_fingerprint(data, PLAIN)
        fp, tq = timed_fingerprint(data, QUERY)
        plain_cpu.append(tp)
        query_cpu.append(tq)
        copies.append((c, fp))
    for d in suite.distractors:
        distractors.append(fingerprint_bytes(cs.encode(d, quality=92), "d.jpg", QUERY))
    ref_feats = [decode(fp.extra["local_features"]) for fp in refs]
    args.distractor_fps = distractors

    if args.scale_only:
        rules = MatchRules()
        say(f"Scale phase only, at the default operating point ({rules.local_min_inliers}).")
        scale_phase(args, suite, copies, refs, rules, say)
        if args.out:
            args.out.write_text("\n".join(out) + "\n")
        return
    # ------------------------------------------------------------ 2. chance pairs
    t = time.time()
    chance: list[int] = []
    for fp in distractors:
        vs = variants(fp)
        chance += [max(pair_inliers(v, r) for v in vs) for r in ref_feats]
    for c, fp in copies[:: max(1, len(copies) // 200)]:
        vs = variants(fp)
        chance += [
            max(pair_inliers(v, r) for v in vs) for i, r in enumerate(ref_feats) if i != c.original
        ]
    model = calibration.fit(chance, len(chance))
    point = model.inliers_for(args.fmp, ONE_MILLION)
    hist = collections.Counter(chance)
    say()
    say("## False-match model (chance pairs between distinct pictures)")
    say()
    say(
        f"{len(chance)} pairs verified exhaustively in {time.time() - t:.0f} s; best inliers"
        f" per pair: {dict(sorted(hist.items()))}; max {max(chance)}."
    )
    say(
        f"Fit: log10 P(>= k inliers) = {model.intercept:.3f} - {model.slope:.3f} k. Operating"
        f" point: **{point} inliers** (false-match probability per query at 1M references"
        f" <= {args.fmp:g}: {model.probability(point, ONE_MILLION):.2e};"
        f" at 100k: {model.probability(point, 100_000):.2e})."
    )

    # ------------------------------------------------------------ 3. recall
    rules = MatchRules(local_min_inliers=point)
    refs_index = Refs(refs, LocalIndex(ref_feats), ONE_MILLION)
    per: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    false_matches: list[str] = []
    inliers_true: list[int] = []
    lookup_s: list[float] = []
    for c, fp in copies:
        q = Query.of_fingerprint(fp, rules)
        anchor = Query(pdq=q.pdq, pdq_quality=q.pdq_quality, orientations=q.orientations)
        a_hit = {m.ref for m in lookup(anchor, refs_index, rules)}
        no_local = Query(**{**_fields(q), "local": None})
        tr_hit = {m.ref for m in lookup(no_local, refs_index, rules)}
        s = time.process_time()
        found = lookup(q, refs_index, rules)
        lookup_s.append(time.process_time() - s)
        all_hit = {m.ref for m in found}
        row = per[c.transform]
        row["n"] += 1
        row["anchor"] += c.original in a_hit
        row["trimmed"] += c.original in tr_hit
        row["all"] += c.original in all_hit
        row["local"] += any(m.ref == c.original and m.rule == "local-features" for m in found)
        inliers_true += [64 - m.distance for m in found if m.rule == "local-features"]
        false_matches += [f"{c.transform}->{m.ref}" for m in found if m.ref != c.original]
    for fp in distractors:
        found = lookup(Query.of_fingerprint(fp, rules), refs_index, rules)
        false_matches += [f"distractor->{m.ref} ({m.rule})" for m in found]
    say()
    say(f"## Recall per edit at the operating point ({point} inliers; load {load()})")
    say()
    say(
        "| edit | copies | PDQ only (anchor) | + pdq-trimmed | + local features |"
        " of which by local features |"
    )
    say("|---|---:|---:|---:|---:|---:|")
    tot: collections.Counter[str] = collections.Counter()
    for name in cs.TRANSFORMS:
        r = per[name]
        tot.update(r)
        say(
            f"| {name} | {r['n']} | {r['anchor'] / r['n']:.3f} | {r['trimmed'] / r['n']:.3f} |"
            f" {r['all'] / r['n']:.3f} | {r['local']} |"
        )
    n = tot["n"]
    say(
        f"| **all** | {n} | {tot['anchor'] / n:.3f} | {tot['trimmed'] / n:.3f} |"
        f" **{tot['all'] / n:.3f}** | {tot['local']} |"
    )
    say()
    say(
        f"False matches (a copy to another original, or a distractor to any reference):"
        f" **{len(false_matches)}** {false_matches[:10]} over {len(copies)} copies and"
        f" {len(distractors)} distractors. Verified true local-features matches: inliers"
        f" min {min(inliers_true, default=0)}, median {int(np.median(inliers_true or [0]))}."
    )
    say()
    say("## Extraction cost (CPU per image, decode included; copies of the suite)")
    say()
    pc, qc = np.array(plain_cpu) * 1e3, np.array(query_cpu) * 1e3
    say("| | mean ms | p50 ms | p95 ms |")
    say("|---|---:|---:|---:|")
    for label, v in (
        ("PDQ + trimmed PDQ (every file)", pc),
        ("+ local features for a query (400 keypoints, mirror, trimmed)", qc),
    ):
        say(f"| {label} | {v.mean():.1f} | {np.median(v):.1f} | {np.percentile(v, 95):.1f} |")
    say(f"| local features alone (difference) | {qc.mean() - pc.mean():.1f} | | |")
    say()
    say(
        f"Lookup per query at the suite's {len(refs)} references (all stages, CPU):"
        f" {np.mean(lookup_s) * 1e3:.1f} ms mean."
    )
    if args.scale:
        scale_phase(args, suite, copies, refs, rules, say)
    if args.out:
        args.out.write_text("\n".join(out) + "\n")


def _fields(q: Query) -> dict[str, Any]:
    return {k: getattr(q, k) for k in q.__slots__}  # type: ignore[attr-defined]


def descriptor_pool(suite: cs.Suite, pictures: int, rng: np.random.Generator) -> np.ndarray:
    """Real ORB descriptors (400 keypoints each) of many benign pictures distinct from the
    suite's originals: the suite's distractors, generated textures and scenes of other
    seeds, and crops of them at many offsets and scales."""
    sources = list(suite.distractors)
    k = 0
    while len(sources) < max(40, pictures // 4):
        sources.append(cs.texture(91_000 + k) if k % 2 else cs.scene(93_000 + k, 800, 600))
        k += 1
    out = []
    for i in range(pictures):
        im = sources[i % len(sources)]
        w, h = im.size
        if i >= len(sources):  # a crop at a random offset and scale, resized
            f = float(rng.uniform(0.3, 0.9))
            cw, ch = int(w * f), int(h * f)
            x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
            im = im.crop((x0, y0, x0 + cw, y0 + ch))
            s = float(rng.uniform(0.6, 1.4))
            im = im.resize((max(64, int(cw * s)), max(64, int(ch * s))))
            w, h = im.size
        out.append(features(np.asarray(im.convert("L")), w, h, 400).descriptors)
    return np.concatenate(out)


def fake_references(n: int, pool: np.ndarray, rng: np.random.Generator, first_id: int) -> RefArrays:
    """`n` references that behave like distinct pictures for the index: 64 descriptors each
    drawn from the pool with ~6 % of their bits flipped (so they share words with real
    pictures at realistic rates), at random positions (so they never verify)."""
    masks = np.packbits((rng.random((4096, 256)) < 0.06).astype(np.uint8), axis=1)
    m = n * 64
    desc = np.empty((m, 32), np.uint8)
    step = 1 << 22
    for lo in range(0, m, step):
        k = min(step, m - lo)
        desc[lo : lo + k] = pool[rng.integers(0, len(pool), k)] ^ masks[rng.integers(0, 4096, k)]
    fh = rng.choice(np.array([288, 341, 384, 512], np.float32), n)
    xy = (rng.random((m, 2), dtype=np.float32) * np.float32(511)).astype(np.float32)
    xy[:, 1] *= np.repeat(fh / 512, 64)
    scale = np.full(n, 2.0, np.float32)
    size = np.stack([np.full(n, 1024), (fh * 2).astype(np.int64)], axis=1)
    return RefArrays(
        np.arange(first_id, first_id + n, dtype=np.int64),
        np.full(n, 64, np.int64),
        desc,
        xy,
        size,
        scale,
    )


_WORKER_INDEX: LocalIndex | None = None


def build_scale(
    n: int,
    refs: list[Fingerprint],
    pool: np.ndarray,
    rng: np.random.Generator,
    workdir: Path,
    words: int | None,
) -> tuple[str, int, int]:
    """Generate the `n` references, build their index and save it in `workdir`:
    (how it was made, for the report; vocabulary words; descriptors)."""
    real = RefArrays.of([decode(fp.extra["local_features"]) for fp in refs])
    n_fake = max(0, n - len(refs))
    t = time.time()
    fake = fake_references(n_fake, pool, rng, len(refs))
    gen_s = time.time() - t
    both = RefArrays(
        np.concatenate([real.ids, fake.ids]),
        np.concatenate([real.counts, fake.counts]),
        np.concatenate([real.descriptors, fake.descriptors]),
        np.concatenate([real.xy, fake.xy]),
        np.concatenate([real.size, fake.size]),
        np.concatenate([real.scale, fake.scale]),
    )
    del fake
    print(f"[{n}] references generated in {gen_s:.0f} s; building", file=sys.stderr, flush=True)
    t = time.time()
    built = LocalIndex.from_arrays(both, words=words)
    build_s = time.time() - t
    print(f"[{n}] built in {build_s:.0f} s", file=sys.stderr, flush=True)
    del both
    t = time.time()
    built.save(workdir)
    save_s = time.time() - t
    how = f"generated in {gen_s:.0f} s, built in {build_s:.0f} s, saved in {save_s:.0f} s"
    return how, len(built.vocab or []), built.keypoints


def _query(item: tuple[int, list[Features]]) -> tuple[int, int, int, float]:
    """(copy number, best ref or -1, matches, cpu seconds) in a worker process."""
    assert _WORKER_INDEX is not None
    t = time.process_time()
    found = _WORKER_INDEX.search(item[1], POINT, references=ONE_MILLION)
    return item[0], found[0].ref if found else -1, len(found), time.process_time() - t


def _rss(_: int) -> int:
    import psutil

    return int(psutil.Process().memory_info().rss)


def scale_phase(
    args: Any,
    suite: cs.Suite,
    copies: list[Any],
    refs: list[Fingerprint],
    rules: MatchRules,
    say: Any,
) -> None:

    rng = np.random.default_rng(5)
    t = time.time()
    pool = descriptor_pool(suite, args.pool, rng)
    pool_s = time.time() - t
    for n in args.scale:
        one_scale(args, n, pool, pool_s, copies, refs, say)


def one_scale(
    args: Any,
    n: int,
    pool: np.ndarray,
    pool_s: float,
    copies: list[Any],
    refs: list[Fingerprint],
    say: Any,
) -> None:
    import multiprocessing
    import shutil
    import tempfile

    global _WORKER_INDEX
    rng = np.random.default_rng(n)
    n_fake = max(0, n - len(refs))
    kept = args.workdir / f"lfindex-{n}" if args.workdir else None
    load_before = load()
    try:
        if kept is not None and (kept / "header.json").is_file():
            workdir, how = kept, f"reused from {kept} (built by an earlier run)"
            words = n_desc = -1
        else:
            workdir = kept or Path(tempfile.mkdtemp(prefix="lfindex-"))
            workdir.mkdir(parents=True, exist_ok=True)
            how, words, n_desc = build_scale(n, refs, pool, rng, workdir, args.words)
        disk = sum(f.stat().st_size for f in workdir.iterdir())
        t = time.time()
        index = LocalIndex.load(workdir)  # memory-mapped, as a workspace opens it
        load_s = time.time() - t
        words, n_desc = len(index.vocab or []), index.keypoints
        _WORKER_INDEX = index
        items = [(i, variants(fp)) for i, (_, fp) in enumerate(copies)]
        d_items = [
            (-1 - i, [decode(v) for v in _query_variants(fp)])
            for i, fp in enumerate(args.distractor_fps)
        ]
        if kept is not None:  # the queries too, for bench/lf_queries.py (one process, quick)
            import pickle

            truth = [int(c.original) for c, _ in copies]
            kinds = [str(c.transform) for c, _ in copies]
            with open(args.workdir / "queries.pkl", "wb") as fh:
                pickle.dump(
                    {"items": items, "d_items": d_items, "truth": truth, "kinds": kinds}, fh
                )
        cores = os.cpu_count() or 1
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(cores) as workers:
            workers.map(_query, items[: 2 * cores])  # warm: page in the vocabulary
            t = time.perf_counter()
            results = workers.map(_query, items, chunksize=4)
            wall = time.perf_counter() - t
            d_results = workers.map(_query, d_items, chunksize=4)
            rss = max(workers.map(_rss, range(cores)))
        qps = len(items) / wall
        cpu_ms = np.array([r[3] for r in results]) * 1e3
        hits = sum(1 for (i, best, _, _) in results if best == copies[i][0].original)
        false = [
            (copies[i][0].transform, best)
            for (i, best, _, _) in results
            if best >= 0 and best != copies[i][0].original
        ]
        false += [("distractor", best) for (_, best, _, _) in d_results if best >= 0]
        per_transform: dict[str, list[int]] = collections.defaultdict(list)
        for i, best, _, _ in results:
            c = copies[i][0]
            per_transform[c.transform].append(int(best == c.original))
    finally:
        if kept is None:
            shutil.rmtree(workdir, ignore_errors=True)
    say()
    say(
        f"## Scale: {n:,} references ({n_desc:,} descriptors; load before build"
        f" {load_before}, after queries {load()})"
    )
    say()
    say(
        f"The suite's {len(refs)} originals are real references; the other {n_fake:,} behave"
        f" like distinct pictures for the index: 64 descriptors each drawn from a pool of"
        f" {len(pool):,} real ORB descriptors of {args.pool} benign pictures (the suite's"
        f" distractors, other generated textures and scenes, crops of them at many offsets"
        f" and scales; extracted in {pool_s:.0f} s) with 6 % of their bits flipped, at random"
        f" positions. Bag-of-binary-words index: {words:,} words, shortlist {SHORTLIST}, soft"
        f" assignment {SOFT}, {RETRIEVAL_KEYPOINTS} retrieval keypoints per variant; {how};"
        f" opened memory-mapped in {load_s:.1f} s. Queries: the suite's"
        f" {len(items)} copies (local features only: picture, mirror, trimmed picture), on"
        f" {cores} processes, verification included; then its {len(d_items)} distractors."
    )
    say()
    say(
        "| references | index on disk | per reference | RSS of a query process |"
        " queries/s | CPU ms per query (mean / p95) | recall | false matches |"
    )
    say("|---:|---:|---:|---:|---:|---:|---:|---:|")
    say(
        f"| {n:,} | {disk / 2**20:.0f} MiB | {disk / n:.0f} B |"
        f" {rss / 2**20:.0f} MiB | {qps:.1f} | {cpu_ms.mean():.1f} /"
        f" {np.percentile(cpu_ms, 95):.1f} | {hits / len(items):.3f} | {len(false)} {false[:5]} |"
    )
    try:
        anchor = pdq_anchor(n, refs, copies, rng)
        say(f"| PDQ only (anchor, same {n:,}) | | | | {anchor[0]:.0f} | | {anchor[1]:.3f} | |")
    except (ValueError, MemoryError) as exc:
        say(f"| PDQ only (anchor) | failed: {exc} | | | | | | |")
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    say()
    say(f"Peak RSS of the bench process so far (suite pictures included): {peak:.1f} GiB.")
    say(
        "Recall per edit among them: "
        + ", ".join(f"{k} {np.mean(v):.2f}" for k, v in per_transform.items())
        + "."
    )


def _query_variants(fp: Fingerprint) -> list[str]:
    return [fp.extra["local_features"], *fp.extra.get("local_features_variants", [])]


def pdq_anchor(
    n: int, refs: list[Fingerprint], copies: list[Any], rng: np.random.Generator
) -> tuple[float, float]:
    """PDQ-only at the same number of references: (queries/s in 8 orientations, recall)."""
    hashes = rng.integers(0, 256, (n, 32), dtype=np.uint8)
    index = PDQIndex.build_from(np.arange(len(refs), n + len(refs)), hashes)
    index.add(list(range(len(refs))), [fp.pdq or "0" * 64 for fp in refs])
    groups = [fp.pdq_orientations or [fp.pdq] for _, fp in copies if fp.pdq]
    t = time.perf_counter()
    found = index.search_orientations_many(groups)
    qps = len(groups) / (time.perf_counter() - t)
    good = [c.original for c, fp in copies if fp.pdq]
    hits = sum(1 for g, f in zip(good, found, strict=True) if any(r == g for r, _, _ in f))
    return qps, hits / len(copies)


if __name__ == "__main__":
    main()
