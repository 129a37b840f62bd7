"""Image bytes → the luma PDQ hashes, as cheaply as fidelity allows.

JPEG fast path (issue 2): libjpeg-turbo decodes in the DCT domain at 1/2, 1/4 or 1/8 scale to
the smallest size whose short side stays at least `min_side`, and only the Y channel: JPEG's
Y is 0.299 R + 0.587 G + 0.114 B, PDQ's luma, so colour is never reconstructed. simplejpeg
(TurboJPEG) decodes straight into numpy; anything it will not take strictly (CMYK, a
libjpeg warning, a truncated file) goes through Pillow, which decodes what is decodable and
reports truncation. Every other format is decoded by Pillow at full resolution, first frame
only (animated GIF/WebP), and hashed exactly as `pdqhash` would hash the same pixels.

PNG (8-bit and below) is inflated by libspng (`pyspng`), about 40 % faster than Pillow's PNG
decoder, into the same pixels; the luma is still Pillow's `L` conversion, so the hash is the
one the Pillow path gives (tested per colour type). libspng uses the pixel data even where a
chunk's CRC is wrong, as Pillow does for IDAT. Anything it rejects (truncation, 16-bit,
damage) goes through Pillow, which reports what failed.
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from tantalio.fingerprint import preview as preview_mod
from tantalio.fingerprint.config import FingerprintConfig
from tantalio.fingerprint.errors import clean
from tantalio.fingerprint.errors import why as _why
from tantalio.fingerprint.jpeg_scans import scans_for_pdq
from tantalio.fingerprint.pdq import luma_of_image

try:  # a faster PNG inflater; Pillow decodes PNG where it is missing
    import pyspng
except ImportError:  # pragma: no cover - depends on the installation
    pyspng = None

try:  # optional: HEIC needs a libheif-based plugin
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIF_DECODER = True
except Exception:  # pragma: no cover - depends on the installation
    HEIF_DECODER = False

# Pillow plugins allowed per detected type: the magic bytes decided the format already,
# so Pillow is never asked to guess (and never tries every plugin on hostile input).
_PIL_FORMATS = {
    "jpeg": ["JPEG"],  # Pillow's JPEG factory turns multi-picture files into MPO itself
    "png": ["PNG"],
    "gif": ["GIF"],
    "bmp": ["BMP", "DIB"],
    "webp": ["WEBP"],
    "tiff": ["TIFF"],
    "heif": ["HEIF", "AVIF"],
}


class ImageError(Exception):
    """An image that cannot be hashed; the message is the fingerprint's `error`."""


@dataclass(slots=True)
class DecodedImage:
    luma: NDArray[Any]  # H×W, uint8 or float32: exactly what is hashed
    width: int  # dimensions as stored in the file (not the reduced decode)
    height: int
    scale: int  # DCT-domain reduction factor (1 = full resolution)
    preview: Image.Image | None = None  # RGB, long side <= cfg.preview_px (when asked)


def check_pixels(width: int, height: int, cfg: FingerprintConfig) -> None:
    if width <= 0 or height <= 0:
        raise ImageError(f"corrupt image: invalid dimensions {width}x{height}")
    if width * height > cfg.max_pixels:
        raise ImageError(
            f"refused: {width}x{height} = {width * height} pixels exceeds max_pixels "
            f"{cfg.max_pixels} (decompression bomb?)"
        )


