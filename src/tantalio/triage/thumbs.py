"""Small thumbnails made once at ingest and kept in the workspace (`DIR/thumbs/`).

Stored in colour and unblurred at 256 px: the web app applies each user's blur and
grayscale when serving them, and the HTML report bakes in a strong blur and grayscale
(`blurred_gray`). Videos get a contact sheet of up to six frames at their keyframe times
(evenly spaced when none are known). JPEGs are decoded at reduced size (DCT scaling), so a
thumbnail costs less than the fingerprint itself.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image, ImageFilter, ImageOps

SIZE = 256
MIN_DECODE = 160  # JPEGs decode at the smallest DCT scale keeping both sides above this
SHEET_FRAMES = 6
JPEG_QUALITY = 75


def relative_path(sha256: str) -> str:
    """Where a media's thumbnail lives, relative to the workspace directory."""
    return f"thumbs/{sha256[:2]}/{sha256}.jpg"


def image_thumbnail(data: bytes, orientation: int | None = None) -> bytes | None:
    """A JPEG thumbnail of an image's bytes (about SIZE px, EXIF orientation applied);
    None when it cannot be decoded. JPEGs are decoded by libjpeg-turbo at 1/2..1/8 scale."""
    try:
        if data[:3] == b"\xff\xd8\xff":
            import simplejpeg

            arr = simplejpeg.decode_jpeg(
                data, colorspace="RGB", min_width=MIN_DECODE, min_height=MIN_DECODE
            )
            im = Image.fromarray(arr)
        elif data[:8] == b"\x89PNG\r\n\x1a\n" and (arr := _png(data)) is not None:
            im = Image.fromarray(arr)
        else:
            with Image.open(io.BytesIO(data)) as src:
                src.seek(0)
                src.draft("RGB", (SIZE, SIZE))
                im = src.convert("RGB")
        im.thumbnail((SIZE, SIZE), Image.Resampling.BILINEAR)
        if orientation and orientation in _TRANSPOSE:
            im = im.transpose(_TRANSPOSE[orientation])
        return _jpeg(im)
    except Exception:  # decoders raise many kinds; a thumbnail is optional
        return None


def _png(data: bytes) -> Any:
    """libspng's decode (about 3x Pillow's), as 8-bit RGB; None to fall back to Pillow."""
    try:
        import numpy as np
        import pyspng
    except ImportError:
        return None
    arr = pyspng.load(data)
    if arr.dtype != np.uint8:
        return None
    if arr.ndim == 2:
        return np.stack([arr] * 3, axis=-1)
    if arr.shape[2] == 4:
        return np.ascontiguousarray(arr[:, :, :3])
    if arr.shape[2] == 2:
        return np.stack([arr[:, :, 0]] * 3, axis=-1)
    return arr


# EXIF orientation tag -> the transpose that shows the picture upright.
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def video_thumbnail(path_or_bytes: str | bytes, times: list[float] | None) -> bytes | None:
    """A contact sheet (2 x 3 tiles) of frames at `times` (seconds); None when undecodable."""
    try:
        import av

        source = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
        with av.open(source, mode="r") as container:
            stream = container.streams.video[0]
            duration = float(container.duration or 0) / 1_000_000
            wanted = sorted(times or [])[:SHEET_FRAMES]
            if not wanted and duration > 0:
                wanted = [duration * (i + 0.5) / SHEET_FRAMES for i in range(SHEET_FRAMES)]
            frames = _frames_at(container, stream, wanted or [0.0])
        if not frames:
            return None
        tile = SIZE // 2
        for f in frames:
            f.thumbnail((tile, tile))
        cols = min(3, len(frames))
        rows = (len(frames) + cols - 1) // cols
        sheet = Image.new("RGB", (cols * tile, rows * tile))
        for i, f in enumerate(frames):
            sheet.paste(f, ((i % cols) * tile, (i // cols) * tile))
        return _jpeg(sheet)
    except Exception:
        return None


def _frames_at(container, stream, times: list[float]) -> list[Image.Image]:  # type: ignore[no-untyped-def]
    """One frame at (or just after) each time: seek to the keyframe before, decode forward."""
    out: list[Image.Image] = []
    base = float(stream.time_base) if stream.time_base else None
    for t in times:
        if base:
            container.seek(int(t / base), stream=stream, backward=True, any_frame=False)
        for frame in container.decode(stream):
            if frame.time is None or frame.time >= t - 0.5:
                out.append(frame.to_image())
                break
    return out


def _jpeg(im: Image.Image) -> bytes:
    import numpy as np
    import simplejpeg

    if im.mode == "L":
        arr = np.ascontiguousarray(np.asarray(im)[:, :, None])
        return bytes(simplejpeg.encode_jpeg(arr, quality=JPEG_QUALITY, colorspace="GRAY"))
    arr = np.ascontiguousarray(np.asarray(im.convert("RGB")))
    return bytes(simplejpeg.encode_jpeg(arr, quality=JPEG_QUALITY, colorspace="RGB"))


def save(workspace_dir: Path, sha256: str, data: bytes) -> str:
    """Write a thumbnail atomically; returns its workspace-relative path."""
    rel = relative_path(sha256)
    target = workspace_dir / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f".{id(data)}.tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(target)
    except BaseException:
        tmp.unlink(missing_ok=True)  # a full disk leaves no half-written .tmp behind
        raise
    return rel


def blurred_gray(data: bytes, radius: float = 8.0) -> bytes:
    """The report's safe variant: grayscale and strongly blurred, baked into the pixels."""
    with Image.open(io.BytesIO(data)) as im:
        gray = ImageOps.grayscale(im).filter(ImageFilter.GaussianBlur(radius))
        return _jpeg(gray)
