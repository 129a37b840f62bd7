"""A small colour preview made from the decode PDQ already did (`FingerprintConfig.preview_px`).

An ingest keeps a thumbnail of every new picture. Decoding the file a second time for it
costs as much as the fingerprint's own decode for a large JPEG (the entropy decode is most
of the work, whatever the output size), so the engine can hand back a preview instead:
JPEG bytes (a few kB, cheap to pickle back from a worker), colour, long side at most
`preview_px`, EXIF orientation applied so it shows upright.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

QUALITY = 75

# EXIF orientation tag -> the transpose that shows the picture upright.
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def reduce(im: Image.Image, px: int) -> Image.Image:
    """A new RGB image, long side at most `px` (aspect kept); `im` is left as it is."""
    if im.mode not in ("RGB", "L", "YCbCr"):
        im = im.convert("RGB")
    w, h = im.size
    factor = max(w, h) / px
    if factor > 1:
        size = (max(1, round(w / factor)), max(1, round(h / factor)))
        im = im.resize(size, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return im.convert("RGB") if im.mode != "RGB" else im.copy()


def encode(im: Image.Image, orientation: int | None = None) -> bytes:
    """JPEG bytes of an RGB preview, turned upright by its EXIF orientation."""
    import simplejpeg

    if orientation in _UPRIGHT:
        im = im.transpose(_UPRIGHT[orientation])
    arr = np.ascontiguousarray(np.asarray(im))
    return bytes(simplejpeg.encode_jpeg(arr, quality=QUALITY, colorspace="RGB"))
