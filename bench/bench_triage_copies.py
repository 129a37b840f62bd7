"""What the issue-13 stages cost an ingest, and what they find, through `tantalio ingest`.

    .venv/bin/python bench/bench_triage_copies.py [--corpus /work/corpus] [--refs 40]

Benign corpus pictures (shared/corpus/build_corpus.sh): the first `--refs` are references,
the rest distractors. Evidence: every distractor, and for each reference a letterboxed copy
(pdq-trimmed), an 85 % centre crop and a 3 degree rotation (local features; PDQ misses
both). Three fresh SQLite workspaces per round, rounds alternating (A/B/C in one run):
  anchor    the references as a PDQ-only hash list (HMA CSV): exact/PDQ/trimmed PDQ only
  create    `hashset create --from` the references, `ingest` with local features
  create-no the same set, ingest without local features (`--no-local-features`)
The ingest runs in one process (`IngestOptions(in_process=True)`, the API of `tantalio
ingest`), so its CPU time is measured whole.
Reported: ingest wall and CPU seconds (medians of rounds), CPU ms per evidence file, and
the known/near-known count by copy and match_kind.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from PIL import Image, ImageOps
from typer.testing import CliRunner

from tantalio.cli.main import app
from tantalio.store.workspace import open_workspace
from tantalio.triage.pipeline import IngestOptions, ingest

runner = CliRunner()


def pictures(corpus: Path) -> list[Path]:
    exts = {".jpg", ".jpeg", ".png"}
    return sorted(p for p in corpus.rglob("*") if p.suffix.lower() in exts and p.is_file())


def rgb(path: Path, side: int = 1024) -> Image.Image:
    img = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    img.thumbnail((side, side))
    return img


def build(corpus: Path, n_refs: int, root: Path) -> tuple[Path, Path, Path]:
    pics = pictures(corpus)
    refs, card = root / "refs", root / "card"
    refs.mkdir()
    card.mkdir()
    for i, p in enumerate(pics):
        img = rgb(p)
        if i >= n_refs:
            img.save(card / f"other{i:03d}.jpg", quality=88)
            continue
        img.save(refs / f"ref{i:03d}.jpg", quality=92)
        w, h = img.size
        box = Image.new("RGB", (w, h + h // 2), (0, 0, 0))
        box.paste(img, (0, h // 4))
        box.save(card / f"boxed{i:03d}.jpg", quality=85)
        dx, dy = int(w * 0.075), int(h * 0.075)
        img.crop((dx, dy, w - dx, h - dy)).save(card / f"crop{i:03d}.jpg", quality=85)
        img.rotate(3, Image.Resampling.BICUBIC).save(card / f"rot{i:03d}.jpg", quality=85)
    return refs, card, root


def hma_list(refs: Path, out: Path) -> None:
    from tantalio.fingerprint.engine import fingerprint_file

    lines = ["signal_type,signal,category,series"]
    for p in sorted(refs.iterdir()):
        fp = fingerprint_file(str(p))
        if fp.pdq:
            lines.append(f"pdq,{fp.pdq},1,Bench")
    out.write_text("\n".join(lines) + "\n")


def cpu() -> float:
    """CPU seconds of this process and its finished children (the ingest's worker pool
    ends with the ingest, so its time is counted)."""
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def run(
    mode: str, refs: Path, card: Path, hma: Path, root: Path
) -> tuple[float, float, Counter[str]]:
    ws = Path(tempfile.mkdtemp(prefix=f"ws-{mode}-", dir=root))
    assert runner.invoke(app, ["init", str(ws)]).exit_code == 0
    w = ["-w", str(ws)]
    if mode == "anchor":
        made = runner.invoke(app, ["hashset", "import", str(hma), "-f", "hma", "-n", "R", *w])
    else:
        made = runner.invoke(app, ["hashset", "create", "R", "--from", str(refs), *w])
    assert made.exit_code == 0, made.output
    options = IngestOptions(
        jobs=1,
        in_process=True,  # one process: its CPU time is the whole ingest's
        thumbnails=False,
        progress=False,
        local_features=mode != "create-no",
    )
    with open_workspace(ws) as workspace:
        t0, c0 = time.perf_counter(), cpu()
        ingest(workspace, "C", [str(card)], None, options)
        wall, used = time.perf_counter() - t0, cpu() - c0
    rows = runner.invoke(app, ["triage", "C", "--format", "json", *w]).output.splitlines()
    kinds: Counter[str] = Counter()
    for r in map(json.loads, rows):
        if r["verdict"] in ("known", "near-known"):
            prefix = r["path"][:4]
            kinds[f"{prefix}:{r['match_kind']}"] += 1
    return wall, used, kinds


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, default=Path("/work/corpus"))
    ap.add_argument("--refs", type=int, default=40)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="bench-triage-copies-"))
    refs, card, _ = build(a.corpus, a.refs, root)
    hma = root / "refs.csv"
    hma_list(refs, hma)
    files = len(list(card.iterdir()))
    walls: dict[str, list[float]] = {}
    cpus: dict[str, list[float]] = {}
    found: dict[str, Counter[str]] = {}
    for _ in range(a.rounds):
        for mode in ("anchor", "create", "create-no"):
            wall, used, kinds = run(mode, refs, card, hma, root)
            walls.setdefault(mode, []).append(wall)
            cpus.setdefault(mode, []).append(used)
            found[mode] = kinds
    print(f"load: {os.getloadavg()}  evidence files: {files}  references: {a.refs}")
    print("| mode | ingest wall s | CPU s | CPU ms/file | known/near-known by copy:match_kind |")
    print("|---|---|---|---|---|")
    for mode, ws in walls.items():
        med, used = statistics.median(ws), statistics.median(cpus[mode])
        kinds = ", ".join(f"{k} {v}" for k, v in sorted(found[mode].items()))
        print(f"| {mode} | {med:.2f} | {used:.2f} | {1000 * used / files:.1f} | {kinds} |")


if __name__ == "__main__":
    main()
