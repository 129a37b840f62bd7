#!/usr/bin/env python3
"""Regenerate the committed evidence fixtures in tests/data/evidence/.

Everything is synthetic and benign: gradients, shapes and noise drawn with Pillow, and a few
lines of text. Run from the repository root with the project venv:

    .venv/bin/python scripts/make_evidence_fixtures.py

Needs Debian's dosfstools + mtools (FAT images), zip (ZipCrypto member) and ewf-tools
(`ewfacquire`, for the E01); the tests themselves need none of them. Writes `expected.json`
with the SHA-256 of every payload as generated here, so the tests check the walker against
the bytes that went in, not against its own output.
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import json
import lzma
import os
import shutil
import stat
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import py7zr
import zstandard
from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "evidence"
EPOCH = 1_600_000_000  # 2020-09-13T12:26:40Z, every fixture's file time
DOS_TIME = (2020, 9, 13, 12, 26, 40)


def gradient(seed: int, fmt: str) -> bytes:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:48, 0:64]
    r = (x * 4 + seed * 17) % 256
    g = (y * 5 + seed * 31) % 256
    b = rng.integers(0, 64, size=(48, 64)) + 96
    img = Image.fromarray(np.dstack([r, g, b]).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(img)
    draw.ellipse((8 + seed % 10, 6, 40 + seed % 10, 38), outline=(255, 255, 255), width=2)
    out = io.BytesIO()
    img.save(out, format=fmt, quality=85) if fmt == "JPEG" else img.save(out, format=fmt)
    return out.getvalue()


# Payloads by name: the walk must reproduce exactly these bytes.
PAYLOADS = {
    "a.jpg": gradient(1, "JPEG"),
    "b.png": gradient(2, "PNG"),
    "c.jpg": gradient(3, "JPEG"),
    "d.jpg": gradient(4, "JPEG"),
    "e.png": gradient(5, "PNG"),
    "gone.jpg": gradient(6, "JPEG"),
    "notes.txt": b"Benign test notes: shopping list, bus times.\n",
    "readme.txt": b"Synthetic fixture for tantalio evidence tests.\n",
}


def zip_bytes(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in members:
            info = zipfile.ZipInfo(name, DOS_TIME)
            info.compress_type = method
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.create_system = 3
            zf.writestr(info, data)
    return out.getvalue()


def tar_bytes(members: list[tarfile.TarInfo | tuple[str, bytes]]) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.GNU_FORMAT) as tf:
        for item in members:
            if isinstance(item, tarfile.TarInfo):
                tf.addfile(item)
                continue
            name, data = item
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = EPOCH
            info.mode = 0o644
            tf.addfile(info, io.BytesIO(data))
    return out.getvalue()


def special(name: str, kind: bytes, link: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = link
    info.mtime = EPOCH
    return info


def seven_zip(members: list[tuple[str, bytes]], **kwargs: object) -> bytes:
    out = io.BytesIO()
    with py7zr.SevenZipFile(out, "w", **kwargs) as z:  # type: ignore[arg-type]
        for name, data in members:
            z.writestr(data, name)
    return out.getvalue()


def seven_zip_from_stdin(data: bytes) -> bytes:
    """What `7z a -si` makes (issue 14): one member stored without a name, with the pipe's
    mode. Needs the 7z program (Debian: p7zip-full); py7zr cannot write this."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "stdin.7z"
        subprocess.run(["7z", "a", "-si", str(out)], input=data, check=True, capture_output=True)
        return out.read_bytes()


def gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def write(name: str, data: bytes) -> None:
    path = OUT / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.utime(path, (EPOCH, EPOCH))


def run(*cmd: str, cwd: Path | None = None) -> None:
    subprocess.run(cmd, check=True, cwd=cwd, stdout=subprocess.DEVNULL)


def make_tree() -> None:
    tree = OUT / "tree"
    shutil.rmtree(tree, ignore_errors=True)
    files = {
        "DCIM/100CAM/IMG_0001.jpg": PAYLOADS["a.jpg"],
        "DCIM/100CAM/IMG_0002.png": PAYLOADS["b.png"],
        "Documents/notes.txt": PAYLOADS["notes.txt"],
        "Downloads/photos.zip": zip_bytes([("c.jpg", PAYLOADS["c.jpg"])]),
        "empty.bin": b"",
        "ünïcode name.txt": PAYLOADS["readme.txt"],
    }
    for rel, data in files.items():
        write(f"tree/{rel}", data)


