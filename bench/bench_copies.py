"""Copies PDQ misses (issue 13): recall per edit, false matches, extraction cost, index scale.

One command (a benign suite: the corpus when given, generated images otherwise):

    .venv/bin/python bench/bench_copies.py --corpus /work/corpus [--scale 100000]

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
4. with --scale N: an index of N references (real ORB features of distinct crops of the
   suite's pictures, repeated with random bit noise past the number extracted), its memory,
   build time and queries/s on the machine's cores with verification, and the recall of the
   suite's copies among them.
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
from tantalio.localfeat.index import K_NEAREST, LocalIndex, one_to_one  # noqa: E402
from tantalio.localfeat.record import Features, decode  # noqa: E402
from tantalio.localfeat.verify import verify  # noqa: E402
from tantalio.signals import MatchRules  # noqa: E402
from tantalio.signals.lookup import LocalHit, Query, lookup  # noqa: E402

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
    ap.add_argument("--scale", type=int, default=0, help="references in the scale phase")
    ap.add_argument(
        "--extracted", type=int, default=4000, help="real references extracted for --scale"
    )
    ap.add_argument("--nlist", type=int, default=None, help="IVF cells for --scale")
    ap.add_argument("--nprobe", type=int, default=16, help="IVF cells searched for --scale")
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
        f" --scale {args.scale} --nlist {args.nlist} --nprobe {args.nprobe} --extracted"
        f" {args.extracted}{' --scale-only' if args.scale_only else ''}"
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


def scale_phase(
    args: Any,
    suite: cs.Suite,
    copies: list[Any],
    refs: list[Fingerprint],
    rules: MatchRules,
    say: Any,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    rng = np.random.default_rng(5)
    sources = suite.originals + suite.distractors
    t = time.time()
    real: list[Features] = []
    while len(real) < min(args.extracted, args.scale - len(refs)):
        im = sources[int(rng.integers(0, len(sources)))]
        w, h = im.size
        f = float(rng.uniform(0.35, 0.7))
        cw, ch = int(w * f), int(h * f)
        x0, y0 = int(rng.integers(0, w - cw)), int(rng.integers(0, h - ch))
        part = np.asarray(im.crop((x0, y0, x0 + cw, y0 + ch)).convert("L"))
        real.append(features(part, cw, ch))
    extract_s = time.time() - t
    feats = [decode(fp.extra["local_features"]) for fp in refs] + real
    while len(feats) < args.scale:  # the real ones again, with 8 % of their bits flipped
        base = real[int(rng.integers(0, len(real)))]
        bits = np.unpackbits(base.descriptors, axis=1)
        bits ^= (rng.random(bits.shape) < 0.08).astype(np.uint8)
        noisy = np.packbits(bits, axis=1)
        feats.append(Features(base.width, base.height, base.scale, base.xy, noisy))
    n_desc = sum(len(f) for f in feats)
    t = time.time()
    index = LocalIndex(feats, nlist=args.nlist, nprobe=args.nprobe)
    build_s = time.time() - t
    del feats

    def one(item: tuple[Any, Fingerprint]) -> bool:
        c, fp = item
        found = index.search(variants(fp), rules.local_min_inliers, references=ONE_MILLION)
        return bool(found) and found[0].ref == c.original

    cores = os.cpu_count() or 1
    t = time.perf_counter()
    with ThreadPoolExecutor(cores) as pool:  # faiss and OpenCV release the GIL
        hits = sum(pool.map(one, copies))
    qps = len(copies) / (time.perf_counter() - t)
    mem = index.memory_bytes()
    per_ref = mem / len(index)
    say()
    say(f"## Scale: {len(index):,} references ({n_desc:,} descriptors; load {load()})")
    say()
    say(
        f"{len(real)} references are real ORB features of distinct crops of the suite's"
        f" pictures (extracted in {extract_s:.0f} s), the rest those again with 8 % of their"
        f" bits flipped; faiss {type(index.index).__name__} (nlist {args.nlist}, nprobe"
        f" {args.nprobe}), built in {build_s:.0f} s; queries"
        f" are the suite's {len(copies)} copies (local features only), {cores} threads."
    )
    say()
    say("| references | index memory | per reference | queries/s | recall |")
    say("|---:|---:|---:|---:|---:|")
    say(
        f"| {len(index):,} | {mem / 2**20:.0f} MiB | {per_ref:.0f} B | {qps:.1f} |"
        f" {hits / len(copies):.3f} |"
    )
    say(f"| 1,000,000 (linear) | {per_ref * ONE_MILLION / 2**30:.2f} GiB | {per_ref:.0f} B | | |")


if __name__ == "__main__":
    main()
