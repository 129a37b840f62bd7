"""Dropping the scans a progressive JPEG's PDQ does without: colour-only scans (luma
bit-identical) and the final luma AC refinements (same PDQ); same errors, nothing else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import simplejpeg
from PIL import Image

from tantalio.fingerprint import fingerprint_bytes
from tantalio.fingerprint.config import FingerprintConfig
from tantalio.fingerprint.jpeg_scans import scans_for_pdq
from tantalio.fingerprint.pdq import hamming, pdq_from_luma


def _scans(data: bytes) -> int:
    return data.count(b"\xff\xda")  # SOS cannot occur inside entropy-coded data


@pytest.fixture(scope="module")
def progressive(
    make_photo: Callable[..., Image.Image], encode_image: Callable[..., bytes]
) -> bytes:
    return encode_image(make_photo(1400, 1100, seed=7), quality=90, progressive=True)


def _without_last_bits(data: bytes) -> bytes:
    """Only the colour-only scans dropped: the bit-identical luma reference."""
    sos = [i for i in range(len(data) - 1) if data[i : i + 2] == b"\xff\xda"]
    # libjpeg's standard script: scan 10 (the last) is Y AC 1-63, Ah=1 Al=0
    last = sos[-1]
    assert data[last + 4] == 1 and data[last + 9] == 0x10  # one component; Ah=1, Al=0
    return data[:last] + data[data.index(b"\xff\xd9", last) :]


def test_colour_only_scans_are_dropped_and_luma_is_identical(progressive: bytes) -> None:
    stripped = scans_for_pdq(progressive)
    assert stripped is not None
    # libjpeg's standard progression: 10 scans, 4 of them Cb or Cr AC only
    assert (_scans(progressive), _scans(stripped)) == (10, 6)
    for scale in (1, 2):
        size = {"min_height": 1100 // scale, "min_width": 1400 // scale}
        whole = simplejpeg.decode_jpeg(progressive, colorspace="GRAY", **size)
        luma = simplejpeg.decode_jpeg(stripped, colorspace="GRAY", strict=True, **size)
        assert np.array_equal(whole, luma)


def test_last_bit_scans_are_dropped_on_request(progressive: bytes) -> None:
    reduced = scans_for_pdq(progressive, last_bits=False)
    assert reduced is not None
    # ... and 1 the final Y AC refinement (Ah=1, Al=0)
    assert _scans(reduced) == 5
    with_colour = scans_for_pdq(progressive, colour=True, last_bits=False)
    assert with_colour is not None and _scans(with_colour) == 9
    assert scans_for_pdq(progressive, colour=True) is None  # nothing left to drop
    size = {"min_height": 550, "min_width": 700}
    whole = simplejpeg.decode_jpeg(progressive, colorspace="GRAY", **size)
    luma = simplejpeg.decode_jpeg(reduced, colorspace="GRAY", strict=True, **size)
    # The colour scans never touch the luma: the same pixels as the whole file without only
    # its last-bit scan.
    same_scans = simplejpeg.decode_jpeg(_without_last_bits(progressive), colorspace="GRAY", **size)
    assert np.array_equal(luma, same_scans)
    # Without the last bit: small pixel differences, the same PDQ.
    assert 0 < np.abs(luma.astype(int) - whole.astype(int)).mean() < 4.0
    assert pdq_from_luma(luma[:, :, 0]).hash == pdq_from_luma(whole[:, :, 0]).hash


@pytest.mark.parametrize("quality", [75, 85, 95])
def test_last_bit_scans_move_a_reduced_pdq_by_few_bits(
    make_photo: Callable[..., Image.Image], encode_image: Callable[..., bytes], quality: int
) -> None:
    """At 1/2 scale (where the engine drops them) the measured worst case is 4 bits."""
    distances = []
    for seed in range(6):
        im = make_photo(2200, 1100, seed=seed + 20)
        data = encode_image(im, quality=quality, progressive=True)
        reduced = scans_for_pdq(data, last_bits=False)
        assert reduced is not None
        size = {"min_height": 550, "min_width": 1100}
        whole = simplejpeg.decode_jpeg(data, colorspace="GRAY", **size)
        luma = simplejpeg.decode_jpeg(reduced, colorspace="GRAY", **size)
        full, fast = pdq_from_luma(whole[:, :, 0]), pdq_from_luma(luma[:, :, 0])
        distances.append(hamming(full.hash, fast.hash))
        assert abs(full.quality - fast.quality) <= 2
    assert max(distances) <= 4


def test_fingerprint_of_a_progressive_jpeg_is_the_reduced_scans_pdq(
    progressive: bytes, make_photo: Callable[..., Image.Image], encode_image: Callable[..., bytes]
) -> None:
    # 1400x1100 decodes at 1/2 scale: colour and last-bit scans dropped
    fast = fingerprint_bytes(progressive, "p.jpg")
    reduced = scans_for_pdq(progressive, last_bits=False)
    assert reduced is not None
    luma = simplejpeg.decode_jpeg(reduced, colorspace="GRAY", min_height=550, min_width=700)
    expected = pdq_from_luma(luma[:, :, 0])
    assert fast.error is None and fast.extra["pdq_scale"] == 2
    assert (fast.pdq, fast.pdq_quality) == (expected.hash, expected.quality)
    assert fast.pdq_orientations == list(expected.orientations or ())
    # at full scale (short side under 1024) only the colour scans go: the exact luma
    small = encode_image(make_photo(900, 700, seed=8), quality=90, progressive=True)
    whole = simplejpeg.decode_jpeg(small, colorspace="GRAY")
    assert fingerprint_bytes(small).pdq == pdq_from_luma(whole[:, :, 0]).hash


@pytest.mark.parametrize("size", [(1400, 1100), (2300, 2100), (700, 500)])
def test_preview_path_hashes_a_progressive_jpeg_the_same(
    make_photo: Callable[..., Image.Image],
    encode_image: Callable[..., bytes],
    size: tuple[int, int],
) -> None:
    """The colour decode that also makes the preview (Pillow) drops the same luma scans as
    the luma-only decode (simplejpeg): the same fingerprint either way, at every scale."""
    data = encode_image(make_photo(*size, seed=9), quality=90, progressive=True)
    plain = fingerprint_bytes(data, "p.jpg")
    with_preview = fingerprint_bytes(data, "p.jpg", FingerprintConfig(preview_px=128))
    assert with_preview.preview is not None
    with_preview.preview = None
    assert with_preview == plain


def test_gray_progressive_drops_only_its_last_bit_scan(
    make_photo: Callable[..., Image.Image], encode_image: Callable[..., bytes]
) -> None:
    data = encode_image(make_photo(1600, 1200, seed=4).convert("L"), quality=90, progressive=True)
    assert scans_for_pdq(data) is None  # no colour scans, and the last bits are asked for
    reduced = scans_for_pdq(data, last_bits=False)
    assert reduced is not None and (_scans(data), _scans(reduced)) == (6, 5)
    luma = simplejpeg.decode_jpeg(reduced, colorspace="GRAY", strict=True, min_height=600)
    assert fingerprint_bytes(data).pdq == pdq_from_luma(luma[:, :, 0]).hash


def test_files_with_nothing_to_drop_are_left_alone(
    make_photo: Callable[..., Image.Image], encode_image: Callable[..., bytes]
) -> None:
    im = make_photo(600, 400, seed=3)
    assert scans_for_pdq(encode_image(im, quality=90)) is None  # baseline
    cmyk = encode_image(im.convert("CMYK"), quality=90, progressive=True)
    assert scans_for_pdq(cmyk) is None  # four components: left to the decoder as it is
    assert scans_for_pdq(b"\xff\xd8\xff\xe0\x00") is None
    assert scans_for_pdq(b"not a jpeg at all") is None
    assert scans_for_pdq(b"") is None


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.9, 0.999])
def test_truncated_progressive_is_not_rewritten_and_still_reported(
    progressive: bytes, cut: float
) -> None:
    head = progressive[: int(len(progressive) * cut)]
    assert scans_for_pdq(head) is None
    fp = fingerprint_bytes(head, "cut.jpg")
    assert fp.error is not None and "truncated" in fp.error


def test_trailing_data_after_eoi_is_kept(progressive: bytes) -> None:
    tail = b"\xff\xd8second picture of a multi-picture file\xff\xd9"
    stripped = scans_for_pdq(progressive + tail)
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
    reference = simplejpeg.decode_jpeg(_without_last_bits(data), colorspace="GRAY")
    for variant in (data, filled):
        stripped = scans_for_pdq(variant)
        assert stripped is not None and _scans(stripped) == 6
        whole = simplejpeg.decode_jpeg(variant, colorspace="GRAY")
        assert np.array_equal(simplejpeg.decode_jpeg(stripped, colorspace="GRAY"), whole)
        reduced = scans_for_pdq(variant, last_bits=False)
        assert reduced is not None and _scans(reduced) == 5
        assert np.array_equal(simplejpeg.decode_jpeg(reduced, colorspace="GRAY"), reference)


def test_hostile_lengths_never_raise(progressive: bytes) -> None:
    rng = np.random.default_rng(5)
    header_end = progressive.index(b"\xff\xda")
    for _ in range(300):
        damaged = bytearray(progressive)
        for at in rng.integers(2, header_end + 40, 3):
            damaged[int(at)] = int(rng.integers(0, 256))
        result: Any = scans_for_pdq(bytes(damaged), last_bits=False)
        assert result is None or isinstance(result, bytes)
        fp = fingerprint_bytes(bytes(damaged), "d.jpg", FingerprintConfig(exif=False))
        assert fp.sha256
        if fp.type == "jpeg":  # a damaged marker may make it something else
            assert fp.pdq is not None or fp.error is not None