def make_archives() -> None:
    deeper = zip_bytes([("d.jpg", PAYLOADS["d.jpg"])])
    inner = gz(tar_bytes([("DCIM/b.png", PAYLOADS["b.png"]), ("deeper.zip", deeper)]))
    more = seven_zip([("e.png", PAYLOADS["e.png"]), ("docs/readme.txt", PAYLOADS["readme.txt"])])
    write(
        "nested.zip",
        zip_bytes(
            [("photos/a.jpg", PAYLOADS["a.jpg"]), ("inner.tar.gz", inner), ("more.7z", more)],
            method=zipfile.ZIP_STORED,
        ),
    )
    plain = tar_bytes([("DCIM/a.jpg", PAYLOADS["a.jpg"]), ("DCIM/b.png", PAYLOADS["b.png"])])
    write("photos.tar", plain)
    write("photos.tar.gz", gz(plain))
    write("photos.tar.bz2", bz2.compress(plain))
    write("photos.tar.xz", lzma.compress(plain))
    write("photos.tar.zst", zstandard.ZstdCompressor().compress(plain))
    write("single.jpg.gz", gz(PAYLOADS["c.jpg"]))
    write("photos.7z", more)


def make_hostile() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in [
            ("../../evil.txt", b"traversal\n"),
            ("/etc/abs.txt", b"absolute\n"),
            ("..\\..\\win.txt", b"backslash traversal\n"),
            ("ok/fine.txt", PAYLOADS["notes.txt"]),
        ]:
            zf.writestr(zipfile.ZipInfo(name, DOS_TIME), data)
        link = zipfile.ZipInfo("link", DOS_TIME)
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, "/etc/passwd")
        zf.writestr(zipfile.ZipInfo("ok/", DOS_TIME), b"")
    write("zipslip.zip", out.getvalue())

    hostile_tar = tar_bytes(
        [
            ("../escape.txt", b"traversal\n"),
            ("/abs.txt", b"absolute\n"),
            special("sym", tarfile.SYMTYPE, "/etc/shadow"),
            special("hard", tarfile.LNKTYPE, "ok.txt"),
            special("fifo", tarfile.FIFOTYPE),
            ("ok.txt", PAYLOADS["notes.txt"]),
            ("dup.txt", b"first\n"),
            ("dup.txt", b"second\n"),
        ]
    )
    write("hostile.tar", hostile_tar)

    zeros = bytes(8 << 20)
    write(
        "bomb.zip",
        zip_bytes([("zeros.bin", zeros), ("small.txt", PAYLOADS["notes.txt"])]),
    )
    write("bomb.tar.gz", gz(tar_bytes([("ok.txt", PAYLOADS["notes.txt"]), ("zeros.bin", zeros)])))
    write("bomb.gz", gz(zeros))

    good = zip_bytes([("a.jpg", PAYLOADS["a.jpg"]), ("b.png", PAYLOADS["b.png"])])
    end = good.rfind(b"PK\x01\x02")
    write("corrupt.zip", good[:end])  # central directory cut off: not a readable zip
    bad = bytearray(zip_bytes([("notes.txt", PAYLOADS["notes.txt"] * 20)]))
    bad[60] ^= 0xFF  # inside the deflated data: decompression or CRC fails on read
    write("badcrc.zip", bytes(bad))
    write("corrupt.tar.gz", gz(tar_bytes([("a.jpg", PAYLOADS["a.jpg"])]))[:-200])

    write("encrypted.7z", seven_zip([("secret.png", PAYLOADS["e.png"])], password="benign"))
    write("stdin.7z", seven_zip_from_stdin(PAYLOADS["a.jpg"]))
    write(
        "encrypted-names.7z",
        seven_zip([("secret.png", PAYLOADS["e.png"])], password="benign", header_encryption=True),
    )
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        (work / "secret.jpg").write_bytes(PAYLOADS["a.jpg"])
        (work / "plain.txt").write_bytes(PAYLOADS["notes.txt"])
        for f in work.iterdir():
            os.utime(f, (EPOCH, EPOCH))
        run("zip", "-q", "-X", "-P", "benign", "enc.zip", "secret.jpg", cwd=work)
        run("zip", "-q", "-X", "enc.zip", "plain.txt", cwd=work)
        write("encrypted.zip", (work / "enc.zip").read_bytes())


