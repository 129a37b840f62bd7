"""`tantalio ingest --fast` (issue 17) against bare hashing, warm and cold, beside the full
ingest of the same evidence.

    flock /tmp/tantalio-bench.lock .venv/bin/python bench/bench_fast_ingest.py \
        [--size-gb 3] [--jobs 2] [--data /work/bench-data/fast] [--write docs/perf/fast_ingest.md]
        [--keep]

The dataset (built once under --data, removed afterwards unless --keep) is benign: synthetic
photos (JPEG, a fifth PNG), short PyAV-generated videos, a zip archive of photos, a FAT12
disk image holding photos (src/tantalio/demo/fat.py), a few documents, and large filler files
of pseudo-random bytes (what most of a seized disk's bytes are: media, archives, databases
that are not pictures) up to --size-gb.

Measured in one run, over the same files:
  anchor              bare `hashlib` MD5 + SHA-1 + SHA-256, one 8 MiB read at a time, a
                      process pool of --jobs over the files (no store, no walk of archives)
  fast pass           `tantalio ingest CASE DIR --fast --jobs N` into a fresh workspace with
                      a small known hash set: walk (archive and disk-image members too),
                      hashes, type, exact matches, batched writes, verdicts
  second pass         the same command without --fast, on that workspace: decodes only the
                      images and videos the fast pass left pending
  full ingest         `tantalio ingest` (no --fast) into a fresh workspace
Warm: the files are in the page cache (read just before). Cold: `posix_fadvise(DONTNEED)` on
every file first (dropping the whole page cache is not permitted on this shared machine).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path

from tantalio.demo import synth
from tantalio.demo.fat import fat12_image

READ = 8 << 20
FILLER = 256 << 20


def _photo(rng: random.Random, i: int) -> tuple[str, bytes]:
    w, h = rng.choice([(640, 480), (1024, 768), (1600, 1200), (2000, 1500)])
    img = synth.picture(rng, w, h)
    if i % 5 == 0:
        return f"IMG_{i:05d}.png", synth.png_bytes(img)
    return f"IMG_{i:05d}.jpg", synth.jpeg_bytes(img, rng.choice([75, 85, 92]))


def build(root: Path, size_gb: float, seed: int = 17) -> None:
    """Write the dataset (reused when complete for the same size)."""
    marker = root / f".complete-{size_gb}"
    if marker.exists():
        return
    shutil.rmtree(root, ignore_errors=True)
    rng = random.Random(seed)
    for i in range(300):
        name, data = _photo(rng, i)
        synth.write(root / "photos" / f"d{i % 6}" / name, data)
    for i in range(12):
        synth.write(root / "videos" / f"VID_{i:03d}.mp4", synth.video_bytes(rng, seconds=4))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for i in range(60):
            name, data = _photo(rng, 1000 + i)
            zf.writestr(f"DCIM/{name}", data)
    synth.write(root / "backup" / "phone.zip", buf.getvalue())
    small = [(f"PIC{i:05d}.JPG", synth.jpeg_bytes(synth.picture(rng, 320, 240))) for i in range(12)]
    image = fat12_image(small, deleted={small[0][0]}, when=datetime(2019, 3, 1, 9, 0))
    synth.write(root / "images" / "usb.img", image)
    for i in range(40):
        synth.write(root / "docs" / f"note{i:03d}.txt", (f"meeting notes {i}\n" * 500).encode())
    used = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    target, n = int(size_gb * (1 << 30)), 0
    block = random.Random(seed).randbytes(1 << 20)
    while used < target:
        size = min(FILLER, target - used)
        path = root / "filler" / f"blob{n:04d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as out:
            for k in range(0, size, 1 << 20):
                # distinct content per file and MiB (no two fillers hash alike)
                out.write(
                    hashlib.sha256(f"{n}:{k}".encode()).digest()
                    + block[32 : min(size - k, 1 << 20)]
                )
        used += size
        n += 1
    marker.write_text("ok\n")


def files_of(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))


def _hash3(path: str) -> int:
    md5, sha1, sha256 = hashlib.md5(), hashlib.sha1(), hashlib.sha256()
    buf = bytearray(READ)
    view = memoryview(buf)
    total = 0
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            for h in (md5, sha1, sha256):
                h.update(view[:n])
            total += n
    return total


def anchor(paths: list[Path], jobs: int) -> float:
    started = time.perf_counter()
    with ProcessPoolExecutor(jobs) as pool:
        list(pool.map(_hash3, [str(p) for p in paths], chunksize=4))
    return time.perf_counter() - started


def drop_cache(paths: list[Path]) -> None:
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def warm(paths: list[Path]) -> None:
    for p in paths:
        _hash_nothing(p)


def _hash_nothing(p: Path) -> None:
    with open(p, "rb", buffering=0) as fh:
        while fh.read(READ):
            pass


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "tantalio.cli.main", *args]


_ENV: dict[str, str] = {}


def _env() -> dict[str, str]:
    """The CLI's environment: bytecode cached (under the data folder), as an installed
    tantalio has it; without it every run compiles its imports (seconds under load)."""
    return _ENV or dict(os.environ)


def set_bytecode_cache(where: Path) -> None:
    _ENV.update(os.environ)
    _ENV.pop("PYTHONDONTWRITEBYTECODE", None)
    _ENV["PYTHONPYCACHEPREFIX"] = str(where)


def new_workspace(ws: Path, known: Path) -> None:
    shutil.rmtree(ws, ignore_errors=True)
    subprocess.run(_cli("init", str(ws)), check=True, capture_output=True, env=_env())
    subprocess.run(
        _cli("hashset", "import", str(known), "--format", "md5sum", "--name", "k", "-w", str(ws)),
        check=True,
        capture_output=True,
        env=_env(),
    )


def ingest(ws: Path, root: Path, jobs: int, *extra: str) -> tuple[float, str]:
    args = ["ingest", "BENCH", str(root), "--jobs", str(jobs), "--no-progress", "-w", str(ws)]
    started = time.perf_counter()
    done = subprocess.run(_cli(*args, *extra), capture_output=True, text=True, env=_env())
    elapsed = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(done.stderr)
    return elapsed, done.stdout.strip().splitlines()[0]


def load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-gb", type=float, default=3.0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--data", type=Path, default=Path("/work/bench-data/fast"))
    parser.add_argument("--write", type=Path, help="write the table (markdown) to this file")
    parser.add_argument("--keep", action="store_true", help="keep the dataset afterwards")
    parser.add_argument("--no-full", action="store_true", help="skip the full-ingest rows")
    opts = parser.parse_args()
    root = opts.data / "evidence"
    print(f"building / reusing {opts.size_gb} GB of benign evidence in {root} ...", flush=True)
    build(root, opts.size_gb)
    paths = files_of(root)
    nbytes = sum(p.stat().st_size for p in paths)
    known = opts.data / "known.md5"
    photos = [p for p in paths if p.suffix in (".jpg", ".png")][:20:4]
    known.write_text("".join(f"{hashlib.md5(p.read_bytes()).hexdigest()}  x\n" for p in photos))
    work = Path(tempfile.mkdtemp(prefix="bench-fast-", dir=opts.data))
    set_bytecode_cache(opts.data / "pycache")
    # an untimed run of each kind first: writes the bytecode cache
    docs = root / "docs"
    for extra in (("--fast",), ()):
        new_workspace(work / "warmup", known)
        ingest(work / "warmup", docs, opts.jobs, *extra)
    rows: list[tuple[str, str, float, str, str]] = []

    def row(name: str, cache: str, seconds: float, note: str = "") -> None:
        rows.append((name, cache, seconds, load(), note))
        print(f"{name:<24} {cache:<5} {seconds:8.1f} s  {nbytes / seconds * 3600 / 1e12:6.2f} TB/h"
              f"  load {load()}  {note}", flush=True)  # fmt: skip

    try:
        for rnd in range(2):  # alternate anchor / fast pass, warm then cold
            warm(paths)
            row("anchor (hashlib x3)", "warm", anchor(paths, opts.jobs))
            new_workspace(work / "fast", known)
            warm(paths)
            t, out = ingest(work / "fast", root, opts.jobs, "--fast")
            row("fast pass", "warm", t, out)
            drop_cache(paths)
            row("anchor (hashlib x3)", "cold", anchor(paths, opts.jobs))
            new_workspace(work / "fast", known)
            drop_cache(paths)
            t, out = ingest(work / "fast", root, opts.jobs, "--fast")
            row("fast pass", "cold", t, out)
            if rnd == 0:
                warm(paths)
                t, out = ingest(work / "fast", root, opts.jobs)
                row("second pass (decode)", "warm", t, out)
        if not opts.no_full:
            new_workspace(work / "full", known)
            warm(paths)
            t, out = ingest(work / "full", root, opts.jobs)
            row("full ingest", "warm", t, out)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not opts.keep:
            shutil.rmtree(opts.data, ignore_errors=True)
    table = render(rows, nbytes, len(paths), opts)
    print(table)
    if opts.write:
        opts.write.write_text(table)
    return 0


def render(
    rows: list[tuple[str, str, float, str, str]], nbytes: int, nfiles: int, opts: argparse.Namespace
) -> str:
    cpu = os.cpu_count()
    out = [
        "# Fast first pass (`tantalio ingest --fast`, issue 17)",
        "",
        f"Dataset: {nbytes / 1e9:.2f} GB in {nfiles} files (--size-gb {opts.size_gb}), benign "
        "(photos, PyAV videos, a zip, a FAT12 image, documents, filler); --jobs "
        f"{opts.jobs} on a {cpu}-core shared machine. Rates are of the dataset's bytes "
        "(members of the zip and the disk image are hashed again inside them by the "
        "ingest, not by the anchor). Load: 1 / 5 / 15-minute `uptime` averages at the end "
        "of each row. Each ingest row is a fresh `tantalio ingest` process (start-up, "
        "workspace, worker start, closing verdicts included; bytecode cached as installed). "
        "Command: `flock /tmp/tantalio-bench.lock .venv/bin/python "
        f"bench/bench_fast_ingest.py --size-gb {opts.size_gb} --jobs {opts.jobs}`.",
        "",
        "| run | cache | seconds | GB/h | TB/h | vs anchor | load | ingest said |",
        "|---|---|---:|---:|---:|---:|---|---|",
    ]
    anchors = {c: min(s for n, cc, s, _, _ in rows if n.startswith("anchor") and cc == c)
               for c in ("warm", "cold")}  # fmt: skip
    for name, cache, seconds, ld, note in rows:
        rate = nbytes / seconds * 3600
        rel = anchors[cache] / seconds
        out.append(f"| {name} | {cache} | {seconds:.1f} | {rate / 1e9:,.0f} | {rate / 1e12:.2f} "
                   f"| {rel:.2f}x | {ld} | {note} |")  # fmt: skip
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
