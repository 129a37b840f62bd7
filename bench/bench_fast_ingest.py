"""`tantalio ingest --fast` (issue 17) against bare hashing, warm and cold, beside the
second pass (`ingest CASE --finish`) and the full ingest of the same evidence.

    flock /tmp/tantalio-bench.lock .venv/bin/python bench/bench_fast_ingest.py \
        --size-gb 20 --data /work/bench-data/fast20 --keep [--rounds 1] [--no-full] \
        [--write docs/perf/fast_ingest_table.md]

The dataset (`bench/fast_dataset.py`, built once under --data/evidence and reused with
--keep) is benign: photos (the corpus at /work/corpus and large synthetic ones), PyAV
videos, a stored zip and a tar of photos and videos, a tar.gz, an ext4 disk image of a USB
stick, documents and opaque app files; every file distinct.

Measured in one run, over the same files:
  disk read (dd)      `dd` of the largest file with the page cache dropped: the disk's own
                      sequential rate (cold rows cannot beat it)
  anchor              bare `hashlib` MD5 + SHA-1 + SHA-256, one 8 MiB read at a time, a
                      process pool of --jobs over the files (no store, no walk of archives)
  fast pass           `tantalio ingest CASE DIR --fast --jobs N` into a fresh workspace with
                      a small known hash set: walk (archive and disk-image members too),
                      hashes, type, exact matches, batched writes, verdicts
  second pass         `tantalio ingest CASE --finish` on that workspace: decodes only the
                      images and videos the fast pass left pending, hashes nothing
  full ingest         `tantalio ingest` (no --fast) into a fresh workspace
Warm: the files were read just before (a dataset larger than the free page cache is then
partly cold: the table says how much was cached). Cold: the whole page cache dropped
(`echo 3 > /proc/sys/vm/drop_caches`, root) or, where that is refused, `posix_fadvise
(DONTNEED)` on every file (the table says which).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fast_dataset import build, summary  # noqa: E402

READ = 8 << 20
DROP = "fadvise"


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
    """Drop the whole page cache when allowed (root), else each file's pages."""
    global DROP
    try:
        os.sync()
        with open("/proc/sys/vm/drop_caches", "w") as fh:
            fh.write("3\n")
        DROP = "drop_caches"
        return
    except OSError:
        DROP = "fadvise"
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


def warm(paths: list[Path]) -> None:
    for p in paths:
        _hash_nothing(p)


def cached_fraction(paths: list[Path]) -> float:
    """Share of the dataset's pages in the page cache (mincore over an mmap of each file)."""
    import ctypes
    import mmap

    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                          ctypes.c_int, ctypes.c_long]  # fmt: skip
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p]
    page = mmap.PAGESIZE
    total = resident = 0
    for p in paths:
        size = p.stat().st_size
        if not size:
            continue
        n = (size + page - 1) // page
        with open(p, "rb") as fh:
            addr = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, fh.fileno(), 0)
        if addr in (None, ctypes.c_void_p(-1).value):
            continue
        vec = (ctypes.c_ubyte * n)()
        if libc.mincore(addr, size, vec) == 0:
            resident += sum(b & 1 for b in bytes(vec))
        libc.munmap(addr, size)
        total += n
    return resident / total if total else 0.0


