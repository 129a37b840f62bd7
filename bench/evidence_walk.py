#!/usr/bin/env python3
"""Benchmark: walking evidence sources with tantalio.evidence vs the bare standard library.

    flock /tmp/tantalio-bench.lock .venv/bin/python bench/evidence_walk.py [--files 2000]

Builds a benign tree (random bytes, 4-64 KB per file, as in a photo folder) as a folder, a
zip, a tar.gz, a stored 7z and (when mkfs.fat/mcopy exist) a FAT image, then reads and
SHA-256-hashes every file twice per source: through `open_source` (recognition, safety
checks, leases, nested expansion) and through the anchor — `os.walk`/`zipfile`/`tarfile`/
`py7zr`/`pytsk3` used directly, with none of those checks. The ratio is the cost of the
safety layer; both columns include hashing, which a real ingest does anyway.

A second table prices the disk listing process (evidence/isolated.py: TSK in a child with a
time limit, every byte sent over a socket) against the same walk with TSK in-process
(`EvidenceLimits(isolate_disks=False)`), alternating the two, for each disk image (a FAT32
image when mkfs.fat/mcopy exist, an ext4 image when mkfs.ext4 does).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import subprocess
import tarfile
import tempfile
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import py7zr
import pytsk3

from tantalio.evidence import EvidenceLimits, open_source


def build(root: Path, count: int) -> tuple[Path, dict[str, Path]]:
    rng = __import__("random").Random(7)
    tree = root / "tree"
    for i in range(count):
        d = tree / f"DCIM{i % 25:03d}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"IMG_{i:05d}.jpg").write_bytes(rng.randbytes(rng.randint(4 << 10, 64 << 10)))
    sources = {"folder": tree}
    z = root / "tree.zip"
    with zipfile.ZipFile(z, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for p in sorted(tree.rglob("*.jpg")):
            zf.write(p, p.relative_to(tree).as_posix())
    sources["zip"] = z
    t = root / "tree.tar.gz"
    with tarfile.open(t, "w:gz", compresslevel=1) as tf:
        for p in sorted(tree.rglob("*.jpg")):
            tf.add(p, p.relative_to(tree).as_posix())
    sources["tar.gz"] = t
    s = root / "tree.7z"
    with py7zr.SevenZipFile(s, "w", filters=[{"id": py7zr.FILTER_COPY}]) as sz:
        for p in sorted(tree.rglob("*.jpg")):
            sz.write(p, p.relative_to(tree).as_posix())
    sources["7z"] = s
    if shutil.which("mkfs.fat") and shutil.which("mcopy"):
        img = root / "fat.img"
        size_mb = sum(p.stat().st_size for p in tree.rglob("*.jpg")) // (1 << 20) + 40
        subprocess.run(["truncate", "-s", f"{size_mb}M", str(img)], check=True)
        subprocess.run(["mkfs.fat", "-F", "32", str(img)], check=True, capture_output=True)
        subprocess.run(
            ["mcopy", "-s", "-i", str(img), *map(str, sorted(tree.iterdir())), "::/"],
            check=True,
            capture_output=True,
        )
        sources["fat (dd)"] = img
    if shutil.which("mkfs.ext4"):
        img = root / "ext4.img"
        size_mb = sum(p.stat().st_size for p in tree.rglob("*.jpg")) // (1 << 20) * 2 + 40
        subprocess.run(
            ["mkfs.ext4", "-q", "-F", "-d", str(tree), str(img), f"{size_mb}M"],
            check=True,
            capture_output=True,
        )
        sources["ext4 (dd)"] = img
    return tree, sources


def ours(source: Path, limits: EvidenceLimits | None = None) -> tuple[int, int]:
    files = size = 0
    for f in open_source(source, limits):
        if f.open is None or f.container:
            continue
        with f.open() as stream:
            data = stream.read()
        hashlib.sha256(data).digest()
        files += 1
        size += len(data)
    return files, size


def _count(items: list[bytes]) -> tuple[int, int]:
    return len(items), sum(len(b) for b in items)


def anchor_folder(source: Path) -> tuple[int, int]:
    out = []
    for dirpath, _, names in os.walk(source):
        for name in names:
            with open(os.path.join(dirpath, name), "rb") as f:
                data = f.read()
            hashlib.sha256(data).digest()
            out.append(data)
    return _count(out)


def anchor_zip(source: Path) -> tuple[int, int]:
    out = []
    with zipfile.ZipFile(source) as zf:
        for info in zf.infolist():
            data = zf.read(info)
            hashlib.sha256(data).digest()
            out.append(data)
    return _count(out)


def anchor_tar(source: Path) -> tuple[int, int]:
    out = []
    with tarfile.open(source, "r|gz") as tf:
        for m in tf:
            if m.isreg():
                f = tf.extractfile(m)
                assert f is not None
                data = f.read()
                hashlib.sha256(data).digest()
                out.append(data)
    return _count(out)


def anchor_7z(source: Path) -> tuple[int, int]:
    out = []
    factory = py7zr.io.BytesIOFactory(1 << 30)
    with py7zr.SevenZipFile(source) as sz:
        sz.extractall(factory=factory)
    for bio in factory.products.values():
        bio.seek(0)
        data = bio.read()
        hashlib.sha256(data).digest()
        out.append(data)
    return _count(out)


def ours_inline(source: Path) -> tuple[int, int]:
    """TSK in this process: no listing process, no time limit (the anchor of table 2)."""
    return ours(source, EvidenceLimits(isolate_disks=False))


def anchor_tsk(source: Path) -> tuple[int, int]:
    out: list[bytes] = []
    fs = pytsk3.FS_Info(pytsk3.Img_Info(str(source)))

    def walk(d: object) -> None:
        for f in d:  # type: ignore[attr-defined]
            name = f.info.name.name
            meta = f.info.meta
            if name in (b".", b"..") or meta is None:
                continue
            if meta.type == pytsk3.TSK_FS_META_TYPE_DIR:
                walk(f.as_directory())
            elif meta.type == pytsk3.TSK_FS_META_TYPE_REG and meta.size:
                data = f.read_random(0, meta.size)
                hashlib.sha256(data).digest()
                out.append(data)

    walk(fs.open_dir("/"))
    return _count(out)


ANCHORS: dict[str, Callable[[Path], tuple[int, int]]] = {
    "folder": anchor_folder,
    "zip": anchor_zip,
    "tar.gz": anchor_tar,
    "7z": anchor_7z,
    "fat (dd)": anchor_tsk,
    "ext4 (dd)": anchor_tsk,
}


def timed(fn: Callable[[Path], tuple[int, int]], source: Path) -> tuple[int, int, float]:
    best = float("inf")
    result = (0, 0)
    for _ in range(2):
        start = time.perf_counter()
        result = fn(source)
        best = min(best, time.perf_counter() - start)
    return result[0], result[1], best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument(
        "--disks-only", action="store_true", help="only the disk images (table 2's question)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="tantalio-bench-evidence-") as tmp:
        _, sources = build(Path(tmp), args.files)
        if args.disks_only:
            sources = {k: v for k, v in sources.items() if k.endswith("(dd)")}
        print(f"{args.files} files, best of 2 runs, read + SHA-256 of every file")
        print("| source | files | MB | tantalio files/s | MB/s | anchor files/s | MB/s | ratio |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for label, source in sources.items():
            n, size, t = timed(ours, source)
            an, asize, at = timed(ANCHORS[label], source)
            assert (n, size) == (an, asize), (label, n, an, size, asize)
            print(
                f"| {label} | {n} | {size / 1e6:.0f} | {n / t:,.0f} | {size / 1e6 / t:,.0f} "
                f"| {an / at:,.0f} | {asize / 1e6 / at:,.0f} | {at / t:.2f} |"
            )
        disks = [label for label in sources if label.endswith("(dd)")]
        if disks:
            print("\nDisk listing process vs TSK in-process, alternated, best of 3 each;")
            print("CPU = this process + its children (the listing process), load-independent")
            print(
                "| source | files | listing process s | CPU s | in-process s | CPU s "
                "| extra wall ms/file | extra CPU ms/file |"
            )
            print("|---|---:|---:|---:|---:|---:|---:|---:|")
        for label in disks:
            wall = {"iso": float("inf"), "inline": float("inf")}
            cpu = {"iso": float("inf"), "inline": float("inf")}
            n = 0
            for _ in range(3):
                for key, fn in (("iso", ours), ("inline", ours_inline)):
                    start, used = time.perf_counter(), _cpu()
                    n, _size = fn(sources[label])
                    wall[key] = min(wall[key], time.perf_counter() - start)
                    cpu[key] = min(cpu[key], _cpu() - used)
            print(
                f"| {label} | {n} | {wall['iso']:.2f} | {cpu['iso']:.2f} | {wall['inline']:.2f} "
                f"| {cpu['inline']:.2f} | {(wall['iso'] - wall['inline']) / n * 1000:.2f} "
                f"| {(cpu['iso'] - cpu['inline']) / n * 1000:.2f} |"
            )


def _cpu() -> float:
    me, children = (resource.getrusage(w) for w in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN))
    return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime


if __name__ == "__main__":
    main()