def fat_image(files: dict[str, bytes], delete: list[str], size_kib: int) -> bytes:
    """A FAT12 file system holding `files`, with `delete` removed again (`mdel` for a file,
    `mdeltree` for a folder ending in `/`)."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        img = work / "fat.img"
        run("truncate", "-s", f"{size_kib}K", str(img))
        run("mkfs.fat", "--invariant", "-n", "EVIDENCE", str(img))
        made: set[str] = set()
        for rel, data in files.items():
            parts = rel.split("/")
            for i in range(1, len(parts)):
                d = "/".join(parts[:i])
                if d not in made:
                    run("mmd", "-i", str(img), f"::/{d}")
                    made.add(d)
            src = work / "payload"
            src.write_bytes(data)
            os.utime(src, (EPOCH, EPOCH))
            run("mcopy", "-m", "-i", str(img), str(src), f"::/{rel}")
        for rel in delete:
            if rel.endswith("/"):
                run("mdeltree", "-i", str(img), f"::/{rel.rstrip('/')}")
            else:
                run("mdel", "-i", str(img), f"::/{rel}")
        return img.read_bytes()


FAT_FILES = {
    "DCIM/a.jpg": PAYLOADS["a.jpg"],
    "DCIM/b.png": PAYLOADS["b.png"],
    "notes.txt": PAYLOADS["notes.txt"],
    "DCIM/deleted.jpg": PAYLOADS["c.jpg"],
    "photos.zip": zip_bytes([("d.jpg", PAYLOADS["d.jpg"])]),
    "trip/holiday.png": PAYLOADS["e.png"],
}


def ext4_image() -> bytes:
    """ext4 with `DCIM/gone.jpg` deleted the way the kernel leaves it: the name and size
    remain, the extent tree is wiped, so the content cannot be found again."""
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        src = work / "src"
        (src / "DCIM").mkdir(parents=True)
        (src / "DCIM" / "keep.jpg").write_bytes(PAYLOADS["d.jpg"])
        (src / "DCIM" / "gone.jpg").write_bytes(PAYLOADS["gone.jpg"])
        for f in src.rglob("*"):
            os.utime(f, (EPOCH, EPOCH))
        img = work / "ext4.img"
        env = dict(os.environ, E2FSPROGS_FAKE_TIME=str(EPOCH))
        subprocess.run(
            ["mke2fs", "-q", "-t", "ext4", "-b", "1024", "-O", "^has_journal",
             "-U", "12345678-1234-1234-1234-123456789abc", "-E", "root_owner=0:0",
             "-d", str(src), str(img), "1M"],
            check=True, env=env, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        inode = subprocess.run(
            ["debugfs", "-R", "stat /DCIM/gone.jpg", str(img)],
            check=True, env=env, capture_output=True, text=True,
        ).stdout.split()[1]  # fmt: skip
        for request in ("rm /DCIM/gone.jpg", f"sif <{inode}> block[0] 0"):
            subprocess.run(
                ["debugfs", "-w", "-R", request, str(img)],
                check=True, env=env, capture_output=True,
            )  # fmt: skip
        return img.read_bytes()


def make_disks() -> None:
    write("ext4.img.gz", gz(ext4_image()))

    fat = fat_image(FAT_FILES, ["DCIM/deleted.jpg", "trip/"], 1024)
    write("fat.img.gz", gz(fat))

    # MBR disk, 2 MiB: partition 1 (FAT12, sector 2048, 1 MiB) holds the FAT image above;
    # partition 2 (type 0x83, 512 KiB of zeros) has no recognisable file system.
    sector = 512
    disk = bytearray(2 * 1024 * 1024 + 512 * 1024)
    mbr = bytearray(512)
    mbr[440:444] = b"TNTL"  # disk signature
    entries = [(0x00, 0x01, 2048, 2048), (0x00, 0x83, 4096, 1024)]
    for i, (status, ptype, start, count) in enumerate(entries):
        mbr[446 + 16 * i : 446 + 16 * (i + 1)] = struct.pack(
            "<B3sB3sII", status, b"\xfe\xff\xff", ptype, b"\xfe\xff\xff", start, count
        )
    mbr[510:512] = b"\x55\xaa"
    disk[0:512] = mbr
    disk[2048 * sector : 2048 * sector + len(fat)] = fat
    write("mbr.dd.gz", gz(bytes(disk)))

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        raw = work / "mbr.dd"
        raw.write_bytes(bytes(disk))
        run(
            "ewfacquire", "-u", "-t", str(work / "mbr"), "-c", "best", "-f", "encase6",
            "-C", "fixture", "-D", "synthetic benign disk", "-E", "1", "-e", "tantalio",
            "-N", "fixture", "-m", "fixed", "-M", "logical", "-S", "1.4GiB",
            str(raw),
        )  # fmt: skip
        write("mbr.E01", (work / "mbr.E01").read_bytes())


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    make_tree()
    make_archives()
    make_hostile()
    make_disks()
    expected = {name: hashlib.sha256(data).hexdigest() for name, data in PAYLOADS.items()}
    (OUT / "expected.json").write_text(json.dumps(expected, indent=2, sort_keys=True) + "\n")
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"wrote fixtures to {OUT} ({total:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
