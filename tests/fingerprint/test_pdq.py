"""PDQ engine against the `pdqhash` package and threatexchange's hex conversion."""

from __future__ import annotations

import io

import numpy as np
import pdqhash
import pytest
from PIL import Image
from threatexchange.signal_type.pdq.pdq_hasher import _pdq_from_numpy_array
from threatexchange.signal_type.pdq.pdq_utils import simple_distance

from tantalio.fingerprint import (
    ORIENTATIONS,
    FingerprintConfig,
    fingerprint_bytes,
    hamming,
    pdq_bits_to_hex,
    pdq_from_image,
    pdq_from_luma,
    pdq_hex_to_bits,
    pdq_reference,
)

T = Image.Transpose
PIL_OF = {
    "identity": None,
    "rot90": T.ROTATE_90,
    "rot180": T.ROTATE_180,
    "rot270": T.ROTATE_270,
    "flip_h": T.FLIP_LEFT_RIGHT,
    "flip_v": T.FLIP_TOP_BOTTOM,
    "transpose": T.TRANSPOSE,
    "transverse": T.TRANSVERSE,
}


@pytest.mark.parametrize(
    ("width", "height", "seed"),
    [(64, 64, 1), (320, 240, 2), (241, 397, 3), (1000, 130, 4), (777, 1201, 5), (5, 9, 6)],
)
def test_hash_and_quality_equal_pdqhash(make_photo, width, height, seed) -> None:
    rgb = np.asarray(make_photo(width, height, seed))
    ours = pdq_from_image(rgb, orientations=False)
    vector, quality = pdqhash.compute(rgb)
    assert ours.hash == pdq_bits_to_hex(vector)
    assert ours.quality == quality


def test_hex_is_threatexchanges(make_photo) -> None:
    rgb = np.asarray(make_photo(200, 150, 9))
    te_hex, te_quality = _pdq_from_numpy_array(rgb)
    assert pdq_from_image(rgb).hash == te_hex
    assert pdq_reference(rgb) == (te_hex, te_quality)
    assert len(te_hex) == 64


def test_gray_and_rgba_inputs_match_pdqhash(make_photo) -> None:
    im = make_photo(300, 200, 4)
    gray = im.convert("L")
    g = np.asarray(gray)
    assert pdq_from_image(gray).hash == pdq_bits_to_hex(pdqhash.compute(np.dstack([g, g, g]))[0])
    rgba = im.convert("RGBA")
    assert pdq_from_image(rgba).hash == pdq_bits_to_hex(pdqhash.compute(np.asarray(rgba))[0])


def test_below_five_pixels_is_the_zero_hash_like_the_reference() -> None:
    tiny = np.full((4, 50, 3), 90, np.uint8)
    tiny[:, ::2] = 200
    result = pdq_from_image(tiny)
    assert result.hash == "0" * 64 and result.quality == 0
    assert pdq_reference(tiny) == (result.hash, 0)


@pytest.mark.parametrize("seed", [21, 22])
def test_orientations_are_hashes_of_the_transformed_image(make_photo, seed) -> None:
    im = make_photo(347, 229, seed)
    result = pdq_from_image(im)
    assert result.orientations is not None and len(result.orientations) == 8
    assert result.orientations[0] == result.hash
    for k, name in enumerate(ORIENTATIONS):
        moved = im if PIL_OF[name] is None else im.transpose(PIL_OF[name])
        assert result.orientations[k] == pdq_reference(moved)[0], name
    assert len(set(result.orientations)) == 8


@pytest.mark.parametrize(
    ("width", "height"),
    # 347 and 540 have symmetric kernels (odd window, not a multiple of 128), 229 (even
    # window) and 640 (a multiple of 128) do not: every mix of reused and computed halves
    [(347, 540), (540, 229), (640, 347), (229, 640)],
)
def test_orientations_exact_with_and_without_symmetric_kernels(make_photo, width, height) -> None:
    im = make_photo(width, height, width + height)
    result = pdq_from_image(im)
    assert result.orientations is not None
    for k, name in enumerate(ORIENTATIONS):
        moved = im if PIL_OF[name] is None else im.transpose(PIL_OF[name])
        assert result.orientations[k] == pdq_reference(moved)[0], name


