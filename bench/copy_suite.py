"""A benign copy-detection suite (issue 13): originals, their edited copies, distractors.

The edits are the ones PDQ misses and a distribution network applies: crops of 5-25 %,
uniform padding, banners and captions (drawn text on blocks), phone-screenshot framing
(status bar, margins, rescale), rotations of 2-5 degrees, and combinations of these with
JPEG recompression. Resize + recompression is included as the edit PDQ already catches.

Originals and distractors come from a benign photo corpus (`build_corpus.sh DIR`: wallpapers,
scikit-image samples, textures) when one is given, and from generated scenes otherwise
(gradients, shapes, lines, text, noise: no people). Distractors are never derived from an
original: different photos, crops of unrelated photos, generated textures and scenes.

Every edit is seeded, so a suite is the same on every run.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

CORPUS_SUFFIXES = (".jpg", ".jpeg", ".png")
MAX_SIDE = 1600  # originals are reduced to this long side (the suite stays quick to build)


@dataclass(frozen=True, slots=True)
class Copy:
    """One edited copy: the original it comes from, the edit's name and its pixels."""

    original: int
    transform: str
    image: Image.Image


# ---------------------------------------------------------------- sources


def corpus_images(root: Path | None, limit: int) -> list[Image.Image]:
    """Benign photos of a corpus directory (sorted, so the split is stable)."""
    if root is None or not root.is_dir():
        return []
    out = []
    for p in sorted(root.rglob("*")):
        if p.suffix.lower() not in CORPUS_SUFFIXES or not p.is_file():
            continue
        try:
            with Image.open(p) as im:
                im = im.convert("RGB")
        except Exception:  # a bad corpus file is skipped, never fatal
            continue
        if min(im.size) < 128:
            continue
        im.thumbnail((MAX_SIDE, MAX_SIDE))
        out.append(im)
        if len(out) >= limit:
            break
    return out


def scene(seed: int, width: int = 1024, height: int = 768) -> Image.Image:
    """A generated benign scene: a smooth gradient, shapes, lines, words and mild noise."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.zeros((height, width, 3), np.float32)
    for c in range(3):
        a, b, p = rng.uniform(-1, 1, 3)
        base[..., c] = 120 + 80 * np.sin(x / width * math.pi * (1 + 2 * a) + p) * np.cos(
            y / height * math.pi * (1 + 2 * b)
        )
    im = Image.fromarray(np.clip(base, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(im)
    side = min(width, height)
    for _ in range(int(rng.integers(25, 60))):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        r = int(rng.integers(side // 60, side // 6))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        kind = int(rng.integers(0, 4))
        if kind == 0:
            draw.ellipse([x0 - r, y0 - r, x0 + r, y0 + r], fill=fill)
        elif kind == 1:
            draw.rectangle([x0, y0, x0 + r, y0 + int(r * rng.uniform(0.3, 2))], fill=fill)
        elif kind == 2:
            pts = [(int(v[0]), int(v[1])) for v in rng.integers(0, [width, height], (3, 2))]
            draw.polygon(pts, fill=fill)
        else:
            x1, y1 = int(rng.integers(0, width)), int(rng.integers(0, height))
            draw.line([x0, y0, x1, y1], fill=fill, width=int(rng.integers(1, 6)))
    font = _font(int(side / 14))
    for _ in range(3):
        word = "".join(chr(int(c)) for c in rng.integers(65, 91, int(rng.integers(3, 8))))
        pos = (int(rng.integers(0, width - side // 3)), int(rng.integers(0, height - side // 10)))
        draw.text(pos, word, fill=tuple(int(v) for v in rng.integers(0, 256, 3)), font=font)
    arr = np.asarray(im).astype(np.int16) + rng.normal(0, 4, (height, width, 3)).astype(np.int16)
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def texture(seed: int, width: int = 800, height: int = 600) -> Image.Image:
    """A generated texture (filtered noise at a few scales): a hard distractor for features."""
    rng = np.random.default_rng(seed)
    out = np.zeros((height, width), np.float32)
    for scale in (4, 16, 64):
        small = rng.normal(0, 1, (height // scale + 2, width // scale + 2)).astype(np.float32)
        big = Image.fromarray(small).resize((width + scale * 2, height + scale * 2), Image.BICUBIC)
        out += np.asarray(big)[:height, :width] * scale**0.5
    out = (out - out.min()) / (np.ptp(out) + 1e-6) * 255
    tint = rng.uniform(0.6, 1.0, 3)
    rgb = np.stack([out * t for t in tint], axis=2)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=max(10, size))
    except TypeError:  # Pillow < 10.1 has no sized default font
        return ImageFont.load_default()


# ---------------------------------------------------------------- edits


def jpeg(im: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    im.convert("RGB").save(buf, "JPEG", quality=quality)
    buf.seek(0)
    return Image.open(buf).convert("RGB")


def crop(im: Image.Image, rng: np.random.Generator, fraction: float) -> Image.Image:
    """Remove `fraction` of the area (about): keep sqrt(1 - fraction) of each side, placed
    at a random offset (an off-centre crop, as people crop)."""
    w, h = im.size
    keep = math.sqrt(1 - fraction)
    cw, ch = int(w * keep), int(h * keep)
    x0, y0 = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    return im.crop((x0, y0, x0 + cw, y0 + ch))


def pad(im: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Uniform borders of 5-20 % on each side (letterbox-like when top/bottom dominate)."""
    w, h = im.size
    lft, rgt = (int(w * rng.uniform(0.05, 0.2)) for _ in range(2))
    top, bot = (int(h * rng.uniform(0.05, 0.2)) for _ in range(2))
    colour = tuple(int(v) for v in rng.choice([0, 255, 30, 240], 1).repeat(3))
    out = Image.new("RGB", (w + lft + rgt, h + top + bot), colour)
    out.paste(im, (lft, top))
    return out


