"""A small benign evidence tree for tests and benchmarks: pictures, copies, near-copies, a zip."""

from __future__ import annotations

import hashlib
import io
import random
import zipfile
from pathlib import Path

from tantalio.demo import synth


def build_tree(root: Path, n: int = 60, seed: int = 1) -> dict[str, str]:
    """Write `n` pictures over folders plus planted copies; returns {role: path} of note."""
    rng = random.Random(seed)
    notes: dict[str, str] = {}
    pictures = []
    for i in range(n):
        img = synth.picture(rng, 320, 240)
        pictures.append(img)
        data = synth.jpeg_bytes(img) if i % 4 else synth.png_bytes(img)
        ext = "jpg" if i % 4 else "png"
        synth.write(root / f"dir{i % 3}" / f"pic{i:03d}.{ext}", data)
    # exact copy, resized + recompressed near-copy, rotated near-copy
    synth.write(root / "copies" / "same.jpg", (root / "dir1" / "pic001.jpg").read_bytes())
    synth.write(root / "copies" / "small.jpg", synth.jpeg_bytes(synth.resized(pictures[2]), 60))
    synth.write(root / "copies" / "turned.jpg", synth.jpeg_bytes(synth.rotated(pictures[3])))
    synth.write(root / "docs" / "notes.txt", b"shopping list\n")
    synth.write(root / "broken.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 40)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i in range(8):
            zf.writestr(f"DCIM/z{i}.jpg", synth.jpeg_bytes(synth.picture(rng, 320, 240)))
        zf.writestr("DCIM/again.jpg", (root / "dir2" / "pic002.jpg").read_bytes())
    synth.write(root / "phone.zip", buf.getvalue())
    notes["known_exact"] = "dir1/pic001.jpg"
    notes["known_near"] = "dir2/pic002.jpg"
    notes["known_rotated"] = "dir0/pic003.jpg"
    return notes


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()
