"""Benign synthetic media for the fingerprint tests (gradients, shapes, noise)."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image, ImageDraw

DATA = Path(__file__).resolve().parents[1] / "data" / "fingerprint"


def photo(width: int, height: int, seed: int = 0) -> Image.Image:
    """Photo-like: smooth colour waves, a few shapes, noise; different for each seed."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.zeros((height, width, 3), np.float32)
    for c in range(3):
        a, b, p = rng.uniform(-1, 1, 3)
        img[..., c] = 128 + 70 * np.sin(x / width * np.pi * (1 + 2 * a) + p) * np.cos(
            y / height * np.pi * (1 + 2 * b)
        )
    im = Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))
    draw = ImageDraw.Draw(im)
    side = min(width, height)
    for _ in range(10):
        x0, y0 = int(rng.integers(0, width)), int(rng.integers(0, height))
        r = int(rng.integers(max(2, side // 16), max(3, side // 4)))
        fill = tuple(int(v) for v in rng.integers(0, 256, 3))
        if rng.random() < 0.5:
            draw.ellipse([x0 - r, y0 - r, x0 + r, y0 + r], fill=fill)
        else:
            draw.rectangle([x0 - r, y0 - r // 2, x0 + r, y0 + r // 2], fill=fill)
    noise = rng.normal(0, 4, (height, width, 1)).astype(np.int16)
    arr = np.asarray(im).astype(np.int16) + noise
    return Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8))


def encode(im: Image.Image, fmt: str = "JPEG", **kw: Any) -> bytes:
    buf = io.BytesIO()
    im.save(buf, fmt, **kw)
    return buf.getvalue()


@pytest.fixture(scope="session")
def make_photo() -> Callable[..., Image.Image]:
    return photo


@pytest.fixture(scope="session")
def encode_image() -> Callable[..., bytes]:
    return encode


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def known_answers() -> dict[str, dict[str, Any]]:
    return json.loads((DATA / "known_answers.json").read_text())