def jpeg_scale(width: int, height: int, min_side: int) -> int:
    """The largest of 8, 4, 2, 1 that keeps the short side at least `min_side`."""
    short = min(width, height)
    for scale in (8, 4, 2):
        if -(-short // scale) >= min_side:
            return scale
    return 1


def decode(data: bytes, type_: str, cfg: FingerprintConfig) -> DecodedImage:
    if type_ == "jpeg" and cfg.jpeg_fast_path and not cfg.exact_pdq:
        if cfg.preview_px:
            colour = _decode_jpeg_ycc(data, cfg)
            if colour is not None:
                return colour
        fast = _decode_jpeg_turbo(data, cfg)
        if fast is not None:
            return fast
    if type_ == "png" and not cfg.exact_pdq:
        png = _decode_png_spng(data, cfg)
        if png is not None:
            return png
    return _decode_pillow(data, type_, cfg)


def _decode_jpeg_turbo(data: bytes, cfg: FingerprintConfig) -> DecodedImage | None:
    import simplejpeg

    try:
        height, width, colorspace, _ = simplejpeg.decode_jpeg_header(data)
    except ValueError:
        return None  # let Pillow say what is wrong
    check_pixels(width, height, cfg)
    if colorspace not in ("YCbCr", "Gray", "RGB"):
        return None  # CMYK/YCCK: Pillow converts with the Adobe inversion
    scale = jpeg_scale(width, height, cfg.min_side)
    size = {"min_height": -(-height // scale), "min_width": -(-width // scale)}
    # A progressive file decodes its luma without colour-only and last-bit scans (jpeg_scans).
    reduced = None
    if colorspace in ("YCbCr", "Gray"):
        reduced = scans_for_pdq(data, last_bits=scale == 1)
    for candidate in (reduced, data) if reduced is not None else (data,):
        try:
            luma = simplejpeg.decode_jpeg(candidate, colorspace="GRAY", strict=True, **size)
        except ValueError:
            continue
        return DecodedImage(luma[:, :, 0], width, height, scale)
    return None


def _decode_jpeg_ycc(data: bytes, cfg: FingerprintConfig) -> DecodedImage | None:
    """Y, Cb and Cr at the PDQ scale in one decode (libjpeg's raw YCbCr output, no colour
    conversion): Y is exactly the luma-only decode's output, and the preview comes from all
    three. None (the luma-only path decides) for anything but a clean YCbCr JPEG."""
    import simplejpeg

    try:
        height, width, colorspace, _ = simplejpeg.decode_jpeg_header(data)
    except ValueError:
        return None
    check_pixels(width, height, cfg)
    if colorspace != "YCbCr":
        return None
    scale = jpeg_scale(width, height, cfg.min_side)
    if scale == 1:
        # Under 1024 px on the short side the luma-only decode plus a second decode at
        # 1/2..1/8 scale for the preview is cheaper than one full colour decode (measured).
        fast = _decode_jpeg_turbo(data, cfg)
        if fast is not None:
            fast.preview = _small_jpeg_preview(data, width >= height, cfg.preview_px)
        return fast
    want = (-(-width // scale), -(-height // scale))
    # The same luma scans as the luma-only path drops, so the hash is the same either way.
    reduced = scans_for_pdq(data, colour=True, last_bits=False) or data  # here scale > 1
    try:
        with Image.open(io.BytesIO(reduced), formats=["JPEG"]) as im:
            # Pillow picks the scale from floor(size / requested): ask with floors.
            im.draft("YCbCr", (width // scale, height // scale))
            if im.mode != "YCbCr" or im.size != want:
                return None
            im.load()
            preview = reduce_preview(im, cfg.preview_px)
            luma = np.array(im.getchannel(0))
    except Exception:  # damaged or odd: the luma-only path reports what is wrong
        return None
    return DecodedImage(luma, width, height, scale, preview)


def _small_jpeg_preview(data: bytes, landscape: bool, px: int) -> Image.Image | None:
    """RGB at the smallest DCT scale whose long side is still at least `px`."""
    import simplejpeg

    long_side = {"min_width": px} if landscape else {"min_height": px}
    try:
        rgb = simplejpeg.decode_jpeg(data, colorspace="RGB", **long_side)
    except ValueError:
        return None
    return reduce_preview(Image.fromarray(rgb), px)


def _decode_png_spng(data: bytes, cfg: FingerprintConfig) -> DecodedImage | None:
    if pyspng is None or len(data) < 33 or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    depth, colour = data[24], data[25]
    if width == 0 or height == 0 or depth > 8 or colour not in _SPNG_COLOURS:
        return None  # Pillow says what is wrong, or handles 16-bit samples
    check_pixels(width, height, cfg)
    try:
        # Colour comes back as RGBA even without alpha: Pillow maps 4-byte pixels without a
        # copy, where RGB would be unpacked to its 4-byte layout first (a quarter of the cost).
        pixels = pyspng.load(data, "L" if colour == 0 else "RGBA")
    except Exception:  # truncated or damaged: Pillow decodes what it can and says why
        return None
    if pixels.ndim == 2:
        preview = reduce_preview(Image.fromarray(pixels), cfg.preview_px)
        return DecodedImage(pixels, width, height, 1, preview)
    im = Image.frombuffer("RGBA", (width, height), pixels, "raw", "RGBA", 0, 1)
    # Pillow's L conversion ignores alpha, as its RGB and P conversions (HMA's path) do.
    preview = reduce_preview(im.convert("RGB"), cfg.preview_px) if cfg.preview_px else None
    return DecodedImage(np.asarray(im.convert("L")), width, height, 1, preview)


# PNG colour types libspng decodes here (palette expands to RGB). Gray + alpha is left to
# Pillow: pyspng has no 8-bit gray-alpha output.
_SPNG_COLOURS = frozenset({0, 2, 3, 6})


def _decode_pillow(data: bytes, type_: str, cfg: FingerprintConfig) -> DecodedImage:
    if type_ == "heif" and not HEIF_DECODER and data[8:12] not in (b"avif", b"avis"):
        raise ImageError("unsupported: no HEIF decoder installed (pip install pillow-heif)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            im = Image.open(io.BytesIO(data), formats=_PIL_FORMATS.get(type_))
        except Image.DecompressionBombError as exc:
            raise ImageError(f"refused: {clean(str(exc))} (max_pixels {cfg.max_pixels})") from exc
        except (Image.UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise ImageError(f"corrupt {type_}: cannot read the header ({_why(exc)})") from exc
        with im:
            width, height = im.size
            check_pixels(width, height, cfg)
            scale = 1
            if type_ == "jpeg" and cfg.jpeg_fast_path and not cfg.exact_pdq:
                scale = jpeg_scale(width, height, cfg.min_side)
                if scale > 1:
                    mode = "L" if im.mode in ("L", "RGB", "YCbCr") else im.mode
                    im.draft(mode, (-(-width // scale), -(-height // scale)))
            try:
                im.seek(0)
                im.load()
                luma = luma_of_image(im) if cfg.exact_pdq else _luma8(im)
                # A JPEG here was drafted to gray: the caller makes its own colour preview.
                preview = reduce_preview(im, cfg.preview_px) if type_ != "jpeg" else None
            except (OSError, SyntaxError, ValueError, EOFError, MemoryError) as exc:
                raise ImageError(_load_error(type_, exc)) from exc
            except Image.DecompressionBombError as exc:
                raise ImageError(f"refused: {clean(str(exc))}") from exc
    return DecodedImage(np.ascontiguousarray(luma), width, height, scale, preview)


def reduce_preview(im: Image.Image, px: int) -> Image.Image | None:
    return preview_mod.reduce(im, px) if px > 0 else None


def _luma8(im: Image.Image) -> NDArray[np.uint8]:
    """Pillow's 8-bit luma (ITU-R 601: the PDQ weights, rounded to integers), in C: a tenth
    of the cost of the reference's float64 luma on large images, within 0-2 bits of it."""
    if im.mode == "L":
        return np.asarray(im)
    if im.mode in ("RGB", "RGBA", "RGBX", "P", "PA", "LA", "1", "CMYK", "YCbCr"):
        return np.asarray(im.convert("L"))
    return np.asarray(im.convert("RGB").convert("L"))


def _load_error(type_: str, exc: BaseException) -> str:
    text = str(exc)
    if "truncated" in text or isinstance(exc, EOFError):
        return f"truncated {type_}: {_why(exc)}"
    return f"corrupt {type_}: {_why(exc)}"