def test_not_the_dct_shortcut(make_photo) -> None:
    """pdqhash.compute_dihedral flips the DCT of the original's 64×64 buffer; the image's own
    rotation samples other pixels. Ours is exact where the shortcut is tens of bits off."""
    im = make_photo(203, 131, 5)
    rotated = pdq_reference(im.transpose(T.ROTATE_180))[0]
    shortcut, _ = pdqhash.compute_dihedral(np.asarray(im))
    result = pdq_from_image(im)
    assert result.orientations is not None
    assert result.orientations[ORIENTATIONS.index("rot180")] == rotated
    assert hamming(pdq_bits_to_hex(shortcut[2]), rotated) > 10


@pytest.mark.parametrize("name", [n for n in ORIENTATIONS if n != "identity"])
def test_rotated_and_flipped_copies_are_recovered(make_photo, encode_image, name) -> None:
    """A re-encoded rotated/flipped copy matches through the original's orientations (and the
    copy's own orientations find the original), at PDQ's match threshold of 31."""
    original = make_photo(640, 480, 33)
    fp = fingerprint_bytes(encode_image(original, quality=92))
    copy = fingerprint_bytes(encode_image(original.transpose(PIL_OF[name]), quality=80))
    assert fp.pdq_orientations is not None and copy.pdq_orientations is not None
    k = ORIENTATIONS.index(name)
    assert hamming(copy.pdq, fp.pdq_orientations[k]) <= 31
    assert min(hamming(fp.pdq, h) for h in copy.pdq_orientations) <= 31
    assert hamming(copy.pdq, fp.pdq) > 31  # without orientations it would be missed


def test_hex_bits_roundtrip_and_hamming(make_photo) -> None:
    rgb = np.asarray(make_photo(128, 96, 3))
    vector, _ = pdqhash.compute(rgb)
    h = pdq_bits_to_hex(vector)
    assert np.array_equal(pdq_hex_to_bits(h), vector.astype(np.uint8))
    other = pdq_from_image(make_photo(128, 96, 4)).hash
    assert hamming(h, other) == simple_distance(h, other)
    assert hamming(h, h) == 0
    with pytest.raises(ValueError):
        hamming(h, h[:-1])
    with pytest.raises(ValueError):
        pdq_from_luma(np.zeros((0, 5), np.uint8))


def test_pil_palette_image_is_hashed_in_rgb(make_photo) -> None:
    im = make_photo(120, 90, 8)
    pal = im.convert("P", palette=Image.Palette.ADAPTIVE)
    buf = io.BytesIO()
    pal.save(buf, "PNG")
    fp = fingerprint_bytes(buf.getvalue(), config=FingerprintConfig(exact_pdq=True))
    assert fp.pdq == pdq_reference(pal.convert("RGB"))[0]
    assert hamming(fingerprint_bytes(buf.getvalue()).pdq, fp.pdq) <= 2


@pytest.mark.parametrize(
    "mode", ["RGB", "RGBA", "L", "P", "1", "P-trns", "L-trns", "RGB-trns", "interlaced"]
)
def test_png_fast_decode_gives_pillows_luma(mode: str, make_photo) -> None:
    """libspng (the PNG fast path) and Pillow give the same luma for every colour type."""
    from tantalio.fingerprint import image as image_mod
    from tantalio.fingerprint.config import DEFAULT_CONFIG

    im = make_photo(97, 61, 5)
    kwargs: dict[str, object] = {}
    if mode == "P-trns":
        im, kwargs = im.convert("P"), {"transparency": 3}
    elif mode == "L-trns":
        im, kwargs = im.convert("L"), {"transparency": 40}
    elif mode == "RGB-trns":
        im, kwargs = im.convert("RGB"), {"transparency": (10, 20, 30)}
    elif mode == "interlaced":
        kwargs = {"interlace": 1}
    else:
        im = im.convert(mode)
    buf = io.BytesIO()
    im.save(buf, "PNG", **kwargs)
    data = buf.getvalue()
    fast = image_mod._decode_png_spng(data, DEFAULT_CONFIG)
    slow = image_mod._decode_pillow(data, "png", DEFAULT_CONFIG)
    assert fast is not None
    assert (fast.width, fast.height) == (slow.width, slow.height) == (97, 61)
    assert np.array_equal(fast.luma, slow.luma)


def test_png_fast_decode_leaves_truncated_files_to_pillow(make_photo) -> None:
    from tantalio.fingerprint import image as image_mod
    from tantalio.fingerprint.config import DEFAULT_CONFIG

    buf = io.BytesIO()
    make_photo(200, 150, 6).save(buf, "PNG")
    cut = buf.getvalue()[: len(buf.getvalue()) // 2]
    assert image_mod._decode_png_spng(cut, DEFAULT_CONFIG) is None
    fp = fingerprint_bytes(cut)
    assert fp.error and fp.error.startswith("truncated png")
