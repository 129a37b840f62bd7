"""Benign synthetic photos for the fingerprint benchmark: smooth colour gradients, shapes,
texture and sensor-like noise, saved as JPEG at quality 80-95 (no people, no real scenes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

# (label, width, height, count): 12 MP camera, 2-3 MP phone/web, < 1 MP thumbnails
SIZES = (
    ("12mp", 4000, 3000, 6),
    ("2.5mp", 1920, 1280, 10),
    ("0.5mp", 800, 600, 12),
)


def photo(width: int, height: int, seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    # work at a quarter of the size, then upscale: smooth content like real photos
    w, h = max(8, width // 4), max(8, height // 4)
    y, x = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.zeros((h, w, 3), np.float32)
    for c in range(3):
        a, b, p = rng.uniform(-1, 1, 3)
        img[..., c] = 120 + 70 * np.sin(x / w * np.pi * (1 + 2 * a) + p) * np.cos(
            y / h * np.pi * (1 + 2 * b)
        )
    im = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(im)
    side = min(w, h)
    for _ in range(30):
        x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
        r = int(rng.integers(max(2, side // 40), max(3, side // 5)))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        shape = rng.integers(0, 3)
        if shape == 0:
            draw.ellipse([x0 - r, y0 - r, x0 + r, y0 + r], fill=fill)
        elif shape == 1:
            draw.rectangle([x0 - r, y0 - r // 2, x0 + r, y0 + r // 2], fill=fill)
        else:
            draw.line([x0, y0, x0 + r * 3, y0 + r], fill=fill, width=max(1, r // 6))
    im = im.filter(ImageFilter.GaussianBlur(1.2)).resize((width, height), Image.Resampling.BICUBIC)
    arr = np.asarray(im).astype(np.int16)
    texture = rng.normal(0, 5, (height // 2 + 1, width // 2 + 1, 1)).astype(np.int16)
    arr += np.repeat(np.repeat(texture, 2, axis=0), 2, axis=1)[:height, :width]
    arr += rng.normal(0, 3, (height, width, 1)).astype(np.int16)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def build(out: Path) -> list[Path]:
    """Write (or reuse) the synthetic JPEGs under `out`; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    seed = 1000
    for label, width, height, count in SIZES:
        for i in range(count):
            seed += 1
            quality = (80, 85, 90, 95)[i % 4]
            path = out / f"synth_{label}_{i:02d}_q{quality}.jpg"
            if not path.exists():
                tmp = path.with_suffix(".tmp")
                photo(width, height, seed).save(tmp, "JPEG", quality=quality)
                tmp.rename(path)
            paths.append(path)
    return paths