def banner(im: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A caption strip of 15-25 % of the height added above or below, with drawn words."""
    w, h = im.size
    bh = int(h * rng.uniform(0.15, 0.25))
    colour = tuple(int(v) for v in rng.integers(0, 256, 3))
    out = Image.new("RGB", (w, h + bh), colour)
    top = bool(rng.integers(0, 2))
    out.paste(im, (0, bh if top else 0))
    draw = ImageDraw.Draw(out)
    ty = (0 if top else h) + bh // 4
    text = "SHARED WITH FRIENDS " + str(int(rng.integers(100, 999)))
    inv = tuple(255 - c for c in colour)
    draw.text((w // 20, ty), text, fill=inv, font=_font(bh // 3))
    return out


def caption(im: Image.Image, rng: np.random.Generator) -> Image.Image:
    """An opaque caption block with words drawn over the lower part of the picture."""
    out = im.copy()
    w, h = out.size
    draw = ImageDraw.Draw(out)
    bh = int(h * rng.uniform(0.1, 0.18))
    y0 = int(h * rng.uniform(0.6, 0.85)) - bh
    draw.rectangle([0, y0, w, y0 + bh], fill=(20, 20, 20))
    draw.text(
        (w // 25, y0 + bh // 5), "look at this one", fill=(250, 250, 250), font=_font(bh // 2)
    )
    return out


def screenshot(im: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A phone screenshot: the picture fitted into a 1080x2340 screen between a status bar
    and an app's header/footer, with margins, then saved at a smaller size."""
    sw, sh = 1080, 2340
    dark = bool(rng.integers(0, 2))
    bg = (18, 18, 18) if dark else (250, 250, 250)
    fg = (235, 235, 235) if dark else (20, 20, 20)
    screen = Image.new("RGB", (sw, sh), bg)
    draw = ImageDraw.Draw(screen)
    draw.rectangle([0, 0, sw, 90], fill=(0, 0, 0) if dark else (230, 230, 230))
    draw.text(
        (40, 20),
        f"{int(rng.integers(0, 24)):02d}:{int(rng.integers(0, 60)):02d}",
        fill=fg,
        font=_font(48),
    )
    for k in range(3):  # signal, wifi, battery icons as blocks
        draw.rectangle([sw - 220 + k * 60, 30, sw - 180 + k * 60, 62], fill=fg)
    draw.rectangle([0, 90, sw, 250], fill=bg)
    draw.text((140, 140), "Chat name", fill=fg, font=_font(56))
    draw.ellipse([30, 120, 110, 200], fill=(90, 140, 200))
    margin = int(rng.integers(20, 80))
    w, h = im.size
    scale = min((sw - 2 * margin) / w, (sh - 600) / h)
    pic = im.resize((max(1, int(w * scale)), max(1, int(h * scale))), Image.BILINEAR)
    y = 260 + int(rng.integers(0, max(1, sh - 600 - pic.size[1])))
    screen.paste(pic, (margin, y))
    draw.rectangle([0, sh - 200, sw, sh], fill=(40, 40, 40) if dark else (240, 240, 240))
    draw.text((60, sh - 150), "Type a message", fill=(128, 128, 128), font=_font(44))
    out_w = int(rng.choice([540, 720, 828]))
    return screen.resize((out_w, int(sh * out_w / sw)), Image.BILINEAR)


def rotate(im: Image.Image, rng: np.random.Generator) -> Image.Image:
    """A rotation of 2-5 degrees either way, same canvas, corners filled with black."""
    angle = float(rng.uniform(2, 5)) * (1 if rng.integers(0, 2) else -1)
    return im.rotate(angle, resample=Image.BILINEAR, expand=False)


def resize_jpeg(im: Image.Image, rng: np.random.Generator) -> Image.Image:
    w, h = im.size
    f = float(rng.uniform(0.4, 0.7))
    return jpeg(im.resize((int(w * f), int(h * f)), Image.BILINEAR), 70)


Edit = Callable[[Image.Image, np.random.Generator], Image.Image]

TRANSFORMS: dict[str, Edit] = {
    "resize+jpeg": resize_jpeg,  # what PDQ already catches: the sanity row
    "crop5": lambda im, r: crop(im, r, 0.05),
    "crop15": lambda im, r: crop(im, r, 0.15),
    "crop25": lambda im, r: crop(im, r, 0.25),
    "pad": pad,
    "banner": banner,
    "caption": caption,
    "screenshot": screenshot,
    "rotate2-5": rotate,
    "crop15+banner+jpeg": lambda im, r: jpeg(banner(crop(im, r, 0.15), r), 60),
    "screenshot+jpeg": lambda im, r: jpeg(screenshot(im, r), 70),
    "rotate+crop10+jpeg": lambda im, r: jpeg(crop(rotate(im, r), r, 0.10), 75),
    "pad+caption+jpeg": lambda im, r: jpeg(caption(pad(im, r), r), 65),
}


# ---------------------------------------------------------------- the suite


@dataclass(slots=True)
class Suite:
    originals: list[Image.Image]
    copies: list[Copy]
    distractors: list[Image.Image]
    source: str  # "corpus+synthetic" or "synthetic"


def build(
    corpus: Path | None,
    n_originals: int = 40,
    n_distractors: int = 120,
    transforms: tuple[str, ...] = tuple(TRANSFORMS),
    seed: int = 13,
) -> Suite:
    """Originals (half corpus, half generated when a corpus is given), one copy per
    (original, transform), and distractors disjoint from the originals."""
    photos = corpus_images(corpus, n_originals + n_distractors)
    n_photo_orig = min(len(photos) // 2, n_originals // 2)
    originals = photos[:n_photo_orig]
    originals += [scene(seed * 1000 + i) for i in range(n_originals - len(originals))]
    distractors: list[Image.Image] = []
    rest = photos[n_photo_orig:]
    rng = np.random.default_rng(seed)
    for im in rest:  # each unrelated photo, and a crop of it
        distractors.append(im)
        distractors.append(crop(im, rng, 0.4))
    # Beyond the unrelated photos: generated textures and scenes, and further crops of the
    # unrelated photos (other offsets, 30-80 % of the area removed), in turn, so that a
    # large distractor set holds many distinct pictures and many crops that share content.
    k = 0
    while len(distractors) < n_distractors:
        if k % 3 == 0:
            distractors.append(texture(seed * 7000 + k))
        elif k % 3 == 2 and rest:
            distractors.append(crop(rest[(k // 3) % len(rest)], rng, float(rng.uniform(0.3, 0.8))))
        else:
            distractors.append(scene(seed * 5000 + k))
        k += 1
    distractors = distractors[:n_distractors]
    copies = list(_copies(originals, transforms, seed))
    return Suite(originals, copies, distractors, "corpus+synthetic" if photos else "synthetic")


def _copies(originals: list[Image.Image], transforms: tuple[str, ...], seed: int) -> Iterator[Copy]:
    for i, im in enumerate(originals):
        for t_i, name in enumerate(transforms):
            rng = np.random.default_rng([seed, i, t_i])
            yield Copy(i, name, TRANSFORMS[name](im, rng))


def encode(im: Image.Image, fmt: str = "JPEG", quality: int = 90) -> bytes:
    """Bytes as a file would hold them (what the engine fingerprints)."""
    buf = io.BytesIO()
    if fmt == "JPEG":
        im.convert("RGB").save(buf, "JPEG", quality=quality)
    else:
        im.save(buf, fmt)
    return buf.getvalue()
