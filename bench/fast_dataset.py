"""The benign evidence for the fast-pass benchmark (issue 17): photos, PyAV videos, archives,
an ext4 disk image and documents, most of its bytes media, at any size (≥ 20 GB for the
issue's run). Built once under a folder and reused (`.complete-SIZE` marker).

    .venv/bin/python bench/fast_dataset.py /work/bench-data/fast20/evidence --size-gb 20

Distinct files are cheap to make: a pool of base photos (the benign corpus at /work/corpus
when present, plus large synthetic ones) and base videos (PyAV, 720p, high bit rate) is
encoded once; every file written is a base with a unique marker (a JPEG COM segment after
SOI, a PNG tEXt chunk before IEND, an MP4 `free` box at the end), so every file has its own
hashes (nothing skipped as already stored) while staying a valid picture or video for the
decoding pass. Mix by bytes: photos ~38 %, videos ~36 %, archives ~12 % (a stored zip of
photos, a tar of photos and videos, a small tar.gz), an ext4 image ~7 % (mke2fs -d, photos
and videos in folders), the rest documents and opaque files (databases, caches).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import random
import shutil
import struct
import subprocess
import tarfile
import tempfile
import zipfile
import zlib
from pathlib import Path

from tantalio.demo import synth

CORPUS = Path("/work/corpus/images")
SHARES = {"photos": 0.38, "videos": 0.36, "archives": 0.12, "disk": 0.07}


def _jpeg_variant(base: bytes, tag: bytes) -> bytes:
    payload = b"tantalio-bench " + tag
    return base[:2] + b"\xff\xfe" + struct.pack(">H", len(payload) + 2) + payload + base[2:]


def _png_variant(base: bytes, tag: bytes) -> bytes:
    body = b"Comment\x00" + tag
    chunk = struct.pack(">I", len(body)) + b"tEXt" + body
    chunk += struct.pack(">I", zlib.crc32(b"tEXt" + body) & 0xFFFFFFFF)
    return base[:-12] + chunk + base[-12:]  # before IEND (12 bytes)


def _mp4_variant(base: bytes, tag: bytes) -> bytes:
    payload = b"tantalio-bench " + tag
    return base + struct.pack(">I", len(payload) + 8) + b"free" + payload


def variant(base: tuple[str, bytes], tag: str) -> bytes:
    ext, data = base
    t = tag.encode()
    return {".jpg": _jpeg_variant, ".png": _png_variant, ".mp4": _mp4_variant}[ext](data, t)


def _video(rng: random.Random, seconds: int, size: tuple[int, int], bit_rate: int) -> bytes:
    """A panning landscape, scene changes every 2 s, MPEG-4 part 2 at a camera's bit rate."""
    return synth.video_bytes(rng, seconds, size, fps=25, bit_rate=bit_rate)