def disk_read(paths: list[Path]) -> tuple[float, int]:
    """(seconds, bytes) of `dd` reading the largest file, page cache dropped first."""
    big = max(paths, key=lambda p: p.stat().st_size)
    drop_cache([big])
    started = time.perf_counter()
    subprocess.run(["dd", f"if={big}", "of=/dev/null", "bs=8M"], check=True, capture_output=True)
    return time.perf_counter() - started, big.stat().st_size


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
    parser.add_argument("--size-gb", type=float, default=20.0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--data", type=Path, default=Path("/work/bench-data/fast20"))
    parser.add_argument("--write", type=Path, help="write the table (markdown) to this file")
    parser.add_argument("--keep", action="store_true", help="keep the dataset afterwards")
    parser.add_argument("--rounds", type=int, default=1, help="anchor/fast rounds")
    parser.add_argument("--no-second", action="store_true", help="skip the second pass")
    parser.add_argument("--no-full", action="store_true", help="skip the full-ingest row")
    parser.add_argument("--no-cold", action="store_true", help="skip the cold rows")
    opts = parser.parse_args()
    root = opts.data / "evidence"
    print(f"building / reusing {opts.size_gb} GB of benign evidence in {root} ...", flush=True)
    build(root, opts.size_gb)
    paths = files_of(root)
    nbytes = sum(p.stat().st_size for p in paths)
    print(summary(root), flush=True)
    known = opts.data / "known.md5"
    photos = [p for p in paths if p.suffix in (".jpg", ".png")][:200:40]
    known.write_text("".join(f"{hashlib.md5(p.read_bytes()).hexdigest()}  x\n" for p in photos))
    work = Path(tempfile.mkdtemp(prefix="bench-fast-", dir=opts.data))
    set_bytecode_cache(opts.data / "pycache")
    # an untimed run of each kind first: writes the bytecode cache
    docs = root / "docs"
    for extra in (("--fast",), ()):
        new_workspace(work / "warmup", known)
        ingest(work / "warmup", docs, opts.jobs, *extra)
    rows: list[Row] = []

    def row(name: str, cache: str, seconds: float, note: str = "", size: int = nbytes) -> None:
        rows.append((name, cache, seconds, load(), note, size))
        print(f"{name:<24} {cache:<5} {seconds:8.1f} s  {size / seconds * 3600 / 1e12:6.2f} TB/h"
              f"  load {load()}  {note}", flush=True)  # fmt: skip

    def warmed() -> str:
        warm(paths)
        return f"{cached_fraction(paths):.0%} cached"

    try:
        if not opts.no_cold:
            t, size = disk_read(paths)
            row("disk read (dd, 1 file)", "cold", t, f"{size / 1e9:.2f} GB file, {DROP}", size)
        for _ in range(opts.rounds):  # alternate anchor / fast pass, warm then cold
            note = warmed()
            row("anchor (hashlib x3)", "warm", anchor(paths, opts.jobs), note)
            new_workspace(work / "fast", known)
            note = warmed()
            t, out = ingest(work / "fast", root, opts.jobs, "--fast")
            row("fast pass", "warm", t, f"{note}; {out}")
            if opts.no_cold:
                continue
            drop_cache(paths)
            row("anchor (hashlib x3)", "cold", anchor(paths, opts.jobs), DROP)
            new_workspace(work / "fast", known)
            drop_cache(paths)
            t, out = ingest(work / "fast", root, opts.jobs, "--fast")
            row("fast pass", "cold", t, f"{DROP}; {out}")
        if not opts.no_second:
            note = warmed()
            t, out = finish(work / "fast", opts.jobs)
            row("second pass (--finish)", "warm", t, f"{note}; {out}")
        if not opts.no_full:
            new_workspace(work / "full", known)
            note = warmed()
            t, out = ingest(work / "full", root, opts.jobs)
            row("full ingest", "warm", t, f"{note}; {out}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if not opts.keep:
            shutil.rmtree(opts.data, ignore_errors=True)
    table = render(rows, nbytes, len(paths), opts)
    print(table)
    if opts.write:
        opts.write.write_text(table)
    return 0


def finish(ws: Path, jobs: int) -> tuple[float, str]:
    args = ["ingest", "BENCH", "--finish", "--jobs", str(jobs), "--no-progress", "-w", str(ws)]
    started = time.perf_counter()
    done = subprocess.run(_cli(*args), capture_output=True, text=True, env=_env())
    elapsed = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(done.stderr)
    return elapsed, done.stdout.strip().splitlines()[0]


Row = tuple[str, str, float, str, str, int]


def render(rows: list[Row], nbytes: int, nfiles: int, opts: argparse.Namespace) -> str:
    import re

    cpu = os.cpu_count()
    out = [
        "| run | cache | seconds | GB/h | TB/h | files/s | vs anchor | load | notes |",
        "|---|---|---:|---:|---:|---:|---:|---|---|",
    ]
    anchors = {c: min((r[2] for r in rows if r[0].startswith("anchor") and r[1] == c),
                      default=0.0) for c in ("warm", "cold")}  # fmt: skip
    for name, cache, seconds, ld, note, size in rows:
        rate = size / seconds * 3600
        rel = f"{anchors[cache] / seconds:.2f}x" if anchors[cache] and size == nbytes else ""
        m = re.search(r"(\d+) files", note)
        fps = f"{int(m.group(1)) / seconds:,.0f}" if m else ""
        out.append(f"| {name} | {cache} | {seconds:.1f} | {rate / 1e9:,.0f} | {rate / 1e12:.2f} "
                   f"| {fps} | {rel} | {ld} | {note} |")  # fmt: skip
    head = (
        f"Dataset: {nbytes / 1e9:.2f} GB in {nfiles} files (`bench/fast_dataset.py`, "
        f"--size-gb {opts.size_gb}); --jobs {opts.jobs} on a {cpu}-core shared machine. "
        "Rates are of the dataset's bytes (the ingest also hashes the archives' and the "
        "disk image's members inside them; the anchor does not). files/s counts what the "
        "ingest walked (members included). Load: 1 / 5 / 15-minute averages at the end of "
        "each row. Each ingest row is a fresh `tantalio ingest` process (start-up, "
        "workspace, closing verdicts included)."
    )
    return head + "\n\n" + "\n".join(out) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
