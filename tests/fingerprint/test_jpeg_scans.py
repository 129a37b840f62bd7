"""Dropping a progressive JPEG's colour-only scans: same luma, same errors, nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import simplejpeg
from PIL import Image

from tantalio.fingerprint import fingerprint_bytes
from tantalio.fingerprint.config import FingerprintConfig
from tantalio.fingerprint.jpeg_scans import luma_scans_only


def _scans(data: bytes) -> int:
    return data.count(b"\xff\xda")  # SOS cannot occur inside entropy-coded data


@pytest.fixture(scope="module")
def progressive(
    make_photo: Callable[..., Image.Image], encode_image: Callable[..., bytes]
) -> bytes:
    return encode_image(make_photo(1400, 1100, seed=7), quality=90, progressive=True)


def test_colour_only_scans_are_dropped_and_luma_is_identical(progressive: bytes) -> None:
    stripped = luma_scans_only(progressive)
    assert stripped is not None
    # libjpeg's standard progression: 10 scans, 4 of them Cb or Cr AC only
    assert (_scans(progressive), _scans(stripped)) == (10, 6)
    assert len(stripped) < len(progressive)
    for scale in (1, 2):
        size = {"min_height": 1100 // scale, "min_width": 1400 // scale}
        whole = simplejpeg.decode_jpeg(progressive, colorspace="GRAY", **size)
        luma = simplejpeg.decode_jpeg(stripped, colorspace="GRAY", strict=True, **size)
        assert np.array_equal(whole, luma)


def test_fingerprint_of_a_progressive_jpeg_is_unchanged(progressive: bytes) -> None:
    fast = fingerprint_bytes(progressive, "p.jpg")
    # The Pillow route decodes the original bytes (every scan) at the same DCT scale.
    whole = simplejpeg.decode_jpeg(progressive, colorspace="GRAY", min_height=550, min_width=700)
    from tantalio.fingerprint.pdq import pdq_from_luma

    expected = pdq_from_luma(whole[:, :, 0])
    assert fast.error is None
    assert (fast.pdq, fast.pdq_quality) == (expected.hash, expected.quality)
    assert fast.pdq_orientations == list(expected.orientations or ())


def test_files_with_nothing_to_drop_are_left_alone(
    make_photo: Callable[..., Image.Image], encode_image: Callable[..., bytes]
) -> None:
    im = make_photo(600, 400, seed=3)
    assert luma_scans_only(encode_image(im, quality=90)) is None  # baseline
    assert luma_scans_only(encode_image(im.convert("L"), quality=90, progressive=True)) is None
    assert luma_scans_only(b"\xff\xd8\xff\xe0\x00") is None
    assert luma_scans_only(b"not a jpeg at all") is None
    assert luma_scans_only(b"") is None


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.9, 0.999])
def test_truncated_progressive_is_not_rewritten_and_still_reported(
    progressive: bytes, cut: float
) -> None:
    head = progressive[: int(len(progressive) * cut)]
    assert luma_scans_only(head) is None
    fp = fingerprint_bytes(head, "cut.jpg")
    assert fp.error is not None and "truncated" in fp.error


def test_trailing_data_after_eoi_is_kept(progressive: bytes) -> None:
    tail = b"\xff\xd8second picture of a multi-picture file\xff\xd9"
    stripped = luma_scans_only(progressive + tail)
    assert stripped is not None and stripped.endswith(b"\xff\xd9" + tail)


def test_restart_markers_and_fill_bytes(
    make_photo: Callable[..., Image.Image], encode_image: Callable[..., bytes]
) -> None:
    """Restart intervals put RSTn markers inside scans; fill bytes may precede any marker."""
    data = encode_image(
        make_photo(900, 700, seed=11), quality=85, progressive=True, restart_marker_blocks=4
    )
    assert b"\xff\xd0" in data
    sos = data.index(b"\xff\xda", data.index(b"\xff\xda") + 2)
    filled = data[:sos] + b"\xff\xff\xff" + data[sos:]
    for variant in (data, filled):
        stripped = luma_scans_only(variant)
        assert stripped is not None
        whole = simplejpeg.decode_jpeg(variant, colorspace="GRAY")
        assert np.array_equal(simplejpeg.decode_jpeg(stripped, colorspace="GRAY"), whole)


def test_hostile_lengths_never_raise(progressive: bytes) -> None:
    rng = np.random.default_rng(5)
    header_end = progressive.index(b"\xff\xda")
    for _ in range(300):
        damaged = bytearray(progressive)
        for at in rng.integers(2, header_end + 40, 3):
            damaged[int(at)] = int(rng.integers(0, 256))
        result: Any = luma_scans_only(bytes(damaged))
        assert result is None or isinstance(result, bytes)
        fp = fingerprint_bytes(bytes(damaged), "d.jpg", FingerprintConfig(exif=False))
        assert fp.sha256
        if fp.type == "jpeg":  # a damaged marker may make it something else
            assert fp.pdq is not None or fp.error is not None