def base_photos(rng: random.Random, n_synth: int) -> list[tuple[str, bytes]]:
    pool: list[tuple[str, bytes]] = []
    if CORPUS.is_dir():
        for p in sorted(CORPUS.rglob("*")):
            if p.suffix.lower() in (".jpg", ".jpeg"):
                pool.append((".jpg", p.read_bytes()))
            elif p.suffix.lower() == ".png":
                pool.append((".png", p.read_bytes()))
    for i in range(n_synth):
        w, h = rng.choice([(4000, 3000), (3264, 2448), (2592, 1944)])
        style = "texture" if i % 2 else "landscape"
        pool.append((".jpg", synth.jpeg_bytes(synth.picture(rng, w, h, style), 92)))
    for _ in range(max(4, n_synth // 2)):  # phone-cache size pictures
        pool.append((".jpg", synth.jpeg_bytes(synth.picture(rng, 480, 360), 80)))
    return pool


def base_videos(rng: random.Random, n: int) -> list[tuple[str, bytes]]:
    pool = [(".mp4", p.read_bytes()) for p in sorted(Path("/work/corpus/videos").rglob("*.mp4"))]
    for i in range(n):
        seconds = 12 + 4 * (i % 3)
        pool.append((".mp4", _video(rng, seconds, (1280, 720), 16_000_000)))
    return pool


class Maker:
    """Writes unique variants of the base pools, with spread-out modification times."""

    def __init__(self, rng: random.Random, photos: list[tuple[str, bytes]],
                 videos: list[tuple[str, bytes]]) -> None:  # fmt: skip
        self.rng = rng
        self.photos, self.videos = photos, videos
        self.n = 0

    def next(self, pool: list[tuple[str, bytes]], prefix: str) -> tuple[str, bytes]:
        self.n += 1
        base = pool[self.rng.randrange(len(pool))]
        return f"{prefix}_{self.n:06d}{base[0]}", variant(base, f"{self.n}")

    def write(self, path: Path, data: bytes) -> int:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        when = 1_500_000_000 + self.rng.randrange(250_000_000)
        os.utime(path, (when, when))
        return len(data)


def _fill(budget: int, emit) -> int:  # type: ignore[no-untyped-def]
    used = 0
    while used < budget:
        used += emit()
    return used


def build(root: Path, size_gb: float, seed: int = 17) -> None:
    """Write the dataset (reused when complete for the same size)."""
    marker = root / f".complete-{size_gb}"
    if marker.exists():
        return
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    rng = random.Random(seed)
    target = int(size_gb * (1 << 30))
    small = target < (4 << 30)
    print(f"  encoding base pools ({'small' if small else 'full'}) ...", flush=True)
    mk = Maker(rng, base_photos(rng, 8 if small else 24), base_videos(rng, 2 if small else 6))
    share = {k: int(v * target) for k, v in SHARES.items()}

    # photos: camera folders, newest and oldest mixed
    def photo() -> int:
        name, data = mk.next(mk.photos, "IMG")
        return mk.write(root / "photos" / f"DCIM{mk.n % 23:03d}" / name, data)

    _fill(share["photos"], photo)
    print(f"  photos: {mk.n} files", flush=True)

    def video() -> int:
        name, data = mk.next(mk.videos, "VID")
        return mk.write(root / "videos" / f"clips{mk.n % 7}" / name, data)

    _fill(share["videos"], video)
    print("  videos done", flush=True)

    # archives: a stored zip of photos, a tar of photos and videos, a small tar.gz
    arch = root / "archives"
    arch.mkdir()
    gz = min(64 << 20, share["archives"] // 6)
    zbudget, tbudget = share["archives"] // 2, share["archives"] // 2 - gz
    with zipfile.ZipFile(arch / "phone_backup.zip", "w", zipfile.ZIP_STORED) as zf:
        used = 0
        while used < zbudget:
            name, data = mk.next(mk.photos, "ZIP")
            zf.writestr(f"DCIM/Camera/{name}", data)
            used += len(data)
    with tarfile.open(arch / "export.tar", "w") as tf:
        used = 0
        while used < tbudget:
            name, data = mk.next(mk.videos if mk.n % 3 == 0 else mk.photos, "TAR")
            info = tarfile.TarInfo(f"export/{name}")
            info.size, info.mtime = len(data), 1_600_000_000 + mk.n
            tf.addfile(info, io.BytesIO(data))
            used += len(data)
    with tarfile.open(arch / "chat_media.tar.gz", "w:gz", compresslevel=1) as tf:
        used = 0
        while used < gz:
            name, data = mk.next(mk.photos, "GZ")
            info = tarfile.TarInfo(f"media/{name}")
            info.size, info.mtime = len(data), 1_600_000_000 + mk.n
            tf.addfile(info, io.BytesIO(data))
            used += len(data)
    print("  archives done", flush=True)

    # an ext4 disk image of a USB stick (mke2fs -d: no mount needed)
    with tempfile.TemporaryDirectory(dir=root.parent) as tmp:
        stage = Path(tmp) / "stick"
        used = 0
        while used < share["disk"] * 0.9:
            pool, sub = (mk.videos, "Videos") if mk.n % 4 == 0 else (mk.photos, "Pictures")
            name, data = mk.next(pool, "USB")
            used += mk.write(stage / sub / f"f{mk.n % 5}" / name, data)
        blocks = int(used * 1.08 / 4096) + 4096
        (root / "images").mkdir()
        subprocess.run(
            ["mke2fs", "-q", "-t", "ext4", "-b", "4096", "-d", str(stage), "-L", "USBSTICK",
             str(root / "images" / "usb_stick.img"), str(blocks)],
            check=True,
        )  # fmt: skip
    print("  disk image done", flush=True)

    # documents and opaque files (databases, app caches) up to the target
    for i in range(200):
        text = (f"meeting notes {i}: " + "lorem ipsum dolor sit amet " * 40 + "\n") * 30
        mk.write(root / "docs" / f"note{i:04d}.txt", text.encode())
    used = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    block = random.Random(seed).randbytes(1 << 20)
    n = 0
    while used < target:
        size = min(rng.choice([8, 24, 64, 200]) << 20, target - used)
        path = root / "appdata" / f"cache{n:04d}.db"
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as out:
            for k in range(0, size, 1 << 20):
                out.write(hashlib.sha256(f"{n}:{k}".encode()).digest()
                          + block[32 : min(size - k, 1 << 20)])  # fmt: skip
        used += size
        n += 1
    marker.write_text("ok\n")


def summary(root: Path) -> str:
    by: dict[str, list[int]] = {}
    for p in root.rglob("*"):
        if p.is_file() and not p.name.startswith("."):
            top = p.relative_to(root).parts[0]
            by.setdefault(top, []).append(p.stat().st_size)
    return ", ".join(f"{k} {len(v)} files {sum(v) / 1e9:.2f} GB" for k, v in sorted(by.items()))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path)
    parser.add_argument("--size-gb", type=float, default=20.0)
    opts = parser.parse_args()
    build(opts.root, opts.size_gb)
    print(summary(opts.root))
