"""Trimming borders, letterbox bars and screenshot chrome before a second PDQ (issue 13)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

from tantalio.fingerprint import FingerprintConfig, fingerprint_bytes
from tantalio.fingerprint.pdq import hamming
from tantalio.fingerprint.trim import find_picture
from tantalio.signals import registry


def _picture(w: int = 400, h: int = 300, seed: int = 1) -> Image.Image:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (h // 10, w // 10, 3), dtype=np.uint8)
    return Image.fromarray(small).resize((w, h), Image.BICUBIC)


def _png(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "PNG")
    return buf.getvalue()


def _framed(pic: Image.Image) -> Image.Image:
    """Black bars left/right, a white band above with a line of 'text' (status bar)."""
    w, h = pic.size
    out = Image.new("RGB", (w + 120, h + 200), (255, 255, 255))
    draw = ImageDraw.Draw(out)
    draw.rectangle([0, 0, w + 120, 40], fill=(255, 255, 255))
    draw.rectangle([20, 15, 90, 28], fill=(0, 0, 0))  # the clock of a status bar
    draw.rectangle([0, 100, w + 120, 100 + h], fill=(0, 0, 0))
    out.paste(pic, (60, 100))
    return out


def test_finds_the_picture_inside_bars_and_chrome() -> None:
    pic = _picture()
    luma = np.asarray(_framed(pic).convert("L"))
    box = find_picture(luma)
    assert box is not None
    assert abs(box.x0 - 60) <= 2 and abs(box.x1 - 460) <= 2
    assert abs(box.y0 - 100) <= 2 and abs(box.y1 - 400) <= 2


def test_no_frame_no_trim() -> None:
    assert find_picture(np.asarray(_picture().convert("L"))) is None
    # a flat image is not a framed one
    assert find_picture(np.full((200, 200), 128, np.uint8)) is None


def test_trimmed_pdq_matches_the_original_where_pdq_does_not() -> None:
    pic = _picture()
    original = fingerprint_bytes(_png(pic), "original.png")
    copy = fingerprint_bytes(_png(_framed(pic)), "copy.png")
    assert original.pdq and copy.pdq
    assert "pdq_trimmed" not in original.extra
    assert hamming(original.pdq, copy.pdq) > 31  # what the anchor misses
    trimmed = registry.get("pdq-trimmed").from_fingerprint(copy)
    assert trimmed is not None and hamming(original.pdq, trimmed) <= 31
    assert copy.extra["pdq_trimmed_box"] == [60, 100, 460, 400]
    assert len(copy.extra["pdq_trimmed_orientations"]) == 8


def test_trim_can_be_turned_off() -> None:
    data = _png(_framed(_picture()))
    fp = fingerprint_bytes(data, "copy.png", FingerprintConfig(trim=False))
    assert "pdq_trimmed" not in fp.extra


def test_local_features_on_tiny_and_flat_images_never_cost_the_pdq() -> None:
    import pytest

    cfg = FingerprintConfig(local_features="query")
    for im in (Image.new("RGB", (3, 3), (9, 9, 9)), Image.new("RGB", (300, 200), (50, 50, 50))):
        fp = fingerprint_bytes(_png(im), "small.png", cfg)
        assert fp.error is None and fp.pdq is not None
        assert "warnings" not in fp.extra
        value = registry.get("local-features").from_fingerprint(fp)
        assert value is not None  # no keypoints is a valid, empty value
    with pytest.raises(ValueError, match="local_features"):
        FingerprintConfig(local_features="yes")
